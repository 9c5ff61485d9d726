/**
 * Imputation as a fine-tuning {@link Task}: each value of a window is hidden with probability
 * `maskRatio` (src/timeseries/masking.ts: hidden values are filled with the window's observed mean
 * of their channel), the model reconstructs the window (a GPT4TS with horizon = input length), and
 * the loss and the metrics are the MSE and MAE over the hidden values only (TimesNet's protocol), on
 * standardised values. Training masks change every step (seeded by the step); validation and test
 * masks are fixed per window, so evaluations are comparable.
 */
import { tensor } from '../ops/create.js';
import { mul, square, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { fillMasked, randomMask } from '../timeseries/masking.js';
import type { ReconstructionData, ReconstructionSet } from '../timeseries/reconstruction.js';
import type { ReconstructionBatch } from './anomaly.js';
import type { Task, TaskEval, TaskModel } from './task.js';
import { setOf, WindowSplitsTask } from './windows.js';

export interface ImputeEval extends TaskEval {
  /** Over the hidden values only. */
  mse: number;
  mae: number;
  /** Hidden values scored. */
  masked: number;
}

export interface ImputeTaskOptions {
  name: string;
  data: ReconstructionData;
  /** Share of values hidden, in (0, 1) (default 0.25; TimesNet reports 0.125, 0.25, 0.375, 0.5). */
  maskRatio?: number;
  /** Seed of the training masks (default 0); validation and test masks are fixed. */
  seed?: number;
  evalBatchSize?: number;
}

export class ImputeTask extends WindowSplitsTask<ReconstructionSet> implements Task<ReconstructionBatch, ImputeEval> {
  protected readonly who = 'ImputeTask';
  readonly kind = 'forecast' as const;
  readonly name: string;
  readonly metric = 'mse';
  readonly higherIsBetter = false;
  readonly metricNames = ['mse', 'mae'] as const;
  readonly data: ReconstructionData;
  readonly maskRatio: number;

  constructor(readonly o: ImputeTaskOptions) {
    super();
    this.maskRatio = o.maskRatio ?? 0.25;
    if (!(this.maskRatio > 0 && this.maskRatio < 1)) throw new Error(`${o.name}: mask ratio ${this.maskRatio} must be in (0, 1) (the share of values hidden)`);
    this.name = o.name;
    this.data = o.data;
  }


  /** The batch's true values, its mask (1 = hidden) and the masked input, each [B * L * M]. */
  masked(b: ReconstructionBatch): { truth: Float32Array; mask: Uint8Array; input: Float32Array } {
    const set: ReconstructionSet = b.set;
    const n = set.inputLength * set.channels;
    const truth = set.values(b.indices);
    const mask = new Uint8Array(truth.length);
    // Evaluation masks do not depend on the run's seed, so every run (and `eval`) scores the same hidden values.
    const seed = set === this.data.train ? this.o.seed ?? 0 : set === this.data.val ? 0x5eed1 : 0x5eed2;
    b.indices.forEach((idx, w) => {
      // Training: a new mask each step and batch slot; evaluation: one mask per window.
      const key = b.step >= 0 ? b.step * 4096 + w : set.starts[idx];
      mask.set(randomMask(n, this.maskRatio, seed, key), w * n);
    });
    return { truth, mask, input: fillMasked(truth, mask, set.inputLength, set.channels) };
  }

  loss(model: TaskModel, b: ReconstructionBatch): Tensor {
    const { truth, mask, input } = this.masked(b);
    const shape = [b.indices.length, b.set.inputLength, b.set.channels];
    const count = mask.reduce((a, v) => a + v, 0);
    const pred = model.forward(tensor(input, shape)).logits; // (B, L, M)
    const m = tensor(Float32Array.from(mask), shape);
    // sum over hidden values of (pred - truth)^2, divided by their number
    return mul(sum(mul(square(sub(pred, tensor(truth, shape))), m)), 1 / Math.max(count, 1));
  }

  size(b: ReconstructionBatch): number {
    return b.indices.length * b.set.inputLength * b.set.channels;
  }

  evaluate(model: TaskModel, batches: Iterable<ReconstructionBatch>): ImputeEval {
    const { batches: list } = setOf(batches, 'impute');
    let se = 0;
    let ae = 0;
    let masked = 0;
    const wasTraining = model.training;
    model.eval();
    try {
      for (const b of list) {
        tidy(() => noGrad(() => {
          const { truth, mask, input } = this.masked(b);
          const p = model.forward(tensor(input, [b.indices.length, b.set.inputLength, b.set.channels])).logits.toArray();
          if (p.length !== truth.length) throw new Error(`impute: the model returned ${p.length} values for windows of ${truth.length}; imputation needs horizon = input length = ${b.set.inputLength}`);
          for (let i = 0; i < truth.length; i++) {
            if (!mask[i]) continue;
            const d = p[i] - truth[i];
            se += d * d;
            ae += Math.abs(d);
            masked++;
          }
        }));
      }
    } finally {
      model.train(wasTraining);
    }
    if (masked === 0) throw new Error('impute: no value was hidden in the evaluation windows; raise the mask ratio');
    const mse = se / masked;
    const mae = ae / masked;
    return { loss: mse, mse, mae, masked, examples: list.reduce((n, b) => n + b.indices.length, 0), metrics: { mse, mae } };
  }

  describe(e: ImputeEval): string {
    return `MSE ${e.mse.toFixed(4)}, MAE ${e.mae.toFixed(4)} on ${e.masked} hidden values (${e.examples} windows, ${(100 * this.maskRatio).toFixed(1)}% hidden)`;
  }

  record(e: ImputeEval): Record<string, number> {
    return { val_loss: e.loss, mse: e.mse, mae: e.mae, examples: e.examples };
  }
}
