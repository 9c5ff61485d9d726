// Counter-based RNG: an operation-for-operation port of src/backend/rng.ts, bit-identical to it.
//
// Only 32-bit integer ops (wrapping, like Math.imul and `>>> 0`) and correctly rounded f64
// +, -, *, / and sqrt appear, in the same order as the TypeScript source; WebAssembly never fuses or
// reorders float operations, so every engine produces the same bits. Constants such as 1/25 are
// written as f64 divisions, which the compiler folds to the same correctly rounded values that the
// TypeScript source computes at run time.

/** murmur3 fmix32. */
@inline export function fmix32(x: u32): u32 {
  x ^= x >>> 16;
  x = x * 0x85ebca6b;
  x ^= x >>> 13;
  x = x * 0xc2b2ae35;
  x ^= x >>> 16;
  return x;
}

/** Key word h0 of a seed pair. */
@inline export function key0(seedLo: u32): u32 {
  return fmix32(seedLo ^ 0x243f6a88);
}

/** Key word h1 of a seed pair, given h0. */
@inline export function key1(seedHi: u32, h0: u32): u32 {
  return fmix32(seedHi ^ 0x85a308d3 ^ h0);
}

/** The k-th word of stream element e. */
@inline export function word(h0: u32, h1: u32, e: u32, k: u32): u32 {
  const x = fmix32((e + k * 0x9e3779b9) ^ h0);
  return fmix32(x + h1);
}

/** Uniform in (0, 1) with 24 bits (exact in f32). */
@inline export function uniform24(h0: u32, h1: u32, e: u32): f64 {
  return (<f64>(word(h0, h1, e, 0) >>> 9) + 0.5) / 8388608.0;
}

@inline function uniform53(h0: u32, h1: u32, q: u32, k: u32): f64 {
  const a = word(h0, h1, q, k) >>> 5;
  const b = word(h0, h1, q, k + 1) >>> 6;
  return (<f64>a * 67108864.0 + <f64>b + 0.5) / 9007199254740992.0;
}

const LN2: f64 = 0.6931471805599453;
const SQRT2: f64 = 1.4142135623730951;
const HALF_PI: f64 = 1.5707963267948966;

/** ln x for positive normal x, same series and operation order as detLog in rng.ts. */
@inline export function detLog(x: f64): f64 {
  const bits = reinterpret<u64>(x);
  const hi = <u32>(bits >>> 32);
  let e = <i32>((hi >>> 20) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0xffffffff) | (<u64>((hi & 0x000fffff) | 0x3ff00000) << 32));
  if (m > SQRT2) {
    m = m * 0.5;
    e = e + 1;
  }
  const s = (m - 1.0) / (m + 1.0);
  const s2 = s * s;
  let p: f64 = 1.0 / 25.0;
  p = p * s2 + 1.0 / 23.0;
  p = p * s2 + 1.0 / 21.0;
  p = p * s2 + 1.0 / 19.0;
  p = p * s2 + 1.0 / 17.0;
  p = p * s2 + 1.0 / 15.0;
  p = p * s2 + 1.0 / 13.0;
  p = p * s2 + 1.0 / 11.0;
  p = p * s2 + 1.0 / 9.0;
  p = p * s2 + 1.0 / 7.0;
  p = p * s2 + 1.0 / 5.0;
  p = p * s2 + 1.0 / 3.0;
  p = p * s2 + 1.0;
  return <f64>e * LN2 + 2.0 * s * p;
}

// sin and cos of the reduced angle: written by sinCos below, read by normal.
let SIN_A: f64 = 0;
let COS_A: f64 = 0;

/** Taylor series to a^19 / a^18, same order as sinCosSmall in rng.ts. */
@inline function sinCos(a: f64): void {
  const a2 = a * a;
  let s: f64 = 1.0 / 121645100408832000.0;
  s = s * -a2 + 1.0 / 355687428096000.0;
  s = s * -a2 + 1.0 / 1307674368000.0;
  s = s * -a2 + 1.0 / 6227020800.0;
  s = s * -a2 + 1.0 / 39916800.0;
  s = s * -a2 + 1.0 / 362880.0;
  s = s * -a2 + 1.0 / 5040.0;
  s = s * -a2 + 1.0 / 120.0;
  s = s * -a2 + 1.0 / 6.0;
  s = s * -a2 + 1.0;
  let c: f64 = 1.0 / 6402373705728000.0;
  c = c * -a2 + 1.0 / 20922789888000.0;
  c = c * -a2 + 1.0 / 87178291200.0;
  c = c * -a2 + 1.0 / 479001600.0;
  c = c * -a2 + 1.0 / 3628800.0;
  c = c * -a2 + 1.0 / 40320.0;
  c = c * -a2 + 1.0 / 720.0;
  c = c * -a2 + 1.0 / 24.0;
  c = c * -a2 + 1.0 / 2.0;
  c = c * -a2 + 1.0;
  SIN_A = a * s;
  COS_A = c;
}

// The pair of normals that share one Box-Muller draw: element 2q (cos) and 2q + 1 (sin).
export let NORMAL_EVEN: f64 = 0;
export let NORMAL_ODD: f64 = 0;

/** Both normals of pair q (elements 2q and 2q + 1): one log, one sqrt and one sin/cos for two values. */
export function normalPair(h0: u32, h1: u32, q: u32): void {
  const u1 = uniform53(h0, h1, q, 0);
  const u2 = uniform53(h0, h1, q, 2);
  const r = Math.sqrt(-2.0 * detLog(u1));
  const t = u2 * 4.0;
  let quadrant = Math.floor(t);
  let f = t - quadrant;
  if (f >= 0.5) {
    f = f - 1.0;
    quadrant = quadrant + 1.0;
  }
  sinCos(f * HALF_PI);
  const sa = SIN_A;
  const ca = COS_A;
  const qd = (<i32>quadrant) & 3;
  const c = qd == 0 ? ca : qd == 1 ? -sa : qd == 2 ? -ca : sa; // cos(theta)
  const s = qd == 0 ? sa : qd == 1 ? ca : qd == 2 ? -sa : -ca; // sin(theta)
  NORMAL_EVEN = r * c;
  NORMAL_ODD = r * s;
}

/** Normal element e alone (the same value normalPair gives for it). */
@inline export function normal(h0: u32, h1: u32, e: u32): f64 {
  normalPair(h0, h1, e >>> 1);
  return (e & 1) == 0 ? NORMAL_EVEN : NORMAL_ODD;
}
