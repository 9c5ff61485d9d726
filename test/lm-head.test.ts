/**
 * The chunked LM head + cross-entropy against the two-op path (logits, then crossEntropy) on a
 * GPT-2: the same loss and gradients, and a step that never holds the (B, T, V) logits.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { GPT2LMHeadModel } from '../src/models/gpt2/index.js';
import { wasmBackends } from './helpers.js';

const B = 3;
const T = 10;
const V = 97;

function setup(V = 97) {
  const model = new GPT2LMHeadModel({ vocab_size: V, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2 }, { generator: new W.Generator(11) }).eval(); // no dropout: both paths see the same activations
  const ids = W.tensor(Array.from({ length: B * T }, (_, i) => (i * 37 + 5) % V), [B, T], { dtype: 'int32' });
  // Targets aligned with positions; some positions ignored (a prompt, the last position).
  const t = Array.from({ length: B * T }, (_, i) => (i % T === T - 1 || i % 7 === 3 ? -100 : (i * 13 + 1) % V));
  const targets = W.tensor(t, [B, T], { dtype: 'int32' });
  return { model, ids, targets };
}

function gradsOf(model: GPT2LMHeadModel, loss: () => W.Tensor): { value: number; grads: Map<string, Float32Array> } {
  const value = W.tidy(() => {
    const l = W.tidy(loss);
    l.backward();
    return l.item();
  });
  const grads = new Map<string, Float32Array>();
  for (const [k, p] of model.namedParameters()) {
    grads.set(k, p.grad!.toArray() as Float32Array);
    p.grad!.dispose();
    p.grad = null;
  }
  return { value, grads };
}

describe('lmHeadCrossEntropy on GPT-2', () => {
  const be = wasmBackends()[0];

  for (const reduction of ['mean', 'sum'] as const) {
    it(`equals crossEntropy of the logits (${reduction}; one chunk, ragged chunks, one row per chunk)`, () => {
      W.withBackend(be, () => {
        const { model, ids, targets } = setup();
        const ref = gradsOf(model, () => W.crossEntropy(model.forward(ids).logits, targets, { reduction }));
        for (const chunkRows of [B * T, 7, 1]) {
          const got = gradsOf(model, () =>
            W.lmHeadCrossEntropy(model.transformer.forward(ids).hidden, model.transformer.wte.weight, targets, { reduction, chunkRows }));
          // Each row's logits come from the same kernel either way: the loss is the same value.
          expect(got.value).toBe(ref.value);
          for (const [k, g] of ref.grads) {
            const h = got.grads.get(k)!;
            let worst = 0;
            for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(h[i] - g[i]) / (1e-6 + Math.abs(g[i])));
            // The head's weight gradient is summed chunk by chunk (float order); the rest follows it.
            expect(worst, `${k} with chunks of ${chunkRows}`).toBeLessThan(1e-4);
          }
        }
        model.dispose();
      });
    });
  }

  it('model.loss goes through the chunked head: the same loss as the logits path', () => {
    W.withBackend(be, () => {
      const { model, ids } = setup();
      const shifted = W.concat([W.slice(ids, [0, 1], [B, T]), W.full([B, 1], -100, { dtype: 'int32' })], 1);
      const two = gradsOf(model, () => W.crossEntropy(model.forward(ids).logits, shifted, { ignoreIndex: -100 }));
      const chunked = gradsOf(model, () => model.loss(ids));
      expect(chunked.value).toBe(two.value);
      model.dispose();
    });
  });

  it('a step never holds the (B, T, V) logits nor their gradient', () => {
    W.withBackend(be, () => {
      const V = 2003; // logits large against the rest of this model's activations, as in a real LM
      const { model, ids, targets } = setup(V);
      const peak = (f: () => W.Tensor) => {
        const base = be.liveBytes();
        be.resetPeak();
        gradsOf(model, f);
        return be.peakBytes() - base;
      };
      const two = peak(() => W.crossEntropy(model.forward(ids).logits, targets));
      const chunked = peak(() => W.lmHeadCrossEntropy(model.transformer.forward(ids).hidden, model.transformer.wte.weight, targets, { chunkRows: 2 }));
      // The two-op path's peak holds the logits and their gradient (2 B T V floats) beside the
      // activations; the chunked one holds two chunks of 2 rows, and its own peak comes where the
      // head's weight gradient (V, C) is written: at least one (B, T, V) buffer fewer in all.
      expect(two - chunked).toBeGreaterThanOrEqual(4 * B * T * V);
      model.dispose();
    });
  });

  it('names a target outside the vocabulary', () => {
    W.withBackend(be, () => {
      const { model, ids } = setup();
      const bad = W.tensor(Array.from({ length: B * T }, (_, i) => (i === 4 ? V : 0)), [B, T], { dtype: 'int32' });
      expect(() => W.lmHeadCrossEntropy(model.transformer.forward(ids).hidden, model.transformer.wte.weight, bad))
        .toThrow(/target 97 in row 4 is outside \[0, 97\)/);
      expect(() => W.lmHeadCrossEntropy(model.transformer.forward(ids).hidden, model.transformer.wte.weight, W.tensor([0], [1], { dtype: 'int32' })))
        .toThrow(/hidden \[3, 10, 16\] must be \[\.\.\.targets\.shape, 16\]/);
      model.dispose();
    });
  });
});
