/**
 * Row-wise kernels over the last dim: softmax and log-softmax (+ backward) and cross-entropy
 * (+ backward). Row statistics are computed in float64 and outputs are written once, so float32
 * buffers see a single rounding per element.
 */
import type { Buf } from '../kernels.js';
import { checkCount, type FloatArray, fdata, idata } from './buffer.js';

function checkRowsCols(rows: number, cols: number): void {
  checkCount(rows, 'rows');
  checkCount(cols, 'cols');
}

/** max_j x[base + j] (NaN if any is NaN), the shift that keeps exp from overflowing. */
function rowMax(x: FloatArray, base: number, cols: number): number {
  let m = -Infinity;
  for (let j = 0; j < cols; j++) {
    const v = x[base + j]!;
    if (v > m || v !== v) m = v;
    if (m !== m) break;
  }
  return m;
}

/** log sum_j exp(x[base + j]), with the row max factored out so no exp overflows. */
function rowLogSumExp(x: FloatArray, base: number, cols: number): number {
  const m = rowMax(x, base, cols);
  let s = 0;
  for (let j = 0; j < cols; j++) s += Math.exp(x[base + j]! - m);
  return m + Math.log(s);
}

export function softmax(x: Buf, out: Buf, rows: number, cols: number): void {
  checkRowsCols(rows, cols);
  const xs = fdata(x, 'x', rows * cols);
  const o = fdata(out, 'out', rows * cols);
  const e = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const m = rowMax(xs, base, cols);
    let s = 0;
    for (let j = 0; j < cols; j++) {
      e[j] = Math.exp(xs[base + j]! - m);
      s += e[j]!;
    }
    for (let j = 0; j < cols; j++) o[base + j] = e[j]! / s;
  }
}

export function softmaxBackward(y: Buf, dy: Buf, dx: Buf, rows: number, cols: number): void {
  checkRowsCols(rows, cols);
  const ys = fdata(y, 'y', rows * cols);
  const g = fdata(dy, 'dy', rows * cols);
  const o = fdata(dx, 'dx', rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += g[base + j]! * ys[base + j]!;
    for (let j = 0; j < cols; j++) o[base + j] = ys[base + j]! * (g[base + j]! - dot);
  }
}

export function logSoftmax(x: Buf, out: Buf, rows: number, cols: number): void {
  checkRowsCols(rows, cols);
  const xs = fdata(x, 'x', rows * cols);
  const o = fdata(out, 'out', rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const lse = rowLogSumExp(xs, base, cols);
    for (let j = 0; j < cols; j++) o[base + j] = xs[base + j]! - lse;
  }
}

export function logSoftmaxBackward(y: Buf, dy: Buf, dx: Buf, rows: number, cols: number): void {
  checkRowsCols(rows, cols);
  const ys = fdata(y, 'y', rows * cols);
  const g = fdata(dy, 'dy', rows * cols);
  const o = fdata(dx, 'dx', rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += g[base + j]!;
    for (let j = 0; j < cols; j++) o[base + j] = g[base + j]! - Math.exp(ys[base + j]!) * s;
  }
}

export function crossEntropy(
  logits: Buf, targets: Buf, loss: Buf, lse: Buf, rows: number, cols: number,
  ignoreIndex: number, smoothing: number,
): number {
  checkRowsCols(rows, cols);
  const x = fdata(logits, 'logits', rows * cols);
  const t = idata(targets, 'targets', rows);
  const l = fdata(loss, 'loss', rows);
  const z = fdata(lse, 'lse', rows);
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const target = t[r]!;
    const base = r * cols;
    const rowLse = rowLogSumExp(x, base, cols);
    z[r] = rowLse;
    // The ignore test comes first: ignoreIndex may itself lie inside [0, cols).
    if (target === ignoreIndex) {
      l[r] = 0;
      continue;
    }
    if (target < 0 || target >= cols) return -1 - r;
    let sumLogp = 0;
    for (let c = 0; c < cols; c++) sumLogp += x[base + c]! - rowLse;
    const logpT = x[base + target]! - rowLse;
    l[r] = -((1 - smoothing) * logpT + (smoothing / cols) * sumLogp);
    count++;
  }
  return count;
}

export function crossEntropyBackward(
  logits: Buf, targets: Buf, lse: Buf, dloss: Buf, dlogits: Buf, rows: number, cols: number,
  ignoreIndex: number, smoothing: number,
): void {
  checkRowsCols(rows, cols);
  const x = fdata(logits, 'logits', rows * cols);
  const t = idata(targets, 'targets', rows);
  const z = fdata(lse, 'lse', rows);
  const gl = fdata(dloss, 'dloss', rows);
  const o = fdata(dlogits, 'dlogits', rows * cols);
  for (let r = 0; r < rows; r++) {
    const target = t[r]!;
    const base = r * cols;
    if (target === ignoreIndex) {
      o.fill(0, base, base + cols);
      continue;
    }
    if (target < 0 || target >= cols) {
      throw new RangeError(`reference backend: crossEntropyBackward target ${target} of row ${r} is out of range`);
    }
    const g = gl[r]!;
    const rowLse = z[r]!;
    for (let c = 0; c < cols; c++) {
      const p = Math.exp(x[base + c]! - rowLse);
      o[base + c] = g * (p - (c === target ? 1 - smoothing : 0) - smoothing / cols);
    }
  }
}
