/**
 * The linear baseline (Zeng et al. 2023, "Linear"): one Linear(L, H) from the input window to the
 * horizon, shared by every channel and applied to each on its own. A strong floor on ETT.
 */
import { Generator } from '../ops/random.js';
import { permute } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { Linear, Module } from './gpt2-parts.js';
import { mseLoss, type ForecastOutput } from './model.js';

export interface LinearForecasterConfig {
  input_length: number;
  horizon: number;
}

export class LinearForecaster extends Module {
  readonly Linear: Linear;

  constructor(readonly config: LinearForecasterConfig, opts: { generator?: Generator } = {}) {
    super();
    for (const k of ['input_length', 'horizon'] as const) {
      if (!Number.isInteger(config[k]) || config[k] < 1) throw new Error(`LinearForecaster: ${k} = ${config[k]} must be a positive integer`);
    }
    this.Linear = new Linear(config.input_length, config.horizon, { generator: opts.generator ?? new Generator(0), std: 1 / config.input_length });
  }

  /** x (B, L, M) -> (B, H, M) */
  forward(x: Tensor): ForecastOutput {
    if (x.rank !== 3 || x.shape[1] !== this.config.input_length) {
      throw new Error(`LinearForecaster.forward: x ${x.describe()} must be [batch, input_length = ${this.config.input_length}, channels]`);
    }
    const y = this.Linear.forward(permute(x, [0, 2, 1])); // (B, M, L) -> (B, M, H)
    const prediction = permute(y, [0, 2, 1]);
    return { prediction, logits: prediction };
  }

  loss(x: Tensor, y: Tensor): Tensor {
    return mseLoss(this.forward(x).prediction, y);
  }
}
