/** Optimizers against hand-unrolled updates, and global-norm clipping. */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { wasmBackends } from './helpers.js';

const ref = createReferenceBackend({ dtype: 'float64' });

function adamwByHand(p: number[], grads: number[][], lr: number, b1: number, b2: number, eps: number, wd: number): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      p[i] -= lr * wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      p[i] -= (lr * (m[i] / (1 - b1 ** t))) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps);
    }
  });
  return p;
}

describe('optimizers', () => {
  for (const backend of [ref, ...wasmBackends()]) {
    it(`AdamW matches the update rule written out by hand (${backend.name}/${backend.variant})`, () => {
      W.withBackend(backend, () => {
        const p0 = [0.5, -1.5, 2.0, 0.0, 3.25];
        const p = W.tensor(p0, [5], { requiresGrad: true });
        const opt = new W.AdamW([p], { lr: 0.1, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 });
        const grads: number[][] = [];
        for (let k = 0; k < 3; k++) {
          // loss = sum(p^3): grad 3 p^2, computed by autodiff from the current p
          grads.push(Array.from(p.toArray(), (v) => 3 * v * v));
          W.tidy(() => p.pow(3).sum().backward());
          opt.step();
          opt.zeroGrad();
        }
        // Recompute by hand with the same gradient sequence.
        const expected = adamwByHand([...p0], grads, 0.1, 0.8, 0.95, 1e-6, 0.1);
        const got = Array.from(p.toArray());
        got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], backend.dtype === 'float64' ? 12 : 5));
        opt.dispose();
        p.dispose();
      });
    });
  }

  it('AdamW lrScales: a scaled parameter follows the hand-written rule at lr * scale, the others at lr', () => {
    W.withBackend(ref, () => {
      const a0 = [0.5, -1.5, 2.0];
      const b0 = [1.0, -0.25, 0.75];
      const a = W.tensor(a0, [3], { requiresGrad: true });
      const b = W.tensor(b0, [3], { requiresGrad: true });
      const opt = new W.AdamW([a, b], { lr: 0.1, weightDecay: 0.05, lrScales: new Map([[b, 0.25]]) });
      const ga: number[][] = [];
      const gb: number[][] = [];
      for (let k = 0; k < 3; k++) {
        ga.push(Array.from(a.toArray(), (v) => 3 * v * v));
        gb.push(Array.from(b.toArray(), (v) => 3 * v * v));
        W.tidy(() => a.pow(3).sum().add(b.pow(3).sum()).backward());
        opt.step();
        opt.zeroGrad();
      }
      const wantA = adamwByHand([...a0], ga, 0.1, 0.9, 0.999, 1e-8, 0.05);
      const wantB = adamwByHand([...b0], gb, 0.025, 0.9, 0.999, 1e-8, 0.05);
      Array.from(a.toArray()).forEach((v, i) => expect(v).toBeCloseTo(wantA[i], 12));
      Array.from(b.toArray()).forEach((v, i) => expect(v).toBeCloseTo(wantB[i], 12));
      expect(() => new W.AdamW([a], { lrScales: new Map([[a, -1]]) })).toThrow(/lrScales has -1 .* multipliers must be finite and >= 0/);
      opt.dispose();
      W.dispose([a, b]);
    });
  });

  it('SGD with Nesterov momentum and weight decay follows PyTorch semantics', () => {
    W.withBackend(ref, () => {
      const p = W.tensor([1, -2], [2], { requiresGrad: true });
      const opt = new W.SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 });
      let pv = [1, -2];
      let buf: number[] | null = null;
      for (let k = 0; k < 3; k++) {
        W.tidy(() => p.square().sum().backward());
        opt.step();
        opt.zeroGrad();
        const g = pv.map((v) => 2 * v + 0.01 * v);
        buf = buf ? buf.map((b, i) => 0.9 * b + g[i]) : g;
        const upd = g.map((gi, i) => gi + 0.9 * buf![i]);
        pv = pv.map((v, i) => v - 0.1 * upd[i]);
      }
      Array.from(p.toArray()).forEach((v, i) => expect(v).toBeCloseTo(pv[i], 12));
    });
  });

  it('clipGradNorm scales every gradient by maxNorm / global norm', () => {
    W.withBackend(ref, () => {
      const a = W.tensor([3, 0], [2], { requiresGrad: true });
      const b = W.tensor([0, 4], [2], { requiresGrad: true });
      W.tidy(() => a.mul(a).add(b.mul(b)).mul(0.5).sum().backward()); // grads = a, b: global norm 5
      const norm = W.clipGradNorm([a, b], 1);
      expect(norm).toBeCloseTo(5, 12);
      expect(Array.from(a.grad!.toArray())[0]).toBeCloseTo(3 / (5 + 1e-6), 9);
      expect(Array.from(b.grad!.toArray())[1]).toBeCloseTo(4 / (5 + 1e-6), 9);
    });
  });

  it('rejects parameters that cannot be optimised, with the reason', () => {
    W.withBackend(ref, () => {
      expect(() => new W.AdamW([W.zeros([2])])).toThrow(/does not require grad/);
      expect(() => new W.AdamW([])).toThrow(/no parameters/);
      expect(() => new W.AdamW([W.zeros([2], { requiresGrad: true })], { betas: [1, 0.9] })).toThrow(/beta1/);
    });
  });
});
