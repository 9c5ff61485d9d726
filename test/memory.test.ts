/** Lifetimes: a training loop in tidy() leaves the allocator's live bytes flat. */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { wasmBackends } from './helpers.js';

function param(shape: number[], scale: number, gen: W.Generator): W.Tensor {
  const t = W.tidy(() => W.randn(shape, { generator: gen }).mul(scale));
  t.requiresGrad = true;
  return t;
}

describe('memory', () => {
  it('1,000 forward/backward/AdamW steps of an MLP keep live bytes flat', () => {
    const be = wasmBackends()[0];
    W.withBackend(be, () => {
      const gen = new W.Generator(3);
      const x = W.randn([32, 8], { generator: gen });
      const y = W.tensor(Array.from({ length: 32 }, (_, i) => i % 3), [32], { dtype: 'int32' });
      const params = [param([16, 8], 0.3, gen), W.zeros([16], { requiresGrad: true }), param([3, 16], 0.3, gen), W.zeros([3], { requiresGrad: true })];
      const [w1, b1, w2, b2] = params;
      const opt = new W.AdamW(params, { lr: 1e-2 });
      const step = () =>
        W.tidy(() => {
          const h = W.dropout(W.gelu(W.linear(x, w1, b1)), 0.1, { generator: gen });
          const loss = W.crossEntropy(W.layerNorm(W.linear(h, w2, b2)), y, { labelSmoothing: 0.05 });
          loss.backward();
          W.clipGradNorm(params, 1.0);
          opt.step();
          opt.zeroGrad();
          return loss.item();
        });
      const first = step();
      for (let i = 0; i < 9; i++) step();
      const warm = be.liveBytes();
      const warmBlocks = be.allocator.liveBytes();
      const warmReserved = be.allocator.reservedBytes();
      let last = first;
      for (let i = 0; i < 990; i++) last = step();
      expect(be.liveBytes()).toBe(warm);
      // The allocator's own view: the same blocks are live, and the heap did not grow.
      expect(be.allocator.liveBytes()).toBe(warmBlocks);
      expect(be.allocator.reservedBytes()).toBe(warmReserved);
      expect(last).toBeLessThan(first * 0.7);
      opt.dispose();
      W.dispose([x, y, ...params]);
    });
  });

  it('ops free their forward temporaries at once when no graph is recorded', () => {
    const be = wasmBackends()[0];
    W.withBackend(be, () => {
      const x = W.randn([4, 6], { generator: new W.Generator(1) });
      const sd = x.abs();
      const before = be.liveBytes();
      for (let i = 0; i < 10; i++) {
        // layerNorm computes mean/rstd, max a keepdim buffer, gaussianSample its eps: all temporaries.
        W.dispose([W.layerNorm(x), W.max(x, 1), W.gaussianSample(x, sd)]);
      }
      expect(be.liveBytes()).toBe(before);
      W.dispose([x, sd]);
    });
  });
});
