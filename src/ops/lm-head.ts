/**
 * A linear head fused with cross-entropy, computed in row chunks: the language-model loss without
 * the (N, V) logits. With a vocabulary of V classes the logits and their gradient are the largest
 * tensors of a causal-LM step (two N x V buffers against the N x C hidden states); here only one
 * chunk's logits and one chunk's gradient exist at a time, and backward recomputes the logits.
 *
 * Forward, per chunk of rows c: logits_c = hidden_c W^T (W stored [V, C], the tied embedding
 * layout), then the fused cross-entropy kernel writes loss_c and lse_c = logsumexp(logits_c).
 * Backward, per chunk: logits_c again (same kernel, same rows: the same values), dlogits_c from the
 * cross-entropy kernel, dhidden_c = dlogits_c W, dW += dlogits_c^T hidden_c. The losses and dhidden
 * equal the unchunked path's (each row is computed alone either way); dW is summed chunk by chunk,
 * so it may differ from one big product in the last bits (float summation order).
 */
import { fmtShape, shapesEqual } from '../backend/strides.js';
import { apply, defineOp } from '../autograd/op.js';
import { emptyTensor, type Tensor } from '../tensor/tensor.js';
import { div } from './elementwise.js';
import { reshape } from './shape.js';
import { sum } from './reduce.js';

export interface LmHeadXentAttrs {
  ignoreIndex: number;
  smoothing: number;
  /** Rows per chunk. */
  chunk: number;
  /** Set by the forward: rows whose target is not ignoreIndex. */
  count?: number;
}

export const lmHeadCrossEntropyOp = defineOp<LmHeadXentAttrs>({
  name: 'lmHeadCrossEntropy',
  forward(ctx, [hidden, weight, targets], attrs) {
    const { ignoreIndex, smoothing, chunk } = attrs;
    const [N, C] = hidden.shape;
    const V = weight.shape[0];
    const be = hidden.backend;
    const loss = emptyTensor(be, [N]);
    const lse = emptyTensor(be, [N]);
    const logits = be.alloc(Math.min(chunk, N) * V, 'f');
    let count = 0;
    try {
      for (let r0 = 0; r0 < N; r0 += chunk) {
        const m = Math.min(chunk, N - r0);
        be.matmul(hidden.buf, r0 * C, weight.buf, 0, logits, 0, m, V, C, false, true, 1, 0, 0, 0, false);
        const n = be.crossEntropy(
          be.view(logits, 0, m * V), be.view(targets.buf, r0, m), be.view(loss.buf, r0, m), be.view(lse.buf, r0, m),
          m, V, ignoreIndex, smoothing,
        );
        if (n < 0) {
          const r = r0 - 1 - n;
          loss.dispose();
          lse.dispose();
          throw new Error(
            `lmHeadCrossEntropy: target ${targets.intValues()[r]} in row ${r} is outside [0, ${V}) (the head's ${V} rows) ` +
              `and is not the ignore index ${ignoreIndex}`,
          );
        }
        count += n;
      }
    } finally {
      be.free(logits);
    }
    attrs.count = count;
    // Recomputing the logits reads hidden and W whichever gradient is wanted.
    ctx.save(hidden, weight, targets);
    ctx.saveTemps(lse);
    return loss;
  },
  backward(ctx, dy, { ignoreIndex, smoothing, chunk }) {
    const [hidden, weight, targets, lse] = ctx.saved as Tensor[];
    const [N, C] = hidden.shape;
    const V = weight.shape[0];
    const be = hidden.backend;
    const dhidden = ctx.needsGrad[0] ? emptyTensor(be, [N, C]) : null;
    const dweight = ctx.needsGrad[1] ? emptyTensor(be, [V, C]) : null;
    if (dweight && N === 0) be.fill(dweight.buf, 0);
    const rows = Math.min(chunk, N);
    const logits = be.alloc(rows * V, 'f');
    const dlogits = be.alloc(rows * V, 'f');
    try {
      for (let r0 = 0; r0 < N; r0 += chunk) {
        const m = Math.min(chunk, N - r0);
        be.matmul(hidden.buf, r0 * C, weight.buf, 0, logits, 0, m, V, C, false, true, 1, 0, 0, 0, false);
        be.crossEntropyBackward(
          be.view(logits, 0, m * V), be.view(targets.buf, r0, m), be.view(lse.buf, r0, m), be.view(dy.buf, r0, m),
          be.view(dlogits, 0, m * V), m, V, ignoreIndex, smoothing,
        );
        // dhidden_c (m, C) = dlogits_c (m, V) @ W (V, C)
        if (dhidden) be.matmul(dlogits, 0, weight.buf, 0, dhidden.buf, r0 * C, m, C, V, false, false, 1, 0, 0, 0, false);
        // dW (V, C) (+)= dlogits_c^T (V, m) @ hidden_c (m, C)
        if (dweight) be.matmul(dlogits, 0, hidden.buf, r0 * C, dweight.buf, 0, V, C, m, true, false, 1, 0, 0, 0, r0 > 0);
      }
    } finally {
      be.free(logits);
      be.free(dlogits);
    }
    return [dhidden, dweight, null];
  },
  flops: ([hidden, weight]) => 2 * hidden.size * weight.shape[0],
});

export interface LmHeadCrossEntropyOptions {
  /** Target value whose rows are skipped (default -100). */
  ignoreIndex?: number;
  /** Label smoothing in [0, 1). */
  labelSmoothing?: number;
  /** 'mean' over non-ignored rows (default), 'sum', or 'none' (per-row losses shaped like targets). */
  reduction?: 'mean' | 'sum' | 'none';
  /**
   * Rows per chunk; default: as many as keep one chunk's logits near 2^20 values (4 MiB in float32),
   * at least 1. Smaller chunks hold less memory; larger ones give the matrix products more rows.
   */
  chunkRows?: number;
}

/** Default rows per chunk for a vocabulary of `classes`. */
export function defaultChunkRows(classes: number): number {
  return Math.max(1, Math.floor(2 ** 20 / Math.max(1, classes)));
}

/**
 * crossEntropy(hidden @ weight^T, targets) without materialising the logits: hidden (..., C),
 * weight [V, C] (a Linear weight or a tied embedding table), int32 targets (...). The same loss as
 * the two ops, with the same options as crossEntropy (no class weights).
 */
export function lmHeadCrossEntropy(hidden: Tensor, weight: Tensor, targets: Tensor, opts: LmHeadCrossEntropyOptions = {}): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const smoothing = opts.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing < 1)) throw new Error(`lmHeadCrossEntropy: labelSmoothing ${smoothing} must be in [0, 1)`);
  if (targets.dtype !== 'int32') {
    throw new Error(`lmHeadCrossEntropy: targets ${targets.describe()} must be int32 class indices (create them with { dtype: 'int32' })`);
  }
  if (weight.rank !== 2) throw new Error(`lmHeadCrossEntropy: weight ${fmtShape(weight.shape)} must be [classes, hidden]`);
  const C = weight.shape[1];
  if (hidden.rank < 1 || hidden.shape[hidden.rank - 1] !== C || !shapesEqual(hidden.shape.slice(0, -1), targets.shape)) {
    throw new Error(
      `lmHeadCrossEntropy: hidden ${fmtShape(hidden.shape)} must be [...targets.shape, ${C}] for targets ${fmtShape(targets.shape)} ` +
        `and weight ${fmtShape(weight.shape)}`,
    );
  }
  const chunk = opts.chunkRows ?? defaultChunkRows(weight.shape[0]);
  if (!(Number.isInteger(chunk) && chunk >= 1)) throw new Error(`lmHeadCrossEntropy: chunkRows ${chunk} must be a positive integer`);
  const attrs: LmHeadXentAttrs = { ignoreIndex, smoothing, chunk };
  const loss = apply(lmHeadCrossEntropyOp, [reshape(hidden, [-1, C]), weight, reshape(targets, [-1])], attrs);
  const reduction = opts.reduction ?? 'mean';
  if (reduction === 'none') return reshape(loss, targets.shape);
  const total = sum(loss);
  if (reduction === 'sum') return total;
  return div(total, attrs.count!); // 0/0 = NaN when every row is ignored, as in PyTorch
}
