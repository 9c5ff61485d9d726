/**
 * The family table and what reads it: building each architecture, recognising a model's family,
 * architecture and task, refusing family x task pairs it does not allow, default adapter targets,
 * loading the shipped tiny GPT-2 (bare GPT2Model keys) under GPT2LMHeadModel names, and the
 * trainable-set selector hook a layer-wise method (LISA, GRASS) plugs into.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { applyAdapter } from '../src/adapters/model.js';
import {
  architectureFor, architectureOf, buildModel, chooseArchitecture, FAMILIES, FAMILY_NAMES, familiesBuiltOn, familyForModelType, familyOf, taskOf, tasksOf,
  type Family,
} from '../src/models/families.js';
import { fromPretrained } from '../src/node/pretrained.js';
import { GPT2_CONFIG, ROBERTA_CONFIG } from './adapters-models.js';

const TINY = { gpt2: GPT2_CONFIG, roberta: ROBERTA_CONFIG, gpt4ts: { input_length: 24, horizon: 8, gpt_layers: 2, gpt2: GPT2_CONFIG } };
/** An input each family reads: token ids, or a float window (B, L, M) for series. */
const INPUT: { [F in Family]: () => W.Tensor } = {
  gpt2: () => W.tensor([[0, 5, 6, 2]], undefined, { dtype: 'int32' }),
  roberta: () => W.tensor([[0, 5, 6, 2]], undefined, { dtype: 'int32' }),
  gpt4ts: () => W.tensor(Array.from({ length: 24 }, (_, t) => Math.sin(t)), [1, 24, 1]),
};

describe('the family table', () => {
  it('builds every architecture; the model tells its family, architecture and task', () => {
    for (const family of FAMILY_NAMES) {
      for (const [arch, spec] of Object.entries(FAMILIES[family].architectures)) {
        const m = buildModel(family, arch, TINY[family]);
        expect(familyOf(m)).toBe(family);
        expect(architectureOf(m)).toBe(arch);
        expect(taskOf(m)).toBe(spec.task);
        const out = W.tidy(() => m.forward(INPUT[family]()).logits.shape);
        expect(out[0]).toBe(1); // every head returns { logits }
        m.dispose();
      }
    }
    expect(familyOf(new W.Linear(2, 2))).toBeNull();
  });

  it('serves: gpt2 causal LM, roberta classification and masked LM; refuses the rest naming what is allowed', () => {
    expect(tasksOf('gpt2')).toEqual(['causal-lm']);
    expect(tasksOf('roberta').sort()).toEqual(['masked-lm', 'sequence-classification']);
    expect(architectureFor('roberta', 'sequence-classification')).toBe('RobertaForSequenceClassification');
    expect(() => architectureFor('gpt2', 'sequence-classification')).toThrow(/a gpt2 model cannot be fine-tuned for sequence-classification; gpt2 serves: causal-lm/);
    expect(() => chooseArchitecture('gpt2', [], 'RobertaForMaskedLM')).toThrow(/cannot load as RobertaForMaskedLM; gpt2 architectures: GPT2LMHeadModel/);
    expect(chooseArchitecture('roberta', ['RobertaForSequenceClassification'])).toBe('RobertaForSequenceClassification');
    expect(chooseArchitecture('roberta', ['SomethingElse'])).toBe('RobertaForMaskedLM');
    expect(familyForModelType('roberta')).toBe('roberta');
    expect(() => familyForModelType('llama')).toThrow(/model_type "llama" in config.json is not supported \(supported: "gpt2", "roberta", "gpt4ts"\)/);
    expect(tasksOf('gpt4ts')).toEqual(['forecast', 'series-classification']);
    expect(familiesBuiltOn('gpt2', 'forecast')).toEqual(['gpt4ts']);
    expect(familiesBuiltOn('gpt2', 'series-classification')).toEqual(['gpt4ts']);
    expect(architectureFor('gpt4ts', 'series-classification')).toBe('GPT4TSForClassification');
    expect(familiesBuiltOn('roberta', 'forecast')).toEqual([]);
  });

  it('default adapter targets come from the table', () => {
    for (const family of FAMILY_NAMES) {
      const m = buildModel(family, FAMILIES[family].defaultArchitecture, TINY[family]);
      const lora = applyAdapter(m, { peft_type: 'LORA' });
      expect(lora.config).toMatchObject({ target_modules: FAMILIES[family].targets.lora });
      lora.remove();
      m.dispose();
    }
  });

  it('the shipped tiny GPT-2 (bare h.N keys) loads under GPT2LMHeadModel names', async () => {
    const m = await fromPretrained<W.GPT2LMHeadModel>('examples/checkpoints/tiny-gpt2');
    const names = m.namedParameters().map(([n]) => n);
    expect(names.every((n) => n.startsWith('transformer.'))).toBe(true);
    expect(names).toContain('transformer.h.1.attn.c_attn.weight');
    expect(FAMILIES.gpt2.tiedWeights(m)).toEqual([m.transformer.wte.weight]);
    m.dispose();
  });
});

describe('trainable-set selectors', () => {
  it('selectForStep trains what the selector picks; the rest gets no gradient and keeps its value', () => {
    const m = buildModel('roberta', 'RobertaForSequenceClassification', ROBERTA_CONFIG);
    const adapted = applyAdapter(m, { peft_type: 'BITFIT' });
    const named = adapted.namedTrainable();
    const [first, second] = [named[0][0], named[1][0]];
    // A selector that alternates between two tensors, as a layer-wise method would between layers.
    Object.defineProperty(adapted, 'selector', { value: { activeAt: (step: number) => new Set([step % 2 === 0 ? first : second]) } });
    const opt = new W.AdamW(adapted.trainableParameters(), { lr: 0.1 });
    expect(adapted.selectForStep(0)).toBe(1);
    const before = new Map(named.map(([k, t]) => [k, Array.from(t.toArray())]));
    W.tidy(() => {
      const ids = W.tensor([[0, 5, 6, 2]], undefined, { dtype: 'int32' });
      W.crossEntropy(m.forward(ids).logits, W.tensor([1], undefined, { dtype: 'int32' })).backward();
      opt.step();
      opt.zeroGrad();
    });
    for (const [k, t] of named) {
      const same = Array.from(t.toArray()).every((v, i) => v === before.get(k)![i]);
      expect(same, k).toBe(k !== first);
    }
    expect(adapted.selectForStep(1)).toBe(1);
    expect(named.find(([k]) => k === second)![1].requiresGrad).toBe(true);
    expect(named.find(([k]) => k === first)![1].requiresGrad).toBe(false);
    expect(adapted.selectForStep(null)).toBe(named.length); // after training: everything trainable again
    opt.dispose();
    adapted.remove();
    m.dispose();
  });
});
