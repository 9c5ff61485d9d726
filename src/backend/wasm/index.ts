/**
 * The WebAssembly backend: the kernel contract of ../kernels.ts on pointers into one memory.
 *
 * Buffers are handles {size, kind, ptr}; kernels forward the pointers to the module's exports, so no
 * tensor data is ever copied between JS and WASM except by read() and write(). Each call checks its
 * handles (ownership, use after free, sizes) with a few comparisons, never per element, because a
 * wrong size here would silently corrupt a neighbouring buffer instead of failing.
 */
import type { Backend, BinaryOp, Buf, Kernels, ReduceOp, UnaryOp } from '../kernels.js';
import { BINARY_OPS, MAX_RANK, UNARY_OPS } from '../kernels.js';
import { coalesce, contiguousStrides } from '../strides.js';
import { Allocator, PARAM_BYTES } from './allocator.js';
import { loadKernels, loadKernelsSync, type KernelExports, type LoadOptions, type LoadedModule } from './loader.js';

export type { LoadOptions, WasmSource, WasmVariant } from './loader.js';
export { bestVariant, detectFeatures } from './loader.js';
export { Allocator, sizeClass } from './allocator.js';

export interface WasmBackendOptions extends LoadOptions {}

/** Shared by a block and all views of it, so freeing the block invalidates the views. */
interface BlockState {
  freed: boolean;
}

/** A buffer of the WASM backend: `ptr` is the byte address of element 0. */
export class WasmBuf implements Buf {
  constructor(
    readonly size: number,
    readonly kind: 'f' | 'i',
    readonly ptr: number,
    /** Which backend owns it. */
    readonly owner: object,
    readonly state: BlockState,
    readonly isView: boolean,
  ) {}
}

/** The backend plus what tests and benchmarks want to inspect. */
export interface WasmBackend extends Backend {
  readonly variant: 'relaxed-simd' | 'simd' | 'scalar';
  /** The allocator (reservedBytes, block-level liveBytes). */
  readonly allocator: Allocator;
  /** The raw module exports. */
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
}

export async function createWasmBackend(opts?: WasmBackendOptions): Promise<WasmBackend> {
  return makeBackend(await loadKernels(opts ?? {}));
}

/** Same as createWasmBackend, for the embedded binaries or given bytes / module (compiles synchronously). */
export function createWasmBackendSync(opts?: WasmBackendOptions): WasmBackend {
  return makeBackend(loadKernelsSync(opts ?? {}));
}

const UNARY_CODE: Record<string, number> = Object.fromEntries(UNARY_OPS.map((op, i) => [op, i]));
const BINARY_CODE: Record<string, number> = Object.fromEntries(BINARY_OPS.map((op, i) => [op, i]));

function isCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0;
}

function makeBackend(mod: LoadedModule): WasmBackend {
  const ex = mod.exports;
  const heap = new Allocator(mod.memory, ex.heapBase());
  const owner = {};
  const paramPtr = heap.paramPtr;
  let liveBufferBytes = 0;
  let matmulScratch = 0;

  const err = (msg: string): never => {
    throw new RangeError(`wasm backend: ${msg}`);
  };

  function live(buf: Buf, name: string): WasmBuf {
    if (!(buf instanceof WasmBuf) || buf.owner !== owner) {
      throw new TypeError(`wasm backend: ${name} is not a buffer of this wasm backend`);
    }
    if (buf.state.freed) throw new Error(`wasm backend: ${name} is used after free`);
    return buf;
  }

  /** ptr of a float buffer holding >= need elements. */
  function fp(buf: Buf, name: string, need: number): number {
    const b = live(buf, name);
    if (b.kind !== 'f') throw new TypeError(`wasm backend: ${name} must be a float buffer`);
    if (b.size < need) err(`${name} has ${b.size} elements, the kernel needs ${need}`);
    return b.ptr;
  }

  /** ptr of an int32 buffer holding >= need elements. */
  function ip(buf: Buf, name: string, need: number): number {
    const b = live(buf, name);
    if (b.kind !== 'i') throw new TypeError(`wasm backend: ${name} must be an int32 buffer`);
    if (b.size < need) err(`${name} has ${b.size} elements, the kernel needs ${need}`);
    return b.ptr;
  }

  function counts(...ns: [number, string][]): void {
    for (const [n, name] of ns) if (!isCount(n)) err(`${name} must be a non-negative integer, got ${n}`);
  }

  function seeds(seedLo: number, seedHi: number, counter: number): void {
    for (const [v, name] of [[seedLo, 'seedLo'], [seedHi, 'seedHi'], [counter, 'counter']] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) err(`${name} must be an integer in [0, 2^32), got ${v}`);
    }
  }

  /** Writes shape and stride lists (rank each) into the parameter block. */
  function params(lists: readonly (readonly number[])[]): void {
    const i32 = heap.i32();
    let o = paramPtr >> 2;
    for (const l of lists) for (const v of l) i32[o++] = v;
    if ((o << 2) - paramPtr > PARAM_BYTES) err('internal: parameter block overflow');
  }

  /** Lowest and highest element a strided walk touches, checked against the buffer size. */
  function checkStrided(size: number, offset: number, strides: readonly number[], shape: readonly number[], name: string): void {
    let lo = offset;
    let hi = offset;
    for (let d = 0; d < shape.length; d++) {
      if (!Number.isInteger(strides[d])) err(`${name} stride ${strides[d]} is not an integer`);
      const span = (shape[d]! - 1) * strides[d]!;
      if (span < 0) lo += span;
      else hi += span;
    }
    if (lo < 0 || hi >= size) err(`${name} access [${lo}, ${hi}] is outside its ${size} elements`);
  }

  function checkShape(shape: readonly number[], nStrides: number[]): number {
    if (shape.length > MAX_RANK) err(`rank ${shape.length} exceeds MAX_RANK ${MAX_RANK}`);
    for (const n of nStrides) if (n !== shape.length) err(`${n} strides for rank ${shape.length}`);
    let count = 1;
    for (let d = 0; d < shape.length; d++) {
      if (!isCount(shape[d]!)) err(`shape[${d}] must be a non-negative integer, got ${shape[d]}`);
      count *= shape[d]!;
    }
    return count;
  }

  const f32Bits = new Float32Array(1);
  const f32BitsI = new Int32Array(f32Bits.buffer);

  const kernels: Kernels = {
    fill(out, value) {
      const b = live(out, 'out');
      let bits: number;
      if (b.kind === 'f') {
        f32Bits[0] = value;
        bits = f32BitsI[0]!;
      } else {
        bits = value | 0;
      }
      ex.fill32(b.ptr, b.size, bits);
    },

    unary(op: UnaryOp, x, out, n) {
      counts([n, 'n']);
      const code = UNARY_CODE[op];
      if (code === undefined) err(`unknown unary op '${String(op)}'`);
      ex.unary(code!, fp(x, 'x', n), fp(out, 'out', n), n);
    },

    unaryGrad(op: UnaryOp, x, y, dy, dx, n) {
      counts([n, 'n']);
      const code = UNARY_CODE[op];
      if (code === undefined) err(`unknown unary op '${String(op)}'`);
      ex.unaryGrad(code!, fp(x, 'x', n), fp(y, 'y', n), fp(dy, 'dy', n), fp(dx, 'dx', n), n);
    },

    binary(op: BinaryOp, a, aStrides, b, bStrides, out, shape) {
      const code = BINARY_CODE[op];
      if (code === undefined) err(`unknown binary op '${String(op)}'`);
      const count = checkShape(shape, [aStrides.length, bStrides.length]);
      const pa = fp(a, 'a', 0);
      const pb = fp(b, 'b', 0);
      const po = fp(out, 'out', count);
      if (count === 0) return;
      checkStrided(a.size, 0, aStrides, shape, 'a');
      checkStrided(b.size, 0, bStrides, shape, 'b');
      // Merge dims all three operands walk contiguously: equal contiguous operands become rank 1,
      // row / column broadcasts rank 2, which the kernel's fast row loops then handle.
      const c = coalesce(shape, [aStrides, bStrides, contiguousStrides(shape)]);
      params([c.shape, c.strides[0]!, c.strides[1]!]);
      ex.binary(code!, pa, pb, po, c.shape.length, paramPtr);
    },

    axpy(alpha, x, y, n) {
      counts([n, 'n']);
      ex.axpy(alpha, fp(x, 'x', n), fp(y, 'y', n), n);
    },

    scale(alpha, x, out, n) {
      counts([n, 'n']);
      ex.scale(alpha, fp(x, 'x', n), fp(out, 'out', n), n);
    },

    where(cond, a, b, out, n) {
      counts([n, 'n']);
      const c = live(cond, 'cond');
      if (c.size < n) err(`cond has ${c.size} elements, the kernel needs ${n}`);
      ex.where(c.ptr, c.kind === 'i' ? 1 : 0, fp(a, 'a', n), fp(b, 'b', n), fp(out, 'out', n), n);
    },

    reduce(op: ReduceOp, x, out, outer, r, inner) {
      counts([outer, 'outer'], [r, 'r'], [inner, 'inner']);
      if (op !== 'sum' && op !== 'max') err(`unknown reduce op '${String(op)}'`);
      if (op === 'max' && r === 0) err('reduce max over an empty axis (r = 0) has no identity');
      ex.reduce(op === 'sum' ? 0 : 1, fp(x, 'x', outer * r * inner), fp(out, 'out', outer * inner), outer, r, inner);
    },

    sumSquares(x, n) {
      counts([n, 'n']);
      return ex.sumSquares(fp(x, 'x', n), n);
    },

    copyStrided(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape, accumulate) {
      const s = live(src, 'src');
      const d = live(dst, 'dst');
      if (s.kind !== d.kind) throw new TypeError('wasm backend: copyStrided src and dst must be of the same kind');
      const count = checkShape(shape, [srcStrides.length, dstStrides.length]);
      if (count === 0) return;
      counts([srcOffset, 'srcOffset'], [dstOffset, 'dstOffset']);
      checkStrided(s.size, srcOffset, srcStrides, shape, 'src');
      checkStrided(d.size, dstOffset, dstStrides, shape, 'dst');
      const c = coalesce(shape, [srcStrides, dstStrides]);
      params([c.shape, c.strides[0]!, c.strides[1]!]);
      ex.copyStrided(
        s.ptr + srcOffset * 4, d.ptr + dstOffset * 4, c.shape.length, paramPtr,
        accumulate ? 1 : 0, s.kind === 'i' ? 1 : 0,
      );
    },

    matmul(a, aOffset, b, bOffset, c, cOffset, M, N, K, transA, transB, batch, strideA, strideB, strideC, accumulate) {
      if (ex.matmul === undefined || ex.matmulScratchBytes === undefined) {
        throw new Error('wasm backend: this kernel binary has no matmul export');
      }
      counts([M, 'M'], [N, 'N'], [K, 'K'], [batch, 'batch'], [aOffset, 'aOffset'], [bOffset, 'bOffset'], [cOffset, 'cOffset']);
      counts([strideA, 'strideA'], [strideB, 'strideB'], [strideC, 'strideC']);
      if (batch === 0 || M === 0 || N === 0) return;
      const span = (stride: number, one: number): number => (batch - 1) * stride + one;
      const pa = fp(a, 'a', aOffset + span(strideA, M * K));
      const pb = fp(b, 'b', bOffset + span(strideB, K * N));
      const pc = fp(c, 'c', cOffset + span(strideC, M * N));
      if (matmulScratch === 0) matmulScratch = heap.alloc(ex.matmulScratchBytes());
      ex.matmul(
        pa + aOffset * 4, pb + bOffset * 4, pc + cOffset * 4, M, N, K, transA ? 1 : 0, transB ? 1 : 0,
        batch, strideA, strideB, strideC, accumulate ? 1 : 0, matmulScratch,
      );
    },

    softmax(x, out, rows, cols) {
      counts([rows, 'rows'], [cols, 'cols']);
      ex.softmax(fp(x, 'x', rows * cols), fp(out, 'out', rows * cols), rows, cols);
    },

    softmaxBackward(y, dy, dx, rows, cols) {
      counts([rows, 'rows'], [cols, 'cols']);
      const n = rows * cols;
      ex.softmaxBackward(fp(y, 'y', n), fp(dy, 'dy', n), fp(dx, 'dx', n), rows, cols);
    },

    logSoftmax(x, out, rows, cols) {
      counts([rows, 'rows'], [cols, 'cols']);
      ex.logSoftmax(fp(x, 'x', rows * cols), fp(out, 'out', rows * cols), rows, cols);
    },

    logSoftmaxBackward(y, dy, dx, rows, cols) {
      counts([rows, 'rows'], [cols, 'cols']);
      const n = rows * cols;
      ex.logSoftmaxBackward(fp(y, 'y', n), fp(dy, 'dy', n), fp(dx, 'dx', n), rows, cols);
    },

    crossEntropy(logits, targets, loss, lse, rows, cols, ignoreIndex, smoothing) {
      counts([rows, 'rows'], [cols, 'cols']);
      return ex.crossEntropy(
        fp(logits, 'logits', rows * cols), ip(targets, 'targets', rows), fp(loss, 'loss', rows),
        fp(lse, 'lse', rows), rows, cols, ignoreIndex, smoothing,
      );
    },

    crossEntropyBackward(logits, targets, lse, dloss, dlogits, rows, cols, ignoreIndex, smoothing) {
      counts([rows, 'rows'], [cols, 'cols']);
      const tp = ip(targets, 'targets', rows);
      const rc = ex.crossEntropyBackward(
        fp(logits, 'logits', rows * cols), tp, fp(lse, 'lse', rows), fp(dloss, 'dloss', rows),
        fp(dlogits, 'dlogits', rows * cols), rows, cols, ignoreIndex, smoothing,
      );
      if (rc < 0) {
        const r = -1 - rc;
        err(`crossEntropyBackward target ${heap.i32()[(tp >> 2) + r]} of row ${r} is out of range`);
      }
    },

    layerNorm(x, gamma, beta, y, mean, rstd, rows, cols, eps) {
      counts([rows, 'rows'], [cols, 'cols']);
      const n = rows * cols;
      ex.layerNorm(
        fp(x, 'x', n), gamma === null ? 0 : fp(gamma, 'gamma', cols), beta === null ? 0 : fp(beta, 'beta', cols),
        fp(y, 'y', n), fp(mean, 'mean', rows), fp(rstd, 'rstd', rows), rows, cols, eps,
      );
    },

    layerNormBackward(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, cols) {
      counts([rows, 'rows'], [cols, 'cols']);
      const n = rows * cols;
      ex.layerNormBackward(
        fp(x, 'x', n), gamma === null ? 0 : fp(gamma, 'gamma', cols), fp(mean, 'mean', rows),
        fp(rstd, 'rstd', rows), fp(dy, 'dy', n), fp(dx, 'dx', n),
        dgamma === null ? 0 : fp(dgamma, 'dgamma', cols), dbeta === null ? 0 : fp(dbeta, 'dbeta', cols), rows, cols,
      );
    },

    groupedScaleShift(x, groupMap, gamma, beta, y, rows, D, K, scratch) {
      counts([rows, 'rows'], [D, 'D'], [K, 'K']);
      const gm = groupPtr(groupMap, D, K);
      ex.groupedScaleShift(
        fp(x, 'x', rows * D), gm, fp(gamma, 'gamma', K), fp(beta, 'beta', K), fp(y, 'y', rows * D),
        rows, D, K, fp(scratch, 'scratch', 2 * D),
      );
    },

    groupedScaleShiftBackward(x, groupMap, gamma, beta, dy, dx, dgamma, dbeta, rows, D, K, scratch) {
      counts([rows, 'rows'], [D, 'D'], [K, 'K']);
      const gm = groupPtr(groupMap, D, K);
      const n = rows * D;
      ex.groupedScaleShiftBackward(
        fp(x, 'x', n), gm, fp(gamma, 'gamma', K), fp(beta, 'beta', K), fp(dy, 'dy', n), fp(dx, 'dx', n),
        fp(dgamma, 'dgamma', K), fp(dbeta, 'dbeta', K), rows, D, K, fp(scratch, 'scratch', 4 * D),
      );
    },

    gaussianSample(mu, sigma, eps, out, n, seedLo, seedHi, counter) {
      counts([n, 'n']);
      seeds(seedLo, seedHi, counter);
      ex.gaussianSample(fp(mu, 'mu', n), fp(sigma, 'sigma', n), fp(eps, 'eps', n), fp(out, 'out', n), n, seedLo, seedHi, counter);
    },

    gaussianSampleBackward(eps, dy, dmu, dsigma, n) {
      counts([n, 'n']);
      ex.gaussianSampleBackward(fp(eps, 'eps', n), fp(dy, 'dy', n), fp(dmu, 'dmu', n), fp(dsigma, 'dsigma', n), n);
    },

    randn(out, n, seedLo, seedHi, counter) {
      counts([n, 'n']);
      seeds(seedLo, seedHi, counter);
      ex.randn(fp(out, 'out', n), n, seedLo, seedHi, counter);
    },

    randu(out, n, seedLo, seedHi, counter) {
      counts([n, 'n']);
      seeds(seedLo, seedHi, counter);
      ex.randu(fp(out, 'out', n), n, seedLo, seedHi, counter);
    },

    dropoutMask(out, n, p, seedLo, seedHi, counter) {
      counts([n, 'n']);
      seeds(seedLo, seedHi, counter);
      if (!(p >= 0 && p <= 1)) err(`dropout p must be in [0, 1], got ${p}`);
      // keep is computed in f64 and rounded once, as the reference's float32 store does
      ex.dropoutMask(fp(out, 'out', n), n, p, 1 / (1 - p), seedLo, seedHi, counter);
    },

    gatherRows(table, ids, out, n, dim) {
      counts([n, 'n'], [dim, 'dim']);
      const t = live(table, 'table');
      const idp = ip(ids, 'ids', n);
      checkRows(idp, n, dim, t.size, 'ids');
      ex.gatherRows(fp(table, 'table', 0), idp, fp(out, 'out', n * dim), n, dim);
    },

    scatterAddRows(dout, ids, dtable, n, dim) {
      counts([n, 'n'], [dim, 'dim']);
      const t = live(dtable, 'dtable');
      const idp = ip(ids, 'ids', n);
      checkRows(idp, n, dim, t.size, 'ids');
      ex.scatterAddRows(fp(dout, 'dout', n * dim), idp, fp(dtable, 'dtable', 0), n, dim);
    },

    oneHot(ids, out, n, classes) {
      counts([n, 'n'], [classes, 'classes']);
      ex.oneHot(ip(ids, 'ids', n), fp(out, 'out', n * classes), n, classes);
    },

    adamw(p, g, m, v, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2) {
      counts([n, 'n']);
      ex.adamw(fp(p, 'p', n), fp(g, 'g', n), fp(m, 'm', n), fp(v, 'v', n), n, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    },

    sgd(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov, firstStep) {
      counts([n, 'n']);
      if (momentum !== 0 && buf === null) throw new TypeError('wasm backend: sgd with momentum needs a momentum buffer');
      const bp = momentum !== 0 && buf !== null ? fp(buf, 'buf', n) : 0;
      ex.sgd(fp(p, 'p', n), fp(g, 'g', n), bp, n, lr, momentum, dampening, weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0);
    },
  };

  /** Checks every group id lies in [0, K): a bad one would make the backward write out of bounds. */
  function groupPtr(groupMap: Buf, D: number, K: number): number {
    const p = ip(groupMap, 'groupMap', D);
    const i32 = heap.i32();
    const o = p >> 2;
    for (let i = 0; i < D; i++) {
      const k = i32[o + i]!;
      if (k < 0 || k >= K) err(`groupMap[${i}] = ${k} is outside [0, ${K})`);
    }
    return p;
  }

  /** Checks every id selects a whole row of a table with `size` elements. */
  function checkRows(idp: number, n: number, dim: number, size: number, name: string): void {
    const i32 = heap.i32();
    const o = idp >> 2;
    for (let r = 0; r < n; r++) {
      const id = i32[o + r]!;
      if (id < 0 || (id + 1) * dim > size) {
        err(`${name}[${r}] = ${id} is outside the table's ${Math.floor(size / Math.max(dim, 1))} rows`);
      }
    }
  }

  const backend: WasmBackend = {
    ...kernels,
    name: 'wasm',
    dtype: 'float32',
    variant: mod.variant,
    allocator: heap,
    exports: ex,
    // Block-level bytes (size classes included): what the heap really had to hold.
    peakBytes: () => heap.peakLiveBytes(),
    resetPeak: () => heap.resetPeak(),
    peakBreakdown: () => heap.ledger.peakBreakdown(),
    setMemoryCategory: (c) => heap.ledger.setCategory(c),
    tagMemory(buf, category) {
      const b = live(buf, 'tagMemory(buf)');
      if (b.isView) err('tagMemory: views share their block; tag the buffer they view');
      heap.ledger.tag(b.ptr, heap.blockBytes(b.ptr)!, category);
    },
    memory: mod.memory,

    alloc(size, kind) {
      if (!isCount(size)) err(`alloc size must be a non-negative integer, got ${size}`);
      if (kind !== 'f' && kind !== 'i') err(`alloc kind must be 'f' or 'i', got '${String(kind)}'`);
      const ptr = heap.alloc(size * 4);
      liveBufferBytes += size * 4;
      return new WasmBuf(size, kind, ptr, owner, { freed: false }, false);
    },

    free(buf) {
      const b = live(buf, 'free(buf)');
      if (b.isView) throw new Error('wasm backend: views must not be freed (free the buffer they view)');
      heap.free(b.ptr);
      b.state.freed = true;
      liveBufferBytes -= b.size * 4;
    },

    view(buf, offset, size) {
      const b = live(buf, 'view(buf)');
      counts([offset, 'view offset'], [size, 'view size']);
      if (offset + size > b.size) err(`view [${offset}, ${offset + size}) is outside ${b.size} elements`);
      return new WasmBuf(size, b.kind, b.ptr + offset * 4, owner, b.state, true);
    },

    read(buf) {
      const b = live(buf, 'read(buf)');
      const start = b.ptr >> 2;
      return b.kind === 'f' ? heap.f32().slice(start, start + b.size) : heap.i32().slice(start, start + b.size);
    },

    write(buf, data) {
      const b = live(buf, 'write(buf)');
      if (data.length !== b.size) err(`write of ${data.length} values into a buffer of ${b.size}`);
      (b.kind === 'f' ? heap.f32() : heap.i32()).set(data, b.ptr >> 2);
    },

    /** Bytes of the live buffers (4 per element), as the reference backend counts them. */
    liveBytes: () => liveBufferBytes,
  };
  return backend;
}
