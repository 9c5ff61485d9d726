/**
 * RoBERTa's sequence classifier computes only the `<s>` row in its last encoder layer
 * (`firstTokenOnly`, the default): the loss, the logits and every trainable tensor's gradient must
 * equal those of the full last layer, with padding, dropout on (row 0 of the whole masks, the
 * generators left at the same position), a block-mask tensor, and every fine-tuning method
 * hooked into the last layer, LoRA's dropout included (its mask is row 0 of the whole input's). A
 * hook that is not row-local makes the model run the full layer. Float64 on the reference backend
 * (tight), float32 on WASM.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { applyAdapter } from '../src/adapters/index.js';
import { RobertaForSequenceClassification } from '../src/models/roberta/index.js';
import { PostLNBlock } from '../src/models/roberta/layer.js';
import { attentionBlockMask, type LayerAdapter } from '../src/nn/index.js';
import { METHODS, randomizeTrainable, type AnyConfig } from './adapters-models.js';

const CONFIG = {
  vocab_size: 30, hidden_size: 16, num_hidden_layers: 3, num_attention_heads: 2, intermediate_size: 24,
  max_position_embeddings: 20, num_labels: 3, initializer_range: 0.2,
};

/** Three sequences of 7 tokens; the second and third end in padding (id 1). */
function batch(): { ids: W.Tensor; labels: W.Tensor } {
  const ids = W.tensor(Int32Array.from([0, 5, 6, 7, 8, 9, 2, 0, 11, 12, 2, 1, 1, 1, 0, 29, 3, 4, 10, 2, 1]), [3, 7], { dtype: 'int32' });
  return { ids, labels: W.tensor(Int32Array.from([0, 2, 1]), [3], { dtype: 'int32' }) };
}

interface Run {
  losses: number[];
  logits: number[];
  grads: Map<string, number[]>;
}

/**
 * Two training steps' losses (SGD in between, so the second sees the generators' positions after
 * the first), the first step's logits and the trainable tensors' gradients.
 */
function run(firstTokenOnly: boolean, o: { dropout: number; method?: AnyConfig; training: boolean }): Run {
  return W.tidy(() => {
    const config = { ...CONFIG, hidden_dropout_prob: o.dropout, attention_probs_dropout_prob: o.dropout };
    const model = new RobertaForSequenceClassification(config, { generator: new W.Generator(3) });
    model.firstTokenOnly = firstTokenOnly;
    const adapted = applyAdapter(model, o.method ?? { peft_type: 'FULL' });
    randomizeTrainable(adapted, 5);
    model.train(o.training);
    const params = adapted.namedTrainable();
    const { ids, labels } = batch();
    const losses: number[] = [];
    let logits: number[] = [];
    let grads = new Map<string, number[]>();
    for (let step = 0; step < 2; step++) {
      W.tidy(() => {
        if (step === 0) logits = Array.from(W.noGrad(() => model.forward(ids).logits).toArray());
        const loss = model.loss(ids, labels);
        losses.push(loss.item());
        loss.backward();
        if (step === 0) grads = new Map(params.map(([n, p]) => [n, Array.from(p.grad!.toArray())]));
        W.noGrad(() => {
          for (const [, p] of params) {
            p.backend.write(p.buf, W.sub(p, W.mul(p.grad!, 0.1)).toArray());
            p.grad!.dispose();
            p.grad = null;
          }
        });
      });
    }
    adapted.remove();
    return { losses, logits, grads };
  });
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, label: string): void {
  expect(got.length, label).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= rtol * Math.max(scale, 1e-3))) {
      expect.fail(`${label}: element ${i} is ${got[i]}, the full layer gives ${want[i]} (scale ${scale})`);
    }
  }
}

function expectSameRun(fast: Run, full: Run, rtol: number, label: string): void {
  expectClose(fast.losses, full.losses, rtol, `${label} losses`);
  expectClose(fast.logits, full.logits, rtol, `${label} logits`);
  expect([...fast.grads.keys()], label).toEqual([...full.grads.keys()]);
  for (const [n, g] of full.grads) expectClose(fast.grads.get(n)!, g, rtol, `${label} grad ${n}`);
}

const f64 = <T>(fn: () => T): T => W.withBackend(createReferenceBackend({ dtype: 'float64' }), fn);

describe('RoBERTa classifier: the last layer computes only <s>', () => {
  const cases: { label: string; dropout: number; training: boolean; method?: AnyConfig }[] = [
    { label: 'no dropout', dropout: 0, training: true },
    { label: 'dropout 0.3 while training', dropout: 0.3, training: true },
    { label: 'eval mode', dropout: 0.3, training: false },
    ...METHODS.map(({ label, config }) => ({ label: `${label}, dropout 0.2`, dropout: 0.2, training: true, method: config })),
    {
      label: 'LoRA on every linear of the model with lora_dropout (row 0 of the whole input\'s mask)', dropout: 0.2, training: true,
      method: { peft_type: 'LORA', r: 2, lora_alpha: 4, lora_dropout: 0.3, target_modules: ['query', 'key', 'value', 'dense'] } as AnyConfig,
    },
  ];
  for (const c of cases) {
    it(`${c.label}: loss, logits, gradients and the next step equal the full layer's (float64 reference)`, () => {
      f64(() => expectSameRun(run(true, c), run(false, c), 1e-12, c.label));
    });
  }

  it('the same on the WASM backend (float32) with dropout and GRASP', () => {
    const c = { dropout: 0.2, training: true, method: { peft_type: 'GRASP', num_groups: 4 } as AnyConfig };
    expectSameRun(run(true, c), run(false, c), 2e-5, 'wasm');
  });

  it('LoRA with lora_dropout, training, computes one row in the last layer (no fallback to every row)', () => {
    const model = new RobertaForSequenceClassification({ ...CONFIG, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 });
    const adapted = applyAdapter(model, { peft_type: 'LORA', r: 2, lora_alpha: 4, lora_dropout: 0.3, target_modules: ['query', 'value', 'dense'] } as AnyConfig);
    model.train();
    const last = model.roberta.encoder.layer[2];
    expect(last.canComputeFirstOnly()).toBe(true);
    const shapes: number[][] = [];
    last.output.dense.adapters.push({ rowLocal: true, output: (_x, y) => (shapes.push([...y.shape]), y) });
    const { ids, labels } = batch();
    W.tidy(() => model.loss(ids, labels).backward());
    expect(shapes).toEqual([[3, 1, 16]]);
    last.output.dense.adapters.pop();
    adapted.remove();
  });

  it('really runs the query, the output projections and the feed-forward on one row per sequence', () => {
    const model = new RobertaForSequenceClassification({ ...CONFIG, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
    const shapes: Record<string, number[][]> = { query: [], key: [], ffn: [] };
    const spy = (into: number[][]): LayerAdapter => ({ rowLocal: true, output: (_x, y) => (into.push([...y.shape]), y) });
    const last = model.roberta.encoder.layer[2];
    last.attention.self.query.adapters.push(spy(shapes.query));
    last.attention.self.key.adapters.push(spy(shapes.key));
    last.output.dense.adapters.push(spy(shapes.ffn));
    const { ids } = batch();
    W.tidy(() => W.noGrad(() => model.forward(ids)));
    expect(shapes).toEqual({ query: [[3, 1, 16]], key: [[3, 7, 16]], ffn: [[3, 1, 16]] });
    model.firstTokenOnly = false;
    W.tidy(() => W.noGrad(() => model.forward(ids)));
    expect(shapes.ffn[1]).toEqual([3, 7, 16]);
    // A hook that does not declare itself row-local makes the layer run every row.
    last.intermediate.dense.adapters.push({ output: (_x, y) => y });
    model.firstTokenOnly = true;
    expect(last.canComputeFirstOnly()).toBe(false);
    W.tidy(() => W.noGrad(() => model.forward(ids)));
    expect(shapes.ffn[2]).toEqual([3, 7, 16]);
  });

  it('a block-mask tensor: the layer keeps its first query row', () => {
    f64(() => {
      const block = new PostLNBlock(8, 2, 12, { generator: new W.Generator(1), std: 0.3 });
      const x = W.tensor(Array.from({ length: 2 * 5 * 8 }, (_, i) => Math.sin(i * 0.7)), [2, 5, 8]);
      const keep = W.tensor(Int32Array.from([1, 1, 1, 0, 0, 1, 1, 1, 1, 1]), [2, 5], { dtype: 'int32' });
      const mask = attentionBlockMask({ batch: 2, queryLength: 5, causal: false, attentionMask: keep, like: x })!;
      const full = W.noGrad(() => W.slice(block.forward(x, mask), [0, 0, 0], [2, 1, 8])).toArray();
      const first = W.noGrad(() => block.forward(x, mask, true));
      expect(first.shape).toEqual([2, 1, 8]);
      expectClose(first.toArray(), full, 1e-13, 'block mask');
    });
  });

  it('RobertaModel returns (B, 1, C) with firstTokenOnly, equal to row 0 of every position', () => {
    f64(() => {
      const model = new RobertaForSequenceClassification({ ...CONFIG, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
      const { ids } = batch();
      const all = W.noGrad(() => model.roberta.forward(ids));
      const first = W.noGrad(() => model.roberta.forward(ids, { firstTokenOnly: true }));
      expect(all.shape).toEqual([3, 7, 16]);
      expect(first.shape).toEqual([3, 1, 16]);
      expectClose(first.toArray(), W.slice(all, [0, 0, 0], [3, 1, 16]).toArray(), 1e-13, 'hidden states');
    });
  });
});

describe('dropout firstRowOf', () => {
  it('is row 0 of the whole tensor\'s dropout and advances the generator as much', () => {
    const g1 = new W.Generator(9);
    const g2 = new W.Generator(9);
    const whole = W.tensor(Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i + 1), [2, 3, 4, 5]);
    const row = W.slice(whole, [0, 0, 0, 0], [2, 3, 1, 5]);
    const a = W.slice(W.dropout(whole, 0.5, { generator: g1 }), [0, 0, 0, 0], [2, 3, 1, 5]).toArray();
    const b = W.dropout(row, 0.5, { generator: g2, firstRowOf: 4 }).toArray();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(g2.state()).toEqual(g1.state());
    expect(() => W.dropout(whole, 0.5, { firstRowOf: 4 })).toThrow(/firstRowOf = 4 .* 1 row/);
  });
});
