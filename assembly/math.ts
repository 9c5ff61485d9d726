// Elementary functions for f32x4 vectors and f32 scalars.
//
// Calling the scalar Math functions lane by lane would serialise every SIMD loop, so each function is a
// range reduction plus a short polynomial evaluated on whole vectors. The scalar versions evaluate the
// same polynomials in the same order: they serve the scalar tails and the whole scalar binary.
//
// The polynomial coefficients were fitted for this file (weighted least squares on Chebyshev points,
// iterated towards minimax on relative error, in float64). Their fit errors (relative, float64):
// exp 3.1e-9, log 8.4e-10, log1p 1.2e-10, tanh 1.0e-9, erf 1.4e-9, erfc 1.3e-9, all far below the
// f32 half-ulp of 6e-8, so the results are dominated by f32 rounding of a handful of operations
// (a few ulp; the tests measure and bound the errors).
import { madd, splat } from './common';

// ---- constants --------------------------------------------------------------------------------------

const LOG2E: f32 = 1.44269504;
// ln 2 split so n * LN2_HI is exact for |n| < 2^15 (LN2_HI has 9 significant bits): Cody-Waite.
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// exp overflows f32 above ~88.72; below -104 even denormals round to 0. Clamping keeps the 2^n scale
// representable (n in [-150, 128]) while preserving inf and 0 at the ends.
const EXP_HI: f32 = 88.8;
const EXP_LO: f32 = -104.0;
// 1.5 * 2^23: adding it rounds |v| < 2^22 to an integer (ties to even) held in the low mantissa bits
const ROUND_MAGIC: f32 = 12582912.0;
const ROUND_MAGIC_BITS: i32 = 0x4b400000;

// (e^r - 1 - r) / r^2 on |r| <= ln2 / 2
const E0: f32 = 0.4999999345079674;
const E1: f32 = 0.16666520680904012;
const E2: f32 = 0.04166838754462371;
const E3: f32 = 0.008368710654698581;
const E4: f32 = 0.0013814604479115038;

const SQRT2: f32 = 1.41421356;
// log(1 + f) = 2 s (1 + z Q(z)), s = f / (2 + f), z = s^2 <= 0.0295 (mantissa reduced to [sqrt(1/2), sqrt(2)))
const L0: f32 = 0.3333338988711571;
const L1: f32 = 0.19988539369372932;
const L2: f32 = 0.14942600892220512;
// the same form for log1p(t), t in [0, 1]: z <= 1/9
const P0: f32 = 0.3333333805601054;
const P1: f32 = 0.19999414147430825;
const P2: f32 = 0.1430920318767869;
const P3: f32 = 0.10704737895205264;
const P4: f32 = 0.12187478874646374;

// tanh(x) = x + x^3 T(x^2) for |x| < TANH_SMALL; above, 1 - 2 / (e^{2|x|} + 1) loses at most a bit.
const TANH_SMALL: f32 = 0.55;
const T0: f32 = -0.3333331755760695;
const T1: f32 = 0.1333258607985343;
const T2: f32 = -0.053852304483755845;
const T3: f32 = 0.02107165878163855;
const T4: f32 = -0.006274213045395934;

// erf(z) = z R(z^2) for |z| < 1 (used for |z| < ERF_SMALL)
const ERF_SMALL: f32 = 0.5;
const R0: f32 = 1.1283791657266307;
const R1: f32 = -0.3761262582369018;
const R2: f32 = 0.11283585142450515;
const R3: f32 = -0.026853811677484043;
const R4: f32 = 0.005188327196032617;
const R5: f32 = -0.0008010189324584336;
const R6: f32 = 0.0000785384715834392;
// erfc(z) = exp(-z^2) C(t), t = 1 / (1 + z / 2), for 0.5 <= z <= 10 (beyond 10, erfc underflows f32).
// Used from |z| = 0.5 on: below that 0.5 + 0.5 erf(z) loses at most a bit to cancellation, while at
// |z| = 1 it would lose almost three.
const C0: f32 = 3.837326465920235e-06;
const C1: f32 = 0.28197703740042135;
const C2: f32 = 0.28367448866209205;
const C3: f32 = 0.2346478657477625;
const C4: f32 = 0.23601681318352435;
const C5: f32 = -0.1094334235860352;
const C6: f32 = 0.4082879274064244;
const C7: f32 = -0.612735787704288;
const C8: f32 = 0.3521855911095554;
const C9: f32 = -0.07463249724360134;

export const SQRT_2_OVER_PI: f32 = 0.7978845608;
export const GELU_C: f32 = 0.044715;
export const INV_SQRT_2PI: f32 = 0.39894228;
const SQRT1_2: f32 = 0.70710678;

// ---- exp --------------------------------------------------------------------------------------------

/**
 * exp(x + lo) where lo is a small correction that would be lost if added to x first: it is added
 * after the exact Cody-Waite reduction (erfc uses it to keep exp(-z^2) accurate).
 */
@inline export function expLoV(x0: v128, lo: v128): v128 {
  // pmin/pmax (one minps/maxps each, where min/max take V8 six or seven instructions) keep their
  // first operand when the comparison fails, so a NaN x0 still propagates
  const x = f32x4.pmax(f32x4.pmin(x0, splat(EXP_HI)), splat(EXP_LO));
  // n = round-half-even(x log2 e) by adding and removing 1.5 * 2^23: the same value f32x4.nearest
  // gives (|x log2 e| < 2^22 after the clamp), and the sum's low mantissa bits are n as an integer,
  // so no float-to-int conversion (seven instructions in V8) is needed either
  const shifted = f32x4.add(f32x4.mul(x, splat(LOG2E)), splat(ROUND_MAGIC));
  const n = f32x4.sub(shifted, splat(ROUND_MAGIC));
  let r = f32x4.sub(x, f32x4.mul(n, splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, splat(LN2_LO)));
  r = f32x4.add(r, lo);
  let p = madd(splat(E4), r, splat(E3));
  p = madd(p, r, splat(E2));
  p = madd(p, r, splat(E1));
  p = madd(p, r, splat(E0));
  const e = f32x4.add(madd(f32x4.mul(r, r), p, r), splat(1));
  // 2^n as two factors 2^(n>>1) and 2^(n - n>>1): each stays a normal f32 for n in [-150, 128], so
  // overflow gives inf and underflow rounds gradually to denormals, as the true exp does.
  const ni = i32x4.sub(shifted, i32x4.splat(ROUND_MAGIC_BITS));
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  // below EXP_LO the true value is under half the smallest denormal: exactly 0 after rounding
  return v128.andnot(f32x4.mul(f32x4.mul(e, s1), s2), f32x4.lt(x0, splat(EXP_LO)));
}

@inline export function expV(x: v128): v128 {
  return expLoV(x, f32x4.splat(0));
}

@inline export function expLoS(x0: f32, lo: f32): f32 {
  if (x0 < EXP_LO) return 0;
  const x = max(min(x0, EXP_HI), EXP_LO);
  const n = nearest<f32>(x * LOG2E);
  let r = x - n * LN2_HI;
  r = r - n * LN2_LO;
  r = r + lo;
  let p = E4 * r + E3;
  p = p * r + E2;
  p = p * r + E1;
  p = p * r + E0;
  const e = ((r * r) * p + r) + 1;
  const ni = n == n ? <i32>n : 0; // n is clamped; a NaN input gives NaN through e anyway
  const n1 = ni >> 1;
  const n2 = ni - n1;
  const s1 = reinterpret<f32>((n1 + 127) << 23);
  const s2 = reinterpret<f32>((n2 + 127) << 23);
  return (e * s1) * s2;
}

@inline export function expS(x: f32): f32 {
  return expLoS(x, 0);
}

// ---- log --------------------------------------------------------------------------------------------

/** Natural log: NaN for x < 0 or NaN, -inf at 0, +inf at +inf; denormals handled. */
@inline export function logV(x: v128): v128 {
  // Denormals: scale by 2^23 (exact) so the exponent field is meaningful.
  const tiny = f32x4.lt(x, splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, splat(8388608.0)), x, tiny);
  const bits = xs;
  let e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(127));
  e = i32x4.sub(e, v128.and(tiny, i32x4.splat(23)));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000)); // [1, 2)
  const big = f32x4.gt(m, splat(SQRT2));
  m = v128.bitselect(f32x4.mul(m, splat(0.5)), m, big);
  e = i32x4.sub(e, big); // big lanes are -1
  const f = f32x4.sub(m, splat(1));
  const s = f32x4.div(f, f32x4.add(f, splat(2)));
  const z = f32x4.mul(s, s);
  let q = madd(splat(L2), z, splat(L1));
  q = madd(q, z, splat(L0));
  const s2 = f32x4.add(s, s);
  const logm = madd(f32x4.mul(s2, z), q, s2);
  const ef = f32x4.convert_i32x4_s(e);
  let res = f32x4.add(f32x4.mul(ef, splat(LN2_HI)), madd(ef, splat(LN2_LO), logm));
  // special inputs: +inf -> +inf, 0 -> -inf, negative or NaN -> NaN
  res = v128.bitselect(x, res, f32x4.eq(x, splat(Infinity)));
  res = v128.bitselect(splat(-Infinity), res, f32x4.eq(x, splat(0)));
  res = v128.bitselect(splat(NaN), res, v128.not(f32x4.ge(x, splat(0))));
  return res;
}

@inline export function logS(x: f32): f32 {
  if (!(x > 0) || x == Infinity) {
    return x == 0 ? -Infinity : x == Infinity ? x : NaN;
  }
  let e: i32 = 0;
  if (x < 1.17549435e-38) {
    x *= 8388608.0;
    e = -23;
  }
  const bits = reinterpret<i32>(x);
  e += (bits >>> 23) - 127;
  let m = reinterpret<f32>((bits & 0x007fffff) | 0x3f800000);
  if (m > SQRT2) {
    m = m * 0.5;
    e += 1;
  }
  const f = m - 1;
  const s = f / (f + 2);
  const z = s * s;
  let q = L2 * z + L1;
  q = q * z + L0;
  const s2 = s + s;
  const logm = (s2 * z) * q + s2;
  const ef = <f32>e;
  return ef * LN2_HI + (ef * LN2_LO + logm);
}

/** log(1 + t) for t in [0, 1] (all softplus needs), accurate for tiny t. */
@inline export function log1pUnitV(t: v128): v128 {
  const s = f32x4.div(t, f32x4.add(t, splat(2)));
  const z = f32x4.mul(s, s);
  let q = madd(splat(P4), z, splat(P3));
  q = madd(q, z, splat(P2));
  q = madd(q, z, splat(P1));
  q = madd(q, z, splat(P0));
  const s2 = f32x4.add(s, s);
  return madd(f32x4.mul(s2, z), q, s2);
}

@inline export function log1pUnitS(t: f32): f32 {
  const s = t / (t + 2);
  const z = s * s;
  let q = P4 * z + P3;
  q = q * z + P2;
  q = q * z + P1;
  q = q * z + P0;
  const s2 = s + s;
  return (s2 * z) * q + s2;
}

// ---- sigmoid, tanh and their derivatives ------------------------------------------------------------

/** 1 / (1 + e^-x) from t = e^-|x|, so nothing overflows and the left tail keeps relative precision. */
@inline export function sigmoidV(x: v128): v128 {
  const t = expV(f32x4.neg(f32x4.abs(x)));
  const d = f32x4.add(t, splat(1));
  return v128.bitselect(f32x4.div(splat(1), d), f32x4.div(t, d), f32x4.ge(x, splat(0)));
}

@inline export function sigmoidS(x: f32): f32 {
  const t = expS(-abs(x));
  const d = t + 1;
  return x >= 0 ? 1 / d : t / d;
}

/** sigmoid'(x) = t / (1 + t)^2 with t = e^-|x|: s (1 - s) would round to 0 for large |x|. */
@inline export function sigmoidGradV(x: v128): v128 {
  const t = expV(f32x4.neg(f32x4.abs(x)));
  const d = f32x4.add(t, splat(1));
  return f32x4.div(t, f32x4.mul(d, d));
}

@inline export function sigmoidGradS(x: f32): f32 {
  const t = expS(-abs(x));
  const d = t + 1;
  return t / (d * d);
}

@inline export function tanhV(x: v128): v128 {
  const ax = f32x4.abs(x);
  const x2 = f32x4.mul(x, x);
  let p = madd(splat(T4), x2, splat(T3));
  p = madd(p, x2, splat(T2));
  p = madd(p, x2, splat(T1));
  p = madd(p, x2, splat(T0));
  const small = madd(f32x4.mul(x, x2), p, x);
  const e = expV(f32x4.add(ax, ax));
  const big = f32x4.sub(splat(1), f32x4.div(splat(2), f32x4.add(e, splat(1))));
  // copy the sign of x onto the large-|x| branch (NaN stays NaN)
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(ax, splat(TANH_SMALL)));
}

@inline export function tanhS(x: f32): f32 {
  const ax = abs(x);
  if (ax < TANH_SMALL) {
    const x2 = x * x;
    let p = T4 * x2 + T3;
    p = p * x2 + T2;
    p = p * x2 + T1;
    p = p * x2 + T0;
    return (x * x2) * p + x;
  }
  const e = expS(ax + ax);
  return copysign<f32>(1 - 2 / (e + 1), x);
}

/** tanh'(x) = 4 t / (1 + t)^2 with t = e^-2|x| (1 - tanh^2 cancels to 0 for large |x|). */
@inline export function tanhGradV(x: v128): v128 {
  const ax = f32x4.abs(x);
  const t = expV(f32x4.neg(f32x4.add(ax, ax)));
  const d = f32x4.add(t, splat(1));
  return f32x4.div(f32x4.mul(t, splat(4)), f32x4.mul(d, d));
}

@inline export function tanhGradS(x: f32): f32 {
  const ax = abs(x);
  const t = expS(-(ax + ax));
  const d = t + 1;
  return (t * 4) / (d * d);
}

// ---- erf / normal CDF -------------------------------------------------------------------------------

/**
 * exp(-x^2 / 2) without the rounding error of x^2: x = hi + lo with hi holding the top 12 bits, so
 * hi^2 is exact and x^2 = hi^2 + lo (x + hi); the small second part goes in after range reduction.
 */
@inline export function expNegHalfSquareV(x0: v128): v128 {
  // |x| > 20 gives exactly 0 anyway; clamping keeps lo (x + hi) finite for huge or infinite x
  const x = f32x4.pmax(f32x4.pmin(x0, splat(20)), splat(-20)); // NaN propagates (first operand)
  const hi = v128.and(x, i32x4.splat(0xfffff000));
  const lo = f32x4.sub(x, hi);
  const a = f32x4.mul(f32x4.mul(hi, hi), splat(-0.5));
  const b = f32x4.mul(f32x4.mul(lo, f32x4.add(x, hi)), splat(-0.5));
  return expLoV(a, b);
}

@inline export function expNegHalfSquareS(x0: f32): f32 {
  const x = max<f32>(min<f32>(x0, 20), -20);
  const hi = reinterpret<f32>(reinterpret<u32>(x) & 0xfffff000);
  const lo = x - hi;
  return expLoS((hi * hi) * -0.5, (lo * (x + hi)) * -0.5);
}

/** erf(z) / z for |z| < 1 as a polynomial in z^2. */
@inline function erfSmallV(z2: v128): v128 {
  let p = madd(splat(R6), z2, splat(R5));
  p = madd(p, z2, splat(R4));
  p = madd(p, z2, splat(R3));
  p = madd(p, z2, splat(R2));
  p = madd(p, z2, splat(R1));
  return madd(p, z2, splat(R0));
}

@inline function erfSmallS(z2: f32): f32 {
  let p = R6 * z2 + R5;
  p = p * z2 + R4;
  p = p * z2 + R3;
  p = p * z2 + R2;
  p = p * z2 + R1;
  return p * z2 + R0;
}

/** erfc(z) e^{z^2} for z >= 0.5 (z clamped to 10, where erfc itself has underflowed). */
@inline function erfcScaledV(z: v128): v128 {
  const t = f32x4.div(splat(1), madd(f32x4.pmin(z, splat(10)), splat(0.5), splat(1)));
  let p = madd(splat(C9), t, splat(C8));
  p = madd(p, t, splat(C7));
  p = madd(p, t, splat(C6));
  p = madd(p, t, splat(C5));
  p = madd(p, t, splat(C4));
  p = madd(p, t, splat(C3));
  p = madd(p, t, splat(C2));
  p = madd(p, t, splat(C1));
  return madd(p, t, splat(C0));
}

@inline function erfcScaledS(z: f32): f32 {
  const t = <f32>1 / (min<f32>(z, 10) * 0.5 + 1);
  let p = C9 * t + C8;
  p = p * t + C7;
  p = p * t + C6;
  p = p * t + C5;
  p = p * t + C4;
  p = p * t + C3;
  p = p * t + C2;
  p = p * t + C1;
  return p * t + C0;
}

/**
 * Phi(x) = 0.5 erfc(-x / sqrt 2), the standard normal CDF, plus e = exp(-x^2/2) which the GELU
 * gradient needs too. Near 0 it is 0.5 + 0.5 erf(z) by the series; in the tails the erfc form keeps
 * relative precision on the left (Phi tiny) and rounds to 1 on the right.
 */
@inline export function normalCdfV(x: v128, e: v128): v128 {
  const z = f32x4.mul(x, splat(SQRT1_2));
  const az = f32x4.abs(z);
  const near = madd(f32x4.mul(z, erfSmallV(f32x4.mul(z, z))), splat(0.5), splat(0.5));
  const tail = f32x4.mul(f32x4.mul(e, erfcScaledV(az)), splat(0.5)); // 0.5 erfc(|z|)
  const far = v128.bitselect(f32x4.sub(splat(1), tail), tail, f32x4.gt(x, splat(0)));
  return v128.bitselect(near, far, f32x4.lt(az, splat(ERF_SMALL)));
}

@inline export function normalCdfS(x: f32, e: f32): f32 {
  const z = x * SQRT1_2;
  const az = abs(z);
  if (az < ERF_SMALL) return (z * erfSmallS(z * z)) * 0.5 + 0.5;
  const tail = (e * erfcScaledS(az)) * 0.5;
  return x > 0 ? 1 - tail : tail;
}
