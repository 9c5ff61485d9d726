/**
 * RoBERTa's encoder layer as its checkpoint names it (`encoder.layer.{i}.{attention.self.{query,key,value},
 * attention.output.{dense,LayerNorm}, intermediate.dense, output.{dense,LayerNorm}}`): post-LN,
 * LN(x + attn(x)), then LN(. + ffn(.)). The attention core is shared (src/nn/attention.ts).
 */
import type { Tensor } from '../../tensor/tensor.js';
import { add } from '../../ops/elementwise.js';
import { attend, mergeHeads, splitHeads, type AttentionMask, type AttentionOptions } from '../../nn/attention.js';
import { ACTIVATIONS, type BlockOptions } from '../../nn/mlp.js';
import { Dropout, LayerNorm, Linear } from '../../nn/layers.js';
import { Module } from '../../nn/module.js';

/** BERT/RoBERTa self-attention (`attention.self`): separate `query`, `key`, `value` Linear layers. */
export class SelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly dropout: Dropout;

  constructor(readonly hidden: number, readonly nHead: number, o: AttentionOptions = {}) {
    super();
    if (hidden % nHead !== 0) throw new Error(`SelfAttention: hidden_size ${hidden} is not divisible by num_attention_heads ${nHead}`);
    const init = { generator: o.generator, std: o.std };
    this.query = new Linear(hidden, hidden, init);
    this.key = new Linear(hidden, hidden, init);
    this.value = new Linear(hidden, hidden, init);
    this.dropout = new Dropout(o.attnPdrop ?? 0, o.generator);
  }

  /** x (B, T, C) -> context (B, T, C) before the output projection. */
  forward(x: Tensor, mask: AttentionMask | Tensor | null = null): Tensor {
    const q = splitHeads(this.query.forward(x), this.nHead); // (B, nh, T, hs)
    const k = splitHeads(this.key.forward(x), this.nHead);
    const v = splitHeads(this.value.forward(x), this.nHead);
    return mergeHeads(attend(q, k, v, mask, this.dropout)); // (B, T, C)
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

  forward(x: Tensor, mask: AttentionMask | Tensor | null): Tensor {
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

  /** x (B, T, C) -> (B, T, C); mask from attentionMask (non-causal). */
  forward(x: Tensor, mask: AttentionMask | Tensor | null = null): Tensor {
    const a = this.attention.forward(x, mask);
    return this.output.forward(this.intermediate.forward(a), a);
  }
}
