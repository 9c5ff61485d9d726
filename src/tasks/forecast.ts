/**
 * Long-term forecasting as a fine-tuning {@link Task}: windows of a standardised series (forecastData)
 * -> batches of inputs (B, L, M) and targets (B, H, M) -> the mean squared error of the model's
 * forecast (its `logits`) -> MSE and MAE over every value of every window, on standardised values
 * (the Informer/GPT4TS convention). Training batches visit the training windows in a seeded order,
 * each once per epoch; validation and test batches cover every window of their split in order.
 */
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ForecastData, WindowSet } from '../timeseries/dataset.js';
import { mseLoss } from '../timeseries/model.js';
import { WindowSplitsTask, type WindowBatch } from './windows.js';
import type { ForecastSample, Task, TaskEval, TaskModel } from './task.js';

/** Windows [indices] of one split; the tensors are made where the batch is used (inside the step's scope). */
/** Windows of one split (with the training step that drew them, -1 in evaluation). */
export type ForecastBatch = WindowBatch<WindowSet>;

export interface ForecastEval extends TaskEval {
  mse: number;
  mae: number;
}

export interface ForecastTaskOptions {
  /** Name in logs and reports (the CSV path, or `forecast`). */
  name: string;
  data: ForecastData;
  /** Evaluation batch size (default 64). */
  evalBatchSize?: number;
}

/** MSE and MAE of the model's forecasts over `batches`, in eval mode and without a graph. */
export function evaluateForecaster(model: TaskModel, batches: Iterable<ForecastBatch>): ForecastEval {
  const wasTraining = model.training;
  model.eval();
  let se = 0;
  let ae = 0;
  let values = 0;
  let windows = 0;
  try {
    for (const b of batches) {
      tidy(() => noGrad(() => {
        const { x, y } = b.set.batch(b.indices);
        const p = model.forward(x).logits.toArray();
        const t = y.toArray();
        if (p.length !== t.length) throw new Error(`forecast: the model returned ${p.length} values for targets ${y.describe()}; its horizon or channels differ from the data's`);
        for (let i = 0; i < t.length; i++) {
          const d = p[i] - t[i];
          se += d * d;
          ae += Math.abs(d);
        }
        values += t.length;
        windows += b.indices.length;
      }));
    }
  } finally {
    model.train(wasTraining);
  }
  if (values === 0) throw new Error('forecast: no evaluation windows');
  const mse = se / values;
  const mae = ae / values;
  return { loss: mse, mse, mae, examples: windows, metrics: { mse, mae } };
}

/**
 * The model's forecasts of `windows` test windows spread evenly over `set` (first to last) for one
 * channel (default the last): history, truth and prediction, for the report's forecast plots.
 */
export function forecastSamples(model: TaskModel, set: WindowSet, channels: readonly string[], o: { windows?: number; channel?: number } = {}): ForecastSample[] {
  const n = Math.min(o.windows ?? 3, set.length);
  const M = set.channels;
  const ch = o.channel ?? M - 1;
  if (!(Number.isInteger(ch) && ch >= 0 && ch < M)) throw new Error(`forecastSamples: channel ${ch} is outside [0, ${M})`);
  if (n < 1) return [];
  const picks = [...new Set(Array.from({ length: n }, (_, k) => (n === 1 ? 0 : Math.round((k * (set.length - 1)) / (n - 1)))))];
  const wasTraining = model.training;
  model.eval();
  try {
    const p = tidy(() => noGrad(() => Float32Array.from(model.forward(set.batch(picks).x).logits.toArray()))); // (n, H, M)
    const H = set.horizon;
    if (p.length !== picks.length * H * M) throw new Error(`forecastSamples: the model returned ${p.length} values for ${picks.length} windows of ${H} x ${M}`);
    const column = (a: Float32Array) => Array.from({ length: a.length / M }, (_, t) => a[t * M + ch]);
    return picks.map((w, b) => {
      const { x, y } = set.window(w);
      return { window: w, channel: channels[ch] ?? `channel ${ch}`, history: column(x), truth: column(y), prediction: column(p.subarray(b * H * M, (b + 1) * H * M)) };
    });
  } finally {
    model.train(wasTraining);
  }
}

export class ForecastTask extends WindowSplitsTask<WindowSet> implements Task<ForecastBatch, ForecastEval> {
  protected readonly who = 'ForecastTask';
  readonly kind = 'forecast' as const;
  readonly name: string;
  readonly metric = 'mse';
  readonly higherIsBetter = false;
  readonly metricNames = ['mse', 'mae'] as const;
  readonly data: ForecastData;

  constructor(readonly o: ForecastTaskOptions) {
    super();
    this.name = o.name;
    this.data = o.data;
  }


  loss(model: TaskModel, b: ForecastBatch): Tensor {
    const { x, y } = b.set.batch(b.indices); // (B, L, M), (B, H, M)
    return mseLoss(model.forward(x).logits, y);
  }

  size(b: ForecastBatch): number {
    return b.indices.length * b.set.inputLength * b.set.channels;
  }

  evaluate(model: TaskModel, batches: Iterable<ForecastBatch>): ForecastEval {
    return evaluateForecaster(model, batches);
  }

  forecastSamples(model: TaskModel, o?: { windows?: number; channel?: number }): ForecastSample[] {
    return forecastSamples(model, this.data.test, this.data.channels, o);
  }

  describe(e: ForecastEval): string {
    return `MSE ${e.mse.toFixed(4)}, MAE ${e.mae.toFixed(4)} (${e.examples} windows)`;
  }

  record(e: ForecastEval): Record<string, number> {
    return { val_loss: e.loss, mse: e.mse, mae: e.mae, examples: e.examples };
  }
}
