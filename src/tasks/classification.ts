/**
 * Sequence classification as a fine-tuning {@link Task}: encoded examples -> right-padded batches ->
 * cross-entropy of the head's logits (B, C) -> accuracy, F1 and MCC.
 */
import { tensor } from '../ops/create.js';
import { crossEntropy } from '../ops/nn.js';
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { ClassificationBatches, evaluationBatches, type ClassificationBatch, type EncodedExample } from './batches.js';
import { classificationMetrics } from './metrics.js';
import type { TaskMetric } from './registry.js';
import type { Task, TaskEval, TaskModel, TrainBatchOptions } from './task.js';

/** Tensors of a batch on the current backend. */
export function batchTensors(b: Pick<ClassificationBatch, 'ids' | 'attentionMask' | 'labels' | 'batch' | 'length'>): { ids: Tensor; attentionMask: Tensor; labels: Tensor } {
  return {
    ids: tensor(b.ids, [b.batch, b.length], { dtype: 'int32' }),
    attentionMask: tensor(b.attentionMask, [b.batch, b.length], { dtype: 'int32' }),
    labels: tensor(b.labels, [b.batch], { dtype: 'int32' }),
  };
}

export interface ClassifierEval extends TaskEval {
  accuracy: number;
  f1: number;
  mcc: number;
  predictions: Int32Array;
}

/** Predictions and metrics over evaluation batches, in eval mode and without a graph. */
export function evaluateClassifier(model: TaskModel, batches: Iterable<ClassificationBatch>): ClassifierEval {
  const wasTraining = model.training;
  model.eval();
  const preds: number[] = [];
  const gold: number[] = [];
  let lossSum = 0;
  try {
    for (const b of batches) {
      tidy(() => noGrad(() => {
        const t = batchTensors(b);
        const { logits } = model.forward(t.ids, { attentionMask: t.attentionMask }); // (B, C)
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
  const scores = classificationMetrics(preds, gold);
  return { loss: lossSum / preds.length, ...scores, metrics: { ...scores }, examples: preds.length, predictions: Int32Array.from(preds) };
}

export interface ClassificationTaskOptions {
  name: string;
  train: readonly EncodedExample[];
  validation: readonly EncodedExample[];
  /** Id written into padded positions (RoBERTa `<pad>`); masked out anyway. */
  padId: number;
  metric: TaskMetric;
  /** Evaluation batch size (default 64). */
  evalBatchSize?: number;
}

export class SequenceClassificationTask implements Task<ClassificationBatch, ClassifierEval> {
  readonly kind = 'sequence-classification' as const;
  readonly name: string;
  readonly metric: TaskMetric;
  readonly metricNames = ['accuracy', 'f1', 'mcc'] as const;
  readonly higherIsBetter = true;
  private readonly byLength: readonly EncodedExample[];

  constructor(readonly o: ClassificationTaskOptions) {
    this.name = o.name;
    this.metric = o.metric;
    // Evaluation order does not change the metrics; batching similar lengths together cuts the padding.
    this.byLength = [...o.validation].sort((a, b) => a.ids.length - b.ids.length);
  }

  get trainExamples(): number {
    return this.o.train.length;
  }

  get validationExamples(): number {
    return this.o.validation.length;
  }

  trainBatches(o: TrainBatchOptions): ClassificationBatches {
    return new ClassificationBatches(this.o.train, { batchSize: o.batchSize, padId: this.o.padId, seed: o.seed, groupByLength: o.groupByLength });
  }

  validationBatches(): Iterable<ClassificationBatch> {
    return evaluationBatches(this.byLength, { batchSize: this.o.evalBatchSize ?? 64, padId: this.o.padId });
  }

  loss(model: TaskModel, b: ClassificationBatch): Tensor {
    const t = batchTensors(b);
    return crossEntropy(model.forward(t.ids, { attentionMask: t.attentionMask }).logits, t.labels); // (B, C) vs (B)
  }

  size(b: ClassificationBatch): number {
    return b.attentionMask.reduce((n, v) => n + v, 0);
  }

  evaluate(model: TaskModel, batches: Iterable<ClassificationBatch>): ClassifierEval {
    return evaluateClassifier(model, batches);
  }

  describe(e: ClassifierEval): string {
    return `val loss ${e.loss.toFixed(4)}, accuracy ${(100 * e.accuracy).toFixed(2)}%, F1 ${e.f1.toFixed(3)}, MCC ${e.mcc.toFixed(3)}`;
  }

  record(e: ClassifierEval): Record<string, number> {
    return { val_loss: e.loss, accuracy: e.accuracy, f1: e.f1, mcc: e.mcc, examples: e.examples };
  }
}
