/**
 * GPT4TS for series classification: the forecaster's pipeline up to the output layer, which maps each
 * channel's flattened patch states to class scores, Linear(N d, num_labels); the channels' scores are
 * averaged into the series' logits (B, C). Averaging over channels (rather than GPT4TS's flatten of
 * every channel into one Linear(M N d, C)) keeps the head independent of the channel count, so
 * One-for-All's trainable count r (n_positions + d) + r (N d + C) holds as for forecasting.
 */
import { Generator } from '../ops/random.js';
import { mean } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { GPT4TSConfig, type GPT4TSConfigData } from './config.js';
import type { GPT2ConfigData, GPT2LMHeadModel } from './gpt2-parts.js';
import { GPT4TSBase } from './model.js';

export class GPT4TSForClassification extends GPT4TSBase {
  /** Fresh weights; config.num_labels (>= 2) classes. */
  constructor(config: GPT4TSConfig | (Partial<Omit<GPT4TSConfigData, 'gpt2'>> & { gpt2?: Partial<GPT2ConfigData> }), opts: { generator?: Generator } = {}) {
    const c = config instanceof GPT4TSConfig ? config : new GPT4TSConfig(config);
    if (c.num_labels < 2) throw new Error(`GPT4TSForClassification: num_labels = ${c.num_labels}; set the number of classes (>= 2) in the config`);
    super(c, c.num_labels, opts.generator ?? new Generator(0));
  }

  /** The classifier on the first `gpt_layers` blocks of `lm`; input and output layers fresh. */
  static fromGPT2(lm: GPT2LMHeadModel, config: Partial<Omit<GPT4TSConfigData, 'gpt2'>> = {}, opts: { generator?: Generator } = {}): GPT4TSForClassification {
    return new GPT4TSForClassification(new GPT4TSConfig({ ...config, gpt2: lm.config }), opts).loadBackbone(lm);
  }

  /** x (B, L, M) -> class logits (B, C). */
  forward(x: Tensor): { logits: Tensor } {
    const [B, , M] = x.shape;
    const { y } = this.head(x, 'GPT4TSForClassification'); // (B*M, C), scores of normalised inputs
    return { logits: mean(reshape(y, [B, M, this.config.num_labels]), 1) }; // (B, M, C) -> (B, C)
  }
}
