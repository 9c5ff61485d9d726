// Row-wise softmax, log-softmax and cross-entropy, forward and backward, over (rows, cols).
//
// Each row: a vector max pass, a vector exp pass (shifted by the max so nothing overflows), then the
// normalisation. Row statistics use four-lane partial results folded in a fixed order.
import { hmax, hsum, ldf, ldi, ldv, splat, stf, stv } from './common';
import { expS, expV, logS } from './math';

@inline function rowMax(x: usize, cols: i32): f32 {
  let i = 0;
  let m: f32 = -Infinity;
  if (ASC_FEATURE_SIMD) {
    if (cols >= 4) {
      let v = ldv(x, 0);
      for (i = 4; i + 4 <= cols; i += 4) v = f32x4.max(v, ldv(x, i));
      m = hmax(v);
    }
  }
  for (; i < cols; i++) m = max<f32>(m, ldf(x, i));
  return m;
}

/** sum_j exp(x_j - m); when store is set also writes the exps to out. */
@inline function rowSumExp(x: usize, out: usize, cols: i32, m: f32, storeExp: bool): f32 {
  let i = 0;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = splat(m);
    let acc = splat(0);
    for (; i + 4 <= cols; i += 4) {
      const e = expV(f32x4.sub(ldv(x, i), mv));
      if (storeExp) stv(out, i, e);
      acc = f32x4.add(acc, e);
    }
    s = hsum(acc);
  }
  for (; i < cols; i++) {
    const e = expS(ldf(x, i) - m);
    if (storeExp) stf(out, i, e);
    s += e;
  }
  return s;
}

/** One row of softmax; orow may be xr itself. */
@inline export function softmaxRow(xr: usize, orow: usize, cols: i32): void {
  const m = rowMax(xr, cols);
  const s = rowSumExp(xr, orow, cols, m, true);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const sv = splat(s);
    for (; i + 4 <= cols; i += 4) stv(orow, i, f32x4.div(ldv(orow, i), sv));
  }
  for (; i < cols; i++) stf(orow, i, ldf(orow, i) / s);
}

export function softmax(x: usize, out: usize, rows: i32, cols: i32): void {
  const rb = (<usize>cols) << 2;
  for (let r = 0; r < rows; r++) softmaxRow(x + <usize>r * rb, out + <usize>r * rb, cols);
}

/** One row of dx = y (dy - sum_j dy_j y_j). */
@inline export function softmaxBackwardRow(yr: usize, gr: usize, dr: usize, cols: i32): void {
  let i = 0;
  let dot: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = splat(0);
    for (; i + 4 <= cols; i += 4) acc = f32x4.add(acc, f32x4.mul(ldv(gr, i), ldv(yr, i)));
    dot = hsum(acc);
  }
  for (; i < cols; i++) dot += ldf(gr, i) * ldf(yr, i);
  i = 0;
  if (ASC_FEATURE_SIMD) {
    const dv = splat(dot);
    for (; i + 4 <= cols; i += 4) stv(dr, i, f32x4.mul(ldv(yr, i), f32x4.sub(ldv(gr, i), dv)));
  }
  for (; i < cols; i++) stf(dr, i, ldf(yr, i) * (ldf(gr, i) - dot));
}

/** dx = y (dy - sum_j dy_j y_j). */
export function softmaxBackward(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const rb = (<usize>cols) << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rb;
    softmaxBackwardRow(y + off, dy + off, dx + off, cols);
  }
}

/**
 * out = (x - m) - log(sum_j exp(x_j - m)) with m the row max. Subtracting m first keeps large logits
 * exact: x - (m + log s) would round m + log s to the ulp of m (1e-3 at 1e4) before subtracting.
 */
export function logSoftmax(x: usize, out: usize, rows: i32, cols: i32): void {
  const rb = (<usize>cols) << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rb;
    const orow = out + <usize>r * rb;
    const m = rowMax(xr, cols);
    const ls = logS(rowSumExp(xr, 0, cols, m, false));
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = splat(m);
      const lv = splat(ls);
      for (; i + 4 <= cols; i += 4) stv(orow, i, f32x4.sub(f32x4.sub(ldv(xr, i), mv), lv));
    }
    for (; i < cols; i++) stf(orow, i, (ldf(xr, i) - m) - ls);
  }
}

/** dx = dy - exp(y) sum_j dy_j. */
export function logSoftmaxBackward(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const rb = (<usize>cols) << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rb;
    const yr = y + off;
    const gr = dy + off;
    const dr = dx + off;
    let i = 0;
    let s: f32 = 0;
    if (ASC_FEATURE_SIMD) {
      let acc = splat(0);
      for (; i + 4 <= cols; i += 4) acc = f32x4.add(acc, ldv(gr, i));
      s = hsum(acc);
    }
    for (; i < cols; i++) s += ldf(gr, i);
    i = 0;
    if (ASC_FEATURE_SIMD) {
      const sv = splat(s);
      for (; i + 4 <= cols; i += 4) stv(dr, i, f32x4.sub(ldv(gr, i), f32x4.mul(expV(ldv(yr, i)), sv)));
    }
    for (; i < cols; i++) stf(dr, i, ldf(gr, i) - expS(ldf(yr, i)) * s);
  }
}

/**
 * Cross-entropy with label smoothing s: loss = -((1 - s) logp[t] + (s / cols) sum_c logp[c]),
 * lse = logsumexp(row). Returns the number of non-ignored rows, or -1 - r for the first row r whose
 * target is outside [0, cols) and not ignoreIndex.
 */
export function crossEntropy(
  logits: usize, targets: usize, loss: usize, lse: usize, rows: i32, cols: i32,
  ignoreIndex: i32, smoothing: f32,
): i32 {
  const rb = (<usize>cols) << 2;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const xr = logits + <usize>r * rb;
    const t = ldi(targets, r);
    const m = rowMax(xr, cols);
    const ls = logS(rowSumExp(xr, 0, cols, m, false));
    stf(lse, r, m + ls);
    if (t == ignoreIndex) {
      stf(loss, r, 0);
      continue;
    }
    if (t < 0 || t >= cols) return -1 - r;
    // log p = (x - m) - log s, as in logSoftmax: exact for large logits
    const logpT = (ldf(xr, t) - m) - ls;
    let l: f32 = (<f32>1 - smoothing) * logpT;
    if (smoothing != 0) {
      // sum_c log p_c, subtracting per element so no large cancellation at the end
      let i = 0;
      let sum: f32 = 0;
      if (ASC_FEATURE_SIMD) {
        const mv = splat(m);
        const lv = splat(ls);
        let acc = splat(0);
        for (; i + 4 <= cols; i += 4) acc = f32x4.add(acc, f32x4.sub(f32x4.sub(ldv(xr, i), mv), lv));
        sum = hsum(acc);
      }
      for (; i < cols; i++) sum += (ldf(xr, i) - m) - ls;
      l += (smoothing / <f32>cols) * sum;
    }
    stf(loss, r, -l);
    count++;
  }
  return count;
}

/**
 * dlogits = dloss[r] (softmax - (1 - s) [c == t] - s / cols), zero rows for ignored targets.
 * Returns 0, or -1 - r for the first row with an out-of-range target (its row is left unspecified).
 */
export function crossEntropyBackward(
  logits: usize, targets: usize, lse: usize, dloss: usize, dlogits: usize, rows: i32, cols: i32,
  ignoreIndex: i32, smoothing: f32,
): i32 {
  const rb = (<usize>cols) << 2;
  const sc: f32 = smoothing / <f32>cols;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rb;
    const xr = logits + off;
    const dr = dlogits + off;
    const t = ldi(targets, r);
    if (t == ignoreIndex) {
      memory.fill(dr, 0, rb);
      continue;
    }
    if (t < 0 || t >= cols) return -1 - r;
    const g = ldf(dloss, r);
    const z = ldf(lse, r);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const gv = splat(g);
      const zv = splat(z);
      const sv = splat(sc);
      for (; i + 4 <= cols; i += 4) {
        const p = expV(f32x4.sub(ldv(xr, i), zv));
        stv(dr, i, f32x4.mul(gv, f32x4.sub(p, sv)));
      }
    }
    for (; i < cols; i++) stf(dr, i, g * (expS(ldf(xr, i) - z) - sc));
    // the target column, recomputed with the one-hot term in the same expression
    stf(dr, t, g * ((expS(ldf(xr, t) - z) - (<f32>1 - smoothing)) - sc));
  }
  return 0;
}
