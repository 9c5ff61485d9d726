/**
 * The training path does not cross the boundary: with ids, masks and labels created from host data
 * (as the data layer makes them), a training step (forward, backward, AdamW) reads nothing back from
 * the device: id and padding checks use the values kept with the int32 tensors, the attention mask is
 * applied inside the attention kernel, and label shifts and padding rows are handled on the device.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import type { Backend } from '../src/backend/kernels.js';

/** Runs `fn` with `be.read` counted; returns the count. */
function countReads(be: Backend, fn: () => void): number {
  const read = be.read;
  let n = 0;
  be.read = (b) => {
    n++;
    return read(b);
  };
  try {
    fn();
  } finally {
    be.read = read;
  }
  return n;
}

const ROBERTA = {
  vocab_size: 200, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64,
  max_position_embeddings: 40, num_labels: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0,
};
const GPT2 = { vocab_size: 200, n_positions: 32, n_embd: 32, n_layer: 2, n_head: 4 };

describe('int32 masks and ids on the device', () => {
  it('where takes an int32 mask as it is (broadcast too), equal to the float mask, without a device read', () => {
    for (const be of [createReferenceBackend(), W.createWasmBackendSync()]) {
      W.withBackend(be, () => W.tidy(() => {
        const a = W.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
        const b = W.tensor([-1, -2, -3, -4, -5, -6], [2, 3]);
        const mi = W.tensor([[0], [7]], undefined, { dtype: 'int32' });
        const mf = W.tensor([[0], [1]]);
        let y: W.Tensor | null = null;
        expect(countReads(be, () => { y = W.where(mi, a, b); })).toBe(0);
        expect(Array.from(y!.toArray())).toEqual(Array.from(W.where(mf, a, b).toArray()));
        expect(Array.from(y!.toArray())).toEqual([-1, -2, -3, 4, 5, 6]);
      }));
    }
  });

  it('an out-of-range id is still refused, naming the id and its position', () => {
    W.tidy(() => {
      const table = W.zeros([5, 2]);
      expect(() => W.embedding(table, W.tensor([1, 4, 5, 0], [4], { dtype: 'int32' }))).toThrow(/id 5 at position 2 is outside \[0, 5\)/);
      // ids made on the device (no host copy yet) are read once, then their range is known
      const ids = W.slice(W.tensor([0, 1, 2, 3], [4], { dtype: 'int32' }), [1], [4]);
      expect(W.embedding(table, ids).shape).toEqual([3, 2]);
    });
  });
});

describe('a training step reads nothing back from the device', () => {
  const be = W.createWasmBackendSync();
  const B = 3;
  const T = 12;
  // the last sequence ends in padding (id 1 = RoBERTa's pad)
  const idsData = Array.from({ length: B * T }, (_, i) => (i >= 2 * T + 8 ? 1 : 3 + ((i * 37) % 190)));

  function steps(model: W.Module, loss: () => W.Tensor): number[] {
    const opt = new W.AdamW(model.parameters(), { lr: 1e-3 });
    const step = () => W.tidy(() => {
      loss().backward();
      opt.step();
      opt.zeroGrad();
    });
    const reads = [countReads(be, step), countReads(be, step)];
    opt.dispose();
    return reads;
  }

  it('RoBERTa classification and masked LM (default padding mask from the ids, padding rows of the embeddings)', () => {
    W.withBackend(be, () => {
      const ids = W.tensor(idsData, [B, T], { dtype: 'int32' });
      const cls = new W.RobertaForSequenceClassification(ROBERTA, { generator: new W.Generator(1) });
      const labels = W.tensor([0, 1, 1], [B], { dtype: 'int32' });
      expect(steps(cls, () => cls.loss(ids, labels))).toEqual([0, 0]);
      const mlm = new W.RobertaForMaskedLM(ROBERTA, { generator: new W.Generator(2) });
      const mlmLabels = W.tensor(idsData.map((v, i) => (i % 5 === 0 ? v : -100)), [B, T], { dtype: 'int32' });
      expect(steps(mlm, () => mlm.loss(ids, mlmLabels))).toEqual([0, 0]);
      W.dispose([ids, labels, mlmLabels]);
      cls.dispose();
      mlm.dispose();
    });
  });

  it('GPT-2 causal LM with a padding mask and ignored labels (label shift on the device)', () => {
    W.withBackend(be, () => {
      const ids = W.tensor(idsData, [B, T], { dtype: 'int32' });
      const mask = W.tensor(idsData.map((v) => (v === 1 ? 0 : 1)), [B, T], { dtype: 'int32' });
      const labels = W.tensor(idsData.map((v) => (v === 1 ? -100 : v)), [B, T], { dtype: 'int32' });
      const model = new W.GPT2LMHeadModel(GPT2, { generator: new W.Generator(3) });
      expect(steps(model, () => model.loss(ids, labels, { attentionMask: mask }))).toEqual([0, 0]);
      W.dispose([ids, mask, labels]);
      model.dispose();
    });
  });
});
