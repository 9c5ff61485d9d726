/**
 * The fine-tuning task contract: data -> batches -> loss -> metrics -> report rows. The training loop
 * (src/train/finetune.ts), `finetune`, `eval` and `compare` only talk to this interface, so a task
 * kind (sequence classification, causal LM, forecasting over float series, ...) is one implementation.
 * A batch is whatever the task needs: token ids and labels, or float tensors for regression.
 */
import type { TaskKind } from '../models/families.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * The model as a task sees it: every family's forward returns `{ logits, ... }`. `input` is whatever
 * the task feeds: token ids (B, T) for text, float windows (B, L, M) for series; `logits` is the
 * head's raw output (class or token scores, or the regression values themselves).
 */
export interface TaskModel extends Module {
  forward(input: Tensor, opts?: { attentionMask?: Tensor | null }): { logits: Tensor };
  /**
   * Language models may compute the loss of aligned targets without materialising the logits
   * (GPT-2: the head and cross-entropy in row chunks); equal to crossEntropy of forward's logits.
   */
  lmLoss?(input: Tensor, targets: Tensor, opts: { attentionMask?: Tensor | null; ignoreIndex: number; reduction: 'mean' | 'sum'; labelSmoothing: number }): Tensor;
}

/** An evaluation: its mean loss, how many examples, and every metric the task computes by name. */
export interface TaskEval {
  loss: number;
  examples: number;
  /** accuracy, f1, mcc; perplexity, token_accuracy, exact_match; mse, mae; ... */
  metrics: Readonly<Record<string, number>>;
  /** Text generation tasks: what decoding produced and cost (the report's generation table and samples). */
  generation?: TaskGeneration;
}

/** Decoded outputs of a generation task's evaluation, scored against their references. */
export interface TaskGeneration {
  /** The generation metrics by name (bleu, nist, meteor, rougeL, cider). */
  scores: Readonly<Record<string, number>>;
  /** Inputs decoded (one output each). */
  instances: number;
  /** Inputs left out because their prompt leaves no room to decode within the model's positions. */
  skipped: number;
  /** Wall time of decoding (forward passes and search), seconds. */
  decodeSeconds: number;
  /** Tokens generated in all. */
  generatedTokens: number;
  /** How the outputs were decoded (`beam 10, length penalty 0.9, no-repeat 4-gram, at most 64 new tokens`). */
  decoding: string;
  /** The first few inputs with their output and one reference. */
  samples: { input: string; output: string; reference: string }[];
}

/**
 * One forecast as a report plots it: the input window (history), the true continuation and the
 * model's, for one channel of one test window, in the values the task scores (standardised for
 * long-term forecasting, the file's units for short-term).
 */
export interface ForecastSample {
  /** The test window's index. */
  window: number;
  /** The channel's name. */
  channel: string;
  history: number[];
  truth: number[];
  prediction: number[];
}

/** What the training loop asks a task's batches for. */
export interface TrainBatchOptions {
  batchSize: number;
  seed: number;
  /** Batch examples of similar length together, over windows of this many batches (0 or absent: off). */
  groupByLength?: number;
}

/** Training batches by step index (a pure function of the step, so resuming is exact). */
export interface TrainBatches<B> {
  batchAt(step: number): B;
  /** May be fractional (batches straddle epochs). */
  readonly stepsPerEpoch: number;
}

export interface Task<B = unknown, E extends TaskEval = TaskEval> {
  readonly kind: TaskKind;
  /** The task's name in logs and reports (`sentiment`, `sentiment-lm`, a path). */
  readonly name: string;
  /** The key of `metrics` reports and noise curves use. */
  readonly metric: string;
  /** Whether a larger `metric` is better (accuracy) or a smaller one (MSE). */
  readonly higherIsBetter: boolean;
  /** Every key of an evaluation's `metrics`, in report order. */
  readonly metricNames: readonly string[];
  readonly trainExamples: number;
  readonly validationExamples: number;
  /** Seeded training batches; `groupByLength` (windows in batches, 0 = off) is honoured by tasks whose examples vary in length and ignored by the rest. */
  trainBatches(o: TrainBatchOptions): TrainBatches<B>;
  /** Validation batches in a fixed order (re-iterated at each evaluation). */
  validationBatches(): Iterable<B>;
  /** Held-out test batches, for tasks whose benchmarks report a test split (forecasting); evaluated once after training. */
  testBatches?(): Iterable<B>;
  /**
   * Forecasting tasks: the model's forecasts of a few test windows (spread over the test split) for
   * `channel` (default: the last, the target of ETT-style files), for the report's plots.
   */
  forecastSamples?(model: TaskModel, o?: { windows?: number; channel?: number }): ForecastSample[];
  /** The training loss of a batch; called inside the step's scope. */
  loss(model: TaskModel, batch: B): Tensor;
  /** Real (unpadded) tokens or values of a batch, for throughput. */
  size(batch: B): number;
  /** Metrics over `batches` in eval mode, without a graph. */
  evaluate(model: TaskModel, batches: Iterable<B>): E;
  /** One log line (`val loss 0.41, accuracy 81.2%, ...`). */
  describe(e: E): string;
  /** The fields of a JSONL validation record after `type` and `step`, in order. */
  record(e: E): Record<string, number>;
}
