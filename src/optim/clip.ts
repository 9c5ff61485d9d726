/** Global-norm gradient clipping. */
import type { Tensor } from '../tensor/tensor.js';

/**
 * Scales all gradients by min(1, maxNorm / (norm + 1e-6)) where norm is the global L2 norm over
 * every gradient; returns the norm before clipping (useful to log). Parameters without grads are skipped.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm ${maxNorm} must be > 0`);
  const grads = [...params].map((p) => p.grad).filter((g): g is Tensor => g !== null);
  let sq = 0;
  for (const g of grads) sq += g.backend.sumSquares(g.buf, g.size);
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads) g.backend.scale(coef, g.buf, g.buf, g.size);
  return norm;
}
