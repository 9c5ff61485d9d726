/**
 * Config validation: every error names the method, the field and what to change, and a refused
 * config leaves the model untouched (no hooks, nothing frozen).
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import {
  adapterConfigJson, adapterWeights, applyAdapter, loadAdapter, parseAdapterConfig, presetFor, type AdaptedModel,
} from '../src/adapters/index.js';
import { Module } from '../src/nn/index.js';
import { expectBitwiseEqual, logits, makeModel, randomizeTrainable, type AnyConfig } from './adapters-models.js';

function expectRefused(config: AnyConfig, message: RegExp, family: 'roberta' | 'gpt2' = 'roberta'): void {
  const model = makeModel(family);
  expect(() => applyAdapter(model, config)).toThrow(message);
  for (const [name, m] of model.namedModules()) {
    if (m instanceof W.Linear || m instanceof W.Conv1D || m instanceof W.Embedding) expect(m.adapters, name).toEqual([]);
  }
  expect(model.numParameters({ trainableOnly: true })).toBe(model.numParameters());
}

describe('adapter config validation', () => {
  it('unknown fields are named, with the known ones', () => {
    expectRefused({ peft_type: 'LORA', rank: 8 } as AnyConfig, /LoRA: unknown config field\(s\) rank; known fields: peft_type, r, lora_alpha/);
    expectRefused({ peft_type: 'GRASP', groups: 4 } as AnyConfig, /GRASP: unknown config field\(s\) groups; known fields: .*num_groups/);
    expectRefused({ peft_type: 'STOCHGRASP', sigma: 0.1 } as AnyConfig, /StochGRASP: unknown config field\(s\) sigma; known fields: .*init_sigma/);
    expectRefused({ peft_type: 'IA3', r: 2 } as AnyConfig, /\(IA\)3: unknown config field\(s\) r;/);
    expectRefused({ peft_type: 'BITFIT', lr: 1 } as AnyConfig, /BitFit: unknown config field\(s\) lr;/);
    expectRefused({ peft_type: 'FULL', r: 1 } as AnyConfig, /full fine-tuning: unknown config field\(s\) r;/);
    expectRefused({ peft_type: 'DORA' } as unknown as AnyConfig, /unknown peft_type "DORA"; known: FULL, BITFIT, GPT4TS, LORA, IA3, GRASP, STOCHGRASP/);
    expect(() => presetFor('lorax')).toThrow(/unknown method "lorax"; choose one of full, bitfit, lora, rslora, one-for-all, gpt4ts, ia3, grasp, stochgrasp/);
  });

  it('LoRA numbers: r a positive integer, lora_alpha > 0, lora_dropout in [0, 0.99], init true or "gaussian"', () => {
    expectRefused({ peft_type: 'LORA', r: 0 }, /LoRA: r = 0 must be an integer >= 1/);
    expectRefused({ peft_type: 'LORA', r: 2.5 }, /LoRA: r = 2\.5 must be an integer/);
    expectRefused({ peft_type: 'LORA', lora_alpha: 0 }, /LoRA: lora_alpha = 0 must be a number > 0/);
    expectRefused({ peft_type: 'LORA', lora_dropout: 1 }, /LoRA: lora_dropout = 1 must be a number >= 0 and <= 0\.99/);
    expectRefused({ peft_type: 'LORA', use_rslora: 'yes' } as unknown as AnyConfig, /LoRA: use_rslora must be true or false, got "yes"/);
    expectRefused({ peft_type: 'LORA', init_lora_weights: 'pissa' } as unknown as AnyConfig, /init_lora_weights must be true .* or "gaussian", got "pissa"/);
  });

  it('GRASP: num_groups from 1 to the smallest input size of the targets', () => {
    expectRefused({ peft_type: 'GRASP', num_groups: 0 }, /GRASP: num_groups = 0 must be an integer >= 1/);
    expectRefused({ peft_type: 'GRASP', num_groups: 17 }, /GRASP: num_groups 17 exceeds the 16 input dims of roberta\.encoder\.layer\.0\.attention\.self\.query/);
    expectRefused({ peft_type: 'STOCHGRASP', num_groups: 17 }, /StochGRASP: num_groups 17 exceeds the 16 input dims/);
    expectRefused({ peft_type: 'GRASP', num_groups: 17 }, /num_groups 17 exceeds the 16 input dims of transformer\.h\.0\.attn\.c_attn/, 'gpt2');
    // The FFN output layers read the 32-wide intermediate activation, so up to 32 groups fit there.
    const adapted = applyAdapter(makeModel('roberta'), { peft_type: 'GRASP', num_groups: 32, target_modules: '.*layer\\.\\d+\\.output\\.dense' });
    expect(adapted.modulatedLayerNames()).toEqual(['roberta.encoder.layer.0.output.dense', 'roberta.encoder.layer.1.output.dense']);
  });

  it('GRASP and StochGRASP numbers: min_scale in (0, 1], sigmas > 0, kl_weight >= 0, sample_shift boolean', () => {
    expectRefused({ peft_type: 'GRASP', min_scale: 0 }, /GRASP: min_scale = 0 must be a number > 0 and <= 1/);
    expectRefused({ peft_type: 'GRASP', min_scale: 1.5 }, /min_scale = 1\.5/);
    expectRefused({ peft_type: 'STOCHGRASP', init_sigma: 0 }, /StochGRASP: init_sigma = 0 must be a number > 0/);
    expectRefused({ peft_type: 'STOCHGRASP', target_sigma: -0.1 }, /StochGRASP: target_sigma = -0\.1/);
    expectRefused({ peft_type: 'STOCHGRASP', kl_weight: -1 }, /StochGRASP: kl_weight = -1 must be a number >= 0/);
    expectRefused({ peft_type: 'STOCHGRASP', sample_shift: 1 } as unknown as AnyConfig, /sample_shift must be true or false, got 1/);
  });

  it('target_modules that match nothing list the adaptable layers', () => {
    expectRefused({ peft_type: 'LORA', target_modules: ['nope'] },
      /LoRA: target_modules \["nope"\] match no layer of this model; adaptable layers are: roberta\.embeddings\.word_embeddings, roberta\.embeddings\.position_embeddings, .* \(\d+ in all\)/);
    expectRefused({ peft_type: 'GRASP', target_modules: 'h\\.9\\..*' }, /GRASP: target_modules "h\\\\.9\\\\..*" match no layer of this model; adaptable layers are: transformer\.wte, transformer\.wpe, transformer\.h\.0\.attn\.c_attn/, 'gpt2');
    expectRefused({ peft_type: 'IA3', target_modules: [] }, /\(IA\)3: target_modules must be a non-empty list of layer names or a regex string, got \[\]/);
    expectRefused({ peft_type: 'LORA', target_modules: '(' }, /LoRA: target_modules "\(" is not a valid regex/);
  });

  it('a target that is not a Linear, Conv1D or Embedding is named with a hint', () => {
    expectRefused({ peft_type: 'LORA', target_modules: ['attention'] }, /matched roberta\.encoder\.layer\.0\.attention, a \w+; only Linear, Conv1D and Embedding layers can be adapted/);
  });

  it('GRASP, StochGRASP and (IA)3 refuse Embedding targets', () => {
    expectRefused({ peft_type: 'GRASP', target_modules: ['word_embeddings'] }, /GRASP: target roberta\.embeddings\.word_embeddings is an Embedding; GRASP modulates Linear\/Conv1D inputs/);
    expectRefused({ peft_type: 'STOCHGRASP', target_modules: ['query', 'wpe'] }, /StochGRASP: target transformer\.wpe is an Embedding/, 'gpt2');
    expectRefused({ peft_type: 'IA3', target_modules: ['word_embeddings'], feedforward_modules: ['output.dense'] }, /\(IA\)3: target roberta\.embeddings\.word_embeddings is an Embedding/);
  });

  it('models of unknown families need explicit targets', () => {
    class Custom extends Module {
      readonly proj = new W.Linear(4, 4);
    }
    expect(() => applyAdapter(new Custom(), { peft_type: 'LORA' })).toThrow(/LoRA: no default target_modules for this model; pass target_modules/);
    expect(applyAdapter(new Custom(), { peft_type: 'LORA', target_modules: ['proj'] }).modulatedLayerNames()).toEqual(['proj']);
  });

  it('modules_to_save must be a list of names', () => {
    expectRefused({ peft_type: 'LORA', modules_to_save: 'classifier' } as unknown as AnyConfig, /LoRA: modules_to_save must be a list of module names/);
  });
});

describe('adapter lifecycle errors', () => {
  it('a removed adapter refuses further use', () => {
    const adapted: AdaptedModel = applyAdapter(makeModel('roberta'), { peft_type: 'LORA' });
    adapted.remove();
    expect(() => adapted.trainableParameters()).toThrow(/the adapter was removed; apply a new one/);
    expect(() => adapted.merge()).toThrow(/removed/);
  });

  it('loading into a merged adapter is refused', () => {
    const adapted = applyAdapter(makeModel('roberta'), { peft_type: 'LORA' });
    adapted.merge();
    expect(() => adapted.loadStateDict(adapted.stateDict())).toThrow(/unmerge\(\) first/);
  });

  it("a GRASP file carries its group maps: loaded under another group_seed it still reproduces the saved adapter's outputs", () => {
    const saved = makeModel('roberta');
    const adapted = applyAdapter(saved, { peft_type: 'GRASP', num_groups: 4, group_seed: 1 });
    randomizeTrainable(adapted);
    saved.eval();
    const want = logits(saved);
    const config = { ...JSON.parse(adapterConfigJson(adapted)), group_seed: 2 };
    const fresh = makeModel('roberta');
    const reloaded = loadAdapter(fresh, config, adapterWeights(adapted));
    fresh.eval();
    expectBitwiseEqual(logits(fresh), want, 'reloaded under group_seed 2');
    const key = 'base_model.model.roberta.encoder.layer.0.attention.self.query.grasp_group_map';
    expect(Array.from(reloaded.stateDict().get(key)!.toArray())).toEqual(Array.from(adapted.stateDict().get(key)!.toArray()));
  });

  it('a group map naming a group outside [0, K) is refused before anything is written', () => {
    const adapted = applyAdapter(makeModel('roberta'), { peft_type: 'GRASP', num_groups: 4 });
    const state = new Map([...adapted.stateDict()].map(([k, t]) => [k, { shape: [...t.shape], data: Array.from(t.toArray()) }]));
    const key = 'base_model.model.roberta.encoder.layer.0.attention.self.query.grasp_group_map';
    state.get(key)!.data[3] = 4;
    const before = Array.from(adapted.stateDict().get(key)!.toArray());
    expect(() => adapted.loadStateDict(state))
      .toThrow(/roberta\.encoder\.layer\.0\.attention\.self\.query\.grasp_group_map: entry 3 = 4 is not a group in \[0, 4\); the file does not match num_groups = 4/);
    expect(Array.from(adapted.stateDict().get(key)!.toArray())).toEqual(before);
  });

  it('adapter_config.json must be a JSON object with a peft_type', () => {
    expect(() => parseAdapterConfig('{r: 8')).toThrow(/adapter_config\.json: invalid JSON/);
    expect(() => parseAdapterConfig('[1]')).toThrow(/adapter_config\.json: must be a JSON object/);
    expect(() => parseAdapterConfig('{"r": 8}')).toThrow(/adapter_config\.json: no "peft_type"; is this an adapter config\?/);
    expect(() => parseAdapterConfig('{"peft_type": "PREFIX_TUNING"}')).toThrow(/unknown peft_type "PREFIX_TUNING"/);
  });
});
