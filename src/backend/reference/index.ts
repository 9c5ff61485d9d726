/**
 * The pure-TypeScript reference backend: the oracle every WebAssembly kernel is tested against.
 * Kernels favour the plainest correct formulation over speed; all arithmetic is float64 and float
 * buffers are Float32Array (default) or Float64Array, so float32 mode rounds once, at the store.
 */
import type { Backend, Buf, Kernels } from '../kernels.js';
import { RefBuf, checkCount, live, type AnyArray, type Storage as RefStorage } from './buffer.js';
import { MemoryLedger } from '../memory.js';
// Each of these modules exports kernels only (named as in the contract); their union is the backend.
import * as attention from './attention.js';
import * as elementwise from './elementwise.js';
import * as indexing from './indexing.js';
import * as matmul from './matmul.js';
import * as nn from './nn.js';
import * as norm from './norm.js';
import * as optim from './optim.js';
import * as random from './random.js';
import * as reduce from './reduce.js';

export { RefBuf } from './buffer.js';
export { erf, erfc } from './math.js';

/**
 * Every kernel; stateless, so one object serves both dtypes (the buffers' arrays set the precision).
 * A kernel of the contract that no module exports, or exports with another signature, does not compile.
 */
export const referenceKernels: Kernels = { ...attention, ...elementwise, ...indexing, ...matmul, ...nn, ...norm, ...optim, ...random, ...reduce };

export function createReferenceBackend(opts?: { dtype?: 'float32' | 'float64' }): Backend {
  const dtype = opts?.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new RangeError(`reference backend: dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
  }
  const floatBytes = dtype === 'float32' ? 4 : 8;
  const ledger = new MemoryLedger<RefStorage>();

  function alloc(size: number, kind: 'f' | 'i'): Buf {
    if (!Number.isInteger(size) || size < 0) {
      throw new RangeError(`reference backend: alloc size must be a non-negative integer, got ${size}`);
    }
    let data: AnyArray;
    if (kind === 'f') data = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
    else if (kind === 'i') data = new Int32Array(size);
    else throw new RangeError(`reference backend: alloc kind must be 'f' or 'i', got '${String(kind)}'`);
    const bytes = size * (kind === 'f' ? floatBytes : 4);
    const storage = { freed: false, bytes };
    ledger.alloc(storage, bytes);
    return new RefBuf(size, kind, data, storage, false);
  }

  function free(buf: Buf): void {
    const b = live(buf, 'free(buf)'); // a second free fails here as a use after free
    if (b.isView) throw new Error('reference backend: views must not be freed (free the buffer they view)');
    b.storage.freed = true;
    ledger.free(b.storage, b.storage.bytes);
  }

  function view(buf: Buf, offset: number, size: number): Buf {
    const b = live(buf, 'view(buf)');
    checkCount(offset, 'view offset');
    checkCount(size, 'view size');
    if (offset + size > b.size) {
      throw new RangeError(`reference backend: view [${offset}, ${offset + size}) is outside ${b.size} elements`);
    }
    return new RefBuf(size, b.kind, b.data.subarray(offset, offset + size), b.storage, true);
  }

  function read(buf: Buf): Float32Array | Float64Array | Int32Array {
    return live(buf, 'read(buf)').data.slice();
  }

  function write(buf: Buf, data: ArrayLike<number>): void {
    const b = live(buf, 'write(buf)');
    if (data.length !== b.size) {
      throw new RangeError(`reference backend: write of ${data.length} values into a buffer of ${b.size}`);
    }
    b.data.set(data);
  }

  return {
    ...referenceKernels,
    name: 'reference',
    variant: 'ts',
    dtype,
    alloc,
    free,
    view,
    read,
    write,
    liveBytes: () => ledger.liveBytes(),
    peakBytes: () => ledger.peakBytes(),
    resetPeak: () => ledger.resetPeak(),
    peakBreakdown: () => ledger.peakBreakdown(),
    setMemoryCategory: (c) => ledger.setCategory(c),
    tagMemory(buf, category) {
      const b = live(buf, 'tagMemory(buf)');
      if (b.isView) throw new Error('reference backend: tagMemory: views share their storage; tag the buffer they view');
      ledger.tag(b.storage, b.storage.bytes, category);
    },
  };
}
