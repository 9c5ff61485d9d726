/**
 * Fine-tuning a sequence classifier with any method: the one loop behind `wasmgrad finetune`, the
 * main job (`npm run demo`) and the GLUE experiment script. It attaches the method, trains the
 * trainable set with AdamW under a warmup + linear-decay schedule, adds the method's regularizer
 * (StochGRASP's KL term) to the loss, evaluates each epoch, and hands JSONL records and resumable
 * training states to the caller, which does the I/O. Portable: no Node imports.
 */
import { AdaptedModel, applyAdapter } from '../adapters/model.js';
import { presetFor, type MethodName } from '../adapters/registry.js';
import type { AdapterConfig } from '../adapters/types.js';
import type { Allocator } from '../backend/wasm/allocator.js';
import type { Module } from '../nn/module.js';
import { tensor } from '../ops/create.js';
import { add } from '../ops/elementwise.js';
import { crossEntropy } from '../ops/nn.js';
import { AdamW } from '../optim/adamw.js';
import { Dropout } from '../nn/layers.js';
import type { Generator } from '../ops/random.js';
import { getBackend, noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ClassificationBatch } from '../tasks/batches.js';
import { classificationMetrics } from '../tasks/metrics.js';
import { decodeTrainingState, encodeTrainingState } from './checkpoint.js';
import type { MetricsRecord } from './metrics.js';
import { Trainer } from './trainer.js';

export type { ClassificationBatch };

/** A model that maps ids (B, T) to logits (B, C) and has a classification loss (RobertaForSequenceClassification); evaluation scores the logits with cross-entropy. */
export interface SequenceClassifier extends Module {
  forward(ids: Tensor, opts?: { attentionMask?: Tensor | null }): Tensor;
  loss(ids: Tensor, labels: Tensor, opts?: { attentionMask?: Tensor | null }): Tensor;
}

/** Training batches by step index (a pure function of the step, so resuming is exact). */
export interface TrainBatches {
  batchAt(step: number): ClassificationBatch;
  readonly stepsPerEpoch: number;
}

export interface FinetuneConfig {
  epochs: number;
  batchSize: number;
  /** Peak learning rate (default per method: {@link DEFAULT_LR}). */
  lr: number;
  weightDecay: number;
  /** Fraction of the steps spent in linear warmup (LoRA's RoBERTa recipe: 0.06). */
  warmupRatio: number;
  clipNorm: number;
  /**
   * Peak learning rate of the task head (default: min(lr, {@link DEFAULT_HEAD_LR})). A freshly
   * initialised head at the 1e-2 that scale/shift methods want oscillates instead of learning.
   */
  headLr?: number;
  /** Max tokens per example, special tokens included. */
  maxLength: number;
  seed: number;
}

/**
 * Peak learning rates per method, chosen on the bundled tiny RoBERTa (sentiment task; a coarse sweep
 * of 1e-3..3e-2, single runs). Scale/shift methods (GRASP, (IA)3) move few values and want ~1e-2
 * (METHODS.md gives 1e-3..1e-2). LoRA at 1e-2 stopped learning in 3 of 4 runs, hence 3e-3. Full
 * fine-tuning wants the smallest. For large pretrained models use the papers' recipes instead
 * (LoRA on RoBERTa-base: 4e-4..5e-4).
 */
export const DEFAULT_LR: { [M in MethodName]: number } = {
  full: 5e-4, bitfit: 5e-3, lora: 3e-3, rslora: 3e-3, ia3: 1e-2, grasp: 1e-2, stochgrasp: 1e-2,
};

/** Cap of the head's default learning rate (see FinetuneConfig.headLr). */
export const DEFAULT_HEAD_LR = 2e-3;

export const FINETUNE_DEFAULTS: Omit<FinetuneConfig, 'lr'> = {
  epochs: 3, batchSize: 32, weightDecay: 0, warmupRatio: 0.06, clipNorm: 1, maxLength: 64, seed: 0,
};

export function validateFinetuneConfig(c: FinetuneConfig): FinetuneConfig {
  const errs: string[] = [];
  const int = (k: 'epochs' | 'batchSize' | 'maxLength' | 'seed', min: number) => {
    if (!(Number.isInteger(c[k]) && c[k] >= min)) errs.push(`${k} = ${c[k]} must be an integer >= ${min}`);
  };
  int('epochs', 1);
  int('batchSize', 1);
  int('maxLength', 4);
  int('seed', 0);
  if (!(c.lr > 0 && c.lr < 1)) errs.push(`lr = ${c.lr} must be in (0, 1)`);
  if (c.headLr !== undefined && !(c.headLr > 0 && c.headLr < 1)) errs.push(`headLr = ${c.headLr} must be in (0, 1)`);
  if (!(c.weightDecay >= 0)) errs.push(`weightDecay = ${c.weightDecay} must be >= 0`);
  if (!(c.warmupRatio >= 0 && c.warmupRatio < 1)) errs.push(`warmupRatio = ${c.warmupRatio} must be in [0, 1)`);
  if (!(c.clipNorm >= 0)) errs.push(`clipNorm = ${c.clipNorm} must be >= 0 (0 disables clipping)`);
  if (errs.length) throw new Error(`finetune config: ${errs.join('; ')}`);
  return c;
}

/** Tensors of a batch on the current backend. */
export function batchTensors(b: Pick<ClassificationBatch, 'ids' | 'attentionMask' | 'labels' | 'batch' | 'length'>): { ids: Tensor; attentionMask: Tensor; labels: Tensor } {
  return {
    ids: tensor(b.ids, [b.batch, b.length], { dtype: 'int32' }),
    attentionMask: tensor(b.attentionMask, [b.batch, b.length], { dtype: 'int32' }),
    labels: tensor(b.labels, [b.batch], { dtype: 'int32' }),
  };
}

export interface ClassifierEval {
  loss: number;
  accuracy: number;
  f1: number;
  mcc: number;
  examples: number;
  predictions: Int32Array;
}

/** Predictions and metrics over evaluation batches, in eval mode and without a graph. */
export function evaluateClassifier(model: SequenceClassifier, batches: Iterable<ClassificationBatch>): ClassifierEval {
  const wasTraining = model.training;
  model.eval();
  const preds: number[] = [];
  const gold: number[] = [];
  let lossSum = 0;
  try {
    for (const b of batches) {
      tidy(() => noGrad(() => {
        const t = batchTensors(b);
        const logits = model.forward(t.ids, { attentionMask: t.attentionMask }); // (B, C)
        lossSum += crossEntropy(logits, t.labels).item() * b.batch;
        const v = logits.toArray();
        const C = logits.shape[1];
        for (let i = 0; i < b.batch; i++) {
          let best = 0;
          for (let c = 1; c < C; c++) if (v[i * C + c] > v[i * C + best]) best = c;
          preds.push(best);
          gold.push(b.labels[i]);
        }
      }));
    }
  } finally {
    model.train(wasTraining);
  }
  if (preds.length === 0) throw new Error('evaluateClassifier: no evaluation examples');
  return { loss: lossSum / preds.length, ...classificationMetrics(preds, gold), examples: preds.length, predictions: Int32Array.from(preds) };
}

/** The WASM heap allocator (peak-memory tracking), or null on the reference backend. */
function heap(): Allocator | null {
  return (getBackend() as { allocator?: Allocator }).allocator ?? null;
}

export interface FinetuneRunOptions {
  model: SequenceClassifier;
  method: MethodName;
  /** Overrides of the method's config (e.g. { r: 16 } or { num_groups: 32 }). */
  adapter?: Partial<AdapterConfig>;
  config: FinetuneConfig;
  train: TrainBatches;
  /** Validation batches, re-iterated at each evaluation. */
  validation: () => Iterable<ClassificationBatch>;
  /** Evaluate every this many steps (default: once per epoch and at the end). */
  evalEvery?: number;
  /** Write a training state every this many steps (0 = never); `onCheckpoint` receives the bytes. */
  checkpointEvery?: number;
  onCheckpoint?: (state: Uint8Array, step: number) => void | Promise<void>;
  /** A state written by an earlier run of the same configuration. */
  resumeFrom?: Uint8Array | null;
  /** JSONL records, in order. */
  onRecord?: (record: MetricsRecord) => void | Promise<void>;
  /** After each step (progress bars). */
  onStep?: (step: number, total: number, loss: number, lr: number, tokens: number) => void;
  /** Free-text messages (evaluation lines). */
  log?: (message: string) => void;
}

export interface FinetuneResult {
  adapted: AdaptedModel<SequenceClassifier>;
  steps: number;
  trainSeconds: number;
  /** Peak bytes live in the WASM heap during training (model, adapter, optimizer state, activations). */
  peakMemoryBytes: number;
  finalLoss: number;
  lossCurve: { step: number; loss: number }[];
  final: ClassifierEval;
}

/** Runs the whole fine-tuning; the adapter stays attached (unmerged) to `model` for evaluation and saving. */
export async function runFinetune(o: FinetuneRunOptions): Promise<FinetuneResult> {
  const c = validateFinetuneConfig(o.config);
  // stepsPerEpoch may be fractional (batches straddle epochs); the run covers `epochs` passes.
  const total = Math.max(1, Math.round(c.epochs * o.train.stepsPerEpoch));
  const evalEvery = o.evalEvery ?? Math.max(1, Math.round(o.train.stepsPerEpoch));
  const adapted = applyAdapter(o.model, { ...presetFor(o.method), ...(o.adapter ?? {}) } as AdapterConfig);
  // The schedule drives one lr; the head follows it scaled to its own peak.
  const headScale = (c.headLr ?? Math.min(c.lr, DEFAULT_HEAD_LR)) / c.lr;
  const lrScales = new Map(adapted.headParameters().map((p) => [p, headScale] as const));
  const opt = new AdamW(adapted.trainableParameters(), { lr: c.lr, weightDecay: c.weightDecay, lrScales });
  const trained = { namedParameters: () => adapted.namedTrainable() };
  // Every stream training draws from, for exact resume: the adapter layers' (StochGRASP sampling,
  // LoRA dropout) and the model's dropout generators (our models share one Generator; deduplicated).
  const generators = [...new Set<Generator>([
    ...adapted.layers.flatMap((l) => (l.generator ? [l.generator] : [])),
    ...[...o.model.namedModules()].flatMap(([, m]) => (m instanceof Dropout ? [m.generator] : [])),
  ])];
  try {
    let start = 0;
    let elapsed = 0;
    let tokensSeen = 0;
    if (o.resumeFrom) {
      const state = decodeTrainingState(o.resumeFrom, trained, opt);
      (state.extra.generators as ReturnType<Generator['state']>[] | undefined)?.forEach((s, i) => generators[i]?.setState(s));
      start = state.step;
      elapsed = state.elapsedSeconds;
      tokensSeen = state.tokensSeen;
      await o.onRecord?.({ type: 'resume', step: start });
    } else {
      await o.onRecord?.({ type: 'start', step: 0, method: o.method, adapter: adapted.config, params: adapted.parameterCounts(), total_steps: total });
    }
    o.model.train();
    const alloc = heap();
    alloc?.resetPeak();
    const lossCurve: { step: number; loss: number }[] = [];
    let windowSum = 0;
    let windowN = 0;
    let lastLoss = NaN;
    let tokens = 0; // real (unpadded) tokens of the last batch
    let t0 = performance.now();
    const seconds = () => elapsed + (performance.now() - t0) / 1000;
    const logEvery = Math.max(1, Math.round(total / 50));
    const trainer = new Trainer({
      optimizer: opt,
      schedule: { peak: c.lr, warmup: Math.round(c.warmupRatio * total), total, decay: 'linear', minRatio: 0 },
      clipNorm: c.clipNorm,
      loss: (step) => {
        const b = o.train.batchAt(step);
        tokens = b.attentionMask.reduce((n, v) => n + v, 0);
        const t = batchTensors(b);
        const l = o.model.loss(t.ids, t.labels, { attentionMask: t.attentionMask });
        const r = adapted.regularizer();
        return r ? add(l, r) : l;
      },
      afterStep: async ({ step, loss, lr }) => {
        lastLoss = loss;
        windowSum += loss;
        windowN++;
        tokensSeen += tokens;
        o.onStep?.(step, total, loss, lr, tokens);
        if (step % logEvery === 0 || step === total) {
          lossCurve.push({ step, loss: windowSum / windowN });
          await o.onRecord?.({ type: 'train', step, loss: windowSum / windowN, lr, tokens: tokensSeen, tokens_per_sec: tokensSeen / Math.max(1e-9, seconds()), elapsed_s: seconds() });
          windowSum = 0;
          windowN = 0;
        }
        if (step % evalEvery === 0 && step < total) {
          const pause = performance.now();
          const e = evaluateClassifier(o.model, o.validation());
          t0 += performance.now() - pause; // evaluation time is not training time
          o.log?.(`step ${step}: val loss ${e.loss.toFixed(4)}, accuracy ${(100 * e.accuracy).toFixed(2)}%, F1 ${e.f1.toFixed(3)}, MCC ${e.mcc.toFixed(3)}`);
          await o.onRecord?.({ type: 'val', step, val_loss: e.loss, accuracy: e.accuracy, f1: e.f1, mcc: e.mcc, examples: e.examples });
        }
        if (o.checkpointEvery && o.onCheckpoint && step % o.checkpointEvery === 0 && step < total) {
          const extra = { generators: generators.map((g) => g.state()) };
          await o.onCheckpoint(encodeTrainingState(trained, opt, { step, tokensSeen, elapsedSeconds: seconds(), extra }), step);
          await o.onRecord?.({ type: 'save', step });
        }
      },
    });
    try {
      await trainer.run(start, total);
    } finally {
      opt.dispose();
    }
    const trainSeconds = seconds();
    const peakMemoryBytes = alloc ? alloc.peakLiveBytes() : NaN;
    const final = evaluateClassifier(o.model, o.validation());
    o.log?.(`final: val loss ${final.loss.toFixed(4)}, accuracy ${(100 * final.accuracy).toFixed(2)}%, F1 ${final.f1.toFixed(3)}, MCC ${final.mcc.toFixed(3)}`);
    await o.onRecord?.({ type: 'val', step: total, val_loss: final.loss, accuracy: final.accuracy, f1: final.f1, mcc: final.mcc, examples: final.examples });
    await o.onRecord?.({ type: 'final', step: total, train_seconds: trainSeconds, peak_memory_bytes: peakMemoryBytes });
    return { adapted, steps: total, trainSeconds, peakMemoryBytes, finalLoss: lastLoss, lossCurve, final };
  } catch (err) {
    opt.dispose(); // idempotent; covers failures before the training loop (a state that does not fit)
    adapted.remove(); // the caller gets no handle on a failed run's adapter
    throw err;
  }
}
