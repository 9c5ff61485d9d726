/**
 * Each series task trains through the one fine-tuning loop (runFinetune) on a GPT4TS built on the
 * pretrained tiny GPT-2, on generated data, and ends better than it started: anomaly detection
 * (reconstruction error down, injected spikes found), imputation (masked MSE down), classification
 * (accuracy up), short-term forecasting (sMAPE down); long horizons (192, 336, 720) train too.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { fromBaseCheckpoint } from '../src/node/pretrained.js';
import { AnomalyTask } from '../src/tasks/anomaly.js';
import { ForecastTask } from '../src/tasks/forecast.js';
import { ShortForecastTask } from '../src/tasks/forecast-short.js';
import { ImputeTask } from '../src/tasks/impute.js';
import { SeriesClassificationTask } from '../src/tasks/series-classification.js';
import type { Task, TaskModel } from '../src/tasks/task.js';
import { resolveFinetuneConfig, runFinetune } from '../src/train/finetune.js';
import {
  forecastData, GPT4TSForClassification, injectSpikes, labelledSeriesData, reconstructionData, seasonalSeries, seededUniform, type GPT4TS, type SeriesTable,
} from '../src/timeseries/index.js';

const TINY = join(import.meta.dirname, '..', 'examples', 'checkpoints', 'tiny-gpt2'); // 64 positions, d 128, 2 blocks

async function train(task: Task, model: TaskModel, o: { epochs?: number; batchSize?: number; lr?: number } = {}) {
  const r = await runFinetune({ model, task, method: 'gpt4ts', config: resolveFinetuneConfig({ epochs: o.epochs ?? 1, batchSize: o.batchSize ?? 16, lr: o.lr }, 'gpt4ts') });
  r.adapted.remove();
  return r;
}

const gpt4ts = (fields: Record<string, unknown>, seed = 1) => fromBaseCheckpoint<GPT4TS>(TINY, 'gpt4ts', fields, { generator: new W.Generator(seed) });

describe('series tasks train through the shared loop', () => {
  it('anomaly: reconstruction MSE falls and the spikes injected into validation and test are found (point-adjusted F1)', async () => {
    const L = 48;
    const clean = seasonalSeries({ length: 3000, channels: 1, seed: 4, noise: 0.2, trend: 0, periods: [24] });
    const { values, labels } = injectSpikes(clean.values[0], { count: 12, magnitude: 5, from: 2100, seed: 5 });
    const table: SeriesTable = { ...clean, columns: ['OT', 'label'], values: [values, Float64Array.from(labels)] };
    const task = new AnomalyTask({ name: 'spikes', data: reconstructionData(table, { inputLength: L, labelColumn: 'label', trainStride: 2 }), ratio: 1 });
    const model = await gpt4ts({ input_length: L, horizon: L });
    const before = task.evaluate(model, task.testBatches());
    await train(task, model);
    const after = task.evaluate(model, task.testBatches());
    expect(after.mse).toBeLessThan(0.5 * before.mse);
    expect(after.recall).toBe(1);
    expect(after.f1).toBeGreaterThan(before.f1);
    expect(after.f1).toBeGreaterThan(0.5);
    model.dispose();
  }, 300_000);

  it('impute: the masked MSE on validation windows falls below half its initial value', async () => {
    const L = 48;
    const table = seasonalSeries({ length: 1500, channels: 2, seed: 6, noise: 0.1, periods: [24] });
    const task = new ImputeTask({ name: 'gen', data: reconstructionData(table, { inputLength: L, trainStride: 2 }), maskRatio: 0.25 });
    const model = await gpt4ts({ input_length: L, horizon: L });
    const before = task.evaluate(model, task.validationBatches());
    const r = await train(task, model, { epochs: 2 });
    expect(r.final.metrics.mse).toBeLessThan(0.5 * before.mse);
    model.dispose();
  }, 300_000);

  it('classify-series: accuracy on three sine periods rises well above chance', async () => {
    const u = seededUniform(9);
    const lines = ['date,id,label,v'];
    const periods = { p8: 8, p16: 16, p32: 32 };
    for (const [name, p] of Object.entries(periods)) {
      for (let s = 0; s < 40; s++) {
        const phase = 2 * Math.PI * u();
        for (let t = 0; t < 48; t++) lines.push(`t${t},${name}-${s},${name},${(Math.sin((2 * Math.PI * t) / p + phase) + 0.2 * (u() - 0.5)).toFixed(4)}`);
      }
    }
    const data = labelledSeriesData(W.parseSeriesCsv(lines.join('\n'), { textColumns: ['id', 'label'] }));
    expect(data.inputLength).toBe(48);
    const task = new SeriesClassificationTask({ name: 'periods', data });
    const model = await fromBaseCheckpoint<GPT4TSForClassification>(TINY, 'gpt4ts', { input_length: 48, num_labels: 3 }, { generator: new W.Generator(2), architecture: 'GPT4TSForClassification' });
    expect(model).toBeInstanceOf(GPT4TSForClassification);
    const before = task.evaluate(model, task.validationBatches());
    await train(task, model, { epochs: 4, batchSize: 8, lr: 2e-3 });
    const after = task.evaluate(model, task.testBatches());
    expect(after.accuracy).toBeGreaterThan(0.8);
    expect(task.evaluate(model, task.validationBatches()).loss).toBeLessThan(before.loss);
    model.dispose();
  }, 300_000);

  it('forecast-short: sMAPE (in the series units) falls with the sMAPE loss, and beats Naive2', async () => {
    const raw = seasonalSeries({ length: 1500, channels: 1, seed: 7, noise: 0.05, periods: [24] });
    const table: SeriesTable = { ...raw, values: [raw.values[0].map((v) => v + 5)] };
    const task = new ShortForecastTask({ name: 'gen', data: forecastData(table, { inputLength: 48, horizon: 24, split: 'ratio', standardise: false }), season: 24 });
    const model = await gpt4ts({ input_length: 48, horizon: 24 });
    const before = task.evaluate(model, task.validationBatches());
    const r = await train(task, model, { epochs: 2 });
    expect(r.final.metrics.smape).toBeLessThan(0.5 * before.smape);
    expect(r.final.metrics.owa).toBeLessThan(1);
    model.dispose();
  }, 300_000);

  it.each([192, 336, 720])('long-term forecasting at horizon %i (input 336): shapes, and a short run lowers validation MSE', async (H) => {
    const L = 336;
    const T = L + H + 400; // 401 training windows
    const table = seasonalSeries({ length: T + 2 * H + 50, channels: 1, seed: 8, noise: 0.1, periods: [24, 168] });
    const split = { train: [0, T] as [number, number], val: [T, T + H + 25] as [number, number], test: [T + H + 25, T + 2 * H + 50] as [number, number] };
    const data = forecastData(table, { inputLength: L, horizon: H, split });
    const task = new ForecastTask({ name: `h${H}`, data });
    const model = await gpt4ts({ input_length: L, horizon: H });
    W.tidy(() => expect(model.forward(data.train.batch([0, 1]).x).logits.shape).toEqual([2, H, 1]));
    const before = task.evaluate(model, task.validationBatches());
    const r = await train(task, model, { epochs: 1, batchSize: 16 });
    expect(r.steps).toBe(25);
    expect(r.final.metrics.mse).toBeLessThan(0.5 * before.mse);
    expect(task.evaluate(model, task.testBatches()).examples).toBe(26);
    model.dispose();
  }, 300_000);
});
