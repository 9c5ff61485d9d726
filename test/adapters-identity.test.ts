/**
 * Every method starts as the identity: attaching it to a model leaves the model's outputs bit for bit
 * what they were (LoRA adds B A x with B = 0, (IA)3 multiplies by 1, GRASP computes (x - 0) / 1, and
 * StochGRASP in eval mode uses its means, which start at GRASP's values), and leaves every base
 * weight untouched. Checked on a tiny RoBERTa classifier (Linear layers) and a tiny GPT-2 (Conv1D
 * layers), on the WASM backend and the float32 reference backend. Also: LoRA's two initialisations
 * of A have the documented distributions.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { applyAdapter } from '../src/adapters/index.js';
import { Module } from '../src/nn/index.js';
import { wasmBackends } from './helpers.js';
import { expectBitwiseEqual, logits, makeModel, methodsFor, snapshot, type Family } from './adapters-models.js';

const BACKENDS: [string, () => W.Backend][] = [
  ['wasm', () => wasmBackends()[0]],
  ['reference', () => createReferenceBackend()],
];

describe('adapters start as the identity', () => {
  for (const [backendName, backend] of BACKENDS) {
    for (const family of ['roberta', 'gpt2'] as Family[]) {
      for (const { label, config } of methodsFor(family)) {
        it(`${label} on ${family} (${backendName}): logits and base weights bit-identical after attaching`, () => {
          W.withBackend(backend(), () => {
            const model = makeModel(family);
            const before = logits(model);
            const weights = snapshot(model);
            const adapted = applyAdapter(model, config);
            if (!['FULL', 'BITFIT'].includes(config.peft_type)) expect(adapted.layers.length).toBeGreaterThan(0);
            expectBitwiseEqual(logits(model), before, `${label} logits`);
            for (const [name, p] of model.namedParameters()) expectBitwiseEqual(p.toArray(), weights.get(name)!, name);
            adapted.remove();
            expectBitwiseEqual(logits(model), before, `${label} logits after remove()`);
            model.dispose();
          });
        });
      }
    }
  }

  it('GPT-2: LoRA attaches to the Conv1D c_attn layers and GRASP to c_attn, attn.c_proj, mlp.c_fc and mlp.c_proj', () => {
    const model = makeModel('gpt2');
    const lora = applyAdapter(model, { peft_type: 'LORA' });
    expect(lora.modulatedLayerNames()).toEqual(['transformer.h.0.attn.c_attn', 'transformer.h.1.attn.c_attn']);
    expect(lora.config).toMatchObject({ fan_in_fan_out: true });
    lora.remove();
    const grasp = applyAdapter(model, { peft_type: 'GRASP' });
    expect(grasp.modulatedLayerNames()).toEqual(
      [0, 1].flatMap((i) => [`transformer.h.${i}.attn.c_attn`, `transformer.h.${i}.attn.c_proj`, `transformer.h.${i}.mlp.c_fc`, `transformer.h.${i}.mlp.c_proj`]),
    );
    for (const l of grasp.layers) expect(l.layer).toBeInstanceOf(W.Conv1D);
    grasp.remove();
    model.dispose();
  });
});

/** A single Linear(256 -> 64) so that A [r, 256] has enough entries for distribution checks. */
class Wide extends Module {
  readonly proj = new W.Linear(256, 64, { generator: new W.Generator(3) });
}

function stats(xs: ArrayLike<number>): { mean: number; std: number; maxAbs: number } {
  const a = Array.from(xs);
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  const std = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / (a.length - 1));
  return { mean, std, maxAbs: Math.max(...a.map(Math.abs)) };
}

describe('LoRA initialisation', () => {
  // r = 8: A has 2048 entries; the sample std's relative standard error is 1/sqrt(2 * 2048) = 1.6%, so
  // 5% is three standard errors.
  it('init_lora_weights true: A Kaiming-uniform in +-1/sqrt(in) (std bound/sqrt(3)), B = 0', () => {
    const adapted = applyAdapter(new Wide(), { peft_type: 'LORA', target_modules: ['proj'], r: 8 });
    const [[, A], [, B]] = adapted.layers[0].params;
    const s = stats(A.toArray());
    const bound = 1 / Math.sqrt(256);
    expect(s.maxAbs).toBeLessThanOrEqual(bound);
    expect(s.maxAbs).toBeGreaterThan(0.95 * bound);
    expect(Math.abs(s.std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.05);
    expect(Array.from(B.toArray()).every((v) => v === 0)).toBe(true);
  });

  it('init_lora_weights "gaussian": A ~ N(0, 1/r^2), B = 0', () => {
    const adapted = applyAdapter(new Wide(), { peft_type: 'LORA', target_modules: ['proj'], r: 8, init_lora_weights: 'gaussian' });
    const [[, A], [, B]] = adapted.layers[0].params;
    const s = stats(A.toArray());
    expect(Math.abs(s.std / (1 / 8) - 1)).toBeLessThan(0.05);
    expect(Math.abs(s.mean)).toBeLessThan((3 * (1 / 8)) / Math.sqrt(2048));
    expect(Array.from(B.toArray()).every((v) => v === 0)).toBe(true);
  });

  it('the same seed gives the same A; another seed another', () => {
    const a = (seed: number) => applyAdapter(new Wide(), { peft_type: 'LORA', target_modules: ['proj'], seed }).layers[0].params[0][1].toArray();
    expectBitwiseEqual(a(5), a(5), 'A with seed 5');
    expect(Array.from(a(5))).not.toEqual(Array.from(a(6)));
  });

  it('embedding targets start with A = 0 and a random B (PEFT)', () => {
    const model = makeModel('roberta');
    const adapted = applyAdapter(model, { peft_type: 'LORA', target_modules: ['word_embeddings'], r: 4 });
    const [[nameA, A], [nameB, B]] = adapted.layers[0].params;
    expect([nameA, nameB]).toEqual(['lora_embedding_A', 'lora_embedding_B']);
    expect(Array.from(A.toArray()).every((v) => v === 0)).toBe(true);
    expect(stats(B.toArray()).std).toBeGreaterThan(0.5);
    model.dispose();
  });
});
