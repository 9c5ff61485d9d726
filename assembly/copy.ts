// Strided copy (permute, slice, concat, broadcast expansion) with optional accumulation.
import { ldi, ldv, splat, stv } from './common';

/** One row: dst[j * sd] (= or +=) src[j * ss]. isInt selects i32 addition when accumulating. */
@inline function row(src: usize, ss: i32, dst: usize, sd: i32, n: i32, accumulate: i32, isInt: i32): void {
  let j = 0;
  if (!accumulate) {
    if (ss == 1 && sd == 1) {
      memory.copy(dst, src, (<usize>n) << 2);
      return;
    }
    if (ss == 0 && sd == 1) {
      const bits = load<i32>(src);
      if (ASC_FEATURE_SIMD) {
        const v = i32x4.splat(bits);
        for (; j + 4 <= n; j += 4) stv(dst, j, v);
      }
      for (; j < n; j++) store<i32>(dst + ((<usize>j) << 2), bits);
      return;
    }
    const bs = (<usize>ss) << 2;
    const bd = (<usize>sd) << 2;
    for (; j < n; j++) {
      store<i32>(dst, load<i32>(src));
      src += bs;
      dst += bd;
    }
    return;
  }
  if (isInt) {
    const bs = (<usize>ss) << 2;
    const bd = (<usize>sd) << 2;
    for (; j < n; j++) {
      store<i32>(dst, load<i32>(dst) + load<i32>(src));
      src += bs;
      dst += bd;
    }
    return;
  }
  if (ss == 1 && sd == 1) {
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= n; j += 4) stv(dst, j, f32x4.add(ldv(dst, j), ldv(src, j)));
    }
    for (; j < n; j++) {
      const p = dst + ((<usize>j) << 2);
      store<f32>(p, load<f32>(p) + load<f32>(src + ((<usize>j) << 2)));
    }
    return;
  }
  if (ss == 0 && sd == 1) {
    const s = load<f32>(src);
    if (ASC_FEATURE_SIMD) {
      const v = splat(s);
      for (; j + 4 <= n; j += 4) stv(dst, j, f32x4.add(ldv(dst, j), v));
    }
    for (; j < n; j++) {
      const p = dst + ((<usize>j) << 2);
      store<f32>(p, load<f32>(p) + s);
    }
    return;
  }
  // general (including a zero dst stride, which sums the row into one element in order)
  const bs = (<usize>ss) << 2;
  const bd = (<usize>sd) << 2;
  for (; j < n; j++) {
    store<f32>(dst, load<f32>(dst) + load<f32>(src));
    src += bs;
    dst += bd;
  }
}

/**
 * params holds shape, src strides and dst strides (rank i32 each, 1 <= rank <= 8), followed by rank
 * i32 of kernel scratch; src and dst already include their offsets.
 */
export function copyStrided(src: usize, dst: usize, rank: i32, params: usize, accumulate: i32, isInt: i32): void {
  const shape = params;
  const sStr = params + ((<usize>rank) << 2);
  const dStr = sStr + ((<usize>rank) << 2);
  // odometer digits after the three arrays, in the caller's block (no static scratch: thread-safe)
  const IDX = dStr + ((<usize>rank) << 2);
  const last = rank - 1;
  for (let d = 0; d < rank; d++) if (ldi(shape, d) == 0) return;
  const n = ldi(shape, last);
  const ss = ldi(sStr, last);
  const sd = ldi(dStr, last);
  for (let d = 0; d < last; d++) store<i32>(IDX + ((<usize>d) << 2), 0);
  while (true) {
    row(src, ss, dst, sd, n, accumulate, isInt);
    let d = last - 1;
    while (d >= 0) {
      const p = IDX + ((<usize>d) << 2);
      const k = load<i32>(p) + 1;
      src += (<usize>ldi(sStr, d)) << 2;
      dst += (<usize>ldi(dStr, d)) << 2;
      if (k < ldi(shape, d)) {
        store<i32>(p, k);
        break;
      }
      src -= (<usize>(k * ldi(sStr, d))) << 2;
      dst -= (<usize>(k * ldi(dStr, d))) << 2;
      store<i32>(p, 0);
      d--;
    }
    if (d < 0) return;
  }
}
