/**
 * StochGRASP's noise-aware loss term against hand-computed values:
 *   KL(N(mu, sigma^2) || N(mu, st^2)) = log(st / sigma) + sigma^2 / (2 st^2) - 1/2,
 *   d/drho of it for sigma = softplus(rho) = (-1/sigma + sigma / st^2) sigmoid(rho),
 * and AdaptedModel.regularizer() = kl_weight * the mean of that KL over every sampled group
 * parameter. Exact comparisons run in float64 on the reference backend; the float32 (WASM) ones
 * allow the rounding of n terms of a few float32 operations each: n * 8u relative, u = 2^-24.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { applyAdapter, gaussianKL, inverseSoftplus, klToTarget, type AdaptedModel } from '../src/adapters/index.js';
import { checkOp, wasmBackends } from './helpers.js';
import { makeModel, METHODS, write } from './adapters-models.js';

const U = 2 ** -24;
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** KL(p || q) by Simpson's rule on [-12 sigma, 12 sigma], for zero-mean Gaussians p (sigma) and q (st). */
function klByQuadrature(sigma: number, st: number): number {
  const logN = (x: number, s: number) => -0.5 * Math.log(2 * Math.PI * s * s) - (x * x) / (2 * s * s);
  const n = 20000;
  const a = -12 * sigma;
  const h = (24 * sigma) / n;
  let acc = 0;
  for (let i = 0; i <= n; i++) {
    const x = a + i * h;
    const f = Math.exp(logN(x, sigma)) * (logN(x, sigma) - logN(x, st));
    acc += f * (i === 0 || i === n ? 1 : i % 2 ? 4 : 2);
  }
  return (acc * h) / 3;
}

describe('gaussianKL and inverseSoftplus', () => {
  it('matches hand values', () => {
    expect(gaussianKL(0.1, 0.1)).toBeCloseTo(0, 15);
    expect(gaussianKL(0.05, 0.1)).toBeCloseTo(Math.log(2) + 0.125 - 0.5, 15);
    expect(gaussianKL(0.2, 0.1)).toBeCloseTo(Math.log(0.5) + 2 - 0.5, 15);
    expect(gaussianKL(1, 2)).toBeCloseTo(Math.log(2) + 1 / 8 - 0.5, 15);
  });

  it('is the KL divergence of the two Gaussians (numerical integration), and is smallest at sigma = st', () => {
    for (const [s, st] of [[0.05, 0.1], [0.3, 0.1], [1, 0.7], [0.1, 0.1]]) {
      expect(gaussianKL(s, st)).toBeCloseTo(klByQuadrature(s, st), 9);
    }
    for (const s of [0.09, 0.099, 0.101, 0.11]) expect(gaussianKL(s, 0.1)).toBeGreaterThan(0);
  });

  it('inverseSoftplus inverts softplus over the range init_sigma accepts (0, 10]', () => {
    for (const s of [1e-4, 0.05, 0.1, 1, 10]) expect(Math.abs(softplus(inverseSoftplus(s)) - s)).toBeLessThanOrEqual(1e-12 * s);
  });
});

describe('klToTarget', () => {
  const rho = [inverseSoftplus(0.05), inverseSoftplus(0.1), 0.3, -2, -4.5];
  const st = 0.1;

  it('sums the per-element KL and has gradient (-1/sigma + sigma/st^2) sigmoid(rho) (float64)', () => {
    W.withBackend(createReferenceBackend({ dtype: 'float64' }), () => {
      const r = W.tensor(rho, [5], { requiresGrad: true });
      const kl = klToTarget(r, st);
      expect(kl.shape).toEqual([]);
      const want = rho.reduce((a, x) => a + gaussianKL(softplus(x), st), 0);
      expect(kl.item()).toBeCloseTo(want, 12);
      // sigma = 0.05 contributes exactly log 2 + 0.125 - 0.5; sigma = st contributes 0.
      expect(klToTarget(W.tensor(rho.slice(0, 2), [2]), st).item()).toBeCloseTo(Math.log(2) + 0.125 - 0.5, 14);
      kl.backward();
      const g = r.grad!.toArray();
      rho.forEach((x, i) => {
        const s = softplus(x);
        expect(g[i]).toBeCloseTo((-1 / s + s / (st * st)) * sigmoid(x), 10);
      });
      expect(g[1]).toBeCloseTo(0, 12); // the minimum
    });
  });

  it('gradcheck (float64) and every WASM binary against the reference', () => {
    checkOp((r) => klToTarget(r, st), [{ data: rho, shape: [5] }]);
  });
});

/** Writes distinct known rho values into every layer; returns them as [gammaRho, betaRho | null] per layer. */
function setRhos(adapted: AdaptedModel): [number[], number[] | null][] {
  return adapted.layers.map((l, j) => {
    const p = new Map(l.params);
    const g = Array.from({ length: 4 }, (_, k) => -3.5 + 0.25 * j + 0.3 * k);
    write(p.get('grasp_gamma_rho')!, g);
    const bt = p.get('grasp_beta_rho');
    if (!bt) return [g, null];
    const b = Array.from({ length: 4 }, (_, k) => 0.5 - 0.2 * j - 0.1 * k);
    write(bt, b);
    return [g, b];
  });
}

describe('AdaptedModel.regularizer()', () => {
  const st = 0.2;
  const klWeight = 0.3;

  for (const sampleShift of [true, false]) {
    it(`= kl_weight * mean KL over ${sampleShift ? '2K' : 'K'} values per layer (sample_shift ${sampleShift}; float64 and WASM)`, () => {
      for (const backend of [createReferenceBackend({ dtype: 'float64' }), wasmBackends()[0]]) {
        W.withBackend(backend, () => {
          const model = makeModel('roberta');
          const adapted = applyAdapter(model, { peft_type: 'STOCHGRASP', num_groups: 4, target_sigma: st, kl_weight: klWeight, sample_shift: sampleShift });
          expect(adapted.layers.length).toBe(12);
          const values = setRhos(adapted).flatMap(([g, b]) => [...g, ...(b ?? [])]);
          expect(values.length).toBe(12 * 4 * (sampleShift ? 2 : 1));
          const want = (klWeight * values.reduce((a, x) => a + gaussianKL(softplus(x), st), 0)) / values.length;
          const reg = adapted.regularizer()!;
          const tol = backend.dtype === 'float64' ? 1e-12 * want : values.length * 8 * U * want;
          expect(Math.abs(reg.item() - want)).toBeLessThanOrEqual(tol);
          // Only the rhos get a gradient: kl_weight / n * (-1/sigma + sigma/st^2) sigmoid(rho) each.
          reg.backward();
          const l0 = new Map(adapted.layers[0].params);
          expect(l0.get('grasp_gamma_mu')!.grad).toBeNull();
          expect(l0.get('grasp_beta_mu')!.grad).toBeNull();
          const g = l0.get('grasp_gamma_rho')!.grad!.toArray();
          setRhos(adapted)[0][0].forEach((x, k) => {
            const s = softplus(x);
            const d = ((klWeight / values.length) * (-1 / s + s / (st * st))) * sigmoid(x);
            expect(Math.abs(g[k] - d)).toBeLessThanOrEqual(backend.dtype === 'float64' ? 1e-12 * Math.abs(d) : 16 * U * Math.abs(d));
          });
          model.dispose();
        });
      }
    });
  }

  it('at initialisation equals kl_weight * KL(init_sigma, target_sigma)', () => {
    const adapted = applyAdapter(makeModel('roberta'), { peft_type: 'STOCHGRASP', init_sigma: 0.05, target_sigma: 0.1, kl_weight: 0.01 });
    expect(adapted.regularizer()!.item()).toBeCloseTo(0.01 * (Math.log(2) + 0.125 - 0.5), 7);
  });

  it('is null for the other methods, with kl_weight 0, and while merged', () => {
    for (const { label, config } of METHODS) {
      if (config.peft_type === 'STOCHGRASP') continue;
      expect(applyAdapter(makeModel('roberta'), config).regularizer(), label).toBeNull();
    }
    expect(applyAdapter(makeModel('roberta'), { peft_type: 'STOCHGRASP', kl_weight: 0 }).regularizer()).toBeNull();
    const adapted = applyAdapter(makeModel('roberta'), { peft_type: 'STOCHGRASP' });
    adapted.merge();
    expect(adapted.regularizer()).toBeNull();
    adapted.unmerge();
    expect(adapted.regularizer()).not.toBeNull();
  });
});
