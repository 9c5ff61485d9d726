/**
 * Adapter files in Hugging Face PEFT's format: adapter_model.safetensors keys
 * `base_model.model.<module>.lora_A.weight` [r, in] / `lora_B.weight` [out, r] (embeddings:
 * `lora_embedding_A` [r, num] / `lora_embedding_B` [dim, r]) whatever the layer's own weight layout,
 * the head under its own names, and an adapter_config.json with PEFT's fields. Configs as PEFT writes
 * them load; features we do not implement are refused; mismatches name the key and both shapes.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { adapterConfigJson, adapterWeights, applyAdapter, loadAdapter, parseAdapterConfig, type AdaptedModel } from '../src/adapters/index.js';
import { expectBitwiseEqual, logits, makeModel, randomizeTrainable, type Family } from './adapters-models.js';

/** Key -> shape of an adapter file. */
function fileShapes(bytes: Uint8Array): Map<string, number[]> {
  const parsed = W.parseSafetensors(bytes);
  for (const [k, e] of parsed.tensors) expect(e.dtype, k).toBe('F32');
  return new Map([...parsed.tensors].map(([k, e]) => [k, e.shape]));
}

/** The adapter file with every key passed through `rename` (to write files as PEFT names them). */
function renameKeys(bytes: Uint8Array, rename: (k: string) => string): Uint8Array {
  const parsed = W.parseSafetensors(bytes);
  return W.serializeSafetensors([...parsed.tensors].map(([k, e]) => [rename(k), { shape: e.shape, data: Float32Array.from(e.data) }] as const));
}

/** A file written by hand from the adapter's tensors, keys = `base_model.model.` + `prefix` + the module path in our model. */
function handWrittenFile(adapted: AdaptedModel, prefix: string): Uint8Array {
  return W.serializeSafetensors([...adapted.stateDict()].map(([k, t]) => [
    k.replace(/^base_model\.model\./, `base_model.model.${prefix}`), { shape: [...t.shape], data: Float32Array.from(t.toArray()) },
  ] as const));
}

const P = 'base_model.model.';
const ROBERTA_HEAD: [string, number[]][] = [
  [`${P}classifier.dense.weight`, [16, 16]], [`${P}classifier.dense.bias`, [16]],
  [`${P}classifier.out_proj.weight`, [2, 16]], [`${P}classifier.out_proj.bias`, [2]],
];

/** adapter_config.json of a LoRA adapter on RoBERTa as PEFT (0.13 - 0.17) writes it, informational fields included. */
function peftLoraConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    alpha_pattern: {}, auto_mapping: null, base_model_name_or_path: 'FacebookAI/roberta-base', bias: 'none', corda_config: null,
    eva_config: null, exclude_modules: null, fan_in_fan_out: false, inference_mode: true, init_lora_weights: true,
    layer_replication: null, layers_pattern: null, layers_to_transform: null, loftq_config: {}, lora_alpha: 16, lora_bias: false,
    lora_dropout: 0.1, megatron_config: null, megatron_core: 'megatron.core', modules_to_save: ['classifier', 'score'],
    peft_type: 'LORA', peft_version: '0.17.1', r: 4, rank_pattern: {}, revision: null, runtime_config: { ephemeral_gpu_offload: false },
    target_modules: ['value', 'query'], target_parameters: null, task_type: 'SEQ_CLS', trainable_token_indices: null,
    use_dora: false, use_rslora: false, ...overrides,
  };
}

describe('LoRA adapter files use PEFT names and shapes', () => {
  it('RoBERTa (Linear): lora_A [r, in], lora_B [out, r] on query and value, and the classifier head', () => {
    const adapted = applyAdapter(makeModel('roberta'), { peft_type: 'LORA', r: 4 });
    const want = new Map<string, number[]>(ROBERTA_HEAD);
    for (const i of [0, 1]) {
      for (const m of ['query', 'value']) {
        want.set(`${P}roberta.encoder.layer.${i}.attention.self.${m}.lora_A.weight`, [4, 16]);
        want.set(`${P}roberta.encoder.layer.${i}.attention.self.${m}.lora_B.weight`, [16, 4]);
      }
    }
    expect(fileShapes(adapterWeights(adapted))).toEqual(want);
  });

  it('GPT-2 (Conv1D, weights stored [in, out]): still lora_A [r, in] and lora_B [out, r], fan_in_fan_out true', () => {
    const adapted = applyAdapter(makeModel('gpt2'), { peft_type: 'LORA', r: 4 });
    const shapes = fileShapes(adapterWeights(adapted));
    expect([...shapes.values()]).toEqual([[4, 16], [48, 4], [4, 16], [48, 4]]);
    expect([...shapes.keys()].every((k) => /\.h\.[01]\.attn\.c_attn\.lora_[AB]\.weight$/.test(k))).toBe(true);
    expect(JSON.parse(adapterConfigJson(adapted))).toMatchObject({ fan_in_fan_out: true, task_type: 'CAUSAL_LM', target_modules: ['c_attn'] });
  });

  it('an Embedding target: lora_embedding_A [r, num], lora_embedding_B [dim, r]; round trip is exact', () => {
    const model = makeModel('roberta');
    const adapted = applyAdapter(model, { peft_type: 'LORA', r: 3, target_modules: ['word_embeddings', 'query'] });
    randomizeTrainable(adapted);
    const weights = adapterWeights(adapted);
    const shapes = fileShapes(weights);
    expect(shapes.get(`${P}roberta.embeddings.word_embeddings.lora_embedding_A`)).toEqual([3, 24]);
    expect(shapes.get(`${P}roberta.embeddings.word_embeddings.lora_embedding_B`)).toEqual([16, 3]);
    expect(shapes.get(`${P}roberta.encoder.layer.0.attention.self.query.lora_A.weight`)).toEqual([3, 16]);
    const fresh = makeModel('roberta');
    loadAdapter(fresh, adapterConfigJson(adapted), weights);
    expectBitwiseEqual(logits(fresh), logits(model), 'reloaded embedding LoRA');
  });

  it('GPT-2 with Conv1D and Embedding targets in one adapter saves and loads', () => {
    const model = makeModel('gpt2');
    const adapted = applyAdapter(model, { peft_type: 'LORA', r: 2, target_modules: ['c_attn', 'wpe'] });
    randomizeTrainable(adapted);
    const fresh = makeModel('gpt2');
    loadAdapter(fresh, adapterConfigJson(adapted), adapterWeights(adapted));
    expectBitwiseEqual(logits(fresh), logits(model), 'reloaded');
  });

  it('adapter_config.json carries PEFT\'s LoRA fields and nothing PEFT lacks', () => {
    const adapted = applyAdapter(makeModel('roberta'), { peft_type: 'LORA', r: 4, lora_alpha: 8, seed: 3 });
    const c = JSON.parse(adapterConfigJson(adapted));
    expect(c).toEqual({
      peft_type: 'LORA', r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['query', 'value'], use_rslora: false,
      init_lora_weights: true, fan_in_fan_out: false, modules_to_save: ['classifier'], base_model_name_or_path: null,
      bias: 'none', task_type: 'SEQ_CLS', inference_mode: true,
    });
    expect(c).not.toHaveProperty('seed');
  });
});

describe('loading PEFT-written LoRA adapters', () => {
  /** Our adapter with non-trivial values, its logits, and its file bytes. */
  function trained(family: Family, config: Record<string, unknown>) {
    const model = makeModel(family);
    const adapted = applyAdapter(model, config as never);
    randomizeTrainable(adapted);
    return { adapted, logits: logits(model), weights: adapterWeights(adapted) };
  }

  it('a PEFT config with informational fields (task_type, inference_mode, revision, peft_version, ...) loads', () => {
    const src = trained('roberta', { peft_type: 'LORA', r: 4, lora_alpha: 16, lora_dropout: 0.1 });
    const fresh = makeModel('roberta');
    const adapted = loadAdapter(fresh, JSON.stringify(peftLoraConfig()), src.weights);
    expect(adapted.config).toMatchObject({ r: 4, lora_alpha: 16, target_modules: ['query', 'value'], modules_to_save: ['classifier', 'score'] });
    expectBitwiseEqual(logits(fresh), src.logits, 'PEFT config + weights');
  });

  it('a PEFT GPT-2 file, whose module names start with transformer. (PEFT wraps GPT2LMHeadModel), loads', () => {
    const src = trained('gpt2', { peft_type: 'LORA', r: 4, lora_alpha: 16 });
    const peftWeights = handWrittenFile(src.adapted, ''); // our module paths are GPT2LMHeadModel's
    expect([...fileShapes(peftWeights).keys()]).toContain(`${P}transformer.h.0.attn.c_attn.lora_A.weight`);
    const config = peftLoraConfig({ target_modules: ['c_attn'], fan_in_fan_out: true, task_type: 'CAUSAL_LM', modules_to_save: null });
    const fresh = makeModel('gpt2');
    loadAdapter(fresh, config, peftWeights);
    expectBitwiseEqual(logits(fresh), src.logits, 'PEFT GPT-2 adapter');
  });

  it('a GPT-2 file with bare module names (h.N..., as a GPT2Model adapter names them) loads too', () => {
    const src = trained('gpt2', { peft_type: 'LORA', r: 4, lora_alpha: 16 });
    const bare = renameKeys(src.weights, (k) => k.replace(`${P}transformer.`, P));
    expect([...fileShapes(bare).keys()]).toContain(`${P}h.0.attn.c_attn.lora_A.weight`);
    const fresh = makeModel('gpt2');
    loadAdapter(fresh, adapterConfigJson(src.adapted), bare);
    expectBitwiseEqual(logits(fresh), src.logits, 'bare-key GPT-2 adapter');
  });

  it('our GPT-2 file names modules as PEFT does (transformer.h.N...), so PEFT finds its LoRA weights', () => {
    const keys = [...fileShapes(adapterWeights(applyAdapter(makeModel('gpt2'), { peft_type: 'LORA', r: 2 }))).keys()];
    expect(keys).toContain(`${P}transformer.h.0.attn.c_attn.lora_A.weight`);
  });

  it('a PEFT (IA)3 config (init_ia3_weights and the informational fields) loads', () => {
    const config = { peft_type: 'IA3', target_modules: ['key', 'value', 'output.dense'], feedforward_modules: ['output.dense'] };
    const src = trained('roberta', config);
    const peft = {
      ...config, auto_mapping: null, base_model_name_or_path: 'FacebookAI/roberta-base', exclude_modules: null, fan_in_fan_out: false,
      inference_mode: true, init_ia3_weights: true, modules_to_save: ['classifier', 'score'], revision: null, task_type: 'SEQ_CLS',
    };
    const fresh = makeModel('roberta');
    loadAdapter(fresh, JSON.stringify(peft), src.weights);
    expectBitwiseEqual(logits(fresh), src.logits, 'PEFT (IA)3 adapter');
  });

  it('refuses DoRA and trained biases with an error naming the field', () => {
    expect(() => parseAdapterConfig(peftLoraConfig({ use_dora: true }))).toThrow(/use_dora = true is not supported/);
    for (const bias of ['all', 'lora_only']) {
      expect(() => parseAdapterConfig(peftLoraConfig({ bias }))).toThrow(new RegExp(`bias = "${bias}" is not supported`));
    }
    expect(() => parseAdapterConfig(peftLoraConfig({ rank_pattern: { query: 8 } }))).toThrow(/rank_pattern/);
    const model = makeModel('roberta');
    const before = logits(model);
    expect(() => loadAdapter(model, peftLoraConfig({ use_dora: true }), new Uint8Array())).toThrow(/use_dora/);
    expectBitwiseEqual(logits(model), before, 'model after the refused load');
  });

  it('a file whose r differs from the config fails naming the key and both shapes, and leaves the model as it was', () => {
    const src = trained('roberta', { peft_type: 'LORA', r: 8 });
    const model = makeModel('roberta');
    const before = logits(model);
    const load = () => loadAdapter(model, peftLoraConfig({ r: 4 }), src.weights);
    expect(load).toThrow(/roberta\.encoder\.layer\.0\.attention\.self\.query\.lora_A\.weight: file \[8, 16\], adapter \[4, 16\]/);
    expect(load).toThrow(/query\.lora_B\.weight: file \[16, 8\], adapter \[16, 4\]/);
    for (const [name, m] of model.namedModules()) {
      if (m instanceof W.Linear || m instanceof W.Embedding) expect(m.adapters, name).toEqual([]);
    }
    expect(model.numParameters({ trainableOnly: true })).toBe(model.numParameters());
    expectBitwiseEqual(logits(model), before, 'model after the failed load');
  });

  it('missing and unexpected keys are named', () => {
    const src = trained('roberta', { peft_type: 'LORA', r: 4, target_modules: ['query'] });
    expect(() => loadAdapter(makeModel('roberta'), peftLoraConfig(), src.weights)).toThrow(/missing base_model\.model\.roberta\.encoder\.layer\.0\.attention\.self\.value\.lora_A\.weight/);
    const extra = renameKeys(src.weights, (k) => k.replace('classifier.dense.bias', 'classifier.dense.bias_extra'));
    expect(() => loadAdapter(makeModel('roberta'), peftLoraConfig({ target_modules: ['query'] }), extra)).toThrow(/unexpected base_model\.model\.classifier\.dense\.bias_extra/);
  });
});
