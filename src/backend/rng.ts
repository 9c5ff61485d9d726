/**
 * Counter-based random numbers, bit-identical on every backend.
 *
 * Element e of a stream keyed by a 64-bit seed (seedLo, seedHi) is a pure function of (seed, e), so
 * any slice of a stream can be generated independently (and in parallel) and the same seed gives the
 * same numbers in the reference backend and in every WebAssembly build. The AssemblyScript port in
 * `assembly/rng.ts` follows this file operation for operation; both use only 32-bit integer ops and
 * correctly rounded float64 +, -, *, / and sqrt, which IEEE 754 makes identical everywhere.
 * (Math.log / Math.cos are not used: their last bit differs between engines.)
 *
 * - word(e, k): murmur3's fmix32 finalizer applied twice around the key: a keyed bijective hash.
 * - uniform24(e): (top 23 bits of word(e, 0) + 0.5) / 2^23 = an odd multiple of 2^-24: 24 significant bits,
 *   so exactly representable in float32 and strictly inside (0, 1) after rounding to float32.
 * - normal(e): Box-Muller on the pair q = floor(e / 2): u1, u2 are 53-bit uniforms from words
 *   (q, 0..3); r = sqrt(-2 ln u1), theta = 2 pi u2; even e takes r cos theta, odd e takes r sin theta.
 */

/** murmur3 fmix32: a bijection on uint32 with full avalanche. */
export function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Derives the two key words used by `word` from a seed pair. */
export function keySchedule(seedLo: number, seedHi: number): [number, number] {
  const h0 = fmix32((seedLo ^ 0x243f6a88) >>> 0);
  const h1 = fmix32((seedHi ^ 0x85a308d3 ^ h0) >>> 0);
  return [h0, h1];
}

/** The k-th uint32 word of stream element e (e, k uint32). */
export function word(h0: number, h1: number, e: number, k: number): number {
  const x = fmix32(((e + Math.imul(k, 0x9e3779b9)) ^ h0) >>> 0);
  return fmix32((x + h1) >>> 0);
}

/** Uniform in (0, 1) on the odd multiples of 2^-24: exactly representable as float32 (never rounds to 1). */
export function uniform24(h0: number, h1: number, e: number): number {
  return ((word(h0, h1, e, 0) >>> 9) + 0.5) / 8388608;
}

/** Uniform in (0, 1) with 53 bits from words k and k + 1 of element q. */
function uniform53(h0: number, h1: number, q: number, k: number): number {
  const a = word(h0, h1, q, k) >>> 5; // 27 bits
  const b = word(h0, h1, q, k + 1) >>> 6; // 26 bits
  return (a * 67108864 + b + 0.5) / 9007199254740992;
}

const LN2 = 0.6931471805599453;
const SQRT2 = 1.4142135623730951;
const HALF_PI = 1.5707963267948966;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Index of the high word of a float64 on this platform (every JS engine we target is little-endian,
// but we do not assume it).
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Natural log of a positive normal float64 with only IEEE-exact operations (error < 2 ulp). */
export function detLog(x: number): number {
  f64[0] = x;
  const hi = u32[HI];
  let e = ((hi >>> 20) & 0x7ff) - 1023;
  u32[HI] = (hi & 0x000fffff) | 0x3ff00000; // mantissa in [1, 2)
  let m = f64[0];
  if (m > SQRT2) {
    m = m * 0.5;
    e = e + 1;
  }
  // ln m = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), |s| <= 0.1716
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p = 1 / 25;
  p = p * s2 + 1 / 23;
  p = p * s2 + 1 / 21;
  p = p * s2 + 1 / 19;
  p = p * s2 + 1 / 17;
  p = p * s2 + 1 / 15;
  p = p * s2 + 1 / 13;
  p = p * s2 + 1 / 11;
  p = p * s2 + 1 / 9;
  p = p * s2 + 1 / 7;
  p = p * s2 + 1 / 5;
  p = p * s2 + 1 / 3;
  p = p * s2 + 1;
  return e * LN2 + 2 * s * p;
}

/** sin and cos of a in [-pi/4, pi/4] by Taylor series to a^19 (error < 1e-16). */
function sinCosSmall(a: number, out: Float64Array): void {
  const a2 = a * a;
  let s = 1 / 121645100408832000; // 1/19!
  s = s * -a2 + 1 / 355687428096000; // 1/17!
  s = s * -a2 + 1 / 1307674368000; // 1/15!
  s = s * -a2 + 1 / 6227020800; // 1/13!
  s = s * -a2 + 1 / 39916800; // 1/11!
  s = s * -a2 + 1 / 362880; // 1/9!
  s = s * -a2 + 1 / 5040; // 1/7!
  s = s * -a2 + 1 / 120; // 1/5!
  s = s * -a2 + 1 / 6; // 1/3!
  s = s * -a2 + 1;
  let c = 1 / 6402373705728000; // 1/18!
  c = c * -a2 + 1 / 20922789888000; // 1/16!
  c = c * -a2 + 1 / 87178291200; // 1/14!
  c = c * -a2 + 1 / 479001600; // 1/12!
  c = c * -a2 + 1 / 3628800; // 1/10!
  c = c * -a2 + 1 / 40320; // 1/8!
  c = c * -a2 + 1 / 720; // 1/6!
  c = c * -a2 + 1 / 24; // 1/4!
  c = c * -a2 + 1 / 2; // 1/2!
  c = c * -a2 + 1;
  out[0] = a * s;
  out[1] = c;
}

const sc = new Float64Array(2);

/** Standard normal element e (uint32) of the stream with key (h0, h1), as float64. */
export function normal(h0: number, h1: number, e: number): number {
  const q = e >>> 1;
  const u1 = uniform53(h0, h1, q, 0);
  const u2 = uniform53(h0, h1, q, 2);
  const r = Math.sqrt(-2 * detLog(u1));
  // theta = 2 pi u2 = quadrant * pi/2 + a, with a in [-pi/4, pi/4)
  const t = u2 * 4;
  let quadrant = Math.floor(t);
  let f = t - quadrant;
  if (f >= 0.5) {
    f = f - 1;
    quadrant = quadrant + 1;
  }
  sinCosSmall(f * HALF_PI, sc);
  const sa = sc[0];
  const ca = sc[1];
  const qd = quadrant & 3;
  let v: number;
  if ((e & 1) === 0) {
    v = qd === 0 ? ca : qd === 1 ? -sa : qd === 2 ? -ca : sa; // cos(theta)
  } else {
    v = qd === 0 ? sa : qd === 1 ? ca : qd === 2 ? -sa : -ca; // sin(theta)
  }
  return r * v;
}

/**
 * Splits a user seed (a safe integer >= 0 or a bigint < 2^64) into the (lo, hi) uint32 pair kernels take.
 */
export function splitSeed(seed: number | bigint): [number, number] {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n) throw new RangeError(`seed ${seed} must be in [0, 2^64)`);
    return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed ${seed} must be a non-negative safe integer (or a bigint)`);
  }
  return [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
}
