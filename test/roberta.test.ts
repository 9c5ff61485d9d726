/**
 * RoBERTa against PyTorch (test/fixtures/models/roberta_{mlm,cls}.json, made by
 * test/fixtures/scripts/make_model_fixtures.py): both heads load HF-format state dicts, and logits, loss and
 * every parameter's gradient match on the default (WASM, float32) backend. Tolerances as in
 * gpt2.test.ts (float32 against the float64 answer; see there for the reasoning).
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import {
  RobertaConfig, RobertaForMaskedLM, RobertaForSequenceClassification, robertaPositionIds,
} from '../src/models/roberta/index.js';
import type { Module } from '../src/nn/index.js';
import { trainSteps, wasmBackends } from './helpers.js';
import { expectClose, ints, loadFixture, stateTensors, type Fixture, type FixtureCase } from './fixtures/models/fixtures.js';

const LOGIT_ATOL = 1e-4;
const LOSS_ATOL = 1e-5;
const GRAD_ATOL = 1e-4;
const GRAD_RTOL = 1e-3;

type Head = RobertaForMaskedLM | RobertaForSequenceClassification;

function load<M extends Head>(fx: Fixture, make: (c: RobertaConfig) => M): { model: M; ignored: string[] } {
  const model = make(new RobertaConfig(fx.config));
  model.eval();
  const state = stateTensors(fx);
  const report = model.loadStateDict(state);
  W.dispose([...state.values()]);
  expect(report.missing).toEqual([]);
  return { model, ignored: report.ignored };
}

function inputs(c: FixtureCase) {
  return { ids: ints(c.input_ids), labels: ints(c.labels), tokenTypeIds: c.token_type_ids ? ints(c.token_type_ids) : null };
}

/** Logits, loss and every parameter gradient against the fixture; returns the largest differences. */
function checkAgainstTorch(name: string, model: Head, c: FixtureCase): void {
  const r = W.tidy(() => {
    const { ids, labels, tokenTypeIds } = inputs(c);
    const { logits } = model.forward(ids, { tokenTypeIds });
    expect(logits.shape).toEqual(c.logits.shape);
    const maxLogit = expectClose(`${name} logits`, logits.toArray(), c.logits, LOGIT_ATOL);
    const loss = model.loss(ids, labels, { tokenTypeIds });
    loss.backward();
    let maxGrad = 0;
    const named = (model as Module).namedParameters();
    expect(new Set(named.map(([n]) => n))).toEqual(new Set(Object.keys(c.grads!)));
    for (const [n, p] of named) {
      expect(p.grad, n).not.toBeNull();
      maxGrad = Math.max(maxGrad, expectClose(`${name} grad ${n}`, p.grad!.toArray(), c.grads![n], GRAD_ATOL, GRAD_RTOL));
      p.grad!.dispose();
      p.grad = null;
    }
    return { maxLogit, maxGrad, loss: loss.item() };
  });
  expect(Math.abs(r.loss - c.loss)).toBeLessThan(LOSS_ATOL);
  console.log(
    `roberta ${name}: max |logit diff| ${r.maxLogit.toExponential(2)}, |loss diff| ${Math.abs(r.loss - c.loss).toExponential(2)}, ` +
      `max |grad diff| ${r.maxGrad.toExponential(2)}`,
  );
}

describe('RoBERTa vs PyTorch', () => {
  it('masked LM: HF names, tied decoder, logits / loss / every gradient (padding rows get none)', () => {
    const fx = loadFixture('roberta_mlm');
    const { model, ignored } = load(fx, (c) => new RobertaForMaskedLM(c));
    expect(ignored.sort()).toEqual(['lm_head.decoder.bias', 'lm_head.decoder.weight']);
    const names = model.namedParameters().map(([n]) => n);
    expect(names).toContain('roberta.embeddings.word_embeddings.weight');
    expect(names).toContain('roberta.encoder.layer.1.attention.self.query.weight');
    expect(names).toContain('roberta.encoder.layer.0.attention.output.LayerNorm.bias');
    expect(names).toContain('roberta.encoder.layer.0.intermediate.dense.weight');
    expect(names).toContain('roberta.encoder.layer.0.output.LayerNorm.weight');
    expect(names).toContain('lm_head.layer_norm.weight');
    expect(names.filter((n) => n.startsWith('lm_head.decoder'))).toEqual([]);
    // The fixture's padding rows are non-zero (as after training) and used by the padded positions, so
    // PyTorch's zero gradient there is a real check (the word table's pad row is also the decoder's,
    // so only the position table's stays at zero).
    const padGrad = fx.cases[0].grads!['roberta.embeddings.position_embeddings.weight'].data.slice(32, 64);
    expect(fx.state_dict['roberta.embeddings.position_embeddings.weight'].data.slice(32, 64).some((w) => w !== 0)).toBe(true);
    expect(padGrad.every((g) => g === 0)).toBe(true);
    checkAgainstTorch('mlm', model, fx.cases[0]);
    model.dispose();
  });

  it('sequence classification: first-token head with token types, logits / loss / every gradient', () => {
    const fx = loadFixture('roberta_cls');
    const { model, ignored } = load(fx, (c) => new RobertaForSequenceClassification(c));
    expect(ignored).toEqual([]);
    expect(model.namedParameters().slice(-4).map(([n]) => n)).toEqual(
      ['classifier.dense.weight', 'classifier.dense.bias', 'classifier.out_proj.weight', 'classifier.out_proj.bias'],
    );
    checkAgainstTorch('classification', model, fx.cases[0]);
    model.dispose();
  });

  it('position ids count from pad + 1 over real tokens; padding keeps pad', () => {
    W.tidy(() => {
      const ids = W.tensor([[0, 5, 6, 2, 1, 1], [0, 7, 1, 8, 2, 1]], undefined, { dtype: 'int32' });
      expect(robertaPositionIds(ids, 1).toNested()).toEqual([[2, 3, 4, 5, 1, 1], [2, 3, 1, 4, 5, 1]]);
    });
  });

  it('the default attention mask (from pad tokens) equals passing it explicitly, and padding does not leak', () => {
    const fx = loadFixture('roberta_cls');
    const { model } = load(fx, (c) => new RobertaForSequenceClassification(c));
    W.tidy(() => {
      const c = fx.cases[0];
      const ids = ints(c.input_ids);
      const mask = W.tensor(Array.from(ids.toArray(), (v) => (v === 1 ? 0 : 1)), ids.shape, { dtype: 'int32' });
      const a = model.forward(ids).logits.toArray();
      const b = model.forward(ids, { attentionMask: mask }).logits.toArray();
      expect(Array.from(a)).toEqual(Array.from(b));
      // Row 2 has 4 real tokens; more padding after them must not change its logits.
      const short = W.slice(ids, [2, 0], [3, 4]);
      const longer = W.tensor([...Array.from(short.toArray()), 1, 1, 1, 1, 1, 1, 1], [1, 11], { dtype: 'int32' });
      const x = model.forward(short).logits.toArray();
      const y = model.forward(longer).logits.toArray();
      for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - y[i])).toBeLessThan(1e-5);
    });
    model.dispose();
  });

  it('training steps in tidy (dropout on, AdamW) leave live memory flat and lower the loss', () => {
    const be = wasmBackends()[0];
    W.withBackend(be, () => {
      const m = new RobertaForSequenceClassification(
        { vocab_size: 20, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 12, num_labels: 3 },
        { generator: new W.Generator(8) },
      );
      const ids = W.tensor([0, 5, 6, 7, 2, 1, 0, 9, 2, 1, 1, 1, 0, 4, 4, 3, 2, 1], [3, 6], { dtype: 'int32' });
      const labels = W.tensor([2, 0, 1], [3], { dtype: 'int32' });
      const opt = new W.AdamW(m.parameters(), { lr: 1e-2 });
      const { first, last, warm, after } = trainSteps(be, opt, () => m.loss(ids, labels), 5, 20);
      expect(after).toBe(warm);
      expect(last).toBeLessThan(first * 0.5);
      opt.dispose();
      W.dispose([ids, labels]);
      m.dispose();
    });
  });

  it('config: HF defaults, validate() says what to change, toJSON() is a config.json', () => {
    const d = new RobertaConfig();
    expect([d.vocab_size, d.hidden_size, d.max_position_embeddings, d.pad_token_id, d.layer_norm_eps, d.hidden_act])
      .toEqual([50265, 768, 514, 1, 1e-5, 'gelu']);
    expect(() => new RobertaConfig({ hidden_size: 30 })).toThrow(/hidden_size = 30 must be divisible by num_attention_heads = 12/);
    expect(() => new RobertaConfig({ vocab_size: 10, eos_token_id: 12 })).toThrow(/eos_token_id = 12/);
    const m = new RobertaForSequenceClassification({ vocab_size: 20, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 12 });
    const json = JSON.parse(JSON.stringify(m.config));
    expect(json.model_type).toBe('roberta');
    expect(json.architectures).toEqual(['RobertaForSequenceClassification']);
    expect(new RobertaConfig(json).toJSON()).toEqual(json);
    // HF init: the padding rows of both embedding tables start at zero.
    const w = m.roberta.embeddings.word_embeddings.weight.toArray();
    expect(Array.from(w.slice(8, 16)).every((x) => x === 0)).toBe(true);
    expect(() => W.tidy(() => m.forward(W.zeros([1, 11], { dtype: 'int32' })))).toThrow(/length 11 exceeds 10/);
    m.dispose();
  });
});
