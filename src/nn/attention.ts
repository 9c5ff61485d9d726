/**
 * The multi-head attention core every family shares: masks, head split/merge, scaled dot-product
 * attention and the KV cache. The projection layouts (GPT-2's fused `c_attn`, RoBERTa's `query` /
 * `key` / `value`) live with their models.
 */
import { fmtShape } from '../backend/strides.js';
import { Tensor } from '../tensor/tensor.js';
import { tensor } from '../ops/create.js';
import { mul } from '../ops/elementwise.js';
import { maskedFill } from '../ops/indexing.js';
import { matmul } from '../ops/matmul.js';
import { softmax } from '../ops/nn.js';
import { attentionSoftmax } from '../ops/attention.js';
import type { Generator } from '../ops/random.js';
import { concat, permute, reshape } from '../ops/shape.js';

/**
 * Score written where attention is forbidden (it replaces the score rather than being added, as HF's
 * `torch.where(causal_mask, w, mask_value)`). Any allowed score makes exp() of it exactly 0; a row
 * with every key blocked (e.g. a padding query in a left-padded batch) becomes uniform rather than
 * NaN, identically in float32 and float64. HF uses torch.finfo(dtype).min; a finite -1e9 is
 * dtype-independent and the softmax is the same.
 */
export const MASK_VALUE = -1e9;

/** One layer's cached keys and values, each (B, nh, Tpast, hs). */
export interface LayerPast {
  key: Tensor;
  value: Tensor;
}

export interface MaskOptions {
  batch: number;
  queryLength: number;
  /** Positions already in the KV cache (default 0). */
  pastLength?: number;
  /** Forbid attending to later positions (decoders). */
  causal: boolean;
  /** (B, pastLength + queryLength): 1 = attend, 0 = padding. Float or int32. */
  attentionMask?: Tensor | null;
  /** Backend to create the mask on. */
  like: Tensor;
}

/**
 * Which keys each query may attend, described rather than materialised: the attention kernel tests
 * `keep[b, j] == 0` and `j > past + i` per score, so nothing of size (B, Tq, Tk) is built or
 * broadcast over heads. Made by {@link attentionMask}; `attend` takes it or a block-mask tensor.
 */
export interface AttentionMask {
  /** (B, Tk): 1 = attend, 0 = padding (float or int32, as given); null = no padding. */
  keep: Tensor | null;
  /** Query i may not attend keys j > past + i. */
  causal: boolean;
}

/** Checks the padding mask's shape (no data is read); null when nothing is blocked. */
export function attentionMask(o: Omit<MaskOptions, 'like'>): AttentionMask | null {
  const Tk = (o.pastLength ?? 0) + o.queryLength;
  const m = o.attentionMask ?? null;
  if (m && (m.rank !== 2 || m.shape[0] !== o.batch || m.shape[1] !== Tk)) {
    throw new Error(
      `attention mask ${fmtShape(m.shape)} must be [batch, past + length] = [${o.batch}, ${Tk}] (1 = attend, 0 = padding)`,
    );
  }
  if (!m && !(o.causal && o.queryLength > 1)) return null;
  return { keep: m, causal: o.causal };
}

/**
 * The blocked-position mask (B or 1, 1, Tq, Tk): 1 where query i may not attend key j, 0 where it may.
 * Built on the host (it reads the padding mask back); null when nothing is blocked. Models use
 * {@link attentionMask} instead, which the fused attention kernel reads on the device.
 */
export function attentionBlockMask(o: MaskOptions): Tensor | null {
  const past = o.pastLength ?? 0;
  const Tq = o.queryLength;
  const Tk = past + Tq;
  const needCausal = o.causal && Tq > 1;
  if (!needCausal && !o.attentionMask) return null;
  let keep: ArrayLike<number> | null = null;
  if (o.attentionMask) {
    const m = o.attentionMask;
    if (m.rank !== 2 || m.shape[0] !== o.batch || m.shape[1] !== Tk) {
      throw new Error(
        `attention mask ${fmtShape(m.shape)} must be [batch, past + length] = [${o.batch}, ${Tk}] (1 = attend, 0 = padding)`,
      );
    }
    keep = m.toArray();
  }
  const B = keep ? o.batch : 1;
  const data = new Float32Array(B * Tq * Tk);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Tq; i++) {
      for (let j = 0; j < Tk; j++) {
        const future = o.causal && j > past + i;
        const padded = keep !== null && keep[b * Tk + j] === 0;
        if (future || padded) data[(b * Tq + i) * Tk + j] = 1;
      }
    }
  }
  return tensor(data, [B, 1, Tq, Tk], { backend: o.like.backend });
}

/** (B, T, C) -> (B, nh, T, hs) */
export function splitHeads(x: Tensor, nHead: number): Tensor {
  const [B, T, C] = x.shape;
  return permute(reshape(x, [B, T, nHead, C / nHead]), [0, 2, 1, 3]);
}

/** (B, nh, T, hs) -> (B, T, C) */
export function mergeHeads(x: Tensor): Tensor {
  const [B, nh, T, hs] = x.shape;
  return reshape(permute(x, [0, 2, 1, 3]), [B, T, nh * hs]);
}

/**
 * softmax(q k^T / sqrt(hs), blocked scores set to MASK_VALUE) v, with dropout on the weights.
 * q (B, nh, Tq, hs), k/v (B, nh, Tk, hs); the mask from {@link attentionMask} (scale, mask and
 * softmax in one kernel) or a block-mask tensor from {@link attentionBlockMask} (composed ops).
 */
export function attend(
  q: Tensor, k: Tensor, v: Tensor, mask: AttentionMask | Tensor | null, drop?: { forward(w: Tensor): Tensor },
): Tensor {
  const hs = q.shape[q.rank - 1];
  const scores = matmul(q, k, { transB: true }); // (B, nh, Tq, Tk)
  let w: Tensor;
  if (mask === null || !(mask instanceof Tensor)) {
    w = attentionSoftmax(scores, { scale: 1 / Math.sqrt(hs), keep: mask?.keep ?? null, causal: mask?.causal ?? false });
  } else {
    // mask (B|1, 1, Tq, Tk) broadcast over heads
    w = softmax(maskedFill(mul(scores, 1 / Math.sqrt(hs)), mask, MASK_VALUE), -1);
  }
  if (drop) w = drop.forward(w);
  return matmul(w, v); // (B, nh, Tq, hs)
}

/** The cache after this step: past keys/values with the new ones appended along the time dim. */
export function appendPast(past: LayerPast | null | undefined, k: Tensor, v: Tensor): LayerPast {
  if (!past) return { key: k, value: v };
  return { key: concat([past.key, k], 2), value: concat([past.value, v], 2) }; // (B, nh, Tpast + T, hs)
}

export interface AttentionOptions {
  attnPdrop?: number;
  residPdrop?: number;
  generator?: Generator;
  std?: number;
  /** Std of the output projection (GPT-2 scales it by 1/sqrt(2 n_layer)). */
  projStd?: number;
}

export interface AttentionCall {
  /** Blocked positions from {@link attentionMask} (or a block-mask tensor from {@link attentionBlockMask}). */
  mask?: AttentionMask | Tensor | null;
  /** Cached keys/values of earlier positions. */
  past?: LayerPast | null;
  /** Return this layer's keys/values (past + current) for the next step. */
  useCache?: boolean;
}
