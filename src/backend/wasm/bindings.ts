/**
 * The WebAssembly bindings of every kernel of the contract (../kernels.ts): one row per kernel saying
 * what each argument is (bind.ts derives the handle checks, pointer passing and the call from it), or,
 * for the few kernels whose export takes other arguments than the contract (strided kernels read a
 * parameter block, matmul takes leading dimensions and a packing block, ...), a binding written out.
 *
 * Checks are a few comparisons per call, never per element, except where a bad value would make the
 * kernel write out of bounds (group ids, row ids): a wrong size here would silently corrupt a
 * neighbouring buffer instead of failing.
 */
import { BINARY_OPS, MAX_RANK, UNARY_OPS, type Buf, type Kernels } from '../kernels.js';
import { coalesce, contiguousStrides } from '../strides.js';
import { PARAM_BYTES } from './allocator.js';
import {
  count, f32, f32OrNull, flag, i32, op, scalar, u32, type BindContext, type BindingTable,
} from './bind.js';

// Count arguments shared by many rows (a size refers to the count object of its own row).
const n = count('n');
const rows = count('rows');
const cols = count('cols');
const D = count('D');
const K = count('K');
const dim = count('dim');
const classes = count('classes');
const unaryOp = op('unary', UNARY_OPS);
const seeds = [u32('seedLo'), u32('seedHi'), u32('counter')] as const;

export const BINDINGS: BindingTable = {
  fill: { custom: fill },
  unary: { args: [unaryOp, f32('x', n), f32('out', n), n] },
  unaryGrad: { args: [unaryOp, f32('x', n), f32('y', n), f32('dy', n), f32('dx', n), n] },
  binary: { custom: binary },
  axpy: { args: [scalar('alpha'), f32('x', n), f32('y', n), n] },
  scale: { args: [scalar('alpha'), f32('x', n), f32('out', n), n] },
  where: { custom: where },
  reduce: reduceRow(),
  sumSquares: { args: [f32('x', n), n] },
  copyStrided: { custom: copyStrided },
  matmul: { custom: matmul },

  attentionSoftmax: { custom: attentionSoftmax },
  attentionSoftmaxBackward: { custom: attentionSoftmaxBackward },
  softmax: { args: [f32('x', rows, cols), f32('out', rows, cols), rows, cols] },
  softmaxBackward: { args: [f32('y', rows, cols), f32('dy', rows, cols), f32('dx', rows, cols), rows, cols] },
  logSoftmax: { args: [f32('x', rows, cols), f32('out', rows, cols), rows, cols] },
  logSoftmaxBackward: { args: [f32('y', rows, cols), f32('dy', rows, cols), f32('dx', rows, cols), rows, cols] },
  crossEntropy: {
    args: [
      f32('logits', rows, cols), i32('targets', rows), f32('loss', rows), f32('lse', rows), rows, cols,
      scalar('ignoreIndex'), scalar('smoothing'),
    ],
  },
  crossEntropyBackward: {
    args: [
      f32('logits', rows, cols), i32('targets', rows), f32('lse', rows), f32('dloss', rows),
      f32('dlogits', rows, cols), rows, cols, scalar('ignoreIndex'), scalar('smoothing'),
    ],
    // the export returns -1 - r for the first row r whose target is out of range
    after(r, a, c) {
      if (r >= 0) return;
      const row = -1 - r;
      c.err(`crossEntropyBackward target ${c.heap.i32()[(a[1]! >>> 2) + row]} of row ${row} is out of range`);
    },
  },

  layerNorm: {
    args: [
      f32('x', rows, cols), f32OrNull('gamma', cols), f32OrNull('beta', cols), f32('y', rows, cols),
      f32('mean', rows), f32('rstd', rows), rows, cols, scalar('eps'),
    ],
  },
  layerNormBackward: {
    args: [
      f32('x', rows, cols), f32OrNull('gamma', cols), f32('mean', rows), f32('rstd', rows), f32('dy', rows, cols),
      f32('dx', rows, cols), f32OrNull('dgamma', cols), f32OrNull('dbeta', cols), rows, cols,
    ],
  },
  groupedScaleShift: {
    args: [
      f32('x', rows, D), i32('groupMap', D), f32('gamma', K), f32('beta', K), f32('y', rows, D), rows, D, K,
      f32('scratch', 2, D),
    ],
    check: (a, _s, c) => groupIds(c, a[1]!, a[6]!, a[7]!),
  },
  groupedScaleShiftBackward: {
    args: [
      f32('x', rows, D), i32('groupMap', D), f32('gamma', K), f32('beta', K), f32('dy', rows, D), f32('dx', rows, D),
      f32('dgamma', K), f32('dbeta', K), rows, D, K, f32('scratch', 4, D),
    ],
    check: (a, _s, c) => groupIds(c, a[1]!, a[9]!, a[10]!),
  },

  gaussianSample: { args: [f32('mu', n), f32('sigma', n), f32('eps', n), f32('out', n), n, ...seeds] },
  gaussianSampleBackward: { args: [f32('eps', n), f32('dy', n), f32('dmu', n), f32('dsigma', n), n] },
  randn: { args: [f32('out', n), n, ...seeds] },
  randu: { args: [f32('out', n), n, ...seeds] },
  dropoutMask: { custom: dropoutMask },

  gatherRows: {
    args: [f32('table'), i32('ids', n), f32('out', n, dim), n, dim],
    check: (a, size, c) => tableRows(c, a[1]!, a[3]!, a[4]!, size[0]!, 'ids'),
  },
  scatterAddRows: {
    args: [f32('dout', n, dim), i32('ids', n), f32('dtable'), n, dim],
    check: (a, size, c) => tableRows(c, a[1]!, a[3]!, a[4]!, size[2]!, 'ids'),
  },
  oneHot: { args: [i32('ids', n), f32('out', n, classes), n, classes] },

  adamw: {
    args: [
      f32('p', n), f32('g', n), f32('m', n), f32('v', n), n, scalar('lr'), scalar('beta1'), scalar('beta2'),
      scalar('eps'), scalar('weightDecay'), scalar('bc1'), scalar('bc2'),
    ],
  },
  sgd: {
    args: [
      f32('p', n), f32('g', n), f32OrNull('buf', n), n, scalar('lr'), scalar('momentum'), scalar('dampening'),
      scalar('weightDecay'), flag('nesterov'), flag('firstStep'),
    ],
    check(a) {
      // the kernel takes a non-null buf as "use momentum", so without momentum it gets none
      if (a[5] === 0) a[2] = 0;
      else if (a[2] === 0) throw new TypeError('wasm backend: sgd with momentum needs a momentum buffer');
    },
  },
};

function reduceRow(): BindingTable['reduce'] {
  const outer = count('outer'), r = count('r'), inner = count('inner');
  return {
    args: [op('reduce', ['sum', 'max'] as const), f32('x', outer, r, inner), f32('out', outer, inner), outer, r, inner],
    check(a, _s, c) {
      if (a[0] === 1 && a[4] === 0) c.err('reduce max over an empty axis (r = 0) has no identity');
    },
  };
}

/** Checks every group id lies in [0, K): a bad one would make the backward write out of bounds. */
function groupIds(c: BindContext, ptr: number, D: number, K: number): void {
  const mem = c.heap.i32();
  const o = ptr >>> 2;
  for (let i = 0; i < D; i++) {
    const k = mem[o + i]!;
    if (k < 0 || k >= K) c.err(`groupMap[${i}] = ${k} is outside [0, ${K})`);
  }
}

/** Checks every id selects a whole row of a table with `size` elements. */
function tableRows(c: BindContext, idp: number, n: number, dim: number, size: number, name: string): void {
  const mem = c.heap.i32();
  const o = idp >>> 2;
  for (let r = 0; r < n; r++) {
    const id = mem[o + r]!;
    if (id < 0 || (id + 1) * dim > size) {
      c.err(`${name}[${r}] = ${id} is outside the table's ${Math.floor(size / Math.max(dim, 1))} rows`);
    }
  }
}

// ---- bindings written out -----------------------------------------------------------------------

function fill(c: BindContext): Kernels['fill'] {
  const bits = new Float32Array(1);
  const bitsI = new Int32Array(bits.buffer);
  const a = [0, 0, 0];
  return (out, value) => {
    const b = c.live(out, 'out');
    a[0] = b.ptr;
    a[1] = b.size;
    if (b.kind === 'f') {
      bits[0] = value;
      a[2] = bitsI[0]!;
    } else {
      a[2] = value | 0;
    }
    c.run('fill32', a);
  };
}

const BINARY_CODE = new Map<string, number>(BINARY_OPS.map((o, i) => [o, i]));

function binary(c: BindContext): Kernels['binary'] {
  const args = [0, 0, 0, 0, 0, c.paramPtr];
  return (opName, a, aStrides, b, bStrides, out, shape) => {
    const code = BINARY_CODE.get(opName);
    if (code === undefined) c.err(`unknown binary op '${String(opName)}'`);
    const total = checkShape(c, shape, aStrides.length, bStrides.length);
    const pa = c.fp(a, 'a', 0);
    const pb = c.fp(b, 'b', 0);
    const po = c.fp(out, 'out', total);
    if (total === 0) return;
    checkStrided(c, a.size, 0, aStrides, shape, 'a');
    checkStrided(c, b.size, 0, bStrides, shape, 'b');
    // Merge dims all three operands walk contiguously: equal contiguous operands become rank 1,
    // row / column broadcasts rank 2, which the kernel's fast row loops then handle.
    const m = coalesce(shape, [aStrides, bStrides, contiguousStrides(shape)]);
    params(c, m.shape, m.strides[0]!, m.strides[1]!);
    args[0] = code!;
    args[1] = pa;
    args[2] = pb;
    args[3] = po;
    args[4] = m.shape.length;
    c.run('binary', args);
  };
}

function where(c: BindContext): Kernels['where'] {
  const args = [0, 0, 0, 0, 0, 0];
  return (cond, a, b, out, count) => {
    c.count(count, 'n');
    const cb = c.live(cond, 'cond');
    if (cb.size < count) c.err(`cond has ${cb.size} elements, the kernel needs ${count}`);
    args[0] = cb.ptr;
    args[1] = cb.kind === 'i' ? 1 : 0;
    args[2] = c.fp(a, 'a', count);
    args[3] = c.fp(b, 'b', count);
    args[4] = c.fp(out, 'out', count);
    args[5] = count;
    c.run('where', args);
  };
}

/** Checks the attention dims and the mask; returns [rows, keep pointer, keep is int32]. */
function attentionDims(
  c: BindContext, keep: Buf | null, batch: number, heads: number, queryLen: number, keyLen: number, causal: boolean,
): [number, number, number] {
  c.count(batch, 'batch');
  c.count(heads, 'heads');
  c.count(queryLen, 'queryLen');
  c.count(keyLen, 'keyLen');
  if (causal && keyLen < queryLen) c.err(`causal attention needs keyLen ${keyLen} >= queryLen ${queryLen}`);
  if (keep === null) return [batch * heads * queryLen, 0, 0];
  const k = c.live(keep, 'keep');
  if (k.size < batch * keyLen) c.err(`keep has ${k.size} elements, the kernel needs batch * keyLen = ${batch * keyLen}`);
  return [batch * heads * queryLen, k.ptr, k.kind === 'i' ? 1 : 0];
}

function attentionSoftmax(c: BindContext): Kernels['attentionSoftmax'] {
  const args = new Array<number>(11).fill(0);
  return (x, keep, out, batch, heads, queryLen, keyLen, scale, causal) => {
    const [rowCount, kp, isInt] = attentionDims(c, keep, batch, heads, queryLen, keyLen, causal);
    args[0] = c.fp(x, 'x', rowCount * keyLen);
    args[1] = kp;
    args[2] = isInt;
    args[3] = c.fp(out, 'out', rowCount * keyLen);
    args[4] = rowCount;
    args[5] = keyLen;
    args[6] = 0;
    args[7] = queryLen;
    args[8] = heads * queryLen;
    args[9] = scale;
    args[10] = causal ? 1 : 0;
    if (rowCount > 0 && keyLen > 0) c.run('attentionSoftmax', args);
  };
}

function attentionSoftmaxBackward(c: BindContext): Kernels['attentionSoftmaxBackward'] {
  const args = new Array<number>(12).fill(0);
  return (y, dy, dx, keep, batch, heads, queryLen, keyLen, scale, causal) => {
    const [rowCount, kp, isInt] = attentionDims(c, keep, batch, heads, queryLen, keyLen, causal);
    args[0] = c.fp(y, 'y', rowCount * keyLen);
    args[1] = c.fp(dy, 'dy', rowCount * keyLen);
    args[2] = c.fp(dx, 'dx', rowCount * keyLen);
    args[3] = kp;
    args[4] = isInt;
    args[5] = rowCount;
    args[6] = keyLen;
    args[7] = 0;
    args[8] = queryLen;
    args[9] = heads * queryLen;
    args[10] = scale;
    args[11] = causal ? 1 : 0;
    if (rowCount > 0 && keyLen > 0) c.run('attentionSoftmaxBackward', args);
  };
}

function copyStrided(c: BindContext): Kernels['copyStrided'] {
  const args = [0, 0, 0, c.paramPtr, 0, 0];
  return (src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape, accumulate) => {
    const s = c.live(src, 'src');
    const d = c.live(dst, 'dst');
    if (s.kind !== d.kind) throw new TypeError('wasm backend: copyStrided src and dst must be of the same kind');
    const total = checkShape(c, shape, srcStrides.length, dstStrides.length);
    if (total === 0) return;
    c.count(srcOffset, 'srcOffset');
    c.count(dstOffset, 'dstOffset');
    checkStrided(c, s.size, srcOffset, srcStrides, shape, 'src');
    checkStrided(c, d.size, dstOffset, dstStrides, shape, 'dst');
    const m = coalesce(shape, [srcStrides, dstStrides]);
    params(c, m.shape, m.strides[0]!, m.strides[1]!);
    args[0] = s.ptr + srcOffset * 4;
    args[1] = d.ptr + dstOffset * 4;
    args[2] = m.shape.length;
    args[4] = accumulate ? 1 : 0;
    args[5] = s.kind === 'i' ? 1 : 0;
    c.run('copyStrided', args);
  };
}

function matmul(c: BindContext): Kernels['matmul'] {
  const args: number[] = new Array<number>(17).fill(0);
  return (a, aOffset, b, bOffset, cBuf, cOffset, M, N, K, transA, transB, batch, strideA, strideB, strideC, accumulate) => {
    if (c.ex.matmul === undefined) throw new Error('wasm backend: this kernel binary has no matmul export');
    c.count(M, 'M');
    c.count(N, 'N');
    c.count(K, 'K');
    c.count(batch, 'batch');
    c.count(aOffset, 'aOffset');
    c.count(bOffset, 'bOffset');
    c.count(cOffset, 'cOffset');
    c.count(strideA, 'strideA');
    c.count(strideB, 'strideB');
    c.count(strideC, 'strideC');
    if (batch === 0 || M === 0 || N === 0) return;
    // the last matrix of the batch ends at offset + (batch - 1) * stride + its size
    const pa = c.fp(a, 'a', aOffset + (batch - 1) * strideA + M * K);
    const pb = c.fp(b, 'b', bOffset + (batch - 1) * strideB + K * N);
    const pc = c.fp(cBuf, 'c', cOffset + (batch - 1) * strideC + M * N);
    args[0] = pa + aOffset * 4;
    args[1] = pb + bOffset * 4;
    args[2] = pc + cOffset * 4;
    args[3] = M;
    args[4] = N;
    args[5] = K;
    args[6] = transA ? 1 : 0;
    args[7] = transB ? 1 : 0;
    args[8] = batch;
    args[9] = strideA;
    args[10] = strideB;
    args[11] = strideC;
    args[12] = accumulate ? 1 : 0;
    args[13] = c.matmulScratch();
    args[14] = transA ? M : K; // leading dimensions of A, B and C as stored
    args[15] = transB ? K : N;
    args[16] = N;
    c.run('matmul', args);
  };
}

function dropoutMask(c: BindContext): Kernels['dropoutMask'] {
  const args = [0, 0, 0, 0, 0, 0, 0];
  return (out, count, p, seedLo, seedHi, counter) => {
    c.count(count, 'n');
    seedWords(c, seedLo, seedHi, counter);
    if (!(p >= 0 && p <= 1)) c.err(`dropout p must be in [0, 1], got ${p}`);
    args[0] = c.fp(out, 'out', count);
    args[1] = count;
    args[2] = p;
    // keep is computed in f64 and rounded once, as the reference's float32 store does
    args[3] = 1 / (1 - p);
    args[4] = seedLo;
    args[5] = seedHi;
    args[6] = counter;
    c.run('dropoutMask', args);
  };
}

function seedWords(c: BindContext, seedLo: number, seedHi: number, counter: number): void {
  const word = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) c.err(`${name} must be an integer in [0, 2^32), got ${v}`);
  };
  word(seedLo, 'seedLo');
  word(seedHi, 'seedHi');
  word(counter, 'counter');
}

// ---- strided kernels: shape and strides go through a parameter block ---------------------------

/** Writes the shape and two stride lists (rank each) into the parameter block. */
function params(c: BindContext, shape: readonly number[], s0: readonly number[], s1: readonly number[]): void {
  const mem = c.heap.i32();
  let o = c.paramPtr >>> 2;
  for (const l of [shape, s0, s1]) for (const v of l) mem[o++] = v;
  // the kernels keep one more list (their odometer) after these, so a fourth must fit too
  if (((o << 2) - c.paramPtr) * 4 > PARAM_BYTES * 3) c.err('internal: parameter block overflow');
}

/** Lowest and highest element a strided walk touches, checked against the buffer size. */
function checkStrided(
  c: BindContext, size: number, offset: number, strides: readonly number[], shape: readonly number[], name: string,
): void {
  let lo = offset;
  let hi = offset;
  for (let d = 0; d < shape.length; d++) {
    if (!Number.isInteger(strides[d])) c.err(`${name} stride ${strides[d]} is not an integer`);
    const span = (shape[d]! - 1) * strides[d]!;
    if (span < 0) lo += span;
    else hi += span;
  }
  if (lo < 0 || hi >= size) c.err(`${name} access [${lo}, ${hi}] is outside its ${size} elements`);
}

/** Checks the rank and the operands' stride counts; returns the element count of `shape`. */
function checkShape(c: BindContext, shape: readonly number[], nStrides0: number, nStrides1: number): number {
  if (shape.length > MAX_RANK) c.err(`rank ${shape.length} exceeds MAX_RANK ${MAX_RANK}`);
  if (nStrides0 !== shape.length) c.err(`${nStrides0} strides for rank ${shape.length}`);
  if (nStrides1 !== shape.length) c.err(`${nStrides1} strides for rank ${shape.length}`);
  let total = 1;
  for (let d = 0; d < shape.length; d++) {
    if (!(Number.isInteger(shape[d]) && shape[d]! >= 0)) c.err(`shape[${d}] must be a non-negative integer, got ${shape[d]}`);
    total *= shape[d]!;
  }
  return total;
}
