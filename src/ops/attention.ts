/**
 * Attention weights from raw scores in one op: softmax(scale * scores, blocked keys replaced by
 * -1e9). The mask is described, not materialised: a (B, Tk) padding mask and a causal flag, which
 * the kernel turns into "blocked" per element, so no (B, 1, Tq, Tk) tensor is built on the host or
 * broadcast over heads, and the scale, the replacement and the softmax are one pass each way.
 */
import { fmtShape } from '../backend/strides.js';
import { apply, defineOp } from '../autograd/op.js';
import { emptyTensor, type Tensor } from '../tensor/tensor.js';

export interface AttentionSoftmaxAttrs {
  scale: number;
  causal: boolean;
}

function dims(scores: Tensor): [number, number, number, number] {
  const [B, H, Tq, Tk] = scores.shape as [number, number, number, number];
  return [B, H, Tq, Tk];
}

// y = softmax(s) with s_j = scale x_j (allowed) or a constant (blocked), so
// dx_j = scale * y_j (dy_j - sum_k dy_k y_k) at allowed keys and 0 at blocked ones.
export const attentionSoftmaxOp = defineOp<AttentionSoftmaxAttrs>({
  name: 'attentionSoftmax',
  forward(ctx, [scores, keep], { scale, causal }) {
    const [B, H, Tq, Tk] = dims(scores);
    const out = emptyTensor(scores.backend, scores.shape);
    scores.backend.attentionSoftmax(scores.buf, keep?.buf ?? null, out.buf, B, H, Tq, Tk, scale, causal);
    ctx.save(out, ...(keep ? [keep] : []));
    return out;
  },
  backward(ctx, dy, { scale, causal }) {
    const [y, keep] = ctx.saved;
    const [B, H, Tq, Tk] = dims(y!);
    const dx = emptyTensor(y!.backend, y!.shape);
    y!.backend.attentionSoftmaxBackward(y!.buf, dy.buf, dx.buf, keep?.buf ?? null, B, H, Tq, Tk, scale, causal);
    return ctx.needsGrad.length > 1 ? [dx, null] : [dx];
  },
});

export interface AttentionSoftmaxOptions {
  /** Multiplies the scores first (1 / sqrt(head size) in scaled dot-product attention). */
  scale?: number;
  /** (B, Tk): 1 = attend to key j, 0 = padding. Float or int32; null = every key allowed. */
  keep?: Tensor | null;
  /** Query i may not attend keys j > (Tk - Tq) + i (the first Tk - Tq keys are cached ones). */
  causal?: boolean;
}

/**
 * softmax over the last dim of `scale * scores` (B, H, Tq, Tk), with blocked keys' scores replaced
 * by -1e9 before it (as `where(mask, -1e9, scale * scores)` then `softmax`, bit for bit on the WASM
 * backend). A query whose every key is blocked gets uniform weights and a zero gradient.
 */
export function attentionSoftmax(scores: Tensor, opts: AttentionSoftmaxOptions = {}): Tensor {
  const scale = opts.scale ?? 1;
  const causal = opts.causal ?? false;
  const keep = opts.keep ?? null;
  if (scores.rank !== 4) {
    throw new Error(`attentionSoftmax: scores ${fmtShape(scores.shape)} must be (batch, heads, queries, keys)`);
  }
  if (scores.dtype === 'int32') throw new Error(`attentionSoftmax: scores ${scores.describe()} must be float`);
  const [B, , Tq, Tk] = dims(scores);
  if (causal && Tk < Tq) {
    throw new Error(`attentionSoftmax: causal attention needs at least as many keys (${Tk}) as queries (${Tq})`);
  }
  if (!Number.isFinite(scale)) throw new Error(`attentionSoftmax: scale must be finite, got ${scale}`);
  if (keep && (keep.rank !== 2 || keep.shape[0] !== B || keep.shape[1] !== Tk)) {
    throw new Error(
      `attentionSoftmax: mask ${fmtShape(keep.shape)} must be [batch, keys] = [${B}, ${Tk}] (1 = attend, 0 = padding)`,
    );
  }
  return apply(attentionSoftmaxOp, keep ? [scores, keep] : [scores], { scale, causal });
}
