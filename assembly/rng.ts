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

// ---- SIMD: four Box-Muller pairs per call (SIMD builds only; never referenced by the scalar build) ----
//
// The same operations as word / uniform53 / detLog / sinCos / normalPair above, in the same order, on
// i32x4 lanes (hash words: i32x4.mul keeps the low 32 bits, like the scalar u32 multiply) and f64x2 lanes
// (f64x2 add / sub / mul / div / sqrt / floor are correctly rounded per lane, exactly like their scalar
// forms). Branches become compare masks + bitselect, which pick between the two values the scalar
// branch would have produced, so every lane carries the scalar result bit for bit (the one changed
// operation, / 2^53 as * 2^-53 in uniform53x2, is exact either way). No FMA (not even relaxed_madd in
// the relaxed build), no reassociation: do not "optimize" the polynomials below.

@inline function fmix32x4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(<i32>0x85ebca6b));
  x = v128.xor(x, i32x4.shr_u(x, 13));
  x = i32x4.mul(x, i32x4.splat(<i32>0xc2b2ae35));
  x = v128.xor(x, i32x4.shr_u(x, 16));
  return x;
}

/** word(h0, h1, q_j, k) in lane j. */
@inline function word4(h0v: v128, h1v: v128, qv: v128, k: u32): v128 {
  const x = fmix32x4(v128.xor(i32x4.add(qv, i32x4.splat(<i32>(k * 0x9e3779b9))), h0v));
  return fmix32x4(i32x4.add(x, h1v));
}

/**
 * uniform53 from a = word k >>> 5 and b = word k + 1 >>> 6, both already as f64x2 (exact: < 2^27).
 * The one deviation from the scalar operation list: / 2^53 is done as * 2^-53. Dividing by a power of
 * two only shifts the exponent, and the dividend is in [0.5, 2^53) so nothing reaches the subnormal
 * range: both are exact and give the same bits, and a vector multiply is far cheaper than a divide.
 */
@inline function uniform53x2(a: v128, b: v128): v128 {
  return f64x2.mul(
    f64x2.add(f64x2.add(f64x2.mul(a, f64x2.splat(67108864.0)), b), f64x2.splat(0.5)),
    f64x2.splat(1.0 / 9007199254740992.0),
  );
}

/** Lanes 2, 3 of an i32x4 as f64x2 (the values are < 2^27, so the signed convert, one instruction on x64, is exact). */
@inline function convertHigh(v: v128): v128 {
  return f64x2.convert_low_i32x4_s(i32x4.shuffle(v, v, 2, 3, 2, 3));
}

/** One Horner step p * x + c: a separate multiply and add (two roundings), never fused. */
@inline function horner(p: v128, x: v128, c: f64): v128 {
  return f64x2.add(f64x2.mul(p, x), f64x2.splat(c));
}

/** detLog's mantissa m in [1, 2) per f64x2 lane: (bits & 0x000fffff_ffffffff) | bits of 1.0. */
@inline function logMantissa(x: v128): v128 {
  return v128.or(v128.and(x, i64x2.splat(0x000fffffffffffff)), i64x2.splat(0x3ff0000000000000));
}

/**
 * detLog's exponent <f64>e per lane, given big = (m > SQRT2). The biased exponent (hi >>> 20) & 0x7ff
 * becomes a float by ORing it into the mantissa of 2^52 and subtracting 2^52 (exact); - 1023 and the
 * optional + 1 are exact small-integer f64 ops, so this is exactly the scalar i32 e converted to f64.
 */
@inline function logExponent(x: v128, big: v128): v128 {
  const biased = v128.and(i64x2.shr_u(x, 52), i64x2.splat(0x7ff));
  const ef = f64x2.sub(
    f64x2.sub(v128.or(biased, i64x2.splat(0x4330000000000000)), f64x2.splat(4503599627370496.0)),
    f64x2.splat(1023.0),
  );
  return v128.bitselect(f64x2.add(ef, f64x2.splat(1.0)), ef, big);
}

/** detLog's s = (m - 1) / (m + 1) after m = m * 0.5 where big. */
@inline function logS(m: v128, big: v128): v128 {
  const mm = v128.bitselect(f64x2.mul(m, f64x2.splat(0.5)), m, big);
  return f64x2.div(f64x2.sub(mm, f64x2.splat(1.0)), f64x2.add(mm, f64x2.splat(1.0)));
}

/** detLog's result e * LN2 + (2 * s) * p, associated as in the scalar expression. */
@inline function logFinish(ef: v128, s: v128, p: v128): v128 {
  return f64x2.add(f64x2.mul(ef, f64x2.splat(LN2)), f64x2.mul(f64x2.mul(f64x2.splat(2.0), s), p));
}

/**
 * r * cos(theta) and r * sin(theta) for one f64x2 of pairs, as f32 [even0, odd0, even1, odd1] at out.
 * quadrant is 0..4 and qd = quadrant & 3 (4 -> 0); the scalar selection is: odd qd swaps sin and cos,
 * cos is negated for qd 1, 2 and sin for qd 2, 3. Negation is a sign-bit flip, exactly as scalar f64.neg.
 */
@inline function finishPairs(out: usize, r: v128, quadrant: v128, sa: v128, ca: v128): void {
  const q1 = f64x2.eq(quadrant, f64x2.splat(1.0));
  const q2 = f64x2.eq(quadrant, f64x2.splat(2.0));
  const q3 = f64x2.eq(quadrant, f64x2.splat(3.0));
  const odd = v128.or(q1, q3);
  const sign = i64x2.splat(<i64>0x8000000000000000);
  const cosT = v128.xor(v128.bitselect(sa, ca, odd), v128.and(sign, v128.or(q1, q2)));
  const sinT = v128.xor(v128.bitselect(ca, sa, odd), v128.and(sign, v128.or(q2, q3)));
  const even = f32x4.demote_f64x2_zero(f64x2.mul(r, cosT)); // [e0, e1, 0, 0], rounded like <f32>
  const oddv = f32x4.demote_f64x2_zero(f64x2.mul(r, sinT)); // [o0, o1, 0, 0]
  v128.store(out, i32x4.shuffle(even, oddv, 0, 4, 1, 5));
}

/**
 * Box-Muller for four pairs held as two f64x2 halves (a: pairs 0, 1; b: pairs 2, 3), writing eight f32.
 * The six polynomial chains (log, sin, cos of each half) are independent and each is a serial chain
 * of dependent multiply-adds, so their steps are interleaved here to let the CPU overlap them; each
 * chain's own operations stay exactly in the scalar order.
 */
@inline function boxMuller4(out: usize, u1a: v128, u2a: v128, u1b: v128, u2b: v128): void {
  const ma = logMantissa(u1a);
  const mb = logMantissa(u1b);
  const biga = f64x2.gt(ma, f64x2.splat(SQRT2));
  const bigb = f64x2.gt(mb, f64x2.splat(SQRT2));
  const efa = logExponent(u1a, biga);
  const efb = logExponent(u1b, bigb);
  const sa = logS(ma, biga);
  const sb = logS(mb, bigb);
  const s2a = f64x2.mul(sa, sa);
  const s2b = f64x2.mul(sb, sb);
  // theta = quadrant * pi/2 + a: t = u2 * 4, quadrant = floor(t), f = t - quadrant, and where f >= 0.5
  // f - 1 and quadrant + 1 (quadrant ends in 0..4)
  const ta = f64x2.mul(u2a, f64x2.splat(4.0));
  const tb = f64x2.mul(u2b, f64x2.splat(4.0));
  const fla = f64x2.floor(ta);
  const flb = f64x2.floor(tb);
  const fa = f64x2.sub(ta, fla);
  const fb = f64x2.sub(tb, flb);
  const upa = f64x2.ge(fa, f64x2.splat(0.5));
  const upb = f64x2.ge(fb, f64x2.splat(0.5));
  const quada = v128.bitselect(f64x2.add(fla, f64x2.splat(1.0)), fla, upa);
  const quadb = v128.bitselect(f64x2.add(flb, f64x2.splat(1.0)), flb, upb);
  const aa = f64x2.mul(v128.bitselect(f64x2.sub(fa, f64x2.splat(1.0)), fa, upa), f64x2.splat(HALF_PI));
  const ab = f64x2.mul(v128.bitselect(f64x2.sub(fb, f64x2.splat(1.0)), fb, upb), f64x2.splat(HALF_PI));
  const na2a = f64x2.neg(f64x2.mul(aa, aa));
  const na2b = f64x2.neg(f64x2.mul(ab, ab));
  let pa = f64x2.splat(1.0 / 25.0);
  let pb = pa;
  let sna = f64x2.splat(1.0 / 121645100408832000.0);
  let snb = sna;
  let csa = f64x2.splat(1.0 / 6402373705728000.0);
  let csb = csa;
  pa = horner(pa, s2a, 1.0 / 23.0);
  pb = horner(pb, s2b, 1.0 / 23.0);
  sna = horner(sna, na2a, 1.0 / 355687428096000.0);
  snb = horner(snb, na2b, 1.0 / 355687428096000.0);
  csa = horner(csa, na2a, 1.0 / 20922789888000.0);
  csb = horner(csb, na2b, 1.0 / 20922789888000.0);
  pa = horner(pa, s2a, 1.0 / 21.0);
  pb = horner(pb, s2b, 1.0 / 21.0);
  sna = horner(sna, na2a, 1.0 / 1307674368000.0);
  snb = horner(snb, na2b, 1.0 / 1307674368000.0);
  csa = horner(csa, na2a, 1.0 / 87178291200.0);
  csb = horner(csb, na2b, 1.0 / 87178291200.0);
  pa = horner(pa, s2a, 1.0 / 19.0);
  pb = horner(pb, s2b, 1.0 / 19.0);
  sna = horner(sna, na2a, 1.0 / 6227020800.0);
  snb = horner(snb, na2b, 1.0 / 6227020800.0);
  csa = horner(csa, na2a, 1.0 / 479001600.0);
  csb = horner(csb, na2b, 1.0 / 479001600.0);
  pa = horner(pa, s2a, 1.0 / 17.0);
  pb = horner(pb, s2b, 1.0 / 17.0);
  sna = horner(sna, na2a, 1.0 / 39916800.0);
  snb = horner(snb, na2b, 1.0 / 39916800.0);
  csa = horner(csa, na2a, 1.0 / 3628800.0);
  csb = horner(csb, na2b, 1.0 / 3628800.0);
  pa = horner(pa, s2a, 1.0 / 15.0);
  pb = horner(pb, s2b, 1.0 / 15.0);
  sna = horner(sna, na2a, 1.0 / 362880.0);
  snb = horner(snb, na2b, 1.0 / 362880.0);
  csa = horner(csa, na2a, 1.0 / 40320.0);
  csb = horner(csb, na2b, 1.0 / 40320.0);
  pa = horner(pa, s2a, 1.0 / 13.0);
  pb = horner(pb, s2b, 1.0 / 13.0);
  sna = horner(sna, na2a, 1.0 / 5040.0);
  snb = horner(snb, na2b, 1.0 / 5040.0);
  csa = horner(csa, na2a, 1.0 / 720.0);
  csb = horner(csb, na2b, 1.0 / 720.0);
  pa = horner(pa, s2a, 1.0 / 11.0);
  pb = horner(pb, s2b, 1.0 / 11.0);
  sna = horner(sna, na2a, 1.0 / 120.0);
  snb = horner(snb, na2b, 1.0 / 120.0);
  csa = horner(csa, na2a, 1.0 / 24.0);
  csb = horner(csb, na2b, 1.0 / 24.0);
  pa = horner(pa, s2a, 1.0 / 9.0);
  pb = horner(pb, s2b, 1.0 / 9.0);
  sna = horner(sna, na2a, 1.0 / 6.0);
  snb = horner(snb, na2b, 1.0 / 6.0);
  csa = horner(csa, na2a, 1.0 / 2.0);
  csb = horner(csb, na2b, 1.0 / 2.0);
  pa = horner(pa, s2a, 1.0 / 7.0);
  pb = horner(pb, s2b, 1.0 / 7.0);
  sna = horner(sna, na2a, 1.0);
  snb = horner(snb, na2b, 1.0);
  csa = horner(csa, na2a, 1.0);
  csb = horner(csb, na2b, 1.0);
  pa = horner(pa, s2a, 1.0 / 5.0);
  pb = horner(pb, s2b, 1.0 / 5.0);
  pa = horner(pa, s2a, 1.0 / 3.0);
  pb = horner(pb, s2b, 1.0 / 3.0);
  pa = horner(pa, s2a, 1.0);
  pb = horner(pb, s2b, 1.0);
  const ra = f64x2.sqrt(f64x2.mul(f64x2.splat(-2.0), logFinish(efa, sa, pa)));
  const rb = f64x2.sqrt(f64x2.mul(f64x2.splat(-2.0), logFinish(efb, sb, pb)));
  finishPairs(out, ra, quada, f64x2.mul(aa, sna), csa);
  finishPairs(out + 16, rb, quadb, f64x2.mul(ab, snb), csb);
}

/**
 * Stream elements e .. e + 7 (e even, wrapping mod 2^32) as f32 at out: pairs (e + 2j) >>> 1, j = 0..3.
 * Same bits as normalPair on each pair, rounded to f32. Not inlined: randn and gaussianSample share one
 * copy, and a call per eight elements costs nothing measurable next to the body.
 */
export function normals8(out: usize, h0: u32, h1: u32, e: u32): void {
  // computing the pair index from the wrapped element (not q + j) keeps wrap-around at 2^32 right
  const qv = i32x4.shr_u(i32x4.add(i32x4.splat(<i32>e), i32x4(0, 2, 4, 6)), 1);
  const h0v = i32x4.splat(<i32>h0);
  const h1v = i32x4.splat(<i32>h1);
  const a1 = i32x4.shr_u(word4(h0v, h1v, qv, 0), 5);
  const b1 = i32x4.shr_u(word4(h0v, h1v, qv, 1), 6);
  const a2 = i32x4.shr_u(word4(h0v, h1v, qv, 2), 5);
  const b2 = i32x4.shr_u(word4(h0v, h1v, qv, 3), 6);
  boxMuller4(out,
    uniform53x2(f64x2.convert_low_i32x4_s(a1), f64x2.convert_low_i32x4_s(b1)),
    uniform53x2(f64x2.convert_low_i32x4_s(a2), f64x2.convert_low_i32x4_s(b2)),
    uniform53x2(convertHigh(a1), convertHigh(b1)),
    uniform53x2(convertHigh(a2), convertHigh(b2)));
}
