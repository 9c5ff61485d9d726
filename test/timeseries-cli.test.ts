/**
 * Forecasting through the house: the gpt4ts family built on the tiny GPT-2 checkpoint, the
 * ForecastTask in the one fine-tuning loop, the one-for-all and gpt4ts methods, and the CLI end to
 * end on a small generated CSV (`finetune --task forecast` writes the adapter, a complete forecaster
 * and test MSE/MAE; `forecast` writes predictions as CSV); flag errors name the flag.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { runEvalCli, runFinetuneCli, type FinetuneCliOptions } from '../src/cli/finetune.js';
import { runForecastCli } from '../src/cli/forecast.js';
import { fromPretrained } from '../src/node/pretrained.js';
import { gpt4tsFromGPT2Checkpoint } from '../src/node/timeseries-files.js';
import { ForecastTask } from '../src/tasks/forecast.js';
import { resolveFinetuneConfig, runFinetune } from '../src/train/finetune.js';
import { forecastData, patchCount, seasonalSeries, type GPT4TS } from '../src/timeseries/index.js';
import { seriesCsv, tempDirs } from './helpers.js';

const tmp = tempDirs();
const TINY = join(import.meta.dirname, '..', 'examples', 'checkpoints', 'tiny-gpt2'); // 64 positions, d 128, 2 blocks
const L = 48;
const H = 16;
const N = patchCount(L, 16, 8); // 6

/** 1,000 hourly rows of two channels (x0, OT); the 70/10/20 split gives 637 training windows. */
function writeCsv(): string {
  const path = join(tmp('series'), 'sensors.csv');
  writeFileSync(path, seriesCsv(seasonalSeries({ length: 1000, channels: 2, seed: 5, noise: 0.1, periods: [24] })));
  return path;
}

const run = (csv: string, out: string, over: Partial<FinetuneCliOptions> = {}): FinetuneCliOptions => ({
  model: TINY, task: 'forecast', method: 'one-for-all', out, epochs: 1, batchSize: 32, write: () => {}, tty: false,
  series: { data: csv, inputLength: L, horizon: H }, ...over,
});

describe('wasmgrad finetune --task forecast and wasmgrad forecast', () => {
  it('one-for-all: trains r (positions + d) + r (N d + H), saves adapter, forecaster and test MSE/MAE; forecast writes the CSV', async () => {
    const csv = writeCsv();
    const out = tmp('o4a');
    const lines: string[] = [];
    const r = await runFinetuneCli(run(csv, out, { write: (t) => void lines.push(t) }));
    expect(r.stopped).toBe(false);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      params: { trainable: number; adapter: number }; test: { mse: number; mae: number }; mse: number; steps: number;
    };
    expect(results.params.trainable).toBe(16 * (64 + 128) + 16 * (N * 128 + H));
    expect(results.params.adapter).toBe(results.params.trainable);
    expect(results.steps).toBe(Math.round(637 / 32));
    expect(Number.isFinite(results.test.mse) && results.test.mse > 0).toBe(true);
    expect(lines.join('')).toMatch(/test: MSE \d+\.\d{4}, MAE \d+\.\d{4} \(\d+ windows\)/);
    const adapterConfig = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(adapterConfig).toMatchObject({ peft_type: 'LORA', r: 16, lora_alpha: 16, use_rslora: true, init_lora_weights: 'gaussian', target_modules: ['gpt2.wpe', 'out_layer'], modules_to_save: [] });
    const saved = JSON.parse(readFileSync(join(out, 'model', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ model_type: 'gpt4ts', architectures: ['GPT4TS'], input_length: L, horizon: H, gpt_layers: 2 });

    // The saved forecaster (adapter merged) reproduces the run's test MSE through fromPretrained.
    const model = await fromPretrained<GPT4TS>(join(out, 'model'));
    expect(model.family).toBe('gpt4ts');
    const table = W.parseSeriesCsv(readFileSync(csv, 'utf8'));
    const task = new ForecastTask({ name: 'reload', data: forecastData(table, { inputLength: L, horizon: H, split: 'ratio' }) });
    expect(task.evaluate(model, task.testBatches()).mse).toBeCloseTo(results.test.mse, 4);
    // So does `wasmgrad eval --task forecast` on it (the geometry comes from the checkpoint).
    const evaluated = await runEvalCli({ model: join(out, 'model'), task: 'forecast', series: { data: csv }, draws: 0, write: () => {} }) as { test: { mse: number } };
    expect(evaluated.test.mse).toBeCloseTo(results.test.mse, 4);

    // Forecast after row 900: 16 rows of predictions in the file's units, with the truth alongside.
    const file = join(tmp('pred'), 'f.csv');
    await runForecastCli({ model: out, data: csv, out: file, end: 900, write: () => {} });
    const rows = readFileSync(file, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('date,x0,OT,x0_true,OT_true');
    expect(rows.length).toBe(1 + H);
    expect(rows[1].split(',')[0]).toBe(table.dates[900]);
    // The CLI's numbers are the model's forecast destandardised with the training statistics.
    const d = forecastData(table, { inputLength: L, horizon: H, split: 'ratio' });
    const x = W.tensor(Array.from({ length: L * 2 }, (_, i) => (table.values[i % 2][900 - L + Math.floor(i / 2)] - d.mean[i % 2]) / d.std[i % 2]), [1, L, 2]);
    const p = W.noGrad(() => model.forward(x).logits.toArray());
    const ot0 = Number(rows[1].split(',')[2]);
    expect(ot0).toBeCloseTo(p[1] * d.std[1] + d.mean[1], 3);
    model.dispose();
    // Without --end, the forecast continues the file's hourly dates.
    await runForecastCli({ model: join(out, 'model'), data: csv, out: file, write: () => {} });
    const future = readFileSync(file, 'utf8').trim().split('\n');
    expect(future[0]).toBe('date,x0,OT');
    expect(future[1].split(',')[0]).toBe('2016-08-11 16:00:00'); // row 1000 is 2016-07-01 00:00 + 1000 h
  }, 240_000);

  it('gpt4ts method: input/output layers, LayerNorms and wpe train; --baseline adds the linear row', async () => {
    const csv = writeCsv();
    const out = tmp('gpt4ts');
    await runFinetuneCli(run(csv, out, { method: 'gpt4ts', baseline: true, series: { data: csv, inputLength: L, horizon: H, features: 'S' } }));
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      params: { trainable: number }; test: { mse: number }; baseline: { params: number; test: { mse: number } };
    };
    const d = 128;
    expect(results.params.trainable).toBe((16 * d + d) + (N * d * H + H) + 64 * d + 2 * 2 * 2 * d + 2 * d);
    expect(results.baseline.params).toBe(L * H + H);
    expect(results.baseline.test.mse).toBeGreaterThan(0);
    // The report's test table and forecast plots, with their data kept in results.json.
    const saved = results as unknown as { forecasts: { channel: string; truth: number[] }[]; baseline: { forecasts: unknown[] } };
    expect(saved.forecasts.map((f) => [f.channel, f.truth.length])).toEqual([['OT', H], ['OT', H], ['OT', H]]);
    expect(saved.baseline.forecasts).toHaveLength(3);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/## Test split[\s\S]*\| gpt4ts \|[\s\S]*\| linear \|/);
    expect(md).toMatch(/## Forecasts[\s\S]*\| test window \| channel \| steps \| gpt4ts MSE \| linear MSE \|/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/<h2>Forecasts<\/h2>/);
  }, 240_000);

  it('flag errors name the flag and what is allowed', async () => {
    const csv = writeCsv();
    const out = tmp('bad');
    await expect(runFinetuneCli(run(csv, out, { series: { data: csv, features: 'X' } }))).rejects.toThrow(/--features "X" is not allowed; use M .* or S/);
    await expect(runFinetuneCli(run(csv, out, { series: {} }))).rejects.toThrow(/--data <csv> is required/);
    await expect(runFinetuneCli(run(csv, out, { series: { data: csv, trainFraction: 0 } }))).rejects.toThrow(/--train-fraction 0 must be in \(0, 1\]/);
    await expect(runFinetuneCli(run(csv, out, { series: { data: csv, features: 'S', target: 'temp' } }))).rejects.toThrow(/--target "temp": .* columns: x0, OT/);
    await expect(runFinetuneCli(run(csv, out, { series: { data: csv, horizon: 0 } }))).rejects.toThrow(/--horizon 0 must be a positive integer/);
  });
});

describe('forecasting through the generic loop', () => {
  it('a short gpt4ts run (runFinetune + ForecastTask) lowers validation MSE on a generated seasonal series', async () => {
    const table = seasonalSeries({ length: 2000, channels: 1, seed: 3, noise: 0.1, periods: [24] });
    const task = new ForecastTask({ name: 'generated', data: forecastData(table, { inputLength: L, horizon: H, split: 'ratio' }) });
    const model = await gpt4tsFromGPT2Checkpoint(TINY, { input_length: L, horizon: H }, { generator: new W.Generator(1) });
    const before = task.evaluate(model, task.validationBatches()).mse;
    const r = await runFinetune({ model, task, method: 'gpt4ts', config: resolveFinetuneConfig({ epochs: 1, batchSize: 16 }, 'gpt4ts') });
    expect(r.steps).toBe(Math.round(task.trainExamples / 16));
    expect(r.final.mse).toBeLessThan(0.5 * before);
    r.adapted.remove();
    model.dispose();
  }, 240_000);
});

describe('the other methods on the same backbone', () => {
  it('full, grasp and stochgrasp attach to a GPT4TS with the family defaults (heads: in_layer, out_layer) and train', async () => {
    const table = seasonalSeries({ length: 600, channels: 1, seed: 2, periods: [24] });
    const task = new ForecastTask({ name: 'generated', data: forecastData(table, { inputLength: L, horizon: H, split: 'ratio' }) });
    for (const [method, layers] of [['full', 0], ['grasp', 8], ['stochgrasp', 8]] as const) {
      const model = await gpt4tsFromGPT2Checkpoint(TINY, { input_length: L, horizon: H }, { generator: new W.Generator(1) });
      const r = await runFinetune({ model, task, method, config: resolveFinetuneConfig({ epochs: 1, batchSize: 64 }, method) });
      expect(r.adapted.layers.length).toBe(layers); // 2 blocks x (c_attn, attn.c_proj, c_fc, mlp.c_proj)
      if (method !== 'full') expect(r.adapted.config.modules_to_save).toEqual(['in_layer', 'out_layer']);
      expect(Number.isFinite(r.final.mse)).toBe(true);
      r.adapted.remove();
      model.dispose();
    }
  }, 240_000);
});

describe('LoRA initialisation on embeddings', () => {
  it("'gaussian' draws the down-projection A ~ N(0, 1/r^2) and zeros B; true keeps PEFT's variant (A = 0, B ~ N(0, 1))", () => {
    const init = (how: true | 'gaussian') => {
      const emb = new W.Embedding(256, 32);
      const holder = new (class extends W.Module {
        readonly wpe = emb;
      })();
      const adapted = W.applyAdapter(holder, { peft_type: 'LORA', r: 8, target_modules: ['wpe'], init_lora_weights: how });
      const [[, a], [, b]] = adapted.layers[0].params;
      const out = { a: Array.from(a.toArray()), b: Array.from(b.toArray()), names: adapted.layers[0].params.map(([k]) => k) };
      holder.dispose();
      adapted.remove();
      return out;
    };
    const std = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    const g = init('gaussian');
    expect(g.names).toEqual(['lora_embedding_A', 'lora_embedding_B']); // PEFT's names and shapes either way
    expect(g.b.every((v) => v === 0)).toBe(true);
    expect(std(g.a)).toBeGreaterThan(0.8 / 8);
    expect(std(g.a)).toBeLessThan(1.2 / 8);
    const p = init(true);
    expect(p.a.every((v) => v === 0)).toBe(true);
    expect(std(p.b)).toBeGreaterThan(0.8);
  });
});
