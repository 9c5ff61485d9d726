/**
 * RoBERTa's encoder layer as its checkpoint names it (`encoder.layer.{i}.{attention.self.{query,key,value},
 * attention.output.{dense,LayerNorm}, intermediate.dense, output.{dense,LayerNorm}}`): post-LN,
 * LN(x + attn(x)), then LN(. + ffn(.)). The attention core is shared (src/nn/attention.ts).
 *
 * `firstOnly`: the layer computes only position 0 (the `<s>` row a sequence classifier reads). Keys
 * and values still come from every position; the query, the attention output, both residuals, layer
 * norms and the feed-forward run on one row per sequence, (B, T, C) -> (B, 1, C). Every op is row by
 * row after the keys and values, and the dropouts take row 0 of the whole tensors' masks, so the
 * result is row 0 of the full layer's and the parameters' gradients are the same sums (rows other
 * than 0 contribute exact zeros to them in the full layer). Only valid when the hooks on the query,
 * the output projections and the feed-forward are row-local ({@link PostLNBlock.canComputeFirstOnly}).
 */
import { Tensor } from '../../tensor/tensor.js';
import { add } from '../../ops/elementwise.js';
import { attend, mergeHeads, splitHeads, type AttentionMask, type AttentionOptions } from '../../nn/attention.js';
import { ACTIVATIONS, type BlockOptions } from '../../nn/mlp.js';
import { Dropout, LayerNorm, Linear, rowLocalAdapters } from '../../nn/layers.js';
import { slice } from '../../ops/shape.js';
import { Module } from '../../nn/module.js';

/** (B, T, C) -> (B, 1, C): position 0 of each sequence. */
function firstRow(x: Tensor): Tensor {
  return slice(x, [0, 0, 0], [x.shape[0], 1, x.shape[2]]);
}

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

  /** x (B, T, C) -> context (B, T, C) before the output projection; with `firstOnly`, (B, 1, C) for position 0. */
  forward(x: Tensor, mask: AttentionMask | Tensor | null = null, firstOnly = false): Tensor {
    const T = x.shape[1];
    const first = firstOnly && T > 1;
    const xq = first ? firstRow(x) : x; // (B, Tq, C), Tq = 1 or T
    const q = splitHeads(this.query.forward(xq, first ? T : undefined), this.nHead); // (B, nh, Tq, hs)
    const k = splitHeads(this.key.forward(x), this.nHead); // (B, nh, T, hs)
    const v = splitHeads(this.value.forward(x), this.nHead);
    if (!first) return mergeHeads(attend(q, k, v, mask, this.dropout)); // (B, T, C)
    // A block-mask tensor (B|1, 1, T, T) keeps its first query row; a described mask has no query dim.
    const m = mask instanceof Tensor ? slice(mask, [0, 0, 0, 0], [mask.shape[0], mask.shape[1], 1, T]) : mask;
    const drop = { forward: (w: Tensor) => this.dropout.forward(w, T) }; // row 0 of the (B, nh, T, T) weights' mask
    return mergeHeads(attend(q, k, v, m, drop)); // (B, 1, C)
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

  /** With `firstRowOf`, h and residual are row 0 of tensors with that many rows (dropout, here and in the dense layer's hooks, takes that row of the whole mask). */
  forward(h: Tensor, residual: Tensor, firstRowOf?: number): Tensor {
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(h, firstRowOf), firstRowOf), residual));
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

  /** x (B, T, C) -> (B, T, C), or (B, 1, C) for position 0 with `firstOnly`. */
  forward(x: Tensor, mask: AttentionMask | Tensor | null, firstOnly = false): Tensor {
    const T = x.shape[1];
    if (!firstOnly || T === 1) return this.output.forward(this.self.forward(x, mask), x);
    return this.output.forward(this.self.forward(x, mask, true), firstRow(x), T);
  }
}

/** BERT's `intermediate`: dense (C -> inner) and the activation. */
export class Intermediate extends Module {
  readonly dense: Linear;

  constructor(hidden: number, inner: number, readonly o: BlockOptions = {}) {
    super();
    this.dense = new Linear(hidden, inner, { generator: o.generator, std: o.std });
  }

  /** x (B, T, C) -> (B, T, inner); `firstRowOf` as in {@link Linear.forward}. */
  forward(x: Tensor, firstRowOf?: number): Tensor {
    return ACTIVATIONS[this.o.activation ?? 'gelu'](this.dense.forward(x, firstRowOf)); // (B, T, inner)
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

  /**
   * x (B, T, C) -> (B, T, C); mask from attentionMask (non-causal). With `firstOnly` (callers check
   * {@link canComputeFirstOnly}), (B, 1, C): position 0 only, equal to row 0 of the full result.
   */
  forward(x: Tensor, mask: AttentionMask | Tensor | null = null, firstOnly = false): Tensor {
    const T = x.shape[1];
    const first = firstOnly && T > 1;
    const a = this.attention.forward(x, mask, first); // (B, T or 1, C)
    return this.output.forward(this.intermediate.forward(a, first ? T : undefined), a, first ? T : undefined);
  }

  /** Whether the hooks on the layers that would see one row (all but key and value) are row-local. */
  canComputeFirstOnly(): boolean {
    return [this.attention.self.query, this.attention.output.dense, this.intermediate.dense, this.output.dense].every(rowLocalAdapters);
  }
}
