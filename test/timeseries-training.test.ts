/**
 * Time-series training with a plain AdamW loop (not the shared Trainer): a short run of GPT4TS on
 * the pretrained tiny GPT-2 and of the linear baseline lowers validation MSE on a generated seasonal
 * series; a GPT4TS reconstructing clean windows finds injected spikes (point-adjusted F1); the
 * trainable sets of GPT4TS and One-for-All (LoRA from src/adapters) have the published counts.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { applyAdapter } from '../src/adapters/index.js';
import { gpt4tsFromGPT2Checkpoint } from '../src/node/index.js';
import {
  applyTrainableRule, evaluateForecast, forecastData, GPT4TS, injectSpikes, isGPT4TSTrainable, LinearForecaster, oneForAllLora,
  oneForAllParameterCount, pointAdjustedScores, seasonalSeries, type ForecastOutput, type WindowSet,
} from '../src/timeseries/index.js';
import { mulberry32 } from './helpers.js';

const TINY = join(import.meta.dirname, '..', 'examples', 'checkpoints', 'tiny-gpt2');

/** `steps` AdamW steps on random training windows; x -> target(x, y). */
function fit(model: { forward(x: W.Tensor): ForecastOutput }, params: W.Tensor[], set: WindowSet, steps: number, o: { batch?: number; lr?: number; reconstruct?: boolean } = {}): void {
  const opt = new W.AdamW(params, { lr: o.lr ?? 1e-3, weightDecay: 0 });
  const u = mulberry32(7);
  for (let s = 0; s < steps; s++) {
    W.tidy(() => {
      const { x, y } = set.batch(Array.from({ length: o.batch ?? 8 }, () => Math.floor(u() * set.length)));
      const l = W.mean(W.square(W.sub(model.forward(x).prediction, o.reconstruct ? x : y)));
      l.backward();
      opt.step();
      opt.zeroGrad();
    });
  }
}

describe('forecasting on a generated seasonal series', () => {
  const table = seasonalSeries({ length: 14400, channels: 2, seed: 3, noise: 0.2 });
  const d = forecastData(table, { inputLength: 96, horizon: 24 });

  it('GPT4TS (pretrained tiny GPT-2, GPT4TS trainable set) and the linear baseline lower validation MSE', async () => {
    const model = await gpt4tsFromGPT2Checkpoint(TINY, { input_length: 96, horizon: 24, gpt_layers: 2 }, { generator: new W.Generator(1) });
    const trainable = applyTrainableRule(model, isGPT4TSTrainable);
    const before = evaluateForecast(model, d.val, { stride: 8, batchSize: 64 });
    fit(model, model.parameters().filter((p) => p.requiresGrad), d.train, 150);
    const after = evaluateForecast(model, d.val, { stride: 8, batchSize: 64 });
    expect(trainable.length).toBe(2 + 2 + 1 + 2 * 4 + 2); // in_layer, out_layer, wpe, 2 blocks x (ln_1, ln_2), ln_f
    expect(after.mse).toBeLessThan(0.5 * before.mse);
    model.dispose();

    const linear = new LinearForecaster({ input_length: 96, horizon: 24 });
    const lb = evaluateForecast(linear, d.val, { stride: 8, batchSize: 64 });
    fit(linear, linear.parameters(), d.train, 150);
    const la = evaluateForecast(linear, d.val, { stride: 8, batchSize: 64 });
    expect(la.mse).toBeLessThan(0.5 * lb.mse);
    linear.dispose();
  }, 240_000);
});

describe('anomaly detection by reconstruction', () => {
  it('finds injected spikes: point-adjusted F1 with the threshold from validation errors', async () => {
    const L = 48;
    const clean = seasonalSeries({ length: 4000, channels: 1, seed: 4, noise: 0.2, trend: 0 });
    const d = forecastData(clean, { inputLength: L, horizon: 1, split: 'ratio' });
    const model = await gpt4tsFromGPT2Checkpoint(TINY, { input_length: L, horizon: L, gpt_layers: 2 }, { generator: new W.Generator(2) });
    applyTrainableRule(model, isGPT4TSTrainable);
    fit(model, model.parameters().filter((p) => p.requiresGrad), d.train, 200, { reconstruct: true, lr: 2e-3 });
    /** Squared reconstruction error per step over non-overlapping windows of a standardised series. */
    const scores = (v: ArrayLike<number>): Float64Array => {
      const out = new Float64Array(Math.floor(v.length / L) * L);
      for (let s = 0; s + L <= v.length; s += L) {
        W.tidy(() => W.noGrad(() => {
          const x = W.tensor(Array.from({ length: L }, (_, t) => v[s + t]), [1, L, 1]);
          const p = model.forward(x).prediction.toArray();
          for (let t = 0; t < L; t++) out[s + t] = (p[t] - v[s + t]) ** 2;
        }));
      }
      return out;
    };
    const val = d.val.data.subarray(L); // the val rows proper (without the input-length overlap)
    const testClean = d.test.data.subarray(L);
    const { values, labels } = injectSpikes(testClean, { count: 8, magnitude: 5, seed: 5 });
    const s = scores(values);
    const gold = labels.subarray(0, s.length);
    const r = pointAdjustedScores(s, gold, scores(val), 1);
    const spikes = gold.reduce((n, v) => n + v, 0);
    expect(spikes).toBeGreaterThan(4);
    // Every spike scores above the threshold, and the spikes are the highest scores of the series.
    expect(r.recall).toBe(1);
    const top = [...s.keys()].sort((i, j) => s[j] - s[i]).slice(0, spikes);
    expect(top.every((i) => gold[i] === 1)).toBe(true);
    // Precision is limited by the other steps of a spiked window (the spike shifts the window's
    // normalisation and the head mixes every patch), yet F1 is far above flagging 1% at random (~0.02).
    expect(r.f1).toBeGreaterThan(0.2);
    model.dispose();
  }, 240_000);
});

describe('trainable sets', () => {
  it('One-for-All: LoRA from src/adapters on wpe and out_layer trains r (positions + d) + r (N d + H)', async () => {
    const model = await gpt4tsFromGPT2Checkpoint(TINY, { input_length: 336, horizon: 96, gpt_layers: 2 });
    const adapted = applyAdapter(model, oneForAllLora(16, 16));
    const count = adapted.trainableParameters().reduce((n, t) => n + t.size, 0);
    // tiny GPT-2: 64 positions, d = 128, 42 patches
    expect(count).toBe(16 * (64 + 128) + 16 * (42 * 128 + 96));
    expect(count).toBe(oneForAllParameterCount(model.config, 16));
    expect(adapted.layers.map((l) => l.name)).toEqual(['gpt2.wpe', 'out_layer']);
    // The adapter starts as the identity: the same forecast as the base model.
    W.tidy(() => {
      const x = W.tensor(Array.from({ length: 336 }, (_, t) => Math.sin(t / 5)), [1, 336, 1]);
      model.eval();
      const a = model.forward(x).prediction.toArray();
      adapted.merge();
      const b = model.forward(x).prediction.toArray();
      adapted.unmerge();
      b.forEach((v, i) => expect(v).toBeCloseTo(a[i], 4));
    });
    model.dispose();
  });

  it('One-for-All at GPT-2 small geometry (1024 positions, d 768, L 336, H 96, r 16) is 546,304', () => {
    const model = new GPT4TS({ input_length: 336, horizon: 96, gpt_layers: 1, gpt2: { resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 } });
    const adapted = applyAdapter(model, oneForAllLora());
    expect(adapted.trainableParameters().reduce((n, t) => n + t.size, 0)).toBe(546_304);
    expect(oneForAllParameterCount(model.config)).toBe(546_304);
    model.dispose();
  }, 60_000);

  it('GPT4TS: input/output layers, wpe and every LayerNorm; attention and FFN frozen', () => {
    const model = new GPT4TS({ input_length: 24, horizon: 8, gpt_layers: 2, gpt2: { n_embd: 8, n_head: 2, n_layer: 3, n_positions: 8, vocab_size: 5 } });
    const names = applyTrainableRule(model, isGPT4TSTrainable);
    expect(names).toEqual([
      'in_layer.weight', 'in_layer.bias', 'gpt2.wpe.weight',
      'gpt2.h.0.ln_1.weight', 'gpt2.h.0.ln_1.bias', 'gpt2.h.0.ln_2.weight', 'gpt2.h.0.ln_2.bias',
      'gpt2.h.1.ln_1.weight', 'gpt2.h.1.ln_1.bias', 'gpt2.h.1.ln_2.weight', 'gpt2.h.1.ln_2.bias',
      'gpt2.ln_f.weight', 'gpt2.ln_f.bias', 'out_layer.weight', 'out_layer.bias',
    ]);
    expect(model.numParameters({ trainableOnly: true })).toBe((16 * 8 + 8) + 8 * 8 + 5 * 16 + (3 * 8 * 8 + 8)); // patch 16 -> 3 patches of L = 24
    model.dispose();
  });
});
