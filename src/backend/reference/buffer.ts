/**
 * Storage of the reference backend and the argument checks every kernel runs on entry.
 *
 * A buffer is a plain typed array wrapped in a handle. The checks are cheap (a few comparisons per
 * call, never per element) and exist because this backend is the oracle: an op-layer bug such as a
 * short buffer or a freed handle should fail loudly here rather than read `undefined` (typed arrays
 * return undefined out of range and silently drop out-of-range writes).
 */
import type { Buf } from '../kernels.js';

export type FloatArray = Float32Array | Float64Array;
export type AnyArray = FloatArray | Int32Array;

/** Shared by an allocation and every view of it, so freeing the allocation invalidates the views too. */
export interface Storage {
  freed: boolean;
  readonly bytes: number;
}

export class RefBuf implements Buf {
  constructor(
    readonly size: number,
    readonly kind: 'f' | 'i',
    readonly data: AnyArray,
    readonly storage: Storage,
    readonly isView: boolean,
  ) {}
}

/** Throws unless `n` is a non-negative integer (sizes, counts, offsets). */
export function checkCount(n: number, name: string): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`reference backend: ${name} must be a non-negative integer, got ${n}`);
  }
}

/** The live handle behind `buf`, after checking it belongs to this backend and is not freed. */
export function live(buf: Buf, name: string): RefBuf {
  if (!(buf instanceof RefBuf)) {
    throw new TypeError(`reference backend: ${name} is not a reference-backend buffer`);
  }
  if (buf.storage.freed) {
    throw new Error(`reference backend: ${name} is used after free`);
  }
  return buf;
}

function checkSize(b: RefBuf, need: number, name: string): void {
  if (b.size < need) {
    throw new RangeError(`reference backend: ${name} has ${b.size} elements, the kernel needs ${need}`);
  }
}

/** Float data of `buf`, which must hold at least `need` elements. */
export function fdata(buf: Buf, name: string, need: number): FloatArray {
  const b = live(buf, name);
  if (b.kind !== 'f') throw new TypeError(`reference backend: ${name} must be a float buffer`);
  checkSize(b, need, name);
  return b.data as FloatArray;
}

/** Int32 data of `buf`, which must hold at least `need` elements. */
export function idata(buf: Buf, name: string, need: number): Int32Array {
  const b = live(buf, name);
  if (b.kind !== 'i') throw new TypeError(`reference backend: ${name} must be an int32 buffer`);
  checkSize(b, need, name);
  return b.data as Int32Array;
}

/** Data of either kind (for kernels that move values without interpreting them). */
export function anydata(buf: Buf, name: string, need: number): AnyArray {
  const b = live(buf, name);
  checkSize(b, need, name);
  return b.data;
}

/**
 * Checks a strided access pattern stays inside `size` elements: the lowest and highest element an
 * odometer over `shape` touches. Returns the element count of `shape`.
 */
export function checkStrided(
  size: number, offset: number, strides: readonly number[], shape: readonly number[], name: string,
): number {
  if (strides.length !== shape.length) {
    throw new RangeError(`reference backend: ${name} has ${strides.length} strides for rank ${shape.length}`);
  }
  let count = 1;
  for (let d = 0; d < shape.length; d++) {
    checkCount(shape[d]!, `shape[${d}]`);
    if (!Number.isInteger(strides[d])) {
      throw new RangeError(`reference backend: ${name} stride ${strides[d]} is not an integer`);
    }
    count *= shape[d]!;
  }
  if (count === 0) return 0;
  checkCount(offset, `${name} offset`);
  let lo = offset;
  let hi = offset;
  for (let d = 0; d < shape.length; d++) {
    const span = (shape[d]! - 1) * strides[d]!;
    if (span < 0) lo += span;
    else hi += span;
  }
  if (lo < 0 || hi >= size) {
    throw new RangeError(
      `reference backend: ${name} access [${lo}, ${hi}] is outside its ${size} elements`,
    );
  }
  return count;
}

/** Seeds are uint32 words and the counter an integer in [0, 2^32), as rng.ts expects. */
export function checkSeed(seedLo: number, seedHi: number, counter: number): void {
  for (const [v, name] of [[seedLo, 'seedLo'], [seedHi, 'seedHi'], [counter, 'counter']] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new RangeError(`reference backend: ${name} must be an integer in [0, 2^32), got ${v}`);
    }
  }
}
