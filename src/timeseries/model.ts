/**
 * GPT4TS (Zhou et al. 2023, "One Fits All"), the pipeline One-for-All fine-tunes:
 *   x (B, L, M) -> instance norm -> channel independence + patching (B*M, N, P)
 *   -> in_layer Linear(P, d) -> + wpe, the first k GPT-2 blocks, ln_f -> flatten (B*M, N*d)
 *   -> out_layer Linear(N*d, H) -> (B, H, M) -> inverse instance norm.
 * Parameter names are those of the PyTorch GPT4TS module's state dict: `in_layer.{weight,bias}`,
 * `gpt2.wpe.weight`, `gpt2.h.{i}.*`, `gpt2.ln_f.*`, `out_layer.{weight,bias}`. The token embedding
 * `gpt2.wte` is never used on series and is not kept (it is skipped when loading such a state dict).
 */
import { tensor } from '../ops/create.js';
import { add, square, sub } from '../ops/elementwise.js';
import { Generator } from '../ops/random.js';
import { mean } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { noGrad } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { GPT4TSConfig, type GPT4TSConfigData } from './config.js';
import {
  attentionMask, Dropout, Embedding, GPT2LMHeadModel, LayerNorm, Linear, Module, ModuleList, PreLNBlock,
  type GPT2ConfigData, type PreparedState, type StateValue,
} from './gpt2-parts.js';
import { instanceDenorm, instanceNorm, patchify, unchannel, type NormStats } from './pipeline.js';

/** GPT-2 without token embeddings: inputs are embeddings, positions are added from `wpe`. */
export class GPT2Backbone extends Module {
  readonly wpe: Embedding;
  readonly drop: Dropout;
  readonly h: ModuleList<PreLNBlock>;
  readonly ln_f: LayerNorm;

  constructor(readonly c: GPT2ConfigData, layers: number, generator: Generator) {
    super();
    const std = c.initializer_range;
    this.wpe = new Embedding(c.n_positions, c.n_embd, { generator, std });
    this.drop = new Dropout(c.embd_pdrop, generator);
    const o = {
      generator, std, projStd: std / Math.sqrt(2 * c.n_layer), attnPdrop: c.attn_pdrop, residPdrop: c.resid_pdrop,
      layerNormEps: c.layer_norm_epsilon, activation: c.activation_function,
    };
    const inner = c.n_inner ?? 4 * c.n_embd;
    this.h = new ModuleList(Array.from({ length: layers }, () => new PreLNBlock(c.n_embd, c.n_head, inner, o)));
    this.ln_f = new LayerNorm(c.n_embd, c.layer_norm_epsilon);
  }

  /** embeds (N, T, d) -> hidden states (N, T, d), causal as GPT-2 (HF GPT2Model with inputs_embeds). */
  forward(embeds: Tensor): Tensor {
    const [N, T] = embeds.shape;
    if (T > this.c.n_positions) throw new Error(`GPT2Backbone: ${T} positions exceed n_positions = ${this.c.n_positions}`);
    const positions = tensor(Array.from({ length: T }, (_, i) => i), [T], { dtype: 'int32', backend: embeds.backend });
    let x = this.drop.forward(add(embeds, this.wpe.forward(positions))); // (N, T, d) + (T, d)
    const mask = attentionMask({ batch: N, queryLength: T, causal: true });
    for (const block of this.h) x = block.forward(x, { mask }).hidden;
    return this.ln_f.forward(x);
  }
}

export interface ForecastOutput {
  /** (B, H, M), in the input's units (instance normalisation inverted). */
  prediction: Tensor;
  /** The same tensor under the name every family's forward returns (the head's raw output). */
  logits: Tensor;
}

/**
 * What every GPT4TS head shares: the input projection, the backbone and the output layer, with the
 * state-dict names of the PyTorch module. Subclasses differ in the output layer's width and in what
 * they make of its output (a forecast, or class logits).
 */
export abstract class GPT4TSBase extends Module {
  /** Its entry in the family table (src/models/families.ts). */
  readonly family = 'gpt4ts' as const;
  readonly config: GPT4TSConfig;
  readonly in_layer: Linear;
  readonly gpt2: GPT2Backbone;
  readonly out_layer: Linear;

  /** Fresh weights (normal(0, initializer_range), zero biases); `outputs` is the output layer's width. */
  protected constructor(config: GPT4TSConfig, outputs: number, generator: Generator) {
    super();
    this.config = config.validate();
    const c = this.config;
    const std = c.gpt2.initializer_range;
    this.in_layer = new Linear(c.patch_size, c.dModel, { generator, std });
    this.gpt2 = new GPT2Backbone(c.gpt2, c.gpt_layers, generator);
    this.out_layer = new Linear(c.dModel * c.numPatches, outputs, { generator, std });
  }

  /** x (B, L, M) -> `{ logits }` (the forecast, or class scores). */
  abstract forward(x: Tensor): { logits: Tensor };

  /**
   * x (B, L, M) -> the output layer applied to each channel's flattened patch states (B*M, outputs),
   * and the instance-norm statistics to invert.
   */
  protected head(x: Tensor, who: string): { y: Tensor; stats: NormStats } {
    const c = this.config;
    if (x.rank !== 3 || x.shape[1] !== c.input_length) {
      throw new Error(`${who}.forward: x ${x.describe()} must be [batch, input_length = ${c.input_length}, channels]`);
    }
    const { x: xn, stats } = instanceNorm(x, c.norm_eps);
    const patches = patchify(xn, c.patch_size, c.stride); // (B*M, N, P)
    const h = this.gpt2.forward(this.in_layer.forward(patches)); // (B*M, N, d)
    const flat = reshape(h, [h.shape[0], c.numPatches * c.dModel]); // (B*M, N*d)
    return { y: this.out_layer.forward(flat), stats }; // (B*M, outputs)
  }

  /** Accepts a PyTorch GPT4TS state dict: drops `gpt2.wte.weight` and GPT-2's legacy attention-mask buffers. */
  protected override prepareStateDict(state: Map<string, StateValue>): PreparedState {
    const out = new Map<string, StateValue>();
    const ignored: string[] = [];
    for (const [k, t] of state) {
      if (k === 'gpt2.wte.weight' || /\.attn\.(masked_)?bias$/.test(k)) ignored.push(k);
      else out.set(k, t);
    }
    return { state: out, ignored };
  }

  /** Copies the first `gpt_layers` blocks of `lm` (with its wpe and ln_f) into this model's backbone. */
  loadBackbone(lm: GPT2LMHeadModel): this {
    // The backbone's keys are the LM's without wte and without the blocks past gpt_layers.
    const state = new Map<string, Tensor>();
    for (const [k, t] of lm.transformer.namedParameters()) {
      const block = /^h\.(\d+)\./.exec(k);
      if (k !== 'wte.weight' && !(block && Number(block[1]) >= this.config.gpt_layers)) state.set(k, t);
    }
    this.gpt2.loadStateDict(state);
    return this;
  }
}

/** Forecasting (and reconstruction, with horizon = input_length): x (B, L, M) -> (B, H, M). */
export class GPT4TS extends GPT4TSBase {
  /** Fresh weights; use {@link GPT4TS.fromGPT2} for a pretrained backbone. */
  constructor(config: GPT4TSConfig | (Partial<Omit<GPT4TSConfigData, 'gpt2'>> & { gpt2?: Partial<GPT2ConfigData> }), opts: { generator?: Generator } = {}) {
    const c = config instanceof GPT4TSConfig ? config : new GPT4TSConfig(config);
    super(c, c.horizon, opts.generator ?? new Generator(0));
  }

  /**
   * A model whose backbone is the first `gpt_layers` blocks of `lm` (with its wpe and ln_f); the
   * input and output layers start fresh. `lm` is left untouched (weights are copied).
   */
  static fromGPT2(lm: GPT2LMHeadModel, config: Partial<Omit<GPT4TSConfigData, 'gpt2'>> = {}, opts: { generator?: Generator } = {}): GPT4TS {
    return new GPT4TS(new GPT4TSConfig({ ...config, gpt2: lm.config }), opts).loadBackbone(lm);
  }

  /** x (B, L, M) -> the forecast (B, H, M). */
  forward(x: Tensor): ForecastOutput {
    const { y, stats } = this.head(x, 'GPT4TS');
    const prediction = instanceDenorm(unchannel(y, x.shape[0]), stats); // (B*M, H) -> (B, H, M)
    return { prediction, logits: prediction };
  }

  /** Mean squared error of the forecast against y (B, H, M). */
  loss(x: Tensor, y: Tensor): Tensor {
    return mseLoss(this.forward(x).prediction, y);
  }
}

/** mean (prediction - y)^2 with a shape check naming both. */
export function mseLoss(prediction: Tensor, y: Tensor): Tensor {
  if (prediction.shape.join() !== y.shape.join()) {
    throw new Error(`mseLoss: prediction ${prediction.describe()} and target ${y.describe()} differ in shape`);
  }
  return mean(square(sub(prediction, y)));
}

/** Runs `model` without gradients over x and returns plain numbers (for evaluation loops). */
export function predict(model: { forward(x: Tensor): ForecastOutput }, x: Tensor): Float32Array {
  return noGrad(() => Float32Array.from(model.forward(x).prediction.toArray()));
}
