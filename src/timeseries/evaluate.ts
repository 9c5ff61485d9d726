/** Forecast evaluation over every window of a split, in batches, without gradients. */
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { WindowSet } from './dataset.js';
import type { ForecastOutput } from './model.js';

export interface ForecastScores {
  /** Mean over windows, steps and channels, on standardised values (the papers' convention). */
  mse: number;
  mae: number;
  windows: number;
}

/** MSE and MAE of `model` on windows [0, limit) (all by default) of `set`. */
export function evaluateForecast(
  model: { forward(x: Tensor): ForecastOutput }, set: WindowSet, opts: { batchSize?: number; limit?: number; stride?: number } = {},
): ForecastScores {
  const bs = opts.batchSize ?? 32;
  const stride = opts.stride ?? 1;
  const n = Math.min(opts.limit ?? set.length, set.length);
  const idx: number[] = [];
  for (let i = 0; i < n; i += stride) idx.push(i);
  let se = 0;
  let ae = 0;
  let count = 0;
  for (let s = 0; s < idx.length; s += bs) {
    tidy(() => noGrad(() => {
      const { x, y } = set.batch(idx.slice(s, s + bs));
      const p = model.forward(x).prediction.toArray();
      const t = y.toArray();
      for (let i = 0; i < t.length; i++) {
        const d = p[i] - t[i];
        se += d * d;
        ae += Math.abs(d);
      }
      count += t.length;
    }));
  }
  return { mse: se / count, mae: ae / count, windows: idx.length };
}
