// Random kernels on the counter-based streams of rng.ts: element i of a call is stream element
// (counter + i) mod 2^32, exactly as in the reference backend.
//
// The generator must be bit-exact, so it uses only integer ops and correctly rounded f64 ops; it
// produces normals in Box-Muller pairs, halving the log/sqrt/sin/cos work. The SIMD builds run four
// pairs at a time in i32x4 / f64x2 lanes (normals8), the same operations lane by lane; the odd first
// element and the tail go through the scalar normalPair. gaussianSample generates a block
// of eps into the eps buffer and then runs the vector mu + sigma * eps pass over that block while it
// is still in cache.
import { ldv, madd, ldf, stf, stv } from './common';
import { key0, key1, normalPair, normals8, NORMAL_EVEN, NORMAL_ODD, uniform24 } from './rng';

const BLOCK = 512;

/** out[i] = normal(counter + i) for i in [i0, i1), as f32. */
@inline function normals(out: usize, i0: i32, i1: i32, h0: u32, h1: u32, counter: u32): void {
  let i = i0;
  let e: u32 = counter + <u32>i0;
  if (i < i1 && (e & 1) != 0) {
    normalPair(h0, h1, e >>> 1);
    stf(out, i, <f32>NORMAL_ODD);
    i++;
    e++;
  }
  if (ASC_FEATURE_SIMD) {
    // e is even here: four pairs (eight elements) per step in vector lanes, bit-identical to normalPair
    for (; i + 8 <= i1; i += 8) {
      normals8(out + ((<usize>i) << 2), h0, h1, e);
      e += 8;
    }
  }
  for (; i + 2 <= i1; i += 2) {
    normalPair(h0, h1, e >>> 1);
    stf(out, i, <f32>NORMAL_EVEN);
    stf(out, i + 1, <f32>NORMAL_ODD);
    e += 2;
  }
  if (i < i1) {
    normalPair(h0, h1, e >>> 1);
    stf(out, i, <f32>NORMAL_EVEN);
  }
}

export function randn(out: usize, n: i32, seedLo: u32, seedHi: u32, counter: u32): void {
  const h0 = key0(seedLo);
  const h1 = key1(seedHi, h0);
  normals(out, 0, n, h0, h1, counter);
}

export function randu(out: usize, n: i32, seedLo: u32, seedHi: u32, counter: u32): void {
  const h0 = key0(seedLo);
  const h1 = key1(seedHi, h0);
  for (let i = 0; i < n; i++) stf(out, i, <f32>uniform24(h0, h1, counter + <u32>i));
}

/** mask = uniform >= p ? keep : 0, with keep = 1 / (1 - p) rounded by the caller. */
export function dropoutMask(out: usize, n: i32, p: f64, keep: f32, seedLo: u32, seedHi: u32, counter: u32): void {
  const h0 = key0(seedLo);
  const h1 = key1(seedHi, h0);
  for (let i = 0; i < n; i++) stf(out, i, uniform24(h0, h1, counter + <u32>i) >= p ? keep : 0);
}

/** eps[i] = normal(counter + i); out[i] = mu[i] + sigma[i] * eps[i]. */
export function gaussianSample(
  mu: usize, sigma: usize, eps: usize, out: usize, n: i32, seedLo: u32, seedHi: u32, counter: u32,
): void {
  const h0 = key0(seedLo);
  const h1 = key1(seedHi, h0);
  for (let b = 0; b < n; b += BLOCK) {
    const end = min(b + BLOCK, n);
    normals(eps, b, end, h0, h1, counter);
    let i = b;
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= end; i += 4) stv(out, i, madd(ldv(sigma, i), ldv(eps, i), ldv(mu, i)));
    }
    for (; i < end; i++) stf(out, i, ldf(sigma, i) * ldf(eps, i) + ldf(mu, i));
  }
}

/** dmu = dy; dsigma = dy * eps. */
export function gaussianSampleBackward(eps: usize, dy: usize, dmu: usize, dsigma: usize, n: i32): void {
  memory.copy(dmu, dy, (<usize>n) << 2);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) stv(dsigma, i, f32x4.mul(ldv(dy, i), ldv(eps, i)));
  }
  for (; i < n; i++) stf(dsigma, i, ldf(dy, i) * ldf(eps, i));
}
