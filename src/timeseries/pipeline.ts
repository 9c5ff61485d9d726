/**
 * The differentiable steps around the GPT4TS backbone, as plain functions of tensors:
 * instance normalisation and its inverse, channel independence and patching.
 */
import { detach, tensor } from '../ops/create.js';
import { add, div, mul, sqrt, sub } from '../ops/elementwise.js';
import { embedding } from '../ops/indexing.js';
import { mean, variance } from '../ops/reduce.js';
import { permute, reshape } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';

export interface NormStats {
  /** (B, 1, M) */
  mean: Tensor;
  /** (B, 1, M): sqrt(var + eps) */
  std: Tensor;
}

/**
 * Per series and channel over the input window: x (B, L, M) -> (x - mean) / sqrt(var + eps), the
 * variance biased (ddof 0). GPT4TS detaches the statistics (they act as constants in the gradient);
 * `detachStats: false` lets gradients flow through them (for checking the full derivative).
 */
export function instanceNorm(x: Tensor, eps = 1e-5, opts: { detachStats?: boolean } = {}): { x: Tensor; stats: NormStats } {
  if (x.rank !== 3) throw new Error(`instanceNorm: x ${x.describe()} must be [batch, length, channels]`);
  const keepStats = (t: Tensor) => (opts.detachStats ?? true ? detach(t) : t);
  const mu = keepStats(mean(x, 1, true)); // (B, 1, M)
  const xc = sub(x, mu); // (B, L, M)
  const sd = keepStats(sqrt(add(variance(xc, 1, { keepdim: true, correction: 0 }), eps))); // (B, 1, M)
  return { x: div(xc, sd), stats: { mean: mu, std: sd } };
}

/** The inverse of {@link instanceNorm} on a forecast y (B, H, M): y * std + mean. */
export function instanceDenorm(y: Tensor, stats: NormStats): Tensor {
  return add(mul(y, stats.std), stats.mean);
}

/** Patches of a length-L series with replication padding of `stride` steps on the right: floor((L - patch) / stride) + 2. */
export function patchCount(length: number, patch: number, stride: number): number {
  if (length < patch) throw new Error(`patchCount: input length ${length} is shorter than one patch (${patch}); lengthen the input or shrink the patch`);
  return Math.floor((length - patch) / stride) + 2;
}

/** For patch n, offset p: min(n * stride + p, L - 1); indices past the end repeat the last step (replication pad). */
export function patchIndices(length: number, patch: number, stride: number): Int32Array {
  const n = patchCount(length, patch, stride);
  const idx = new Int32Array(n * patch);
  for (let i = 0; i < n; i++) for (let p = 0; p < patch; p++) idx[i * patch + p] = Math.min(i * stride + p, length - 1);
  return idx;
}

/**
 * Channel independence and patching in one gather: x (B, L, M) -> (B * M, N, patch), row b * M + m
 * holding channel m of series b. Gradients flow back through the gather (scatter-add), so the
 * replicated last step receives the gradient of every padded copy.
 */
export function patchify(x: Tensor, patch: number, stride: number): Tensor {
  if (x.rank !== 3) throw new Error(`patchify: x ${x.describe()} must be [batch, length, channels]`);
  const [B, L, M] = x.shape;
  const n = patchCount(L, patch, stride);
  const ids = tensor(patchIndices(L, patch, stride), [n, patch], { dtype: 'int32', backend: x.backend });
  const table = reshape(permute(x, [1, 0, 2]), [L, B * M]); // (B, L, M) -> (L, B*M)
  const g = embedding(table, ids); // (N, P, B*M)
  return permute(g, [2, 0, 1]); // (B*M, N, P)
}

/** (B * M, H) -> (B, H, M): the inverse of channel independence on the output. */
export function unchannel(y: Tensor, batch: number): Tensor {
  const [BM, H] = y.shape;
  if (BM % batch !== 0) throw new Error(`unchannel: ${BM} rows do not split into batch ${batch}`);
  return permute(reshape(y, [batch, BM / batch, H]), [0, 2, 1]);
}
