/**
 * Shared fixtures of the adapter tests (test/adapters-*.test.ts): a tiny RoBERTa classifier and a
 * tiny GPT-2 LM, fixed inputs, one config per method, and helpers to set adapter parameters to
 * non-trivial values and to compare outputs bit for bit.
 *
 * The models have dropout off (so train and eval forward passes agree) and initializer_range 0.2
 * (instead of 0.02) so activations and logits are O(1): a wrong fold then moves the logits by far
 * more than float32 rounding does.
 */
import { expect } from 'vitest';
import * as W from '../src/index.js';
import type { AdaptedModel, AdapterConfig } from '../src/adapters/index.js';
import { GPT2LMHeadModel } from '../src/models/gpt2/index.js';
import { RobertaForSequenceClassification } from '../src/models/roberta/index.js';
import type { Module } from '../src/nn/index.js';
import { mulberry32 as uniform } from './helpers.js';

/** A deterministic uniform stream in [0, 1), for parameter values chosen by tests. */
export { uniform };

export const ROBERTA_CONFIG = {
  vocab_size: 24, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32,
  max_position_embeddings: 20, num_labels: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, initializer_range: 0.2,
};
export const GPT2_CONFIG = {
  vocab_size: 24, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0,
  initializer_range: 0.2,
};

export type Family = 'roberta' | 'gpt2';
export type TinyModel = RobertaForSequenceClassification | GPT2LMHeadModel;
export type AnyConfig = Partial<AdapterConfig> & { peft_type: AdapterConfig['peft_type'] };

/**
 * A fresh tiny model in eval mode; the same seed gives bit-identical weights. Biases are set to
 * values in (-0.1, 0.1), as after training, instead of the initial zeros: a fold that mishandles a
 * bias ((IA)3 scales it, GRASP shifts it) then changes the outputs.
 */
export function makeModel(family: 'roberta', seed?: number): RobertaForSequenceClassification;
export function makeModel(family: 'gpt2', seed?: number): GPT2LMHeadModel;
export function makeModel(family: Family, seed?: number): TinyModel;
export function makeModel(family: Family, seed = 1): TinyModel {
  const generator = new W.Generator(seed);
  const m = family === 'roberta' ? new RobertaForSequenceClassification(ROBERTA_CONFIG, { generator }) : new GPT2LMHeadModel(GPT2_CONFIG, { generator });
  const u = uniform(seed + 1000);
  for (const [name, p] of m.namedParameters()) if (name.endsWith('.bias')) write(p, Array.from({ length: p.size }, () => 0.2 * u() - 0.1));
  return m.eval();
}

/** Two sequences of six tokens (the RoBERTa one ends in padding, id 1). */
export function inputIds(): W.Tensor {
  return W.tensor(Int32Array.from([0, 5, 6, 7, 2, 1, 0, 9, 8, 23, 12, 2]), [2, 6], { dtype: 'int32' });
}

/** The model's logits on {@link inputIds}, without a graph. */
export function logits(model: TinyModel): Float32Array | Float64Array {
  return W.tidy(() =>
    W.noGrad(() => {
      const ids = inputIds();
      return model.forward(ids).logits.toArray() as Float32Array | Float64Array;
    }),
  );
}

/** Training loss on {@link inputIds} (class labels 0, 1 for RoBERTa; next tokens for GPT-2). */
export function loss(model: TinyModel): W.Tensor {
  const ids = inputIds();
  if (model instanceof GPT2LMHeadModel) return model.loss(ids);
  return model.loss(ids, W.tensor(Int32Array.from([0, 1]), [2], { dtype: 'int32' }));
}

/** One config per method (and LoRA variant); every family-dependent field is left to the defaults. */
export const METHODS: { label: string; config: AnyConfig }[] = [
  { label: 'full', config: { peft_type: 'FULL' } },
  { label: 'bitfit', config: { peft_type: 'BITFIT' } },
  { label: 'lora (Kaiming-uniform A)', config: { peft_type: 'LORA', r: 4, lora_alpha: 8 } },
  { label: 'lora (Gaussian A)', config: { peft_type: 'LORA', r: 4, lora_alpha: 8, init_lora_weights: 'gaussian' } },
  { label: 'rslora', config: { peft_type: 'LORA', r: 4, lora_alpha: 8, use_rslora: true } },
  { label: 'ia3', config: { peft_type: 'IA3' } },
  { label: 'grasp', config: { peft_type: 'GRASP', num_groups: 4 } },
  { label: 'stochgrasp', config: { peft_type: 'STOCHGRASP', num_groups: 4 } },
];

/**
 * {@link METHODS} plus LoRA on embedding tables (lora_embedding_A/B): RoBERTa's word and position
 * embeddings with query, GPT-2's position embeddings (its word embeddings are tied to the LM head).
 */
export function methodsFor(family: Family): { label: string; config: AnyConfig }[] {
  const targets = family === 'roberta' ? ['word_embeddings', 'position_embeddings', 'query'] : ['wpe'];
  return [...METHODS, { label: `lora on ${targets.join(', ')}`, config: { peft_type: 'LORA', r: 3, target_modules: targets } }];
}


export function write(t: W.Tensor, values: ArrayLike<number>): void {
  W.noGrad(() => t.backend.write(t.buf, values));
}

/**
 * Sets every trainable tensor to values far from its initialisation: LoRA matrices uniform in
 * (-0.5, 0.5), (IA)3 scales and GRASP scales in (0.6, 1.4), shifts in (-0.3, 0.3), rho in (-4, -2),
 * base and head tensors moved by up to 0.05.
 */
export function randomizeTrainable(adapted: AdaptedModel, seed = 7): void {
  const u = uniform(seed);
  const range = (lo: number, hi: number) => lo + (hi - lo) * u();
  for (const [key, t] of adapted.namedTrainable()) {
    const old = t.toArray();
    let v: number[];
    if (/lora_(embedding_)?[AB]/.test(key)) v = Array.from(old, () => range(-0.5, 0.5));
    else if (/ia3_l$|grasp_gamma(_mu)?$/.test(key)) v = Array.from(old, () => range(0.6, 1.4));
    else if (/grasp_beta(_mu)?$/.test(key)) v = Array.from(old, () => range(-0.3, 0.3));
    else if (/_rho$/.test(key)) v = Array.from(old, () => range(-4, -2));
    else v = Array.from(old, (x) => x + range(-0.05, 0.05));
    write(t, v);
  }
}

/** Every base parameter's values, by name (copies). */
export function snapshot(model: Module): Map<string, Float32Array | Float64Array> {
  return new Map(model.namedParameters().map(([n, p]) => [n, p.toArray().slice() as Float32Array | Float64Array]));
}

/** Equal bit for bit (Object.is: -0 differs from 0, NaN equals NaN). */
export function expectBitwiseEqual(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`${label}: element ${i} is ${got[i]}, expected exactly ${want[i]}`);
  }
}

/** Largest |a - b| and largest |b|. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff, scale };
}
