/**
 * Random kernels on the counter-based streams of rng.ts. Element i of a call is stream element
 * (counter + i) mod 2^32, so any split of [counter, counter + n) into calls gives the same numbers.
 */
import type { Buf } from '../kernels.js';
import { keySchedule, normal, uniform24 } from '../rng.js';
import { checkCount, checkSeed, fdata } from './buffer.js';

export function randn(out: Buf, n: number, seedLo: number, seedHi: number, counter: number): void {
  checkCount(n, 'n');
  checkSeed(seedLo, seedHi, counter);
  const o = fdata(out, 'out', n);
  const [h0, h1] = keySchedule(seedLo, seedHi);
  for (let i = 0; i < n; i++) o[i] = normal(h0, h1, (counter + i) >>> 0);
}

export function randu(out: Buf, n: number, seedLo: number, seedHi: number, counter: number): void {
  checkCount(n, 'n');
  checkSeed(seedLo, seedHi, counter);
  const o = fdata(out, 'out', n);
  const [h0, h1] = keySchedule(seedLo, seedHi);
  for (let i = 0; i < n; i++) o[i] = uniform24(h0, h1, (counter + i) >>> 0);
}

export function dropoutMask(
  out: Buf, n: number, p: number, seedLo: number, seedHi: number, counter: number,
): void {
  checkCount(n, 'n');
  checkSeed(seedLo, seedHi, counter);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`reference backend: dropout p must be in [0, 1], got ${p}`);
  const o = fdata(out, 'out', n);
  const [h0, h1] = keySchedule(seedLo, seedHi);
  const keep = 1 / (1 - p); // Infinity at p = 1, but then nothing is kept (uniform24 < 1).
  for (let i = 0; i < n; i++) o[i] = uniform24(h0, h1, (counter + i) >>> 0) >= p ? keep : 0;
}

/**
 * out = mu + sigma * eps, where eps is the value as stored in the eps buffer (float32-rounded in
 * float32 mode): the backward pass sees only the stored eps, so the forward uses the same number.
 */
export function gaussianSample(
  mu: Buf, sigma: Buf, eps: Buf, out: Buf, n: number, seedLo: number, seedHi: number, counter: number,
): void {
  checkCount(n, 'n');
  checkSeed(seedLo, seedHi, counter);
  const m = fdata(mu, 'mu', n);
  const s = fdata(sigma, 'sigma', n);
  const e = fdata(eps, 'eps', n);
  const o = fdata(out, 'out', n);
  const [h0, h1] = keySchedule(seedLo, seedHi);
  for (let i = 0; i < n; i++) {
    e[i] = normal(h0, h1, (counter + i) >>> 0);
    o[i] = m[i]! + s[i]! * e[i]!;
  }
}

export function gaussianSampleBackward(eps: Buf, dy: Buf, dmu: Buf, dsigma: Buf, n: number): void {
  checkCount(n, 'n');
  const e = fdata(eps, 'eps', n);
  const g = fdata(dy, 'dy', n);
  const dm = fdata(dmu, 'dmu', n);
  const ds = fdata(dsigma, 'dsigma', n);
  for (let i = 0; i < n; i++) {
    const gy = g[i]!;
    dm[i] = gy;
    ds[i] = gy * e[i]!;
  }
}
