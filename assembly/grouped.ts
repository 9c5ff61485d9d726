// Grouped scale/shift: y[r, i] = (x[r, i] - beta[g(i)]) / gamma[g(i)] over (rows, D), g: D -> [0, K).
//
// The group lookup is an indirect gather, which SIMD cannot do cheaply, so it is done once per call:
// the per-dimension 1 / gamma and beta are gathered into scratch (D each), and then every row is a
// plain vector pass against those two rows. The backward accumulates per-dimension sums over rows in
// scratch (vector passes again) and folds them into the K groups once at the end.
import { ldf, ldi, ldv, madd, stf, stv } from './common';

/** scratch[0, D) = 1 / gamma[g(i)], scratch[D, 2D) = beta[g(i)]. */
@inline function gatherParams(groupMap: usize, gamma: usize, beta: usize, D: i32, scratch: usize): void {
  const sb = scratch + ((<usize>D) << 2);
  for (let i = 0; i < D; i++) {
    const k = ldi(groupMap, i);
    stf(scratch, i, 1 / ldf(gamma, k));
    stf(sb, i, ldf(beta, k));
  }
}

/** scratch holds at least 2 D floats. */
export function groupedScaleShift(
  x: usize, groupMap: usize, gamma: usize, beta: usize, y: usize, rows: i32, D: i32, K: i32,
  scratch: usize,
): void {
  gatherParams(groupMap, gamma, beta, D, scratch);
  const inv = scratch;
  const sh = scratch + ((<usize>D) << 2);
  const rb = (<usize>D) << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rb;
    const yr = y + <usize>r * rb;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= D; i += 4) stv(yr, i, f32x4.mul(f32x4.sub(ldv(xr, i), ldv(sh, i)), ldv(inv, i)));
    }
    for (; i < D; i++) stf(yr, i, (ldf(xr, i) - ldf(sh, i)) * ldf(inv, i));
  }
}

/**
 * dx = dy / gamma[g]; dgamma[k] = -sum dy (x - beta[k]) / gamma[k]^2; dbeta[k] = -sum dy / gamma[k].
 * scratch holds at least 4 D floats: 1 / gamma[g(i)], beta[g(i)], sum_r dy (x - beta), sum_r dy.
 */
export function groupedScaleShiftBackward(
  x: usize, groupMap: usize, gamma: usize, beta: usize, dy: usize, dx: usize, dgamma: usize,
  dbeta: usize, rows: i32, D: i32, K: i32, scratch: usize,
): void {
  gatherParams(groupMap, gamma, beta, D, scratch);
  const rb = (<usize>D) << 2;
  const inv = scratch;
  const sh = scratch + rb;
  const accG = sh + rb;
  const accB = accG + rb;
  memory.fill(accG, 0, rb << 1);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rb;
    const xr = x + off;
    const gr = dy + off;
    const dr = dx + off;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= D; i += 4) {
        const g = ldv(gr, i);
        stv(dr, i, f32x4.mul(g, ldv(inv, i)));
        stv(accG, i, madd(g, f32x4.sub(ldv(xr, i), ldv(sh, i)), ldv(accG, i)));
        stv(accB, i, f32x4.add(ldv(accB, i), g));
      }
    }
    for (; i < D; i++) {
      const g = ldf(gr, i);
      stf(dr, i, g * ldf(inv, i));
      stf(accG, i, g * (ldf(xr, i) - ldf(sh, i)) + ldf(accG, i));
      stf(accB, i, ldf(accB, i) + g);
    }
  }
  memory.fill(dgamma, 0, (<usize>K) << 2);
  memory.fill(dbeta, 0, (<usize>K) << 2);
  for (let i = 0; i < D; i++) {
    const k = ldi(groupMap, i);
    const iv = ldf(inv, i);
    stf(dgamma, k, ldf(dgamma, k) - ldf(accG, i) * (iv * iv));
    stf(dbeta, k, ldf(dbeta, k) - ldf(accB, i) * iv);
  }
}
