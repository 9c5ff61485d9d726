/**
 * The two primitives behind GRASP and StochGRASP: grouped scale/shift of activations, and Gaussian
 * reparameterized sampling of the group parameters.
 */
import { fmtShape, shapesEqual } from '../backend/strides.js';
import { apply, defineOp } from '../autograd/op.js';
import { emptyTensor, type Tensor } from '../tensor/tensor.js';
import { broadcastShapes } from '../backend/strides.js';
import { defaultGenerator, type Generator } from './random.js';
import { broadcastTo } from './shape.js';

export const groupedScaleShiftOp = defineOp<{ K: number }>({
  name: 'groupedScaleShift',
  forward(ctx, [x, groupMap, gamma, beta], { K }) {
    const D = x.shape[x.rank - 1];
    const rows = x.size / D;
    const y = emptyTensor(x.backend, x.shape);
    const scratch = x.backend.alloc(2 * D, 'f');
    try {
      x.backend.groupedScaleShift(x.buf, groupMap.buf, gamma.buf, beta.buf, y.buf, rows, D, K, scratch);
    } finally {
      x.backend.free(scratch);
    }
    ctx.save(x, groupMap, gamma, beta);
    return y;
  },
  backward(ctx, dy, { K }) {
    const [x, groupMap, gamma, beta] = ctx.saved as Tensor[];
    const D = x.shape[x.rank - 1];
    const be = x.backend;
    const dx = emptyTensor(be, x.shape);
    const dgamma = emptyTensor(be, [K]);
    const dbeta = emptyTensor(be, [K]);
    const scratch = be.alloc(4 * D, 'f');
    try {
      be.groupedScaleShiftBackward(x.buf, groupMap.buf, gamma.buf, beta.buf, dy.buf, dx.buf, dgamma.buf, dbeta.buf, x.size / D, D, K, scratch);
    } finally {
      be.free(scratch);
    }
    return [dx, null, dgamma, dbeta];
  },
});

/**
 * y[..., i] = (x[..., i] - beta[g(i)]) / gamma[g(i)] for x [..., D], an int32 group map g [D] with
 * values in [0, K), and per-group gamma, beta [K]. Gradients flow to x, gamma and beta.
 */
export function groupedScaleShift(x: Tensor, groupMap: Tensor, gamma: Tensor, beta: Tensor): Tensor {
  const D = x.shape[x.rank - 1];
  const K = gamma.shape[0];
  if (x.rank < 1 || groupMap.dtype !== 'int32' || !shapesEqual(groupMap.shape, [D])) {
    throw new Error(
      `groupedScaleShift: groupMap ${groupMap.describe()} must be int32 [${D}] (one group per input dim of x ${fmtShape(x.shape)})`,
    );
  }
  if (gamma.rank !== 1 || !shapesEqual(beta.shape, gamma.shape)) {
    throw new Error(`groupedScaleShift: gamma ${fmtShape(gamma.shape)} and beta ${fmtShape(beta.shape)} must both be [K]`);
  }
  // checked once per map tensor (its range is kept with its storage), not re-read every forward
  const { min, max } = groupMap.intRange();
  const g = min >= 0 && max < K ? [] : groupMap.intValues();
  for (let i = 0; i < g.length; i++) {
    if (g[i] < 0 || g[i] >= K) {
      throw new Error(`groupedScaleShift: groupMap[${i}] = ${g[i]} is outside [0, ${K}) for K = ${K} groups`);
    }
  }
  return apply(groupedScaleShiftOp, [x, groupMap, gamma, beta], { K });
}

export const gaussianSampleOp = defineOp<{ generator: Generator }>({
  name: 'gaussianSample',
  forward(ctx, [mu, sigma], { generator }) {
    const be = mu.backend;
    const eps = emptyTensor(be, mu.shape);
    const out = emptyTensor(be, mu.shape);
    const s = generator.take(mu.size);
    be.gaussianSample(mu.buf, sigma.buf, eps.buf, out.buf, mu.size, s.seedLo, s.seedHi, s.counter);
    ctx.saveTemps(eps);
    return out;
  },
  // d(mu + sigma * eps)/dmu = 1, /dsigma = eps (eps fixed by the forward draw).
  backward(ctx, dy) {
    const eps = ctx.get(0, 'gaussianSample');
    const be = eps.backend;
    const dmu = emptyTensor(be, eps.shape);
    const dsigma = emptyTensor(be, eps.shape);
    be.gaussianSampleBackward(eps.buf, dy.buf, dmu.buf, dsigma.buf, eps.size);
    return [ctx.needsGrad[0] ? dmu : (dmu.dispose(), null), ctx.needsGrad[1] ? dsigma : (dsigma.dispose(), null)];
  },
});

/**
 * mu + sigma * eps with eps ~ N(0, 1) drawn from the counter-based stream (same seed, same sample on
 * every backend). mu and sigma broadcast together; gradients flow to both.
 */
export function gaussianSample(mu: Tensor, sigma: Tensor, opts: { generator?: Generator } = {}): Tensor {
  const shape = broadcastShapes('gaussianSample', mu.shape, sigma.shape);
  const fit = (t: Tensor) => (shapesEqual(t.shape, shape) ? t : broadcastTo(t, shape));
  return apply(gaussianSampleOp, [fit(mu), fit(sigma)], { generator: opts.generator ?? defaultGenerator() });
}
