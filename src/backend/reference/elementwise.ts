/** Elementwise and strided kernels: fill, unary (+ gradient), broadcast binary, axpy, scale, where, copyStrided. */
import type { BinaryOp, Buf, UnaryOp } from '../kernels.js';
import { MAX_RANK } from '../kernels.js';
import { anydata, checkCount, checkStrided, fdata, live } from './buffer.js';
import { unaryDerivative, unaryFn } from './math.js';

export function fill(out: Buf, value: number): void {
  anydata(out, 'out', 0).fill(value);
}

export function unary(op: UnaryOp, x: Buf, out: Buf, n: number): void {
  checkCount(n, 'n');
  const f = unaryFn(op);
  const xs = fdata(x, 'x', n);
  const o = fdata(out, 'out', n);
  for (let i = 0; i < n; i++) o[i] = f(xs[i]!);
}

/** dx = dy * f'(x). `y` is accepted for the contract but unused: the derivative is taken from x. */
export function unaryGrad(op: UnaryOp, x: Buf, y: Buf, dy: Buf, dx: Buf, n: number): void {
  checkCount(n, 'n');
  const df = unaryDerivative(op);
  const xs = fdata(x, 'x', n);
  fdata(y, 'y', n);
  const g = fdata(dy, 'dy', n);
  const o = fdata(dx, 'dx', n);
  for (let i = 0; i < n; i++) o[i] = g[i]! * df(xs[i]!);
}

function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'pow': return Math.pow;
    // Math.max / Math.min return NaN if either operand is NaN, as the contract wants.
    case 'max': return Math.max;
    case 'min': return Math.min;
    case 'eq': return (a, b) => (a === b ? 1 : 0);
    case 'gt': return (a, b) => (a > b ? 1 : 0);
    default: throw new RangeError(`reference backend: unknown binary op '${String(op)}'`);
  }
}

function checkRank(shape: readonly number[]): void {
  if (shape.length > MAX_RANK) {
    throw new RangeError(`reference backend: rank ${shape.length} exceeds MAX_RANK ${MAX_RANK}`);
  }
}

/**
 * Visits every index of `shape` in row-major order, calling `body(i, pa, pb)` with the flat output
 * index and the two strided positions. An odometer over all but the last dim, with a plain loop over
 * the last dim. Rank 0 visits the single element once.
 */
function forEachStrided(
  shape: readonly number[], offA: number, stridesA: readonly number[], offB: number,
  stridesB: readonly number[], body: (i: number, pa: number, pb: number) => void,
): void {
  const rank = shape.length;
  if (shape.some((s) => s === 0)) return;
  if (rank === 0) {
    body(0, offA, offB);
    return;
  }
  const last = rank - 1;
  const inner = shape[last]!;
  const sa = stridesA[last]!;
  const sb = stridesB[last]!;
  const idx = new Array<number>(rank).fill(0);
  let pa = offA;
  let pb = offB;
  let i = 0;
  for (;;) {
    for (let j = 0; j < inner; j++) body(i++, pa + j * sa, pb + j * sb);
    // Advance the odometer over dims [0, last): increment the lowest digit that does not wrap.
    let d = last - 1;
    while (d >= 0) {
      idx[d]!++;
      pa += stridesA[d]!;
      pb += stridesB[d]!;
      if (idx[d]! < shape[d]!) break;
      pa -= idx[d]! * stridesA[d]!;
      pb -= idx[d]! * stridesB[d]!;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

export function binary(
  op: BinaryOp, a: Buf, aStrides: readonly number[], b: Buf, bStrides: readonly number[],
  out: Buf, shape: readonly number[],
): void {
  checkRank(shape);
  const f = binaryFn(op);
  const av = fdata(a, 'a', 0);
  const bv = fdata(b, 'b', 0);
  checkStrided(av.length, 0, aStrides, shape, 'a');
  checkStrided(bv.length, 0, bStrides, shape, 'b');
  const count = shape.reduce((p, s) => p * s, 1);
  const o = fdata(out, 'out', count);
  forEachStrided(shape, 0, aStrides, 0, bStrides, (i, pa, pb) => {
    o[i] = f(av[pa]!, bv[pb]!);
  });
}

export function copyStrided(
  src: Buf, srcOffset: number, srcStrides: readonly number[],
  dst: Buf, dstOffset: number, dstStrides: readonly number[],
  shape: readonly number[], accumulate: boolean,
): void {
  checkRank(shape);
  const s = anydata(src, 'src', 0);
  const d = anydata(dst, 'dst', 0);
  if (live(src, 'src').kind !== live(dst, 'dst').kind) {
    throw new TypeError('reference backend: copyStrided src and dst must be of the same kind');
  }
  checkStrided(s.length, srcOffset, srcStrides, shape, 'src');
  checkStrided(d.length, dstOffset, dstStrides, shape, 'dst');
  if (accumulate) {
    forEachStrided(shape, srcOffset, srcStrides, dstOffset, dstStrides, (_i, ps, pd) => {
      d[pd] = d[pd]! + s[ps]!;
    });
  } else {
    forEachStrided(shape, srcOffset, srcStrides, dstOffset, dstStrides, (_i, ps, pd) => {
      d[pd] = s[ps]!;
    });
  }
}

export function axpy(alpha: number, x: Buf, y: Buf, n: number): void {
  checkCount(n, 'n');
  const xs = fdata(x, 'x', n);
  const ys = fdata(y, 'y', n);
  for (let i = 0; i < n; i++) ys[i] = alpha * xs[i]! + ys[i]!;
}

export function scale(alpha: number, x: Buf, out: Buf, n: number): void {
  checkCount(n, 'n');
  const xs = fdata(x, 'x', n);
  const o = fdata(out, 'out', n);
  for (let i = 0; i < n; i++) o[i] = alpha * xs[i]!;
}

/** `cond` may be a float or an int32 buffer: only "nonzero" matters. */
export function where(cond: Buf, a: Buf, b: Buf, out: Buf, n: number): void {
  checkCount(n, 'n');
  const c = anydata(cond, 'cond', n);
  const av = fdata(a, 'a', n);
  const bv = fdata(b, 'b', n);
  const o = fdata(out, 'out', n);
  for (let i = 0; i < n; i++) o[i] = c[i] !== 0 ? av[i]! : bv[i]!;
}
