// The computation the Deno test runs in both runtimes: grouped scale/shift, linear, layer norm and
// label-smoothed cross-entropy, forward and backward, on inputs from a seeded generator.
import * as W from '../../src/index.js';

export interface WorkloadResult {
  loss: number;
  dw: number[];
  dgamma: number[];
  dbeta: number[];
}

export function workload(): WorkloadResult {
  return W.tidy(() => {
    const gen = new W.Generator(11);
    const x = W.randn([4, 5], { generator: gen });
    const w = W.randn([3, 5], { generator: gen });
    w.requiresGrad = true;
    const gamma = W.tensor([1.5, 0.75], [2], { requiresGrad: true });
    const beta = W.tensor([0.1, -0.2], [2], { requiresGrad: true });
    const groupMap = W.tensor([0, 1, 1, 0, 1], [5], { dtype: 'int32' });
    const targets = W.tensor([0, 2, 1, 2], [4], { dtype: 'int32' });
    const h = W.groupedScaleShift(x, groupMap, gamma, beta);
    const loss = W.crossEntropy(W.layerNorm(W.linear(h, w)), targets, { labelSmoothing: 0.1 });
    loss.backward();
    return {
      loss: loss.item(),
      dw: Array.from(w.grad!.toArray()),
      dgamma: Array.from(gamma.grad!.toArray()),
      dbeta: Array.from(beta.grad!.toArray()),
    };
  });
}
