// Attention weights from raw scores in one kernel: scale, mask and softmax, forward and backward.
//
// Rows are (batch, head, query) flattened; columns are keys. The mask is never materialised: key j
// is blocked for query i of batch b when keep[b, j] == 0 (a (batch, keys) padding mask, float or
// int32, or none) or, with `causal`, when j > past + i (past = keys - queries, the cached keys).
// A blocked score is replaced by MASK before the softmax, so the arithmetic is the same as scaling,
// replacing with `where` and running softmax separately, and the results are bitwise equal to that
// composition. Row tasks carry their first global row (rowStart) so any split gives the same bits.
import { ldf, splat, stf, stv, ldv } from './common';
import { softmaxBackwardRow, softmaxRow } from './softmax';

/** The score a blocked key gets (src/nn/attention.ts MASK_VALUE): exp of it underflows to 0 against any allowed score. */
const MASK: f32 = -1e9;

/** Bit mask of the blocked lanes j..j+3 of one row (all ones = blocked). */
@inline function blockedV(kp: usize, keepIsInt: i32, j: i32, limit: i32): v128 {
  let b = i32x4.splat(0);
  if (kp != 0) {
    const k = ldv(kp, j);
    b = keepIsInt != 0 ? i32x4.eq(k, i32x4.splat(0)) : f32x4.eq(k, splat(0));
  }
  // lanes j + l > limit are future keys; limit is i32.MAX_VALUE when not causal
  const lanes = i32x4.add(i32x4.splat(j), i32x4(0, 1, 2, 3));
  return v128.or(b, i32x4.gt_s(lanes, i32x4.splat(limit)));
}

@inline function blockedS(kp: usize, keepIsInt: i32, j: i32, limit: i32): bool {
  if (j > limit) return true;
  if (kp == 0) return false;
  const bits = load<i32>(kp + ((<usize>j) << 2));
  return keepIsInt != 0 ? bits == 0 : reinterpret<f32>(bits) == 0;
}

/**
 * out[r, :] = softmax(scale * x[r, :] with blocked keys set to MASK), for rows
 * rowStart .. rowStart + rows - 1 of a (batch * heads * queryLen, cols) problem whose first `rows`
 * rows start at x and out. keep (0 = none) points at row 0 of the (batch, cols) mask.
 */
export function attentionSoftmax(
  x: usize, keep: usize, keepIsInt: i32, out: usize, rows: i32, cols: i32, rowStart: i32,
  queryLen: i32, rowsPerBatch: i32, scale: f32, causal: i32,
): void {
  const rb = (<usize>cols) << 2;
  const past = cols - queryLen;
  for (let r = 0; r < rows; r++) {
    const g = rowStart + r;
    const kp: usize = keep == 0 ? <usize>0 : keep + <usize>(g / rowsPerBatch) * rb;
    const limit = causal != 0 ? past + g % queryLen : i32.MAX_VALUE;
    const xr = x + <usize>r * rb;
    const orow = out + <usize>r * rb;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const sv = splat(scale);
      const mv = splat(MASK);
      for (; j + 4 <= cols; j += 4) {
        stv(orow, j, v128.bitselect(mv, f32x4.mul(ldv(xr, j), sv), blockedV(kp, keepIsInt, j, limit)));
      }
    }
    for (; j < cols; j++) stf(orow, j, blockedS(kp, keepIsInt, j, limit) ? MASK : ldf(xr, j) * scale);
    softmaxRow(orow, orow, cols);
  }
}

/** dx = scale * y (dy - sum_j dy_j y_j) at allowed keys, 0 at blocked ones; rows as in attentionSoftmax. */
export function attentionSoftmaxBackward(
  y: usize, dy: usize, dx: usize, keep: usize, keepIsInt: i32, rows: i32, cols: i32, rowStart: i32,
  queryLen: i32, rowsPerBatch: i32, scale: f32, causal: i32,
): void {
  const rb = (<usize>cols) << 2;
  const past = cols - queryLen;
  for (let r = 0; r < rows; r++) {
    const g = rowStart + r;
    const kp: usize = keep == 0 ? <usize>0 : keep + <usize>(g / rowsPerBatch) * rb;
    const limit = causal != 0 ? past + g % queryLen : i32.MAX_VALUE;
    const off = <usize>r * rb;
    const dr = dx + off;
    softmaxBackwardRow(y + off, dy + off, dr, cols);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const sv = splat(scale);
      for (; j + 4 <= cols; j += 4) {
        stv(dr, j, v128.andnot(f32x4.mul(ldv(dr, j), sv), blockedV(kp, keepIsInt, j, limit)));
      }
    }
    for (; j < cols; j++) stf(dr, j, blockedS(kp, keepIsInt, j, limit) ? 0 : ldf(dr, j) * scale);
  }
}
