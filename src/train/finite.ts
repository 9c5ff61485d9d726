/**
 * The guard between backward and the optimizer step: the loss and the global gradient norm must be
 * finite, or no update is applied. One pass: the squared norm of each gradient is the reduction
 * clipping needs anyway, so the check costs a sum and a comparison; only when it fails are the
 * gradients and weights read back, to name the parameters and the likeliest cause.
 */
import { nonFiniteKind, NON_FINITE_CAUSES } from '../autograd/anomaly.js';
import { clipToNorm, gradSquares } from '../optim/clip.js';
import type { Tensor } from '../tensor/tensor.js';

/** Raised before a non-finite update would reach the weights; they hold their values from before the step. */
export class NonFiniteStepError extends Error {
  constructor(
    message: string,
    /** 1-based step that was refused. */
    readonly step: number,
    /** Parameters whose gradient holds NaN/Inf (or whose squared norm overflows float32). */
    readonly gradients: { name: string; kind: 'NaN' | 'Inf' | 'overflow' }[],
    /** Parameters whose values already hold NaN/Inf (a bad checkpoint). */
    readonly weights: { name: string; kind: 'NaN' | 'Inf' }[],
  ) {
    super(message);
    this.name = 'NonFiniteStepError';
  }
}

export interface FiniteCheckOptions {
  /** 1-based step, for the message. */
  step: number;
  lr: number;
  /** Clip the global norm to this (0 or Infinity: no clipping). */
  clipNorm: number;
  /** Names of parameters, including frozen ones (a NaN in a frozen weight poisons every gradient). */
  named?: () => Iterable<[string, Tensor]>;
}

const list = (xs: { name: string; kind: string }[]) =>
  xs.slice(0, 8).map((x) => `${x.name} (${x.kind})`).join(', ') + (xs.length > 8 ? ` and ${xs.length - 8} more` : '');

/**
 * Checks `loss` and the gradients of `params`, then clips them; returns the norm before clipping.
 * Throws {@link NonFiniteStepError} (and touches nothing) when either is not finite.
 */
export function checkAndClip(loss: number, params: readonly Tensor[], o: FiniteCheckOptions): number {
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  const squares = gradSquares(grads);
  const norm = Math.sqrt(squares.reduce((a, b) => a + b, 0));
  if (Number.isFinite(loss) && Number.isFinite(norm)) {
    if (o.clipNorm > 0 && Number.isFinite(o.clipNorm)) clipToNorm(grads, norm, o.clipNorm);
    return norm;
  }
  // The failure path: read back to name what is wrong.
  const named = [...(o.named?.() ?? [])];
  const nameOf = new Map(named.map(([n, t]) => [t, n] as const));
  const label = (p: Tensor, i: number) => nameOf.get(p) ?? p.name ?? `parameter ${i}`;
  const withGrad = params.filter((p) => p.grad !== null);
  const gradients = withGrad.flatMap((p, i) => {
    if (Number.isFinite(squares[i])) return [];
    return [{ name: label(p, params.indexOf(p)), kind: nonFiniteKind(p.grad!) ?? ('overflow' as const) }];
  });
  const seen = new Set<Tensor>();
  const weights = [...named, ...params.map((p, i) => [label(p, i), p] as [string, Tensor])].flatMap(([name, t]) => {
    if (seen.has(t)) return [];
    seen.add(t);
    const kind = nonFiniteKind(t);
    return kind ? [{ name, kind }] : [];
  });
  const what = [
    Number.isFinite(loss) ? '' : `the loss is ${loss}`,
    gradients.length ? `the gradients of ${gradients.length} parameter(s) are not finite: ${list(gradients)}` : '',
    !gradients.length && !Number.isFinite(norm) ? `the gradient norm is ${norm}` : '',
  ].filter(Boolean).join(' and ');
  const cause = weights.length
    ? `the weights already hold non-finite values: ${list(weights)} (a damaged checkpoint, or an earlier run's update)`
    : NON_FINITE_CAUSES;
  throw new NonFiniteStepError(
    `step ${o.step}: ${what}; no update was applied (the weights are as before this step). ${cause[0].toUpperCase()}${cause.slice(1)}; ` +
      `the learning rate is ${o.lr}. To find the op and module that produced it, rerun with --detect-anomaly (W.detectAnomaly(true, { model }))`,
    o.step, gradients, weights,
  );
}
