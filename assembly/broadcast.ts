// Broadcast binary ops: out[idx] = a[idx . aStrides] op b[idx . bStrides], out contiguous.
//
// The TypeScript side coalesces dims first, so the common cases arrive as rank 1 or 2 and take the
// fast row loops below: equal contiguous operands (strides 1, 1), a scalar operand (stride 0 on one
// side: splatted once per row), a broadcast row ((0, 1) inner strides in a rank-2 shape) or column
// ((1, 0) inner strides). Everything else walks an odometer over the outer dims, with the same
// vectorised row loop on the innermost dim.
// Op codes follow BINARY_OPS in src/backend/kernels.ts.
import { ldf, ldi, ldv, splat, stf, stv } from './common';

export const B_ADD = 0;
export const B_SUB = 1;
export const B_MUL = 2;
export const B_DIV = 3;
export const B_POW = 4;
export const B_MAX = 5;
export const B_MIN = 6;
export const B_EQ = 7;
export const B_GT = 8;

/** JavaScript's Math.pow, which differs from C's pow at pow(x, NaN) and pow(+-1, +-inf): both NaN. */
@inline export function powJs(a: f32, b: f32): f32 {
  const x = <f64>a;
  const y = <f64>b;
  if (y != y) return NaN;
  if (abs<f64>(x) == 1 && abs<f64>(y) == Infinity) return NaN;
  return <f32>Math.pow(x, y);
}

@inline function opS(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case B_ADD: return a + b;
    case B_SUB: return a - b;
    case B_MUL: return a * b;
    case B_DIV: return a / b;
    case B_POW: return powJs(a, b);
    case B_MAX: return max<f32>(a, b);
    case B_MIN: return min<f32>(a, b);
    case B_EQ: return a == b ? 1 : 0;
    case B_GT: return a > b ? 1 : 0;
    default: return 0;
  }
}

@inline function opV(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case B_ADD: return f32x4.add(a, b);
    case B_SUB: return f32x4.sub(a, b);
    case B_MUL: return f32x4.mul(a, b);
    case B_DIV: return f32x4.div(a, b);
    case B_POW: {
      // No vector pow: a lane loop on the exact f64 pow (pow is rare in training graphs).
      let r = f32x4.splat(powJs(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)));
      r = f32x4.replace_lane(r, 1, powJs(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)));
      r = f32x4.replace_lane(r, 2, powJs(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)));
      r = f32x4.replace_lane(r, 3, powJs(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
      return r;
    }
    case B_MAX: return f32x4.max(a, b);
    case B_MIN: return f32x4.min(a, b);
    case B_EQ: return v128.and(f32x4.eq(a, b), splat(1));
    case B_GT: return v128.and(f32x4.gt(a, b), splat(1));
    default: return a;
  }
}

/** One row of n outputs; sa, sb are element strides. */
@inline function row(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, n: i32): void {
  let i = 0;
  if (sa == 1 && sb == 1) {
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= n; i += 4) stv(out, i, opV(op, ldv(a, i), ldv(b, i)));
    }
    for (; i < n; i++) stf(out, i, opS(op, ldf(a, i), ldf(b, i)));
  } else if (sa == 1 && sb == 0) {
    const bs = load<f32>(b);
    if (ASC_FEATURE_SIMD) {
      const bv = splat(bs);
      for (; i + 4 <= n; i += 4) stv(out, i, opV(op, ldv(a, i), bv));
    }
    for (; i < n; i++) stf(out, i, opS(op, ldf(a, i), bs));
  } else if (sa == 0 && sb == 1) {
    const as = load<f32>(a);
    if (ASC_FEATURE_SIMD) {
      const av = splat(as);
      for (; i + 4 <= n; i += 4) stv(out, i, opV(op, av, ldv(b, i)));
    }
    for (; i < n; i++) stf(out, i, opS(op, as, ldf(b, i)));
  } else {
    const ba = (<usize>sa) << 2;
    const bb = (<usize>sb) << 2;
    for (; i < n; i++) {
      stf(out, i, opS(op, load<f32>(a), load<f32>(b)));
      a += ba;
      b += bb;
    }
  }
}

/** The whole traversal for one op: odometer over dims [0, rank - 1), a row loop on the last. */
@inline function walk(op: i32, a: usize, b: usize, out: usize, rank: i32, params: usize): void {
  const shape = params;
  const aStr = params + ((<usize>rank) << 2);
  const bStr = aStr + ((<usize>rank) << 2);
  // odometer digits live right after the three arrays, in the caller's block: no static memory, so
  // threads running kernels on one shared memory never share scratch
  const IDX = bStr + ((<usize>rank) << 2);
  const last = rank - 1;
  const n = ldi(shape, last);
  const sa = ldi(aStr, last);
  const sb = ldi(bStr, last);
  for (let d = 0; d < rank; d++) if (ldi(shape, d) == 0) return;
  for (let d = 0; d < last; d++) store<i32>(IDX + ((<usize>d) << 2), 0);
  const rowBytes = (<usize>n) << 2;
  while (true) {
    row(op, a, sa, b, sb, out, n);
    out += rowBytes;
    // advance the lowest outer digit that does not wrap, rewinding the ones that do
    let d = last - 1;
    while (d >= 0) {
      const p = IDX + ((<usize>d) << 2);
      const k = load<i32>(p) + 1;
      a += (<usize>ldi(aStr, d)) << 2;
      b += (<usize>ldi(bStr, d)) << 2;
      if (k < ldi(shape, d)) {
        store<i32>(p, k);
        break;
      }
      a -= (<usize>(k * ldi(aStr, d))) << 2;
      b -= (<usize>(k * ldi(bStr, d))) << 2;
      store<i32>(p, 0);
      d--;
    }
    if (d < 0) return;
  }
}

/**
 * Broadcast binary op. params holds three i32 arrays of `rank` entries (1 <= rank <= 8): shape,
 * a's strides, b's strides (elements; 0 on broadcast dims), followed by `rank` i32 the kernel uses as
 * scratch. a and b already include their offsets.
 */
export function binary(op: i32, a: usize, b: usize, out: usize, rank: i32, params: usize): void {
  switch (op) {
    case B_ADD: walk(B_ADD, a, b, out, rank, params); break;
    case B_SUB: walk(B_SUB, a, b, out, rank, params); break;
    case B_MUL: walk(B_MUL, a, b, out, rank, params); break;
    case B_DIV: walk(B_DIV, a, b, out, rank, params); break;
    case B_POW: walk(B_POW, a, b, out, rank, params); break;
    case B_MAX: walk(B_MAX, a, b, out, rank, params); break;
    case B_MIN: walk(B_MIN, a, b, out, rank, params); break;
    case B_EQ: walk(B_EQ, a, b, out, rank, params); break;
    case B_GT: walk(B_GT, a, b, out, rank, params); break;
    default: break;
  }
}
