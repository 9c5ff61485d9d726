/**
 * The fine-tuning loop (src/train/finetune.ts) on a tiny RoBERTa classifier and a synthetic task
 * (label = does token 7 occur): each method lowers the training loss and reports sane numbers, the
 * JSONL records come in order, a run stopped at a checkpoint and resumed ends where an uninterrupted
 * one does, evaluation is an argmax scored by classificationMetrics, config errors name the field,
 * and fine-tuning leaves no tensor behind once the adapter is removed and the model disposed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import type { MethodName } from '../src/adapters/registry.js';
import type { AdapterConfig } from '../src/adapters/types.js';
import type { WasmBackend } from '../src/backend/wasm/index.js';
import { RobertaForSequenceClassification } from '../src/models/roberta/index.js';
import { ClassificationBatches, evaluationBatches, type ClassificationBatch, type EncodedExample } from '../src/tasks/batches.js';
import { classificationMetrics } from '../src/tasks/metrics.js';
import { SequenceClassificationTask, type ClassifierEval } from '../src/tasks/classification.js';
import { defaultLr } from '../src/adapters/registry.js';
import {
  batchTensors, evaluateClassifier, FINETUNE_DEFAULTS, runFinetune, validateFinetuneConfig,
  type FinetuneConfig, type FinetuneRunOptions,
} from '../src/train/finetune.js';
import { metricsLine, parseMetrics, type ClassificationEvalRecord, type MetricsRecord } from '../src/train/metrics.js';
import { uniform } from './adapters-models.js';
import { wasmBackends } from './helpers.js';

/** hidden 16, 2 layers, vocab 24 (0 <s>, 1 <pad>, 2 </s>), dropout off unless a test turns it on. */
const CONFIG = {
  vocab_size: 24, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32,
  max_position_embeddings: 20, num_labels: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, initializer_range: 0.2,
};
const PAD = 1;

function classifier(seed = 1, dropout = 0): RobertaForSequenceClassification {
  return new RobertaForSequenceClassification(
    { ...CONFIG, hidden_dropout_prob: dropout, attention_probs_dropout_prob: dropout },
    { generator: new W.Generator(seed) },
  );
}

/** `<s> t1 .. tn </s>` with 3..10 content tokens from 3..23; label 1 (every other example) iff token 7 occurs. */
function examples(n: number, seed: number): EncodedExample[] {
  const u = uniform(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = 3 + Math.floor(u() * 8);
    const content = Array.from({ length: len }, () => {
      let t = 7;
      while (t === 7) t = 3 + Math.floor(u() * 21);
      return t;
    });
    const label = i % 2;
    if (label === 1) content[Math.floor(u() * len)] = 7;
    return { ids: [0, ...content, 2], label };
  });
}

const TRAIN = examples(60, 11);
const VALIDATION = examples(32, 12);
const validation = () => evaluationBatches(VALIDATION, { batchSize: 16, padId: PAD });
const GOLD = VALIDATION.map((e) => e.label);
/** The accuracies 32 validation examples allow: k / 32. */
const ACCURACIES = Array.from({ length: VALIDATION.length + 1 }, (_, k) => k / VALIDATION.length);
const scores = (m: { accuracy: number; f1: number; mcc: number }) => ({ accuracy: m.accuracy, f1: m.f1, mcc: m.mcc });

/**
 * 60 examples / batch 8 = 7.5 steps per epoch (fractional on purpose): 5 epochs = round(37.5) = 38 steps.
 * Learning rates are fixed here rather than taken from the methods' defaultLr (tuned on tiny-roberta, and retuned
 * now and then), so these tests do not move with them.
 */
const LR: { [M in MethodName]?: number } = { grasp: 1e-2, lora: 1e-2, stochgrasp: 1e-2, full: 1.5e-3 };
const TOTAL = 38;
function config(method: MethodName, over: Partial<FinetuneConfig> = {}): FinetuneConfig {
  return { ...FINETUNE_DEFAULTS, epochs: 5, batchSize: 8, lr: LR[method] ?? defaultLr(method), maxLength: 18, seed: 0, ...over };
}

type Options = FinetuneRunOptions<ClassificationBatch, ClassifierEval>;
function runOptions(model: RobertaForSequenceClassification, method: MethodName, over: Partial<Options> = {}): Options {
  const c = config(method, over.config);
  return {
    model, method, config: c, validation,
    task: new SequenceClassificationTask({ name: 'synthetic', train: TRAIN, validation: VALIDATION, padId: PAD, metric: 'accuracy' }),
    train: new ClassificationBatches(TRAIN, { batchSize: c.batchSize, padId: PAD, seed: c.seed }),
    ...over,
  };
}

/** Copies of the trainable tensors by key. */
function trainable(r: { adapted: { namedTrainable(): [string, W.Tensor][] } }): Map<string, Float32Array | Float64Array> {
  return new Map(r.adapted.namedTrainable().map(([k, t]) => [k, t.toArray().slice() as Float32Array | Float64Array]));
}

/** Same keys, and every value equal bit for bit (Object.is), naming the first difference. */
function expectSameTensors(got: Map<string, ArrayLike<number>>, want: Map<string, ArrayLike<number>>): void {
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [key, w] of want) {
    const g = got.get(key)!;
    const i = Array.from(w).findIndex((v, j) => !Object.is(v, g[j]));
    expect(i, `${key}[${i}]: resumed ${g[i]}, uninterrupted ${w[i]}`).toBe(-1);
  }
}

let wasm: WasmBackend;
beforeAll(() => {
  wasm = wasmBackends()[0]!;
  W.setBackend(wasm);
});

describe('runFinetune', () => {
  /** Mean cross-entropy over the whole training set, in eval mode: a noiseless measure of what training did. */
  const trainLoss = (model: RobertaForSequenceClassification) => evaluateClassifier(model, evaluationBatches(TRAIN, { batchSize: 64, padId: PAD })).loss;

  for (const method of ['grasp', 'lora', 'stochgrasp', 'full'] as const) {
    it(`${method}: lowers the training loss and returns steps, loss curve, metrics and peak memory`, async () => {
      const model = classifier();
      const before = trainLoss(model);
      const losses: number[] = [];
      const r = await runFinetune(runOptions(model, method, {
        onStep: (step, total, loss) => {
          expect(step).toBe(losses.length + 1);
          expect(total).toBe(TOTAL);
          losses.push(loss);
        },
      }));
      try {
        expect(r.steps).toBe(Math.round(5 * (60 / 8)));
        expect(r.steps).toBe(TOTAL);
        expect(losses).toHaveLength(r.steps);
        expect(trainLoss(model)).toBeLessThan(0.9 * before);
        expect(r.finalLoss).toBe(losses.at(-1));
        expect(r.lossCurve.length).toBeGreaterThan(0);
        expect(r.lossCurve.at(-1)!.step).toBe(r.steps);
        expect(r.lossCurve.every((p) => Number.isFinite(p.loss))).toBe(true);
        expect(r.final.examples).toBe(VALIDATION.length);
        expect(r.final.predictions).toHaveLength(VALIDATION.length);
        expect(scores(r.final)).toEqual(classificationMetrics(r.final.predictions, GOLD));
        expect(r.peakMemoryBytes).toBeGreaterThan(0);
        expect(r.trainSeconds).toBeGreaterThan(0);
        expect(r.adapted.method).toBe(method);
        expect(r.adapted.merged).toBe(false);
      } finally {
        r.adapted.remove();
        model.dispose();
      }
    });
  }

  it('reports the reference backend\'s peak memory too (Backend.peakBytes): at least the model\'s float32 parameters', async () => {
    const prev = W.getBackend();
    W.setBackend(createReferenceBackend());
    try {
      const model = classifier();
      const r = await runFinetune(runOptions(model, 'grasp', { config: config('grasp', { epochs: 1 }) }));
      expect(r.steps).toBe(Math.round(60 / 8));
      expect(r.peakMemoryBytes).toBeGreaterThanOrEqual(model.numParameters() * 4);
      expect(scores(r.final)).toEqual(classificationMetrics(r.final.predictions, GOLD));
      r.adapted.remove();
      model.dispose();
    } finally {
      W.setBackend(prev);
    }
  });

  it('hands out records in order: start, train, val once per epoch (with accuracy, F1, MCC), final; JSONL round-trips', async () => {
    const model = classifier();
    const records: MetricsRecord[] = [];
    const r = await runFinetune(runOptions(model, 'grasp', { onRecord: (rec) => void records.push(rec) }));
    r.adapted.remove();
    model.dispose();
    expect(records[0]).toMatchObject({ type: 'start', step: 0, method: 'grasp', total_steps: TOTAL });
    expect((records[0] as unknown as { params: { trainable: number } }).params.trainable).toBeGreaterThan(0);
    expect(records.at(-1)).toMatchObject({ type: 'final', step: TOTAL });
    expect(records.map((x) => x.type).filter((t) => t !== 'train')).toEqual(['start', 'val', 'val', 'val', 'val', 'val', 'final']);
    const train = records.filter((x) => x.type === 'train');
    expect(train.length).toBeGreaterThan(0);
    expect(train.at(-1)!.step).toBe(TOTAL);
    const steps = records.map((x) => x.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    // evaluation every round(7.5) = 8 steps while training, then once at the end: one per epoch
    const vals = records.filter((x): x is ClassificationEvalRecord => x.type === 'val'); // a classification task's records
    expect(vals.map((v) => v.step)).toEqual([8, 16, 24, 32, TOTAL]);
    for (const v of vals) {
      expect(ACCURACIES).toContain(v.accuracy);
      expect(v.f1).toBeGreaterThanOrEqual(0);
      expect(v.f1).toBeLessThanOrEqual(1);
      expect(Math.abs(v.mcc)).toBeLessThanOrEqual(1);
      expect(v.examples).toBe(VALIDATION.length);
      expect(Number.isFinite(v.val_loss)).toBe(true);
    }
    expect(vals.at(-1)).toMatchObject({ accuracy: r.final.accuracy, f1: r.final.f1, mcc: r.final.mcc, val_loss: r.final.loss });
    expect(records.at(-1)).toMatchObject({ train_seconds: r.trainSeconds, peak_memory_bytes: r.peakMemoryBytes });
    expect(parseMetrics(records.map(metricsLine).join(''))).toEqual(records);
  });

  it('evalEvery 0 evaluates only after training: one val record, the final one; a negative or fractional value is refused', async () => {
    const model = classifier();
    const records: MetricsRecord[] = [];
    const r = await runFinetune(runOptions(model, 'bitfit', { evalEvery: 0, onRecord: (rec) => void records.push(rec) }));
    r.adapted.remove();
    expect(records.filter((x) => x.type === 'val').map((x) => x.step)).toEqual([TOTAL]);
    expect(records.find((x) => x.type === 'val')).toMatchObject({ accuracy: r.final.accuracy });
    for (const bad of [-1, 2.5]) {
      await expect(runFinetune(runOptions(model, 'bitfit', { evalEvery: bad }))).rejects.toThrow(new RegExp(`evalEvery = ${bad} must be an integer >= 0`));
    }
    model.dispose();
  });

  it('an aborted signal ends training after the current step; the run finishes as at its last step (final evaluation, records, adapter)', async () => {
    const model = classifier();
    const stop = new AbortController();
    const records: MetricsRecord[] = [];
    let awaited = 0;
    const r = await runFinetune(runOptions(model, 'grasp', {
      signal: stop.signal,
      onRecord: (rec) => void records.push(rec),
      onStep: async (step) => {
        await new Promise((resolve) => setTimeout(resolve, 0)); // onStep is awaited: the loop waits for it
        awaited = step;
        if (step === 5) stop.abort();
      },
    }));
    try {
      expect(awaited).toBe(5);
      expect(r.stopped).toBe(true);
      expect(r.steps).toBe(5);
      expect(r.lossCurve.at(-1)!.step).toBe(5);
      expect(r.final.examples).toBe(VALIDATION.length);
      expect(records.at(-1)).toMatchObject({ type: 'final', step: 5 });
      expect(records.filter((x) => x.type === 'val').map((x) => x.step)).toEqual([5]);
      expect(r.adapted.merged).toBe(false);
      expect(r.adapted.namedTrainable().length).toBeGreaterThan(0); // attached, ready to save
    } finally {
      r.adapted.remove();
      model.dispose();
    }
    const full = classifier();
    const all = await runFinetune(runOptions(full, 'grasp', { config: config('grasp', { epochs: 1 }) }));
    expect(all.stopped).toBe(false);
    all.adapted.remove();
    full.dispose();
  });

  it('rejects a bad config before touching the model', async () => {
    const model = classifier();
    await expect(runFinetune(runOptions(model, 'lora', { config: config('lora', { lr: 0 }) }))).rejects.toThrow(/lr = 0 must be in \(0, 1\)/);
    expect(model.parameters().every((p) => p.requiresGrad)).toBe(true); // no adapter attached (it would freeze the base)
    model.dispose();
  });
});

describe('checkpoint and resume', () => {
  class Stop extends Error {}

  /**
   * Run A goes 38 steps uninterrupted; run B saves at step k (onCheckpoint) and stops there; run C
   * resumes B's state on a fresh model. The kernels are deterministic and the state holds float32
   * weights and moments exactly, the step count, and the StochGRASP generators, so C must equal A
   * bit for bit: any tolerance would hide a missing piece of state.
   */
  async function resumeCase(method: MethodName, k: number, dropout = 0, adapter: Partial<AdapterConfig> = {}) {
    const a = await runFinetune(runOptions(classifier(1, dropout), method, { adapter }));
    const want = trainable(a);
    let saved: { bytes: Uint8Array; step: number } | null = null;
    const modelB = classifier(1, dropout);
    await expect(
      runFinetune(runOptions(modelB, method, {
        adapter,
        checkpointEvery: k,
        onCheckpoint: (bytes, step) => {
          saved = { bytes: bytes.slice(), step };
          throw new Stop();
        },
      })),
    ).rejects.toBeInstanceOf(Stop);
    expect(saved).not.toBeNull();
    const { bytes, step } = saved!;
    expect(step).toBe(k);
    const records: MetricsRecord[] = [];
    const modelC = classifier(1, dropout);
    const c = await runFinetune(runOptions(modelC, method, { adapter, resumeFrom: bytes, onRecord: (r) => void records.push(r) }));
    const got = trainable(c);
    return { a, c, want, got, records, cleanup: () => [a, c].forEach((r) => (r.adapted.remove(), r.adapted.base.dispose())), modelB };
  }

  for (const method of ['lora', 'stochgrasp'] as const) {
    it(`${method}: 38 steps equal 5 steps + resume, bit for bit`, async () => {
      const { a, c, want, got, records, cleanup, modelB } = await resumeCase(method, 5);
      try {
        expect(records[0]).toEqual({ type: 'resume', step: 5 });
        expect(records.at(-1)).toMatchObject({ type: 'final', step: TOTAL });
        expect(c.steps).toBe(a.steps);
        expectSameTensors(got, want);
        expect(c.final.predictions).toEqual(a.final.predictions);
        expect(c.final.loss).toBe(a.final.loss);
        expect(c.finalLoss).toBe(a.finalLoss);
      } finally {
        cleanup();
        modelB.dispose();
      }
    });
  }

  // Dropout masks come from the model's generator (and LoRA's own), which the training state does not
  // hold: the resumed run replays the masks of steps 1..k instead of drawing those of k+1, ...
  for (const [label, dropout, adapter] of [
    ['model dropout 0.1', 0.1, {}],
    ['lora_dropout 0.1', 0, { lora_dropout: 0.1 }],
  ] as const) {
    it(`lora with ${label}: resume is exact too (the dropout generators are part of the state)`, async () => {
      const { want, got, cleanup, modelB } = await resumeCase('lora', 5, dropout, adapter);
      try {
        expectSameTensors(got, want);
      } finally {
        cleanup();
        modelB.dispose();
      }
    });
  }
});

describe('evaluateClassifier', () => {
  it('predicts the argmax of the logits, scores with classificationMetrics and restores the training mode', () => {
    const model = classifier(3);
    const logits = W.tidy(() => W.noGrad(() => {
      model.eval();
      const all: number[] = [];
      for (const b of validation()) {
        const t = batchTensors(b);
        all.push(...model.forward(t.ids, { attentionMask: t.attentionMask }).logits.toArray());
      }
      return all;
    }));
    const argmax = VALIDATION.map((_, i) => (logits[2 * i + 1]! > logits[2 * i]! ? 1 : 0));
    const gold = VALIDATION.map((e) => e.label);
    for (const mode of [true, false]) {
      model.train(mode);
      const e = evaluateClassifier(model, validation());
      expect(model.training).toBe(mode);
      expect([...e.predictions]).toEqual(argmax);
      expect({ accuracy: e.accuracy, f1: e.f1, mcc: e.mcc }).toEqual(classificationMetrics(argmax, gold));
      expect(e.examples).toBe(VALIDATION.length);
      expect(Number.isFinite(e.loss) && e.loss > 0).toBe(true);
    }
    model.dispose();
  });

  it('restores the training mode when a batch fails, and refuses an empty set', () => {
    const model = classifier(3).train();
    const first = validation().next().value as ClassificationBatch;
    function* failing(): Generator<ClassificationBatch> {
      yield first;
      throw new Error('disk gone');
    }
    expect(() => evaluateClassifier(model, failing())).toThrow(/disk gone/);
    expect(model.training).toBe(true);
    expect(() => evaluateClassifier(model, [])).toThrow(/no evaluation examples/);
    expect(model.training).toBe(true);
    model.dispose();
  });
});

describe('validateFinetuneConfig', () => {
  const ok = config('grasp');
  it('accepts the defaults and names each bad field', () => {
    expect(validateFinetuneConfig(ok)).toBe(ok);
    expect(() => validateFinetuneConfig({ ...ok, lr: 0 })).toThrow('finetune config: lr = 0 must be in (0, 1)');
    expect(() => validateFinetuneConfig({ ...ok, epochs: 1.5 })).toThrow('finetune config: epochs = 1.5 must be an integer >= 1');
    expect(() => validateFinetuneConfig({ ...ok, warmupRatio: 1 })).toThrow('finetune config: warmupRatio = 1 must be in [0, 1)');
    expect(() => validateFinetuneConfig({ ...ok, lr: 0, epochs: 1.5, warmupRatio: 1 })).toThrow(
      'finetune config: epochs = 1.5 must be an integer >= 1; lr = 0 must be in (0, 1); warmupRatio = 1 must be in [0, 1)',
    );
    expect(() => validateFinetuneConfig({ ...ok, groupByLength: -1 })).toThrow('groupByLength = -1 must be an integer >= 0');
    expect(() => validateFinetuneConfig({ ...ok, groupByLength: 1 })).toThrow('groupByLength = 1 groups nothing');
  });

  it('groupByLength reaches the task\'s training batches: a grouped run trains on other batches than a random one', async () => {
    const seen = async (groupByLength: number) => {
      const task = new SequenceClassificationTask({ name: 'synthetic', train: TRAIN, validation: VALIDATION, padId: PAD, metric: 'accuracy' });
      const lengths: number[] = [];
      const model = classifier();
      const r = await runFinetune({
        ...runOptions(model, 'bitfit', { config: config('bitfit', { epochs: 1, groupByLength }) }), task, train: undefined,
        onStep: (_s, _t, _l, _lr, tokens) => void lengths.push(tokens),
      });
      r.adapted.remove();
      model.dispose();
      return lengths;
    };
    const random = await seen(0);
    const grouped = await seen(4);
    expect(grouped).toHaveLength(random.length);
    expect(grouped).not.toEqual(random);
  });
});

describe('memory', () => {
  for (const method of ['grasp', 'lora', 'stochgrasp', 'full'] as const) {
    it(`${method}: runFinetune then adapted.remove() frees every tensor training allocated`, async () => {
      const model = classifier();
      const buffers = wasm.liveBytes();
      const blocks = wasm.allocator.liveBytes();
      const r = await runFinetune(runOptions(model, method, { config: config(method, { epochs: 1 }) }));
      expect(r.peakMemoryBytes).toBeGreaterThan(blocks);
      r.adapted.remove();
      expect(wasm.liveBytes()).toBe(buffers);
      expect(wasm.allocator.liveBytes()).toBe(blocks);
      model.dispose();
    });
  }

  it('after runFinetune, adapted.remove() and model.dispose() the heap is back to its value before the model was created', async () => {
    const buffers = wasm.liveBytes();
    const blocks = wasm.allocator.liveBytes();
    const model = classifier();
    const r = await runFinetune(runOptions(model, 'grasp', { config: config('grasp', { epochs: 1 }) }));
    r.adapted.remove();
    model.dispose();
    expect(wasm.liveBytes()).toBe(buffers);
    expect(wasm.allocator.liveBytes()).toBe(blocks);
  });

  it('a run stopped by a throwing hook detaches its adapter and frees its tensors (the caller has no handle on them)', async () => {
    const model = classifier();
    const buffers = wasm.liveBytes();
    const stop = new Error('stop');
    await expect(runFinetune(runOptions(model, 'lora', {
      checkpointEvery: 2,
      onCheckpoint: () => {
        throw stop;
      },
    }))).rejects.toBe(stop);
    expect(model.parameters().every((p) => p.requiresGrad)).toBe(true); // unfrozen again: no adapter attached
    expect(wasm.liveBytes()).toBe(buffers);
    model.dispose();
  });
});
