/** Layer norm and grouped scale/shift, forward and backward. */
import type { Buf } from '../kernels.js';
import { checkCount, fdata, idata } from './buffer.js';

export function layerNorm(
  x: Buf, gamma: Buf | null, beta: Buf | null, y: Buf, mean: Buf, rstd: Buf,
  rows: number, cols: number, eps: number,
): void {
  checkCount(rows, 'rows');
  checkCount(cols, 'cols');
  const xs = fdata(x, 'x', rows * cols);
  const gs = gamma === null ? null : fdata(gamma, 'gamma', cols);
  const bs = beta === null ? null : fdata(beta, 'beta', cols);
  const ys = fdata(y, 'y', rows * cols);
  const ms = fdata(mean, 'mean', rows);
  const rs = fdata(rstd, 'rstd', rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += xs[base + j]!;
    const mu = sum / cols;
    // Two passes: the variance of the centred values, not E[x^2] - mu^2, which cancels badly.
    let sq = 0;
    for (let j = 0; j < cols; j++) {
      const d = xs[base + j]! - mu;
      sq += d * d;
    }
    const inv = 1 / Math.sqrt(sq / cols + eps);
    ms[r] = mu;
    rs[r] = inv;
    for (let j = 0; j < cols; j++) {
      const xhat = (xs[base + j]! - mu) * inv;
      ys[base + j] = xhat * (gs === null ? 1 : gs[j]!) + (bs === null ? 0 : bs[j]!);
    }
  }
}

export function layerNormBackward(
  x: Buf, gamma: Buf | null, mean: Buf, rstd: Buf, dy: Buf,
  dx: Buf, dgamma: Buf | null, dbeta: Buf | null, rows: number, cols: number,
): void {
  checkCount(rows, 'rows');
  checkCount(cols, 'cols');
  const xs = fdata(x, 'x', rows * cols);
  const gs = gamma === null ? null : fdata(gamma, 'gamma', cols);
  const ms = fdata(mean, 'mean', rows);
  const rs = fdata(rstd, 'rstd', rows);
  const g = fdata(dy, 'dy', rows * cols);
  const o = fdata(dx, 'dx', rows * cols);
  const dgOut = dgamma === null ? null : fdata(dgamma, 'dgamma', cols);
  const dbOut = dbeta === null ? null : fdata(dbeta, 'dbeta', cols);
  const dg = new Float64Array(cols);
  const db = new Float64Array(cols);
  const xhat = new Float64Array(cols);
  const dxhat = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const mu = ms[r]!;
    const inv = rs[r]!;
    let meanDxhat = 0;
    let meanDxhatXhat = 0;
    for (let j = 0; j < cols; j++) {
      const gy = g[base + j]!;
      xhat[j] = (xs[base + j]! - mu) * inv;
      dxhat[j] = gy * (gs === null ? 1 : gs[j]!);
      meanDxhat += dxhat[j]!;
      meanDxhatXhat += dxhat[j]! * xhat[j]!;
      dg[j] += gy * xhat[j]!;
      db[j] += gy;
    }
    meanDxhat /= cols;
    meanDxhatXhat /= cols;
    for (let j = 0; j < cols; j++) {
      o[base + j] = inv * (dxhat[j]! - meanDxhat - xhat[j]! * meanDxhatXhat);
    }
  }
  if (dgOut !== null) dgOut.set(dg);
  if (dbOut !== null) dbOut.set(db);
}

/** The group map as int32 data, checked once per call so a bad entry fails clearly. */
function groups(groupMap: Buf, D: number, K: number): Int32Array {
  const map = idata(groupMap, 'groupMap', D);
  for (let i = 0; i < D; i++) {
    const k = map[i]!;
    if (k < 0 || k >= K) {
      throw new RangeError(`reference backend: groupMap[${i}] = ${k} is outside [0, ${K})`);
    }
  }
  return map;
}

/** y = (x - beta[g]) / gamma[g]. The scratch buffer is not needed here and is only size-checked. */
export function groupedScaleShift(
  x: Buf, groupMap: Buf, gamma: Buf, beta: Buf, y: Buf, rows: number, D: number, K: number,
  scratch: Buf,
): void {
  checkCount(rows, 'rows');
  checkCount(D, 'D');
  checkCount(K, 'K');
  const map = groups(groupMap, D, K);
  const xs = fdata(x, 'x', rows * D);
  const gs = fdata(gamma, 'gamma', K);
  const bs = fdata(beta, 'beta', K);
  const ys = fdata(y, 'y', rows * D);
  fdata(scratch, 'scratch', 2 * D);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < D; i++) {
      const k = map[i]!;
      ys[r * D + i] = (xs[r * D + i]! - bs[k]!) / gs[k]!;
    }
  }
}

export function groupedScaleShiftBackward(
  x: Buf, groupMap: Buf, gamma: Buf, beta: Buf, dy: Buf, dx: Buf, dgamma: Buf, dbeta: Buf,
  rows: number, D: number, K: number, scratch: Buf,
): void {
  checkCount(rows, 'rows');
  checkCount(D, 'D');
  checkCount(K, 'K');
  const map = groups(groupMap, D, K);
  const xs = fdata(x, 'x', rows * D);
  const gs = fdata(gamma, 'gamma', K);
  const bs = fdata(beta, 'beta', K);
  const g = fdata(dy, 'dy', rows * D);
  const o = fdata(dx, 'dx', rows * D);
  const dgOut = fdata(dgamma, 'dgamma', K);
  const dbOut = fdata(dbeta, 'dbeta', K);
  fdata(scratch, 'scratch', 4 * D);
  const dg = new Float64Array(K);
  const db = new Float64Array(K);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < D; i++) {
      const k = map[i]!;
      const gy = g[r * D + i]!;
      o[r * D + i] = gy / gs[k]!;
      dg[k] -= (gy * (xs[r * D + i]! - bs[k]!)) / (gs[k]! * gs[k]!);
      db[k] -= gy / gs[k]!;
    }
  }
  dgOut.set(dg);
  dbOut.set(db);
}
