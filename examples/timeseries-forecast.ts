/**
 * Long-term forecasting on an ETT-style CSV (or a generated seasonal series): the linear baseline,
 * GPT4TS and One-for-All on the tiny pretrained GPT-2, trained with AdamW on random training windows, model
 * chosen by validation MSE, test MSE/MAE on standardised values.
 *
 *   node dist/examples/timeseries-forecast.js [--data path.csv] [--horizon 96] [--input-length 336]
 *       [--steps 300] [--batch 16] [--lr 1e-3] [--features S|M] [--models linear,gpt4ts,one-for-all]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as W from '../src/index.js';
import { gpt4tsFromGPT2Checkpoint } from '../src/node/index.js';
import {
  applyTrainableRule, evaluateForecast, forecastData, isGPT4TSTrainable, LinearForecaster, oneForAllLora, parseSeriesCsv, seasonalSeries,
  type ForecastOutput, type WindowSet,
} from '../src/timeseries/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

interface Trainable { forward(x: W.Tensor): ForecastOutput; parameters(): W.Tensor[] }

function train(name: string, model: Trainable, params: W.Tensor[], train: WindowSet, val: WindowSet, steps: number, batch: number, lr: number, evalEvery: number) {
  const opt = new W.AdamW(params, { lr, weightDecay: 0 });
  let seed = 12345;
  const next = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  let best = { mse: Infinity, step: 0 };
  let bestState: Float32Array[] | null = null; // the trainable tensors' values at the best validation MSE
  const t0 = Date.now();
  for (let step = 1; step <= steps; step++) {
    const loss = W.tidy(() => {
      const { x, y } = train.batch(Array.from({ length: batch }, () => Math.floor(next() * train.length)));
      const p = model.forward(x).prediction;
      const l = W.mean(W.square(W.sub(p, y)));
      l.backward();
      opt.step();
      opt.zeroGrad();
      return l.item();
    });
    if (step % evalEvery === 0 || step === steps) {
      const v = evaluateForecast(model, val, { batchSize: 64, stride: Number(arg('val-stride', '4')) });
      if (v.mse < best.mse) {
        best = { mse: v.mse, step };
        bestState = params.map((p) => Float32Array.from(p.toArray()));
      }
      console.log(`${name} step ${step} train ${loss.toFixed(4)} val mse ${v.mse.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
  }
  if (bestState) params.forEach((p, i) => p.backend.write(p.buf, bestState![i]));
  return best;
}

async function main() {
  const data = arg('data', '');
  const L = Number(arg('input-length', '336'));
  const H = Number(arg('horizon', '96'));
  const steps = Number(arg('steps', '300'));
  const batch = Number(arg('batch', '16'));
  const lr = Number(arg('lr', '1e-3'));
  const features = arg('features', 'S') as 'S' | 'M';
  const models = arg('models', 'linear,gpt4ts').split(',');
  const table = data ? parseSeriesCsv(readFileSync(data, 'utf8'), { source: data }) : seasonalSeries({ length: 14400, channels: 1, seed: 1, noise: 0.3 });
  const d = forecastData(table, { inputLength: L, horizon: H, features });
  console.log(`${data || 'generated'}: channels ${d.channels.join(',')}; windows train ${d.train.length}, val ${d.val.length}, test ${d.test.length}`);
  const rows: string[] = [];
  for (const kind of models) {
    const model: Trainable = kind === 'linear'
      ? new LinearForecaster({ input_length: L, horizon: H })
      : await gpt4tsFromGPT2Checkpoint(join(import.meta.dirname, '..', '..', 'examples', 'checkpoints', 'tiny-gpt2'), { input_length: L, horizon: H, gpt_layers: 2 });
    let params = model.parameters();
    if (kind === 'gpt4ts') {
      applyTrainableRule(model as unknown as W.Module, isGPT4TSTrainable);
      params = params.filter((p) => p.requiresGrad);
    } else if (kind === 'one-for-all') {
      params = W.applyAdapter(model as unknown as W.Module, oneForAllLora(16, 16)).trainableParameters();
    }
    const t0 = Date.now();
    const best = train(kind, model, params, d.train, d.val, steps, batch, lr, Number(arg('eval-every', String(Math.max(1, Math.floor(steps / 6))))));
    const test = evaluateForecast(model, d.test, { batchSize: 64 });
    rows.push(`| ${kind} | ${params.reduce((n, p) => n + p.size, 0).toLocaleString('en')} | ${best.step} | ${best.mse.toFixed(4)} | ${test.mse.toFixed(4)} | ${test.mae.toFixed(4)} | ${((Date.now() - t0) / 1000).toFixed(0)} s |`);
  }
  console.log(`| model | trainable | best step | val MSE (every ${arg('val-stride', '4')}th window) | test MSE | test MAE | time |\n|---|---|---|---|---|---|---|`);
  console.log(rows.join('\n'));
}

await main();
