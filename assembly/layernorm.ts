// Layer norm over the last dim of (rows, cols), forward and backward.
//
// Forward: two vector passes for the statistics (mean, then the centred sum of squares, which avoids
// the cancellation of E[x^2] - E[x]^2), one for the output. Backward: one pass for the two row means
// (of dxhat and dxhat * xhat) that also accumulates dgamma / dbeta into their outputs, one for dx.
import { hsum, ldf, ldv, madd, splat, stf, stv } from './common';

/** gamma, beta may be 0 (absent: 1 and 0). */
export function layerNorm(
  x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize,
  rows: i32, cols: i32, eps: f64,
): void {
  const rb = (<usize>cols) << 2;
  const invCols: f32 = 1 / <f32>cols;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rb;
    const yr = y + <usize>r * rb;
    let i = 0;
    let sum: f32 = 0;
    if (ASC_FEATURE_SIMD) {
      let acc = splat(0);
      for (; i + 4 <= cols; i += 4) acc = f32x4.add(acc, ldv(xr, i));
      sum = hsum(acc);
    }
    for (; i < cols; i++) sum += ldf(xr, i);
    const mu = sum * invCols;
    i = 0;
    let sq: f32 = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = splat(mu);
      let acc = splat(0);
      for (; i + 4 <= cols; i += 4) {
        const d = f32x4.sub(ldv(xr, i), mv);
        acc = madd(d, d, acc);
      }
      sq = hsum(acc);
    }
    for (; i < cols; i++) {
      const d = ldf(xr, i) - mu;
      sq += d * d;
    }
    // the reciprocal square root in f64: eps is tiny next to var only sometimes, and this is per row
    const inv = <f32>(1 / Math.sqrt(<f64>(sq * invCols) + eps));
    stf(mean, r, mu);
    stf(rstd, r, inv);
    i = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = splat(mu);
      const iv = splat(inv);
      for (; i + 4 <= cols; i += 4) {
        const xhat = f32x4.mul(f32x4.sub(ldv(xr, i), mv), iv);
        const g = gamma != 0 ? ldv(gamma, i) : splat(1);
        const b = beta != 0 ? ldv(beta, i) : splat(0);
        stv(yr, i, madd(xhat, g, b));
      }
    }
    for (; i < cols; i++) {
      const xhat = (ldf(xr, i) - mu) * inv;
      const g: f32 = gamma != 0 ? ldf(gamma, i) : 1;
      const b: f32 = beta != 0 ? ldf(beta, i) : 0;
      stf(yr, i, xhat * g + b);
    }
  }
}

/**
 * dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = dy gamma; writes dgamma = sum_r dy
 * xhat and dbeta = sum_r dy when their pointers are nonzero.
 */
export function layerNormBackward(
  x: usize, gamma: usize, mean: usize, rstd: usize, dy: usize,
  dx: usize, dgamma: usize, dbeta: usize, rows: i32, cols: i32,
): void {
  const rb = (<usize>cols) << 2;
  const invCols: f32 = 1 / <f32>cols;
  if (dgamma != 0 || dbeta != 0) layerNormParamGrad(x, mean, rstd, dy, dgamma, dbeta, rows, cols, cols);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rb;
    const xr = x + off;
    const gr = dy + off;
    const dr = dx + off;
    const mu = ldf(mean, r);
    const inv = ldf(rstd, r);
    let i = 0;
    let sa: f32 = 0;
    let sb: f32 = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = splat(mu);
      const iv = splat(inv);
      let accA = splat(0);
      let accB = splat(0);
      for (; i + 4 <= cols; i += 4) {
        const g = ldv(gr, i);
        const xhat = f32x4.mul(f32x4.sub(ldv(xr, i), mv), iv);
        const dxhat = gamma != 0 ? f32x4.mul(g, ldv(gamma, i)) : g;
        accA = f32x4.add(accA, dxhat);
        accB = madd(dxhat, xhat, accB);
      }
      sa = hsum(accA);
      sb = hsum(accB);
    }
    for (; i < cols; i++) {
      const g = ldf(gr, i);
      const xhat = (ldf(xr, i) - mu) * inv;
      const dxhat = gamma != 0 ? g * ldf(gamma, i) : g;
      sa += dxhat;
      sb += dxhat * xhat;
    }
    const ma = sa * invCols;
    const mb = sb * invCols;
    i = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = splat(mu);
      const iv = splat(inv);
      const mav = splat(ma);
      const mbv = splat(mb);
      for (; i + 4 <= cols; i += 4) {
        const g = ldv(gr, i);
        const xhat = f32x4.mul(f32x4.sub(ldv(xr, i), mv), iv);
        const dxhat = gamma != 0 ? f32x4.mul(g, ldv(gamma, i)) : g;
        stv(dr, i, f32x4.mul(iv, f32x4.sub(f32x4.sub(dxhat, mav), f32x4.mul(xhat, mbv))));
      }
    }
    for (; i < cols; i++) {
      const g = ldf(gr, i);
      const xhat = (ldf(xr, i) - mu) * inv;
      const dxhat = gamma != 0 ? g * ldf(gamma, i) : g;
      stf(dr, i, inv * ((dxhat - ma) - xhat * mb));
    }
  }
}

/**
 * dgamma[j] = sum_r dy[r, j] xhat[r, j] and dbeta[j] = sum_r dy[r, j] for j < cols (writes; either
 * pointer may be 0), summing over r in order. Rows of x and dy are `ld` elements apart, so a column
 * block of a wider matrix can be passed with pre-offset pointers: the sums then split over columns
 * across threads without reordering any of them (the SIMD / scalar boundary stays at the same
 * columns as long as blocks start at multiples of 4).
 */
export function layerNormParamGrad(
  x: usize, mean: usize, rstd: usize, dy: usize, dgamma: usize, dbeta: usize, rows: i32, cols: i32, ld: i32,
): void {
  const rb = (<usize>ld) << 2;
  if (dgamma != 0) memory.fill(dgamma, 0, (<usize>cols) << 2);
  if (dbeta != 0) memory.fill(dbeta, 0, (<usize>cols) << 2);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rb;
    const xr = x + off;
    const gr = dy + off;
    const mu = ldf(mean, r);
    const inv = ldf(rstd, r);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = splat(mu);
      const iv = splat(inv);
      for (; i + 4 <= cols; i += 4) {
        const g = ldv(gr, i);
        const xhat = f32x4.mul(f32x4.sub(ldv(xr, i), mv), iv);
        if (dgamma != 0) stv(dgamma, i, madd(g, xhat, ldv(dgamma, i)));
        if (dbeta != 0) stv(dbeta, i, f32x4.add(ldv(dbeta, i), g));
      }
    }
    for (; i < cols; i++) {
      const g = ldf(gr, i);
      const xhat = (ldf(xr, i) - mu) * inv;
      if (dgamma != 0) stf(dgamma, i, g * xhat + ldf(dgamma, i));
      if (dbeta != 0) stf(dbeta, i, ldf(dbeta, i) + g);
    }
  }
}
