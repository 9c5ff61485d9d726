/**
 * GPT-2 against PyTorch (test/fixtures/models/gpt2.json, made by test/fixtures/scripts/make_model_fixtures.py):
 * the HF-format state dict loads, and logits, loss and every parameter's gradient match on the
 * default (WASM, float32) backend.
 *
 * Tolerances. The fixture is the float64 answer for float32 weights; we compute in float32. Logits
 * (|x| < 4) pass through ~20 float32 reductions of length <= 64, so their error is ~1e-6; 1e-4 absolute
 * is the task's bound with a wide margin. Gradients sum over 30 positions and two layers of chain rule;
 * 1e-4 absolute + 1e-3 relative bounds float32 accumulation for gradients up to ~1 while still
 * catching any wrong term (a missed mask or a wrong shift moves gradients by > 1e-2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { GPT2Config, GPT2LMHeadModel } from '../src/models/gpt2/index.js';
import type { LayerPast } from '../src/nn/index.js';
import { trainSteps, wasmBackends } from './helpers.js';
import { expectClose, ints, loadFixture, stateTensors, type Fixture } from './fixtures/models/fixtures.js';

const LOGIT_ATOL = 1e-4;
const LOSS_ATOL = 1e-5;
const GRAD_ATOL = 1e-4;
const GRAD_RTOL = 1e-3;

let fx: Fixture;
let model: GPT2LMHeadModel;

beforeAll(() => {
  fx = loadFixture('gpt2');
  model = new GPT2LMHeadModel(new GPT2Config(fx.config), { generator: new W.Generator(7) }).eval();
  const state = stateTensors(fx);
  const report = model.loadStateDict(state);
  W.dispose([...state.values()]);
  expect(report.missing).toEqual([]);
  expect(report.ignored.sort()).toEqual(
    ['lm_head.weight', 'transformer.h.0.attn.bias', 'transformer.h.0.attn.masked_bias', 'transformer.h.1.attn.bias', 'transformer.h.1.attn.masked_bias'],
  );
});

afterAll(() => model.dispose());

describe('GPT-2 vs PyTorch', () => {
  it('names its parameters as GPT2LMHeadModel checkpoints (with the transformer. prefix) and ties the LM head', () => {
    const names = model.namedParameters().map(([n]) => n);
    expect(names.slice(0, 4)).toEqual(['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.0.ln_1.weight', 'transformer.h.0.ln_1.bias']);
    expect(names).toContain('transformer.h.1.attn.c_attn.weight');
    expect(names).toContain('transformer.h.1.mlp.c_proj.bias');
    expect(names[names.length - 1]).toBe('transformer.ln_f.bias');
    expect(names.some((n) => n.startsWith('lm_head'))).toBe(false);
    // the fixture's gradients are keyed by GPT2Model (bare) names
    expect(new Set(names)).toEqual(new Set(Object.keys(fx.cases[0].grads!).map((k) => `transformer.${k}`)));
    expect(model.transformer.h[0].attn.c_attn.weight.shape).toEqual([32, 96]); // Conv1D: [in, out]
  });

  for (const name of ['padded', 'no_mask']) {
    it(`logits and loss equal PyTorch's (${name})`, () => {
      const c = fx.cases.find((k) => k.name === name)!;
      const { maxLogit, loss } = W.tidy(() => {
        const ids = ints(c.input_ids);
        const attentionMask = c.attention_mask ? ints(c.attention_mask) : null;
        const out = model.forward(ids, { attentionMask });
        expect(out.logits.shape).toEqual(c.logits.shape);
        const maxLogit = expectClose(`${name} logits`, out.logits.toArray(), c.logits, LOGIT_ATOL);
        return { maxLogit, loss: model.loss(ids, ints(c.labels), { attentionMask }).item() };
      });
      expect(Math.abs(loss - c.loss)).toBeLessThan(LOSS_ATOL);
      console.log(`gpt2 ${name}: max |logit diff| ${maxLogit.toExponential(2)}, |loss diff| ${Math.abs(loss - c.loss).toExponential(2)}`);
    });
  }

  it('every parameter gradient equals PyTorch\'s (padded batch, ignored labels)', () => {
    const c = fx.cases.find((k) => k.name === 'padded')!;
    let worst = 0;
    W.tidy(() => {
      const loss = model.loss(ints(c.input_ids), ints(c.labels), { attentionMask: ints(c.attention_mask!) });
      loss.backward();
      for (const [n, p] of model.namedParameters()) {
        expect(p.grad, n).not.toBeNull();
        worst = Math.max(worst, expectClose(`grad ${n}`, p.grad!.toArray(), c.grads![n.slice('transformer.'.length)], GRAD_ATOL, GRAD_RTOL));
        p.grad!.dispose();
        p.grad = null;
      }
    });
    console.log(`gpt2 gradients: max |diff| over all parameters ${worst.toExponential(2)}`);
  });

  it('loads keys without the transformer. prefix; strict mode reports a missing key', () => {
    const state = new Map<string, W.Tensor>();
    for (const [k, t] of stateTensors(fx)) {
      if (k.startsWith('transformer.') && !/\.attn\.(bias|masked_bias)$/.test(k)) state.set(k.slice(12), t);
      else t.dispose();
    }
    const fresh = new GPT2LMHeadModel(fx.config);
    expect(fresh.loadStateDict(state).loaded.length).toBe(model.namedParameters().length);
    state.delete('ln_f.bias');
    expect(() => fresh.loadStateDict(state)).toThrow(/missing keys \(1\): transformer\.ln_f\.bias/);
    W.dispose([...state.values()]);
    fresh.dispose();
  });

  it('incremental decoding with the KV cache reproduces the full forward', () => {
    const c = fx.cases.find((k) => k.name === 'no_mask')!;
    W.tidy(() => {
      const ids = ints(c.input_ids);
      const [B, T] = ids.shape;
      const full = model.forward(ids).logits.toArray();
      let pkv: LayerPast[] | null = null;
      const V = c.logits.shape[2];
      for (const [start, end] of [[0, 4], [4, 5], [5, 6], [6, T]]) {
        const out = model.forward(W.slice(ids, [0, start], [B, end]), { pastKeyValues: pkv, useCache: true });
        pkv = out.pastKeyValues;
        expect(pkv![0].key.shape).toEqual([B, 4, end, 8]);
        const got = out.logits.toArray();
        for (let b = 0; b < B; b++) {
          for (let t = start; t < end; t++) {
            for (let v = 0; v < V; v++) {
              const e = full[(b * T + t) * V + v];
              const g = got[(b * (end - start) + t - start) * V + v];
              if (Math.abs(e - g) > 1e-5) throw new Error(`cache: logit (${b}, ${t}, ${v}) ${g} vs full ${e}`);
            }
          }
        }
      }
    });
  });

  it('training steps in tidy (dropout on, AdamW) leave live memory flat and lower the loss', () => {
    const be = wasmBackends()[0];
    W.withBackend(be, () => {
      const m = new GPT2LMHeadModel({ vocab_size: 23, n_positions: 12, n_embd: 16, n_layer: 2, n_head: 2 }, { generator: new W.Generator(5) });
      const ids = W.tensor(Array.from({ length: 16 }, (_, i) => (i * 7) % 23), [2, 8], { dtype: 'int32' });
      const mask = W.tensor([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [2, 8], { dtype: 'int32' });
      const labels = W.tensor(Array.from(ids.toArray(), (v, i) => (i >= 14 ? -100 : v)), [2, 8], { dtype: 'int32' });
      const opt = new W.AdamW(m.parameters(), { lr: 1e-2 });
      const { first, last, warm, after } = trainSteps(be, opt, () => m.loss(ids, labels, { attentionMask: mask }), 5, 20);
      expect(after).toBe(warm);
      expect(last).toBeLessThan(first * 0.8);
      opt.dispose();
      W.dispose([ids, mask, labels]);
      m.dispose();
    });
  });

  it('config: HF defaults, validate() says what to change, toJSON() is a config.json', () => {
    const d = new GPT2Config();
    expect([d.vocab_size, d.n_positions, d.n_embd, d.n_layer, d.n_head, d.inner]).toEqual([50257, 1024, 768, 12, 12, 3072]);
    expect(() => new GPT2Config({ n_embd: 30, n_head: 4 })).toThrow(/n_embd = 30 must be divisible by n_head = 4/);
    expect(() => new GPT2Config({ attn_pdrop: 1.5 })).toThrow(/attn_pdrop = 1.5 must be in \[0, 1\)/);
    const json = JSON.parse(JSON.stringify(model.config));
    expect(json.model_type).toBe('gpt2');
    expect(json.architectures).toEqual(['GPT2LMHeadModel']);
    expect(new GPT2Config(json).toJSON()).toEqual(json);
  });

  it('initialises as HF: N(0, 0.02) weights, c_proj scaled by 1/sqrt(2 n_layer), LN ones and zeros', () => {
    const m = new GPT2LMHeadModel({ vocab_size: 100, n_positions: 16, n_embd: 64, n_layer: 8, n_head: 4 }, { generator: new W.Generator(3) });
    const std = (t: W.Tensor) => Math.sqrt(Array.from(t.toArray()).reduce((a, x) => a + x * x, 0) / t.size);
    expect(std(m.transformer.wte.weight)).toBeCloseTo(0.02, 3);
    expect(std(m.transformer.h[0].mlp.c_fc.weight)).toBeCloseTo(0.02, 3);
    expect(std(m.transformer.h[0].mlp.c_proj.weight)).toBeCloseTo(0.02 / 4, 3);
    expect(Array.from(m.transformer.ln_f.weight.toArray()).every((x) => x === 1)).toBe(true);
    expect(Array.from(m.transformer.h[0].attn.c_attn.bias.toArray()).every((x) => x === 0)).toBe(true);
    expect(m.numParameters()).toBe(100 * 64 + 16 * 64 + 8 * (12 * 64 * 64 + 13 * 64) + 2 * 64);
    m.dispose();
  });
});
