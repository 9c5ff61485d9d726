// Reduction over the middle axis of x viewed as (outer, r, inner).
//
// inner >= 4: rows of `inner` are streamed into the output (out = row 0, then out op= row j), so the
// reads are contiguous whatever r is, and the summation order is the plain j order.
// inner < 4: vectorise along r instead: inner == 1 keeps four partial results over contiguous
// elements, inner == 2 keeps two interleaved pairs; inner == 3 is a short scalar loop.
import { hmax, hsum, ldf, ldv, stf, stv } from './common';

export const R_SUM = 0;
export const R_MAX = 1;

@inline function combS(op: i32, a: f32, b: f32): f32 {
  return op == R_SUM ? a + b : max<f32>(a, b);
}

@inline function combV(op: i32, a: v128, b: v128): v128 {
  return op == R_SUM ? f32x4.add(a, b) : f32x4.max(a, b);
}

@inline function reduceOp(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  const total = outer * inner;
  if (r == 0) {
    // only sum is valid here (max over nothing is rejected by the caller)
    for (let i = 0; i < total; i++) stf(out, i, 0);
    return;
  }
  const rowBytes = (<usize>inner) << 2;
  if (inner >= 4 || !ASC_FEATURE_SIMD) {
    for (let o = 0; o < outer; o++) {
      const dst = out + <usize>o * rowBytes;
      let src = x + <usize>o * <usize>r * rowBytes;
      memory.copy(dst, src, rowBytes);
      for (let j = 1; j < r; j++) {
        src += rowBytes;
        let i = 0;
        if (ASC_FEATURE_SIMD) {
          for (; i + 4 <= inner; i += 4) stv(dst, i, combV(op, ldv(dst, i), ldv(src, i)));
        }
        for (; i < inner; i++) stf(dst, i, combS(op, ldf(dst, i), ldf(src, i)));
      }
    }
    return;
  }
  if (ASC_FEATURE_SIMD) {
    if (inner == 1) reduceRowsV(op, x, out, outer, r);
    else if (inner == 2) reducePairsV(op, x, out, outer, r);
    else reduceTriples(op, x, out, outer, r);
  }
}

/** inner == 1: four partial results along each contiguous row of r. */
@inline function reduceRowsV(op: i32, x: usize, out: usize, outer: i32, r: i32): void {
    for (let o = 0; o < outer; o++) {
      const src = x + <usize>o * <usize>r * 4;
      let acc: f32 = ldf(src, 0);
      let j = 1;
      if (r >= 8) {
        let v = ldv(src, 0);
        j = 4;
        for (; j + 4 <= r; j += 4) v = combV(op, v, ldv(src, j));
        acc = op == R_SUM ? hsum(v) : hmax(v);
      }
      for (; j < r; j++) acc = combS(op, acc, ldf(src, j));
      stf(out, o, acc);
    }
}

/** inner == 2: each vector holds two consecutive rows of the pair. */
@inline function reducePairsV(op: i32, x: usize, out: usize, outer: i32, r: i32): void {
    for (let o = 0; o < outer; o++) {
      const src = x + <usize>o * <usize>r * 8;
      let a0: f32 = ldf(src, 0);
      let a1: f32 = ldf(src, 1);
      let j = 1;
      if (r >= 4) {
        // lanes hold (row 2k, i = 0), (row 2k, i = 1), (row 2k + 1, i = 0), (row 2k + 1, i = 1)
        let v = ldv(src, 0);
        j = 2;
        for (; j + 2 <= r; j += 2) v = combV(op, v, ldv(src, j * 2));
        a0 = combS(op, f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 2));
        a1 = combS(op, f32x4.extract_lane(v, 1), f32x4.extract_lane(v, 3));
      }
      for (; j < r; j++) {
        a0 = combS(op, a0, ldf(src, j * 2));
        a1 = combS(op, a1, ldf(src, j * 2 + 1));
      }
      stf(out, o * 2, a0);
      stf(out, o * 2 + 1, a1);
    }
}

@inline function reduceTriples(op: i32, x: usize, out: usize, outer: i32, r: i32): void {
  for (let o = 0; o < outer; o++) {
    const src = x + <usize>o * <usize>r * 12;
    for (let i = 0; i < 3; i++) {
      let acc = ldf(src, i);
      for (let j = 1; j < r; j++) acc = combS(op, acc, ldf(src, j * 3 + i));
      stf(out, o * 3 + i, acc);
    }
  }
}

export function reduce(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  if (op == R_SUM) reduceOp(R_SUM, x, out, outer, r, inner);
  else reduceOp(R_MAX, x, out, outer, r, inner);
}
