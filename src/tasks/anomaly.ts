/**
 * Anomaly detection as a fine-tuning {@link Task} (the TimesNet protocol GPT4TS and One-for-All
 * follow): the model reconstructs windows (a GPT4TS with horizon = input length), trained with the
 * MSE of the reconstruction on the training split (unsupervised: labels are never trained on). A
 * row's anomaly score is its squared reconstruction error averaged over channels; the threshold is the
 * (100 - ratio) percentile of the validation split's scores (src/timeseries/anomaly.ts), `ratio`
 * being the expected percentage of anomalies; test rows above it are flagged, then point adjustment
 * (a true segment with one flagged row counts as found) and precision/recall/F1 on the test rows.
 * Evaluating the validation split scores it against its own threshold.
 */
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { pointAdjustedScores } from '../timeseries/anomaly.js';
import { mseLoss } from '../timeseries/model.js';
import type { ReconstructionData, ReconstructionSet } from '../timeseries/reconstruction.js';
import type { Task, TaskEval, TaskModel } from './task.js';
import { setOf, WindowSplitsTask, type WindowBatch } from './windows.js';

export type ReconstructionBatch = WindowBatch<ReconstructionSet>;

export interface AnomalyEval extends TaskEval {
  f1: number;
  precision: number;
  recall: number;
  accuracy: number;
  /** Mean squared reconstruction error over the scored rows and channels. */
  mse: number;
  threshold: number;
}

export interface AnomalyTaskOptions {
  name: string;
  /** Windows with labels (reconstructionData with a labelColumn). */
  data: ReconstructionData;
  /** Expected percentage of anomalous rows, in (0, 100) (TimesNet's anomaly_ratio; default 1). */
  ratio?: number;
  /** Evaluation batch size (default 64). */
  evalBatchSize?: number;
}

/**
 * Per-row scores of `set` (its windows in order): mean over channels of the squared reconstruction
 * error; rows outside every window are not scored. Also the rows' labels and the total squared error.
 */
export function reconstructionScores(model: TaskModel, batches: readonly ReconstructionBatch[]): { scores: Float64Array; labels: Uint8Array | null; se: number; values: number } {
  const set = batches[0].set;
  const L = set.inputLength;
  const M = set.channels;
  const rows = batches.reduce((n, b) => n + b.indices.length * L, 0);
  const scores = new Float64Array(rows);
  const labels = set.labels ? new Uint8Array(rows) : null;
  let se = 0;
  let at = 0;
  const wasTraining = model.training;
  model.eval();
  try {
    for (const b of batches) {
      tidy(() => noGrad(() => {
        const x = set.values(b.indices);
        const p = model.forward(set.batch(b.indices)).logits.toArray();
        if (p.length !== x.length) throw new Error(`anomaly: the model returned ${p.length} values for ${b.indices.length} windows of ${L} x ${M}; reconstruction needs horizon = input length = ${L}`);
        for (let w = 0; w < b.indices.length; w++) {
          for (let t = 0; t < L; t++) {
            let s = 0;
            for (let c = 0; c < M; c++) {
              const i = (w * L + t) * M + c;
              s += (p[i] - x[i]) ** 2;
            }
            se += s;
            scores[at] = s / M;
            if (labels) labels[at] = set.labels![set.starts[b.indices[w]] + t];
            at++;
          }
        }
      }));
    }
  } finally {
    model.train(wasTraining);
  }
  return { scores, labels, se, values: rows * M };
}

export class AnomalyTask extends WindowSplitsTask<ReconstructionSet> implements Task<ReconstructionBatch, AnomalyEval> {
  protected readonly who = 'AnomalyTask';
  readonly kind = 'forecast' as const;
  readonly name: string;
  readonly metric = 'f1';
  readonly higherIsBetter = true;
  readonly metricNames = ['f1', 'precision', 'recall', 'accuracy', 'mse', 'threshold'] as const;
  readonly data: ReconstructionData;
  readonly ratio: number;

  constructor(readonly o: AnomalyTaskOptions) {
    super();
    if (!o.data.val.labels || !o.data.test.labels) {
      throw new Error(`${o.name}: anomaly detection needs 0/1 labels to score; give the label column (--label-column <name>)`);
    }
    if (!o.data.test.labels.some((v) => v === 1)) {
      throw new Error(
        `${o.name}: the test split (rows ${o.data.test.firstRow}..${o.data.test.firstRow + o.data.test.rows - 1}) has no labelled anomaly, so F1 would be 0 whatever the model; ` +
          'use a split whose test rows hold anomalies (the file\'s last 20% with the ratio split)',
      );
    }
    this.ratio = o.ratio ?? 1;
    if (!(this.ratio > 0 && this.ratio < 100)) throw new Error(`${o.name}: anomaly ratio ${this.ratio} must be a percentage in (0, 100)`);
    this.name = o.name;
    this.data = o.data;
  }


  loss(model: TaskModel, b: ReconstructionBatch): Tensor {
    const x = b.set.batch(b.indices); // (B, L, M), both input and target
    return mseLoss(model.forward(x).logits, x);
  }

  size(b: ReconstructionBatch): number {
    return b.indices.length * b.set.inputLength * b.set.channels;
  }

  evaluate(model: TaskModel, batches: Iterable<ReconstructionBatch>): AnomalyEval {
    const { set, batches: list } = setOf(batches, 'anomaly');
    const own = reconstructionScores(model, list);
    const reference = set === this.data.val ? own.scores : reconstructionScores(model, this.validationBatches()).scores;
    const s = pointAdjustedScores(own.scores, own.labels!, reference, this.ratio);
    const mse = own.se / own.values;
    const metrics = { f1: s.f1, precision: s.precision, recall: s.recall, accuracy: s.accuracy, mse, threshold: s.threshold };
    return { loss: mse, examples: list.reduce((n, b) => n + b.indices.length, 0), ...metrics, metrics };
  }

  describe(e: AnomalyEval): string {
    const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
    return `F1 ${pct(e.f1)} (precision ${pct(e.precision)}, recall ${pct(e.recall)}, point-adjusted), reconstruction MSE ${e.mse.toFixed(4)}, threshold ${e.threshold.toPrecision(4)} (${e.examples} windows)`;
  }

  record(e: AnomalyEval): Record<string, number> {
    return { val_loss: e.loss, f1: e.f1, precision: e.precision, recall: e.recall, mse: e.mse, examples: e.examples };
  }
}
