/**
 * Parameter accounting against closed-form counts of the tiny models (adapters-models.ts):
 * RoBERTa H = 16, I = 32, 2 layers, vocab 24, 20 positions, 2 labels; GPT-2 C = 16, FFN 4C, 2 layers,
 * vocab 24, 16 positions. Each method's count is written from its definition, not from the code:
 * LoRA r (in + out) per target, GRASP 2K per modulated layer, StochGRASP 4K (3K without sampled
 * shifts), (IA)3 out for k/v (c_attn) and in for the FFN output layer, BitFit the bias elements.
 */
import { describe, expect, it } from 'vitest';
import { applyAdapter, loraParameterCount, type LoraConfig } from '../src/adapters/index.js';
import { makeModel, type AnyConfig, type Family } from './adapters-models.js';

const H = 16;
const I = 32;
const L = 2;
const V = 24;

/** classifier.dense (H x H + H) and classifier.out_proj (H x 2 + 2). */
const ROBERTA_HEAD = H * H + H + H * 2 + 2;
/** Embeddings (word, position, token type, LayerNorm) + per layer q/k/v/output (4 (H^2 + H)), FFN, two LayerNorms + head. */
const ROBERTA_ALL = V * H + 20 * H + H + 2 * H + L * (4 * (H * H + H) + (H * I + I) + (I * H + H) + 4 * H) + ROBERTA_HEAD;
/** Per layer: q, k, v, attention output, intermediate (I), output, two LayerNorm biases; plus the embeddings' LayerNorm. */
const ROBERTA_BIASES = L * (7 * H + I) + H;
/** wte, wpe, per block ln_1, c_attn, c_proj, ln_2, c_fc, mlp.c_proj; ln_f. No head of its own (tied). */
const GPT2_ALL = V * H + 16 * H + L * (2 * H + (H * 3 * H + 3 * H) + (H * H + H) + 2 * H + (H * 4 * H + 4 * H) + (4 * H * H + H)) + 2 * H;
/** Per block: ln_1, c_attn (3C), c_proj, ln_2, c_fc (4C), mlp.c_proj; ln_f. */
const GPT2_BIASES = L * (H + 3 * H + H + H + 4 * H + H) + H;

interface Case {
  family: Family;
  label: string;
  config: AnyConfig;
  adapter: number;
  head: number;
  trainedBase: number;
  layers: number;
}

const CASES: Case[] = [
  { family: 'roberta', label: 'full', config: { peft_type: 'FULL' }, adapter: 0, head: ROBERTA_HEAD, trainedBase: ROBERTA_ALL - ROBERTA_HEAD, layers: 0 },
  { family: 'roberta', label: 'bitfit', config: { peft_type: 'BITFIT' }, adapter: 0, head: ROBERTA_HEAD, trainedBase: ROBERTA_BIASES, layers: 0 },
  // LoRA's default targets on RoBERTa are query and value: 2 per layer, each H -> H.
  { family: 'roberta', label: 'lora r=8 (q, v)', config: { peft_type: 'LORA' }, adapter: L * 2 * 8 * (H + H), head: ROBERTA_HEAD, trainedBase: 0, layers: 4 },
  {
    family: 'roberta', label: 'lora r=3 on every dense layer', config: { peft_type: 'LORA', r: 3, target_modules: ['query', 'key', 'value', 'dense'] },
    adapter: L * 3 * (4 * (H + H) + (H + I) + (I + H)), head: ROBERTA_HEAD, trainedBase: 0, layers: 12,
  },
  { family: 'roberta', label: 'rslora', config: { peft_type: 'LORA', r: 2, use_rslora: true }, adapter: L * 2 * 2 * (H + H), head: ROBERTA_HEAD, trainedBase: 0, layers: 4 },
  // (IA)3: key and value scale their output (H each), output.dense its input (I).
  { family: 'roberta', label: 'ia3', config: { peft_type: 'IA3' }, adapter: L * (H + H + I), head: ROBERTA_HEAD, trainedBase: 0, layers: 6 },
  // GRASP: 6 layers per block (q, k, v, attention output, intermediate, output), 2K each.
  { family: 'roberta', label: 'grasp K=8', config: { peft_type: 'GRASP' }, adapter: L * 6 * 2 * 8, head: ROBERTA_HEAD, trainedBase: 0, layers: 12 },
  { family: 'roberta', label: 'grasp K=3', config: { peft_type: 'GRASP', num_groups: 3 }, adapter: L * 6 * 2 * 3, head: ROBERTA_HEAD, trainedBase: 0, layers: 12 },
  { family: 'roberta', label: 'stochgrasp K=8', config: { peft_type: 'STOCHGRASP' }, adapter: L * 6 * 4 * 8, head: ROBERTA_HEAD, trainedBase: 0, layers: 12 },
  {
    family: 'roberta', label: 'stochgrasp K=8 without sampled shifts', config: { peft_type: 'STOCHGRASP', sample_shift: false },
    adapter: L * 6 * 3 * 8, head: ROBERTA_HEAD, trainedBase: 0, layers: 12,
  },
  { family: 'gpt2', label: 'full', config: { peft_type: 'FULL' }, adapter: 0, head: 0, trainedBase: GPT2_ALL, layers: 0 },
  { family: 'gpt2', label: 'bitfit', config: { peft_type: 'BITFIT' }, adapter: 0, head: 0, trainedBase: GPT2_BIASES, layers: 0 },
  // c_attn: C -> 3C.
  { family: 'gpt2', label: 'lora r=8 (c_attn)', config: { peft_type: 'LORA' }, adapter: L * 8 * (H + 3 * H), head: 0, trainedBase: 0, layers: 2 },
  // c_attn scales its output (3C), mlp.c_proj its input (4C).
  { family: 'gpt2', label: 'ia3', config: { peft_type: 'IA3' }, adapter: L * (3 * H + 4 * H), head: 0, trainedBase: 0, layers: 4 },
  // 4 layers per block: c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj.
  { family: 'gpt2', label: 'grasp K=8', config: { peft_type: 'GRASP' }, adapter: L * 4 * 2 * 8, head: 0, trainedBase: 0, layers: 8 },
  { family: 'gpt2', label: 'stochgrasp K=5', config: { peft_type: 'STOCHGRASP', num_groups: 5 }, adapter: L * 4 * 4 * 5, head: 0, trainedBase: 0, layers: 8 },
];

describe('parameter counts', () => {
  it('the base models have the sizes the formulas say', () => {
    expect(makeModel('roberta').numParameters()).toBe(ROBERTA_ALL);
    expect(makeModel('gpt2').numParameters()).toBe(GPT2_ALL);
  });

  for (const c of CASES) {
    it(`${c.family} ${c.label}`, () => {
      const model = makeModel(c.family);
      const base = model.numParameters();
      const adapted = applyAdapter(model, c.config);
      const counts = adapted.parameterCounts();
      expect(counts).toEqual({
        base, adapter: c.adapter, head: c.head, trainedBase: c.trainedBase,
        trainable: c.adapter + c.head + c.trainedBase, total: base + c.adapter,
      });
      expect(adapted.layers.length).toBe(c.layers);
      // The accounting agrees with the tensors handed to the optimizer and with the base's requiresGrad flags.
      expect(adapted.trainableParameters().reduce((n, t) => n + t.size, 0)).toBe(counts.trainable);
      expect(model.numParameters({ trainableOnly: true })).toBe(c.head + c.trainedBase);
      for (const t of adapted.trainableParameters()) expect(t.requiresGrad).toBe(true);
      const table = adapted.parameterTable();
      expect(table).toMatch(new RegExp(`^trainable\\s+${counts.trainable}\\s`, 'm'));
      expect(table).toMatch(new RegExp(`^total\\s+${counts.total}\\s+100%`, 'm'));
      if (c.config.peft_type === 'LORA') expect(loraParameterCount(model, adapted.config as LoraConfig)).toBe(c.adapter);
      adapted.remove();
      expect(model.numParameters({ trainableOnly: true })).toBe(base);
    });
  }

  it('BitFit trains exactly the parameters named *.bias outside the head, plus the head', () => {
    const model = makeModel('roberta');
    const adapted = applyAdapter(model, { peft_type: 'BITFIT' });
    const keys = adapted.namedTrainable().map(([k]) => k.replace(/^base_model\.model\./, ''));
    const biases = model.namedParameters().map(([n]) => n).filter((n) => n.endsWith('.bias') && !n.startsWith('classifier.'));
    const head = model.namedParameters().map(([n]) => n).filter((n) => n.startsWith('classifier.'));
    expect(keys).toEqual([...biases, ...head]);
  });
});
