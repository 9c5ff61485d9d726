/**
 * Transformer blocks in the two layouts of the Hugging Face checkpoints:
 * - pre-LN (GPT-2): x + attn(ln_1(x)), then + mlp(ln_2(.)); names `ln_1`, `attn`, `ln_2`, `mlp`.
 * - post-LN (BERT/RoBERTa): LN(x + attn(x)), then LN(. + ffn(.)); names `attention.self`,
 *   `attention.output.{dense,LayerNorm}`, `intermediate.dense`, `output.{dense,LayerNorm}`.
 */
import type { Tensor } from '../tensor/tensor.js';
import { add, gelu, relu } from '../ops/elementwise.js';
import type { Generator } from '../ops/random.js';
import { CausalSelfAttention, SelfAttention, type AttentionCall, type LayerPast } from './attention.js';
import { Conv1D, Dropout, LayerNorm, Linear } from './layers.js';
import { Module } from './module.js';

/** Activations by their HF config name: 'gelu' is the exact erf form, 'gelu_new' the tanh form. */
export type Activation = 'gelu' | 'gelu_new' | 'relu';
export const ACTIVATIONS: { [K in Activation]: (x: Tensor) => Tensor } = {
  gelu: (x) => gelu(x, 'none'),
  gelu_new: (x) => gelu(x, 'tanh'),
  relu,
};

export interface BlockOptions {
  generator?: Generator;
  std?: number;
  projStd?: number;
  attnPdrop?: number;
  residPdrop?: number;
  layerNormEps?: number;
  activation?: Activation;
}

/** GPT-2's feed-forward: c_fc (C -> inner), activation, c_proj (inner -> C), dropout. */
export class MLP extends Module {
  readonly c_fc: Conv1D;
  readonly c_proj: Conv1D;
  readonly dropout: Dropout;

  constructor(nEmbd: number, inner: number, readonly o: BlockOptions = {}) {
    super();
    this.c_fc = new Conv1D(nEmbd, inner, { generator: o.generator, std: o.std });
    this.c_proj = new Conv1D(inner, nEmbd, { generator: o.generator, std: o.projStd ?? o.std });
    this.dropout = new Dropout(o.residPdrop ?? 0, o.generator);
  }

  forward(x: Tensor): Tensor {
    const h = ACTIVATIONS[this.o.activation ?? 'gelu_new'](this.c_fc.forward(x)); // (B, T, inner)
    return this.dropout.forward(this.c_proj.forward(h)); // (B, T, C)
  }
}

/** Pre-LN decoder block (GPT-2). */
export class PreLNBlock extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLP;

  constructor(nEmbd: number, nHead: number, inner: number, o: BlockOptions = {}) {
    super();
    this.ln_1 = new LayerNorm(nEmbd, o.layerNormEps);
    this.attn = new CausalSelfAttention(nEmbd, nHead, o);
    this.ln_2 = new LayerNorm(nEmbd, o.layerNormEps);
    this.mlp = new MLP(nEmbd, inner, o);
  }

  forward(x: Tensor, call: AttentionCall = {}): { hidden: Tensor; present: LayerPast | null } {
    const a = this.attn.forward(this.ln_1.forward(x), call);
    const h = add(x, a.out); // (B, T, C)
    return { hidden: add(h, this.mlp.forward(this.ln_2.forward(h))), present: a.present };
  }
}

/** dense -> dropout -> LayerNorm(. + residual): BERT's `attention.output` and `output`. */
export class ResidualOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(inF: number, outF: number, o: BlockOptions = {}) {
    super();
    this.dense = new Linear(inF, outF, { generator: o.generator, std: o.std });
    this.LayerNorm = new LayerNorm(outF, o.layerNormEps);
    this.dropout = new Dropout(o.residPdrop ?? 0, o.generator);
  }

  forward(h: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(h)), residual));
  }
}

/** BERT's `attention`: `self` (q/k/v) and `output` (projection, residual, LayerNorm). */
export class PostLNAttention extends Module {
  readonly self: SelfAttention;
  readonly output: ResidualOutput;

  constructor(hidden: number, nHead: number, o: BlockOptions = {}) {
    super();
    this.self = new SelfAttention(hidden, nHead, o);
    this.output = new ResidualOutput(hidden, hidden, o);
  }

  forward(x: Tensor, mask: Tensor | null): Tensor {
    return this.output.forward(this.self.forward(x, mask), x);
  }
}

/** BERT's `intermediate`: dense (C -> inner) and the activation. */
export class Intermediate extends Module {
  readonly dense: Linear;

  constructor(hidden: number, inner: number, readonly o: BlockOptions = {}) {
    super();
    this.dense = new Linear(hidden, inner, { generator: o.generator, std: o.std });
  }

  forward(x: Tensor): Tensor {
    return ACTIVATIONS[this.o.activation ?? 'gelu'](this.dense.forward(x)); // (B, T, inner)
  }
}

/** Post-LN encoder layer (BERT/RoBERTa `encoder.layer.{i}`). */
export class PostLNBlock extends Module {
  readonly attention: PostLNAttention;
  readonly intermediate: Intermediate;
  readonly output: ResidualOutput;

  constructor(hidden: number, nHead: number, inner: number, o: BlockOptions = {}) {
    super();
    this.attention = new PostLNAttention(hidden, nHead, o);
    this.intermediate = new Intermediate(hidden, inner, o);
    this.output = new ResidualOutput(inner, hidden, o);
  }

  /** x (B, T, C) -> (B, T, C); mask from attentionBlockMask (non-causal). */
  forward(x: Tensor, mask: Tensor | null = null): Tensor {
    const a = this.attention.forward(x, mask);
    return this.output.forward(this.intermediate.forward(a), a);
  }
}
