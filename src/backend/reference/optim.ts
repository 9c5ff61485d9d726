/** Optimizer steps, in place on the parameter and state buffers. */
import type { Buf } from '../kernels.js';
import { checkCount, fdata } from './buffer.js';

export function adamw(
  p: Buf, g: Buf, m: Buf, v: Buf, n: number,
  lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, bc1: number, bc2: number,
): void {
  checkCount(n, 'n');
  const ps = fdata(p, 'p', n);
  const gs = fdata(g, 'g', n);
  const ms = fdata(m, 'm', n);
  const vs = fdata(v, 'v', n);
  for (let i = 0; i < n; i++) {
    const gi = gs[i]!;
    let pi = ps[i]!;
    pi -= lr * weightDecay * pi; // decoupled decay on the pre-step parameter
    const mi = beta1 * ms[i]! + (1 - beta1) * gi;
    const vi = beta2 * vs[i]! + (1 - beta2) * gi * gi;
    pi -= (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
    ps[i] = pi;
    ms[i] = mi;
    vs[i] = vi;
  }
}

export function sgd(
  p: Buf, g: Buf, buf: Buf | null, n: number, lr: number, momentum: number, dampening: number,
  weightDecay: number, nesterov: boolean, firstStep: boolean,
): void {
  checkCount(n, 'n');
  const ps = fdata(p, 'p', n);
  const gs = fdata(g, 'g', n);
  if (momentum !== 0 && buf === null) {
    throw new TypeError('reference backend: sgd with momentum needs a momentum buffer');
  }
  const bs = momentum !== 0 && buf !== null ? fdata(buf, 'buf', n) : null;
  for (let i = 0; i < n; i++) {
    let step = gs[i]! + weightDecay * ps[i]!;
    if (bs !== null) {
      const b = firstStep ? step : momentum * bs[i]! + (1 - dampening) * step;
      bs[i] = b;
      step = nesterov ? step + momentum * b : b;
    }
    ps[i] = ps[i]! - lr * step;
  }
}
