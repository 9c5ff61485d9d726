// Unary elementwise functions and their gradients.
//
// The op code is dispatched once per call: each case instantiates the loop with a constant op, and
// the optimizer folds the per-element op test away, leaving one branch-free vector loop per op.
// Op codes follow UNARY_OPS in src/backend/kernels.ts.
import { ldf, ldv, madd, splat, stf, stv } from './common';
import {
  expS, expV, expNegHalfSquareS, expNegHalfSquareV, GELU_C, INV_SQRT_2PI, log1pUnitS, log1pUnitV,
  logS, logV, normalCdfS, normalCdfV, SQRT_2_OVER_PI, sigmoidGradS, sigmoidGradV, sigmoidS, sigmoidV,
  tanhGradS, tanhGradV, tanhS, tanhV,
} from './math';

export const U_NEG = 0;
export const U_EXP = 1;
export const U_LOG = 2;
export const U_SQRT = 3;
export const U_ABS = 4;
export const U_TANH = 5;
export const U_SIGMOID = 6;
export const U_RELU = 7;
export const U_GELU_TANH = 8;
export const U_GELU_ERF = 9;
export const U_SOFTPLUS = 10;
export const U_SQUARE = 11;
export const U_RECIP = 12;
export const U_SIGN = 13;

// ---- forward ----------------------------------------------------------------------------------------

/** gelu_tanh(x) = x sigmoid(2u): the sigmoid form of 0.5 x (1 + tanh u), exact in the left tail. */
@inline function geluTanhV(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  const u = f32x4.mul(splat(SQRT_2_OVER_PI), madd(f32x4.mul(x, x2), splat(GELU_C), x));
  return f32x4.mul(x, sigmoidV(f32x4.add(u, u)));
}

@inline function geluTanhS(x: f32): f32 {
  const u = SQRT_2_OVER_PI * ((x * (x * x)) * GELU_C + x);
  return x * sigmoidS(u + u);
}

@inline export function unaryV(op: i32, x: v128): v128 {
  switch (op) {
    case U_NEG: return f32x4.neg(x);
    case U_EXP: return expV(x);
    case U_LOG: return logV(x);
    case U_SQRT: return f32x4.sqrt(x);
    case U_ABS: return f32x4.abs(x);
    case U_TANH: return tanhV(x);
    case U_SIGMOID: return sigmoidV(x);
    // x > 0 ? x : 0, but NaN stays NaN: keep x where x > 0 or x != x
    case U_RELU: return v128.and(x, v128.or(f32x4.gt(x, splat(0)), f32x4.ne(x, x)));
    case U_GELU_TANH: return geluTanhV(x);
    case U_GELU_ERF: return f32x4.mul(x, normalCdfV(x, expNegHalfSquareV(x)));
    case U_SOFTPLUS: {
      const t = expV(f32x4.neg(f32x4.abs(x)));
      return f32x4.add(f32x4.max(x, splat(0)), log1pUnitV(t));
    }
    case U_SQUARE: return f32x4.mul(x, x);
    case U_RECIP: return f32x4.div(splat(1), x);
    case U_SIGN: {
      // 1 where x > 0, -1 where x < 0, x itself otherwise (keeps 0, -0 and NaN as Math.sign does)
      const pos = v128.and(f32x4.gt(x, splat(0)), splat(1));
      const neg = v128.and(f32x4.lt(x, splat(0)), splat(-1));
      return v128.bitselect(x, v128.or(pos, neg), v128.not(v128.or(f32x4.gt(x, splat(0)), f32x4.lt(x, splat(0)))));
    }
    default: return x;
  }
}

@inline export function unaryS(op: i32, x: f32): f32 {
  switch (op) {
    case U_NEG: return -x;
    case U_EXP: return expS(x);
    case U_LOG: return logS(x);
    case U_SQRT: return sqrt<f32>(x);
    case U_ABS: return abs<f32>(x);
    case U_TANH: return tanhS(x);
    case U_SIGMOID: return sigmoidS(x);
    case U_RELU: return x > 0 || x != x ? x : 0;
    case U_GELU_TANH: return geluTanhS(x);
    case U_GELU_ERF: return x * normalCdfS(x, expNegHalfSquareS(x));
    case U_SOFTPLUS: return max<f32>(x, 0) + log1pUnitS(expS(-abs<f32>(x)));
    case U_SQUARE: return x * x;
    case U_RECIP: return 1 / x;
    case U_SIGN: return x > 0 ? 1 : x < 0 ? -1 : x;
    default: return x;
  }
}

@inline function unaryLoop(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) stv(out, i, unaryV(op, ldv(x, i)));
  }
  for (; i < n; i++) stf(out, i, unaryS(op, ldf(x, i)));
}

/** out[i] = f(x[i]); out may alias x exactly. */
export function unary(op: i32, x: usize, out: usize, n: i32): void {
  switch (op) {
    case U_NEG: unaryLoop(U_NEG, x, out, n); break;
    case U_EXP: unaryLoop(U_EXP, x, out, n); break;
    case U_LOG: unaryLoop(U_LOG, x, out, n); break;
    case U_SQRT: unaryLoop(U_SQRT, x, out, n); break;
    case U_ABS: unaryLoop(U_ABS, x, out, n); break;
    case U_TANH: unaryLoop(U_TANH, x, out, n); break;
    case U_SIGMOID: unaryLoop(U_SIGMOID, x, out, n); break;
    case U_RELU: unaryLoop(U_RELU, x, out, n); break;
    case U_GELU_TANH: unaryLoop(U_GELU_TANH, x, out, n); break;
    case U_GELU_ERF: unaryLoop(U_GELU_ERF, x, out, n); break;
    case U_SOFTPLUS: unaryLoop(U_SOFTPLUS, x, out, n); break;
    case U_SQUARE: unaryLoop(U_SQUARE, x, out, n); break;
    case U_RECIP: unaryLoop(U_RECIP, x, out, n); break;
    case U_SIGN: unaryLoop(U_SIGN, x, out, n); break;
    default: break;
  }
}

// ---- gradients --------------------------------------------------------------------------------------
// Derivatives come from x (accurate in the tails, where y has rounded to 0 or 1), except exp and sqrt,
// whose derivatives are y and 0.5 / y: that saves the whole function evaluation.

@inline function geluTanhGradV(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  const u = f32x4.mul(splat(SQRT_2_OVER_PI), madd(f32x4.mul(x, x2), splat(GELU_C), x));
  const du = f32x4.mul(splat(SQRT_2_OVER_PI), madd(x2, splat(3 * GELU_C), splat(1)));
  const s = sigmoidV(f32x4.add(u, u));
  return madd(f32x4.mul(f32x4.mul(x, splat(0.5)), tanhGradV(u)), du, s);
}

@inline function geluTanhGradS(x: f32): f32 {
  const x2 = x * x;
  const u = SQRT_2_OVER_PI * ((x * x2) * GELU_C + x);
  const du = SQRT_2_OVER_PI * (x2 * (3 * GELU_C) + 1);
  return ((x * 0.5) * tanhGradS(u)) * du + sigmoidS(u + u);
}

/** d/dx x Phi(x) = Phi(x) + x phi(x). */
@inline function geluErfGradV(x: v128): v128 {
  const e = expNegHalfSquareV(x);
  return madd(f32x4.mul(x, splat(INV_SQRT_2PI)), e, normalCdfV(x, e));
}

@inline function geluErfGradS(x: f32): f32 {
  const e = expNegHalfSquareS(x);
  return (x * INV_SQRT_2PI) * e + normalCdfS(x, e);
}

/** dy * f'(x), with x and y = f(x) available. */
@inline function unaryGradV(op: i32, x: v128, y: v128, dy: v128): v128 {
  switch (op) {
    case U_NEG: return f32x4.neg(dy);
    case U_EXP: return f32x4.mul(dy, y);
    case U_LOG: return f32x4.div(dy, x);
    case U_SQRT: return f32x4.mul(dy, f32x4.div(splat(0.5), y));
    case U_ABS: {
      const s = v128.or(v128.and(f32x4.gt(x, splat(0)), splat(1)), v128.and(f32x4.lt(x, splat(0)), splat(-1)));
      return f32x4.mul(dy, s);
    }
    case U_TANH: return f32x4.mul(dy, tanhGradV(x));
    case U_SIGMOID: return f32x4.mul(dy, sigmoidGradV(x));
    case U_RELU: return f32x4.mul(dy, v128.and(f32x4.gt(x, splat(0)), splat(1)));
    case U_GELU_TANH: return f32x4.mul(dy, geluTanhGradV(x));
    case U_GELU_ERF: return f32x4.mul(dy, geluErfGradV(x));
    case U_SOFTPLUS: return f32x4.mul(dy, sigmoidV(x));
    case U_SQUARE: return f32x4.mul(dy, f32x4.add(x, x));
    // -(dy / x) / x rather than dy * (-1 / x^2): x^2 underflows to 0 for |x| < 1e-19
    case U_RECIP: return f32x4.neg(f32x4.div(f32x4.div(dy, x), x));
    case U_SIGN: return f32x4.mul(dy, splat(0));
    default: return dy;
  }
}

@inline function unaryGradS(op: i32, x: f32, y: f32, dy: f32): f32 {
  switch (op) {
    case U_NEG: return -dy;
    case U_EXP: return dy * y;
    case U_LOG: return dy / x;
    case U_SQRT: return dy * (0.5 / y);
    case U_ABS: return dy * <f32>(x > 0 ? 1 : x < 0 ? -1 : 0);
    case U_TANH: return dy * tanhGradS(x);
    case U_SIGMOID: return dy * sigmoidGradS(x);
    case U_RELU: return dy * <f32>(x > 0 ? 1 : 0);
    case U_GELU_TANH: return dy * geluTanhGradS(x);
    case U_GELU_ERF: return dy * geluErfGradS(x);
    case U_SOFTPLUS: return dy * sigmoidS(x);
    case U_SQUARE: return dy * (x + x);
    case U_RECIP: return -((dy / x) / x);
    case U_SIGN: return dy * 0;
    default: return dy;
  }
}

@inline function unaryGradLoop(op: i32, x: usize, y: usize, dy: usize, dx: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) stv(dx, i, unaryGradV(op, ldv(x, i), ldv(y, i), ldv(dy, i)));
  }
  for (; i < n; i++) stf(dx, i, unaryGradS(op, ldf(x, i), ldf(y, i), ldf(dy, i)));
}

/** dx[i] = dy[i] * f'(x[i]); dx may alias x, y or dy exactly. */
export function unaryGrad(op: i32, x: usize, y: usize, dy: usize, dx: usize, n: i32): void {
  switch (op) {
    case U_NEG: unaryGradLoop(U_NEG, x, y, dy, dx, n); break;
    case U_EXP: unaryGradLoop(U_EXP, x, y, dy, dx, n); break;
    case U_LOG: unaryGradLoop(U_LOG, x, y, dy, dx, n); break;
    case U_SQRT: unaryGradLoop(U_SQRT, x, y, dy, dx, n); break;
    case U_ABS: unaryGradLoop(U_ABS, x, y, dy, dx, n); break;
    case U_TANH: unaryGradLoop(U_TANH, x, y, dy, dx, n); break;
    case U_SIGMOID: unaryGradLoop(U_SIGMOID, x, y, dy, dx, n); break;
    case U_RELU: unaryGradLoop(U_RELU, x, y, dy, dx, n); break;
    case U_GELU_TANH: unaryGradLoop(U_GELU_TANH, x, y, dy, dx, n); break;
    case U_GELU_ERF: unaryGradLoop(U_GELU_ERF, x, y, dy, dx, n); break;
    case U_SOFTPLUS: unaryGradLoop(U_SOFTPLUS, x, y, dy, dx, n); break;
    case U_SQUARE: unaryGradLoop(U_SQUARE, x, y, dy, dx, n); break;
    case U_RECIP: unaryGradLoop(U_RECIP, x, y, dy, dx, n); break;
    case U_SIGN: unaryGradLoop(U_SIGN, x, y, dy, dx, n); break;
    default: break;
  }
}
