/**
 * Training through adapters: AdamW over adapted.trainableParameters() leaves every frozen base weight
 * bit-identical (BitFit: only biases and the head move), each method learns a small synthetic task
 * (label = does token 7 occur), and a training step frees all its temporaries.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { applyAdapter, biasNames, type AdaptedModel } from '../src/adapters/index.js';
import { RobertaForSequenceClassification } from '../src/models/roberta/index.js';
import { trainSteps, wasmBackends } from './helpers.js';
import { loss, makeModel, METHODS, snapshot, uniform, type AnyConfig, type Family, type TinyModel } from './adapters-models.js';

/** The task loss plus the method's regularizer (StochGRASP's KL term). */
function objective(model: TinyModel, adapted: AdaptedModel, task: () => W.Tensor = () => loss(model)): W.Tensor {
  const l = task();
  const reg = adapted.regularizer();
  return reg ? W.add(l, reg) : l;
}

function step(opt: W.AdamW, f: () => W.Tensor): number {
  return W.tidy(() => {
    const l = f();
    l.backward();
    opt.step();
    opt.zeroGrad();
    return l.item();
  });
}

function changed(before: Map<string, ArrayLike<number>>, model: TinyModel): string[] {
  return model.namedParameters().filter(([n, p]) => {
    const a = before.get(n)!;
    const b = p.toArray();
    return Array.from(b).some((v, i) => !Object.is(v, a[i]));
  }).map(([n]) => n);
}

const ADAPTER_METHODS = METHODS.filter(({ config }) => ['LORA', 'IA3', 'GRASP', 'STOCHGRASP'].includes(config.peft_type));

describe('training leaves the frozen base weights bit-identical', () => {
  const runs: [Family, string, () => W.Backend][] = [
    ['roberta', 'wasm', () => wasmBackends()[0]],
    ['roberta', 'reference', () => createReferenceBackend()],
    ['gpt2', 'wasm', () => wasmBackends()[0]],
  ];
  for (const [family, backendName, backend] of runs) {
    for (const { label, config } of ADAPTER_METHODS) {
      it(`${label} on ${family} (${backendName}): 4 AdamW steps move the adapter and head only`, () => {
        W.withBackend(backend(), () => {
          const model = makeModel(family).train();
          const adapted = applyAdapter(model, config);
          const before = snapshot(model);
          const adapterBefore = adapted.layers.flatMap((l) => l.params.map(([k, t]) => [`${l.name}.${k}`, t.toArray().slice()] as const));
          const opt = new W.AdamW(adapted.trainableParameters(), { lr: 1e-2 });
          for (let i = 0; i < 4; i++) step(opt, () => objective(model, adapted));
          const head = model.namedParameters().map(([n]) => n).filter((n) => n.startsWith('classifier.'));
          expect(changed(before, model)).toEqual(head);
          adapted.layers.flatMap((l) => l.params).forEach(([, t], i) => {
            const [name, old] = adapterBefore[i];
            expect(Array.from(t.toArray()), `${name} moved`).not.toEqual(Array.from(old));
          });
          opt.dispose();
          model.dispose();
        });
      });
    }
  }

  it('BitFit moves biases and the head only (and every head tensor)', () => {
    const model = makeModel('roberta').train();
    const adapted = applyAdapter(model, { peft_type: 'BITFIT' });
    const before = snapshot(model);
    const opt = new W.AdamW(adapted.trainableParameters(), { lr: 1e-2 });
    for (let i = 0; i < 4; i++) step(opt, () => objective(model, adapted));
    const moved = changed(before, model);
    const head = model.namedParameters().map(([n]) => n).filter((n) => n.startsWith('classifier.'));
    const biases = new Set(biasNames(model));
    for (const n of moved) expect(biases.has(n) || head.includes(n), `${n} moved`).toBe(true);
    for (const n of head) expect(moved).toContain(n);
    // Biases that get a gradient move (the key bias does not: softmax ignores a shift shared by all keys).
    for (const n of ['roberta.encoder.layer.0.attention.self.query.bias', 'roberta.encoder.layer.1.intermediate.dense.bias', 'roberta.embeddings.LayerNorm.bias']) {
      expect(moved).toContain(n);
    }
  });
});

/**
 * 32 sequences <s> t1..t6 </s> over tokens 3..23; half contain token 7 somewhere, half do not.
 * Label 1 = token 7 occurs.
 */
function containsSevenTask(): { ids: W.Tensor; labels: W.Tensor } {
  const u = uniform(123);
  const ids: number[] = [];
  const labels: number[] = [];
  for (let n = 0; n < 32; n++) {
    const seq = Array.from({ length: 6 }, () => {
      let t = 7;
      while (t === 7) t = 3 + Math.floor(u() * 21);
      return t;
    });
    const positive = n % 2 === 0;
    if (positive) seq[Math.floor(u() * 6)] = 7;
    ids.push(0, ...seq, 2);
    labels.push(positive ? 1 : 0);
  }
  return {
    ids: W.keep(W.tensor(Int32Array.from(ids), [32, 8], { dtype: 'int32' })),
    labels: W.keep(W.tensor(Int32Array.from(labels), [32], { dtype: 'int32' })),
  };
}

/**
 * Learning rates: 1e-2 for the methods with few, O(1) parameters (biases, scales, shifts), 1e-3 for full
 * fine-tuning. LoRA gets 5e-3: its update B A starts from B = 0, so at 1e-3 forty steps move this tiny
 * model only ~10% (0.73 -> 0.65), while 5e-3 learns the task.
 */
const LR: Record<AnyConfig['peft_type'], number> = { FULL: 1e-3, LORA: 5e-3, BITFIT: 1e-2, GPT4TS: 1e-2, IA3: 1e-2, GRASP: 1e-2, STOCHGRASP: 1e-2, LISA: 1e-3, GRASS: 1e-3 };

describe('each method learns a small task', () => {
  for (const { label, config } of METHODS) {
    it(`${label}: 40 AdamW steps at least halve the eval loss`, () => {
      const { ids, labels } = containsSevenTask();
      const model = makeModel('roberta') as RobertaForSequenceClassification;
      const adapted = applyAdapter(model, config);
      const task = () => model.loss(ids, labels);
      const evalLoss = () => {
        model.eval();
        const l = W.tidy(() => W.noGrad(() => task().item()));
        model.train();
        return l;
      };
      const initial = evalLoss();
      const opt = new W.AdamW(adapted.trainableParameters(), { lr: LR[config.peft_type] });
      for (let i = 0; i < 40; i++) step(opt, () => objective(model, adapted, task));
      const final = evalLoss();
      expect(final, `eval loss ${initial} -> ${final}`).toBeLessThan(0.5 * initial);
      opt.dispose();
      model.dispose();
      W.dispose([ids, labels]);
    });
  }
});

describe('training steps free their temporaries', () => {
  for (const { label, config } of METHODS) {
    it(`${label}: live bytes flat from step 3 to step 13`, () => {
      const backend = W.getBackend();
      const model = makeModel('roberta').train();
      const adapted = applyAdapter(model, config);
      const opt = new W.AdamW(adapted.trainableParameters(), { lr: 1e-3 });
      const r = trainSteps(backend, opt, () => objective(model, adapted), 3, 10);
      expect(r.after).toBe(r.warm);
      opt.dispose();
      model.dispose();
    });
  }
});
