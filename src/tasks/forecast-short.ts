/**
 * Short-term forecasting as a fine-tuning {@link Task}, the M4 way (GPT4TS's short-term setting):
 * windows in the file's own units (no global standardisation; the model's instance normalisation
 * handles scale), input typically 2H, trained with the sMAPE loss, scored with sMAPE, MASE and OWA.
 * Each (window, channel) is one series: its history is the input window, its truth the next H
 * values. MASE's scale is the seasonal naive error (period `season`) over the input window, and
 * OWA compares with Naive2 on the same windows (src/timeseries/metrics.ts). M4 scales MASE by the
 * whole in-sample history; here only the input window is history, so the figures are comparable
 * across methods on the same data, not with published M4 tables. Series whose window is constant
 * at lag `season` (MASE undefined) are left out of MASE (their count is reported).
 */
import { abs, add, div, sub } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ForecastData, WindowSet } from '../timeseries/dataset.js';
import { mase, naive2, owa, smape } from '../timeseries/metrics.js';
import type { ForecastSample, Task, TaskEval, TaskModel } from './task.js';
import { forecastSamples } from './forecast.js';
import { setOf, WindowSplitsTask, type WindowBatch } from './windows.js';

export type ShortForecastBatch = WindowBatch<WindowSet>;

export interface ShortForecastEval extends TaskEval {
  smape: number;
  mase: number;
  owa: number;
  /** Naive2's sMAPE and MASE on the same series. */
  naive2Smape: number;
  naive2Mase: number;
  /** Series left out of MASE (constant at lag `season`). */
  skippedMase: number;
}

export interface ShortForecastTaskOptions {
  name: string;
  /** Windows in the file's units: forecastData(table, { standardise: false, ... }). */
  data: ForecastData;
  /** Seasonal period m of MASE and Naive2 (default 1: the naive forecast; 24 for hourly data, 7 for daily). */
  season?: number;
  evalBatchSize?: number;
}

/**
 * sMAPE as a differentiable loss: 200 * mean(|y - yhat| / (|y| + |yhat| + 1e-8)); the 1e-8 keeps the
 * 0/0 of y = yhat = 0 at 0 (TimesNet divides with divide_no_nan).
 */
export function smapeLoss(prediction: Tensor, y: Tensor): Tensor {
  if (prediction.shape.join() !== y.shape.join()) throw new Error(`smapeLoss: prediction ${prediction.describe()} and target ${y.describe()} differ in shape`);
  return mean(div(abs(sub(prediction, y)), add(add(abs(prediction), abs(y)), 1e-8))).mul(200);
}

export class ShortForecastTask extends WindowSplitsTask<WindowSet> implements Task<ShortForecastBatch, ShortForecastEval> {
  protected readonly who = 'ShortForecastTask';
  readonly kind = 'forecast' as const;
  readonly name: string;
  readonly metric = 'smape';
  readonly higherIsBetter = false;
  readonly metricNames = ['smape', 'mase', 'owa'] as const;
  readonly data: ForecastData;
  readonly season: number;

  constructor(readonly o: ShortForecastTaskOptions) {
    super();
    this.season = o.season ?? 1;
    if (!(Number.isInteger(this.season) && this.season >= 1)) throw new Error(`${o.name}: season ${this.season} must be a positive integer (the seasonal period in steps)`);
    if (this.season >= o.data.options.inputLength) throw new Error(`${o.name}: season ${this.season} must be shorter than the input length ${o.data.options.inputLength}, which is MASE's history`);
    this.name = o.name;
    this.data = o.data;
  }


  loss(model: TaskModel, b: ShortForecastBatch): Tensor {
    const { x, y } = b.set.batch(b.indices); // (B, L, M), (B, H, M)
    return smapeLoss(model.forward(x).logits, y);
  }

  size(b: ShortForecastBatch): number {
    return b.indices.length * b.set.inputLength * b.set.channels;
  }

  forecastSamples(model: TaskModel, o?: { windows?: number; channel?: number }): ForecastSample[] {
    return forecastSamples(model, this.data.test, this.data.channels, o);
  }

  evaluate(model: TaskModel, batches: Iterable<ShortForecastBatch>): ShortForecastEval {
    const { set, batches: list } = setOf(batches, 'forecast-short');
    const L = set.inputLength;
    const H = set.horizon;
    const M = set.channels;
    const m = this.season;
    const sums = { smape: 0, mase: 0, nSmape: 0, nMase: 0, series: 0, maseSeries: 0, skipped: 0 };
    const wasTraining = model.training;
    model.eval();
    try {
      for (const b of list) {
        tidy(() => noGrad(() => {
          const p = model.forward(set.batch(b.indices).x).logits.toArray();
          if (p.length !== b.indices.length * H * M) throw new Error(`forecast-short: the model returned ${p.length} values for ${b.indices.length} windows of horizon ${H} x ${M} channels`);
          b.indices.forEach((idx, w) => {
            const { x, y } = set.window(idx);
            for (let c = 0; c < M; c++) {
              const hist = Float64Array.from({ length: L }, (_, t) => x[t * M + c]);
              const truth = Float64Array.from({ length: H }, (_, h) => y[h * M + c]);
              const fc = Float64Array.from({ length: H }, (_, h) => p[(w * H + h) * M + c]);
              const nv = naive2(hist, H, m);
              sums.smape += smape(truth, fc);
              sums.nSmape += smape(truth, nv);
              sums.series++;
              try {
                const a = mase(hist, truth, fc, m);
                const n = mase(hist, truth, nv, m);
                sums.mase += a;
                sums.nMase += n;
                sums.maseSeries++;
              } catch {
                sums.skipped++; // constant at lag m: MASE undefined
              }
            }
          });
        }));
      }
    } finally {
      model.train(wasTraining);
    }
    const s = sums.smape / sums.series;
    const ms = sums.maseSeries > 0 ? sums.mase / sums.maseSeries : NaN;
    const naive = { smape: sums.nSmape / sums.series, mase: sums.maseSeries > 0 ? sums.nMase / sums.maseSeries : NaN };
    const o = naive.smape > 0 && naive.mase > 0 ? owa({ smape: s, mase: ms }, naive) : NaN;
    return {
      loss: s, examples: list.reduce((n, b) => n + b.indices.length, 0), smape: s, mase: ms, owa: o,
      naive2Smape: naive.smape, naive2Mase: naive.mase, skippedMase: sums.skipped, metrics: { smape: s, mase: ms, owa: o },
    };
  }

  describe(e: ShortForecastEval): string {
    return `sMAPE ${e.smape.toFixed(3)}, MASE ${e.mase.toFixed(3)}, OWA ${e.owa.toFixed(3)} (Naive2: sMAPE ${e.naive2Smape.toFixed(3)}, MASE ${e.naive2Mase.toFixed(3)}; ${e.examples} windows${e.skippedMase ? `, ${e.skippedMase} series without MASE` : ''})`;
  }

  record(e: ShortForecastEval): Record<string, number> {
    return { val_loss: e.loss, smape: e.smape, mase: e.mase, owa: e.owa, examples: e.examples };
  }
}
