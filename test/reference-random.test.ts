/**
 * The random kernels of the reference backend: the counter-based streams of rng.ts must be
 * statistically sound, reproducible by seed, and consistent however a range of counters is split.
 * The streams are deterministic, so every statistical check here has a fixed outcome; the bounds are
 * set where a sound generator fails them with negligible probability (about 5 standard errors).
 */
import { describe, expect, it } from 'vitest';
import type { Backend, Buf } from '../src/backend/kernels.js';
import { createReferenceBackend, erfc } from '../src/backend/reference/index.js';
import { detLog, keySchedule, normal, uniform24 } from '../src/backend/rng.js';

const B64 = createReferenceBackend({ dtype: 'float64' });
const B32 = createReferenceBackend({ dtype: 'float32' });
const N = 1 << 20;

function randn(be: Backend, n: number, lo: number, hi: number, counter: number): number[] {
  const out = be.alloc(n, 'f');
  be.randn(out, n, lo, hi, counter);
  const r = Array.from(be.read(out));
  be.free(out);
  return r;
}
function randu(be: Backend, n: number, lo: number, hi: number, counter: number): number[] {
  const out = be.alloc(n, 'f');
  be.randu(out, n, lo, hi, counter);
  const r = Array.from(be.read(out));
  be.free(out);
  return r;
}
function floats(be: Backend, data: readonly number[]): Buf {
  const b = be.alloc(data.length, 'f');
  be.write(b, data);
  return b;
}

describe('randn statistics over 2^20 samples', () => {
  const z = randn(B64, N, 12345, 678, 0);

  it('mean 0 and variance 1', () => {
    const mean = z.reduce((a, v) => a + v, 0) / N;
    const variance = z.reduce((a, v) => a + (v - mean) ** 2, 0) / (N - 1);
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(N));
    // The standard error of the sample variance of a normal is sqrt(2 / N) ~ 0.14%.
    expect(Math.abs(variance - 1)).toBeLessThan(0.005);
  });

  it('two-sided tail fractions at 1, 2 and 3 sigma', () => {
    for (const k of [1, 2, 3]) {
      const p = erfc(k / Math.SQRT2); // 0.3173, 0.0455, 0.0027
      const frac = z.filter((v) => Math.abs(v) > k).length / N;
      // Box-Muller pairs share a radius, so count pairs, not samples, as independent: SE with N / 2.
      const se = Math.sqrt((p * (1 - p)) / (N / 2));
      expect(Math.abs(frac - p), `P(|z| > ${k}) = ${frac} vs ${p}`).toBeLessThan(5 * se);
    }
  });

  it('fills 40 equiprobable-ish bins as a normal does (chi-square)', () => {
    // Edges every 0.2 over [-4, 4], open-ended outer bins.
    const edges = Array.from({ length: 41 }, (_, i) => -4 + 0.2 * i);
    const cdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);
    const counts = new Array<number>(42).fill(0);
    for (const v of z) {
      let b = Math.floor((v + 4) / 0.2) + 1;
      if (b < 0) b = 0;
      if (b > 41) b = 41;
      counts[b]!++;
    }
    let chi2 = 0;
    for (let b = 0; b < 42; b++) {
      const lo = b === 0 ? 0 : cdf(edges[b - 1]!);
      const hi = b === 41 ? 1 : cdf(edges[b]!);
      const expected = N * (hi - lo);
      chi2 += (counts[b]! - expected) ** 2 / expected;
    }
    // 41 degrees of freedom: mean 41, sd 9; 85 is about the 0.9999 quantile. (Counting pairs as
    // independent would not matter much here: one of a pair's bins says little about the other's.)
    expect(chi2).toBeLessThan(85);
  });

  it('the two members of a Box-Muller pair are uncorrelated', () => {
    let s = 0;
    for (let i = 0; i < N; i += 2) s += z[i]! * z[i + 1]!;
    expect(Math.abs(s / (N / 2))).toBeLessThan(5 / Math.sqrt(N / 2));
  });
});

describe('randu statistics over 2^20 samples', () => {
  const u = randu(B64, N, 99, 0, 7);

  it('lies in (0, 1) on the odd multiples of 2^-24, with mean 1/2', () => {
    let sum = 0;
    let outside = 0;
    let offGrid = 0;
    for (const v of u) {
      if (!(v > 0 && v < 1)) outside++;
      if (!Number.isInteger((v * 2 ** 24 - 1) / 2)) offGrid++;
      sum += v;
    }
    expect(outside).toBe(0);
    expect(offGrid).toBe(0);
    expect(Math.abs(sum / N - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
  });

  it('is uniform over 100 bins (chi-square)', () => {
    const counts = new Array<number>(100).fill(0);
    for (const v of u) counts[Math.floor(v * 100)]!++;
    const expected = N / 100;
    const chi2 = counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
    // 99 degrees of freedom: mean 99, sd 14; 160 is about the 0.9999 quantile.
    expect(chi2).toBeLessThan(160);
  });

  it('float32 mode stores the float64 stream exactly (24 significant bits), so never 1.0', () => {
    const u32 = randu(B32, 1000, 99, 0, 7);
    expect(Array.from(u32)).toEqual(Array.from(u.slice(0, 1000)));
  });
});

describe('stream semantics', () => {
  it('is the rng.ts stream element for element', () => {
    const [h0, h1] = keySchedule(5, 9);
    const z = randn(B64, 64, 5, 9, 1001);
    const u = randu(B64, 64, 5, 9, 1001);
    for (let i = 0; i < 64; i++) {
      expect(z[i]).toBe(normal(h0, h1, 1001 + i));
      expect(u[i]).toBe(uniform24(h0, h1, 1001 + i));
    }
    expect(randn(B32, 64, 5, 9, 1001)).toEqual(z.map(Math.fround));
  });

  it('is reproducible by seed, and different seeds differ', () => {
    expect(randn(B64, 100, 1, 2, 0)).toEqual(randn(B64, 100, 1, 2, 0));
    const base = randn(B64, 100, 1, 2, 0);
    for (const other of [randn(B64, 100, 2, 2, 0), randn(B64, 100, 1, 3, 0), randn(B64, 100, 2, 1, 0)]) {
      expect(other.filter((v, i) => v === base[i]).length).toBe(0);
    }
    const ub = randu(B64, 100, 1, 2, 0);
    expect(randu(B64, 100, 1, 3, 0).filter((v, i) => v === ub[i]).length).toBeLessThan(3);
  });

  it('two calls over [c, c + k) and [c + k, c + n) equal one call over [c, c + n), odd c and k', () => {
    for (const [c, k, n] of [[0, 1, 10], [1, 3, 10], [7, 5, 12], [12345, 1, 2], [3, 0, 5]] as const) {
      for (const be of [B64, B32]) {
        const whole = be.alloc(n, 'f');
        be.randn(whole, n, 77, 88, c);
        const parts = be.alloc(n, 'f');
        be.randn(be.view(parts, 0, k), k, 77, 88, c);
        be.randn(be.view(parts, k, n - k), n - k, 77, 88, c + k);
        expect(Array.from(be.read(parts))).toEqual(Array.from(be.read(whole)));
        be.randu(whole, n, 77, 88, c);
        be.randu(be.view(parts, 0, k), k, 77, 88, c);
        be.randu(be.view(parts, k, n - k), n - k, 77, 88, c + k);
        expect(Array.from(be.read(parts))).toEqual(Array.from(be.read(whole)));
      }
    }
  });

  it('wraps the counter modulo 2^32', () => {
    const tail = randn(B64, 6, 3, 4, 2 ** 32 - 3);
    expect(tail.slice(3)).toEqual(randn(B64, 3, 3, 4, 0));
    expect(tail.slice(0, 3)).toEqual(randn(B64, 3, 3, 4, 2 ** 32 - 3));
  });

  it('validates seeds and counters', () => {
    const out = B64.alloc(1, 'f');
    expect(() => B64.randn(out, 1, -1, 0, 0)).toThrow(/seedLo/);
    expect(() => B64.randn(out, 1, 0, 2 ** 32, 0)).toThrow(/seedHi/);
    expect(() => B64.randu(out, 1, 0, 0, 2 ** 32)).toThrow(/counter/);
    expect(() => B64.randu(out, 1, 0, 0, 0.5)).toThrow(/counter/);
  });
});

describe('gaussianSample and dropoutMask', () => {
  it('gaussianSample draws eps from the randn stream and writes mu + sigma * eps', () => {
    for (const be of [B64, B32]) {
      const n = 9;
      const muData = Array.from({ length: n }, (_, i) => i - 4);
      const sigmaData = Array.from({ length: n }, (_, i) => 0.1 + 0.3 * i);
      const mu = floats(be, muData);
      const sigma = floats(be, sigmaData);
      const eps = be.alloc(n, 'f');
      const out = be.alloc(n, 'f');
      be.gaussianSample(mu, sigma, eps, out, n, 11, 22, 5);
      const e = Array.from(be.read(eps));
      expect(e).toEqual(randn(be, n, 11, 22, 5));
      const round = be.dtype === 'float32' ? Math.fround : (v: number) => v;
      const m = Array.from(be.read(mu));
      const s = Array.from(be.read(sigma));
      expect(Array.from(be.read(out))).toEqual(e.map((v, i) => round(m[i]! + s[i]! * v)));
    }
  });

  it('dropoutMask keeps where uniform >= p, scaled by 1 / (1 - p)', () => {
    const n = 1 << 16;
    for (const p of [0.1, 0.5, 0.9]) {
      for (const be of [B64, B32]) {
        const mask = be.alloc(n, 'f');
        be.dropoutMask(mask, n, p, 3, 1, 17);
        const m = Array.from(be.read(mask));
        const u = randu(be, n, 3, 1, 17);
        const keep = be.dtype === 'float32' ? Math.fround(1 / (1 - p)) : 1 / (1 - p);
        expect(m).toEqual(u.map((v) => (v >= p ? keep : 0)));
        const kept = m.filter((v) => v !== 0).length / n;
        expect(Math.abs(kept - (1 - p))).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
      }
    }
  });

  it('dropoutMask at p = 0 keeps everything and at p = 1 nothing; other p are rejected', () => {
    const mask = B64.alloc(100, 'f');
    B64.dropoutMask(mask, 100, 0, 1, 1, 0);
    expect(Array.from(B64.read(mask))).toEqual(new Array(100).fill(1));
    B64.dropoutMask(mask, 100, 1, 1, 1, 0);
    expect(Array.from(B64.read(mask))).toEqual(new Array(100).fill(0));
    expect(() => B64.dropoutMask(mask, 100, 1.5, 1, 1, 0)).toThrow(/p must be in \[0, 1\]/);
    expect(() => B64.dropoutMask(mask, 100, Number.NaN, 1, 1, 0)).toThrow(/p must be in \[0, 1\]/);
  });
});

describe('rng.ts building blocks the streams rely on', () => {
  it('detLog agrees with Math.log to a few ulp over the uniform53 range', () => {
    let worst = 0;
    for (let i = 1; i <= 20000; i++) {
      // log-spaced points from 2^-53 to 1, and plain uniform points
      for (const x of [2 ** (-53 * (i / 20000)), i / 20001]) {
        const want = Math.log(x);
        if (want !== 0) worst = Math.max(worst, Math.abs(detLog(x) - want) / Math.abs(want));
      }
    }
    expect(worst).toBeLessThan(1e-15);
  });
});
