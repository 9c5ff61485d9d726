// Runs under Deno (see test/deno.test.ts): a small forward/backward on the WebAssembly backend,
// printing the loss and gradients as JSON for the Node side to compare.
import * as W from '../../src/index.js';

declare const Deno: { args: string[] };
const variant = (Deno.args[0] ?? 'auto') as 'auto' | 'simd' | 'scalar' | 'relaxed-simd';
const backend = await W.init({ variant });
const out = W.tidy(() => {
  const gen = new W.Generator(11);
  const x = W.randn([4, 5], { generator: gen });
  const w = W.randn([3, 5], { generator: gen });
  w.requiresGrad = true;
  const gamma = W.tensor([1.5, 0.75], [2], { requiresGrad: true });
  const beta = W.tensor([0.1, -0.2], [2], { requiresGrad: true });
  const groupMap = W.tensor([0, 1, 1, 0, 1], [5], { dtype: 'int32' });
  const targets = W.tensor([0, 2, 1, 2], [4], { dtype: 'int32' });
  const h = W.groupedScaleShift(x, groupMap, gamma, beta);
  const logits = W.layerNorm(W.linear(h, w));
  const loss = W.crossEntropy(logits, targets, { labelSmoothing: 0.1 });
  loss.backward();
  return {
    variant: backend.variant,
    loss: loss.item(),
    dw: Array.from(w.grad!.toArray()),
    dgamma: Array.from(gamma.grad!.toArray()),
    dbeta: Array.from(beta.grad!.toArray()),
  };
});
console.log(JSON.stringify(out));
