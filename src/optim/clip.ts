/** Global-norm gradient clipping. */
import type { Tensor } from '../tensor/tensor.js';

/** The squared L2 norm of each gradient (one fused reduction each; NaN or Inf when the gradient holds one). */
export function gradSquares(grads: readonly Tensor[]): number[] {
  return grads.map((g) => g.backend.sumSquares(g.buf, g.size));
}

/** Scales `grads` in place by min(1, maxNorm / (norm + 1e-6)), given their global norm. */
export function clipToNorm(grads: readonly Tensor[], norm: number, maxNorm: number): void {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm ${maxNorm} must be > 0`);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads) g.backend.scale(coef, g.buf, g.buf, g.size);
}

/**
 * Scales all gradients by min(1, maxNorm / (norm + 1e-6)) where norm is the global L2 norm over
 * every gradient; returns the norm before clipping (useful to log). Parameters without grads are skipped.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm ${maxNorm} must be > 0`);
  const grads = [...params].map((p) => p.grad).filter((g): g is Tensor => g !== null);
  const norm = Math.sqrt(gradSquares(grads).reduce((a, b) => a + b, 0));
  clipToNorm(grads, norm, maxNorm);
  return norm;
}
