/**
 * Series classification as a fine-tuning {@link Task}: standardised series (B, L, M) -> class logits
 * (B, C) from a GPT4TSForClassification -> cross-entropy -> accuracy (and mean cross-entropy) over a
 * split's series. Training visits the training series in a seeded order, once per epoch.
 */
import { crossEntropy } from '../ops/nn.js';
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { LabelledSeriesData, LabelledSet } from '../timeseries/labelled.js';
import { accuracy } from './metrics.js';
import type { Task, TaskEval, TaskModel } from './task.js';
import { setOf, WindowSplitsTask, type WindowBatch } from './windows.js';

export type SeriesClassBatch = WindowBatch<LabelledSet>;

export interface SeriesClassEval extends TaskEval {
  accuracy: number;
  /** Predicted class per series, in batch order. */
  predictions: Int32Array;
}

export interface SeriesClassificationTaskOptions {
  name: string;
  data: LabelledSeriesData;
  evalBatchSize?: number;
}

export class SeriesClassificationTask extends WindowSplitsTask<LabelledSet> implements Task<SeriesClassBatch, SeriesClassEval> {
  protected readonly who = 'SeriesClassificationTask';
  readonly kind = 'series-classification' as const;
  readonly name: string;
  readonly metric = 'accuracy';
  readonly higherIsBetter = true;
  readonly metricNames = ['accuracy'] as const;
  readonly data: LabelledSeriesData;

  constructor(readonly o: SeriesClassificationTaskOptions) {
    super();
    this.name = o.name;
    this.data = o.data;
  }

  get numLabels(): number {
    return this.data.classes.length;
  }


  private logits(model: TaskModel, x: Tensor): Tensor {
    const logits = model.forward(x).logits;
    if (logits.rank !== 2 || logits.shape[1] !== this.numLabels) {
      throw new Error(`classify-series: the model returned logits ${logits.describe()}; expected [batch, ${this.numLabels}] (one score per class: ${this.data.classes.join(', ')})`);
    }
    return logits;
  }

  loss(model: TaskModel, b: SeriesClassBatch): Tensor {
    const { x, y } = b.set.batch(b.indices);
    return crossEntropy(this.logits(model, x), y);
  }

  size(b: SeriesClassBatch): number {
    return b.indices.length * b.set.inputLength * b.set.channels;
  }

  evaluate(model: TaskModel, batches: Iterable<SeriesClassBatch>): SeriesClassEval {
    const { set, batches: list } = setOf(batches, 'classify-series');
    const pred: number[] = [];
    const gold: number[] = [];
    let ce = 0;
    const wasTraining = model.training;
    model.eval();
    try {
      for (const b of list) {
        tidy(() => noGrad(() => {
          const { x, y } = set.batch(b.indices);
          const logits = this.logits(model, x);
          ce += crossEntropy(logits, y).item() * b.indices.length;
          const v = logits.toArray();
          const C = this.numLabels;
          b.indices.forEach((idx, i) => {
            let best = 0;
            for (let c = 1; c < C; c++) if (v[i * C + c] > v[i * C + best]) best = c;
            pred.push(best);
            gold.push(set.labels[idx]);
          });
        }));
      }
    } finally {
      model.train(wasTraining);
    }
    const acc = accuracy(pred, gold);
    return { loss: ce / pred.length, examples: pred.length, accuracy: acc, predictions: Int32Array.from(pred), metrics: { accuracy: acc } };
  }

  describe(e: SeriesClassEval): string {
    return `accuracy ${(100 * e.accuracy).toFixed(2)}%, cross-entropy ${e.loss.toFixed(4)} (${e.examples} series)`;
  }

  record(e: SeriesClassEval): Record<string, number> {
    return { val_loss: e.loss, accuracy: e.accuracy, examples: e.examples };
  }
}
