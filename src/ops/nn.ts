/** Neural-network ops with fused kernels: softmax, log-softmax, cross-entropy, layer norm; dropout. */
import type { Backend, Buf } from '../backend/kernels.js';
import { fmtShape, normAxis, shapesEqual } from '../backend/strides.js';
import { apply, defineOp } from '../autograd/op.js';
import { emptyTensor, type Tensor } from '../tensor/tensor.js';
import { full } from './create.js';
import { div, mul } from './elementwise.js';
import { defaultGenerator, type Generator } from './random.js';
import { reshape, transpose } from './shape.js';
import { sum } from './reduce.js';

function lastDim(x: Tensor): { rows: number; cols: number } {
  const cols = x.shape[x.rank - 1] ?? 1;
  return { rows: cols === 0 ? 0 : x.size / cols, cols };
}

/** A row-wise op over the last dim whose backward needs only its output y. */
function rowOp(
  name: string,
  fwd: (be: Backend, x: Buf, y: Buf, rows: number, cols: number) => void,
  bwd: (be: Backend, y: Buf, dy: Buf, dx: Buf, rows: number, cols: number) => void,
) {
  return defineOp<Record<string, never>>({
    name,
    forward(ctx, [x]) {
      const { rows, cols } = lastDim(x);
      const y = emptyTensor(x.backend, x.shape);
      fwd(x.backend, x.buf, y.buf, rows, cols);
      ctx.save(y);
      return y;
    },
    backward(ctx, dy) {
      const y = ctx.saved[0];
      const { rows, cols } = lastDim(y);
      const dx = emptyTensor(y.backend, y.shape);
      bwd(y.backend, y.buf, dy.buf, dx.buf, rows, cols);
      return [dx];
    },
  });
}

export const softmaxOp = rowOp(
  'softmax',
  (be, x, y, r, c) => be.softmax(x, y, r, c),
  (be, y, dy, dx, r, c) => be.softmaxBackward(y, dy, dx, r, c),
);

export const logSoftmaxOp = rowOp(
  'logSoftmax',
  (be, x, y, r, c) => be.logSoftmax(x, y, r, c),
  (be, y, dy, dx, r, c) => be.logSoftmaxBackward(y, dy, dx, r, c),
);

/** Runs a last-axis op on another axis by moving that axis last and back. */
function alongAxis(x: Tensor, axis: number, f: (t: Tensor) => Tensor, op: string): Tensor {
  if (x.rank === 0) throw new Error(`${op}: needs a tensor of rank >= 1`);
  const a = normAxis(op, axis, x.rank);
  if (a === x.rank - 1) return f(x);
  return transpose(f(transpose(x, a, -1)), a, -1);
}

/** exp(x) / sum(exp(x)) along `axis` (default last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return alongAxis(x, axis, (t) => apply(softmaxOp, [t], {}), 'softmax');
}

/** x - logsumexp(x) along `axis` (default last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return alongAxis(x, axis, (t) => apply(logSoftmaxOp, [t], {}), 'logSoftmax');
}

interface XentAttrs {
  ignoreIndex: number;
  smoothing: number;
  /** Set by the forward: rows whose target is not ignoreIndex (the kernel counts them). */
  count?: number;
}

export const crossEntropyOp = defineOp<XentAttrs>({
  name: 'crossEntropy',
  forward(ctx, [logits, targets], attrs) {
    const { ignoreIndex, smoothing } = attrs;
    const { rows, cols } = lastDim(logits);
    const loss = emptyTensor(logits.backend, [rows]);
    const lse = emptyTensor(logits.backend, [rows]);
    const n = logits.backend.crossEntropy(logits.buf, targets.buf, loss.buf, lse.buf, rows, cols, ignoreIndex, smoothing);
    if (n < 0) {
      const r = -1 - n;
      loss.dispose();
      lse.dispose();
      throw new Error(
        `crossEntropy: target ${targets.toArray()[r]} in row ${r} is outside [0, ${cols}) ` +
          `and is not the ignore index ${ignoreIndex}`,
      );
    }
    attrs.count = n;
    ctx.save(logits, targets);
    ctx.saveTemps(lse);
    return loss;
  },
  backward(ctx, dy, { ignoreIndex, smoothing }) {
    const [logits, targets, lse] = ctx.saved;
    const { rows, cols } = lastDim(logits);
    const dx = emptyTensor(logits.backend, logits.shape);
    logits.backend.crossEntropyBackward(logits.buf, targets.buf, lse.buf, dy.buf, dx.buf, rows, cols, ignoreIndex, smoothing);
    return [dx, null];
  },
});

export interface CrossEntropyOptions {
  /** Target value whose rows are skipped (default -100, as PyTorch). */
  ignoreIndex?: number;
  /** Label smoothing in [0, 1): the target distribution is (1 - s) one-hot + s / classes. */
  labelSmoothing?: number;
  /** 'mean' over non-ignored rows (default), 'sum', or 'none' (per-row losses shaped like targets). */
  reduction?: 'mean' | 'sum' | 'none';
}

/** Cross-entropy of logits [..., C] against int32 class targets [...]. */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const smoothing = opts.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing < 1)) throw new Error(`crossEntropy: labelSmoothing ${smoothing} must be in [0, 1)`);
  if (targets.dtype !== 'int32') {
    throw new Error(`crossEntropy: targets ${targets.describe()} must be int32 class indices (create them with { dtype: 'int32' })`);
  }
  if (logits.rank < 1 || !shapesEqual(logits.shape.slice(0, -1), targets.shape)) {
    throw new Error(
      `crossEntropy: logits ${fmtShape(logits.shape)} need shape [...targets.shape, classes] for targets ${fmtShape(targets.shape)}`,
    );
  }
  const attrs: XentAttrs = { ignoreIndex, smoothing };
  const loss = apply(crossEntropyOp, [logits, targets], attrs);
  const reduction = opts.reduction ?? 'mean';
  if (reduction === 'none') return reshape(loss, targets.shape);
  const total = sum(loss);
  if (reduction === 'sum') return total;
  return div(total, attrs.count!); // 0/0 = NaN when every row is ignored, as in PyTorch
}

export const layerNormOp = defineOp<{ eps: number; hasGamma: boolean; hasBeta: boolean }>({
  name: 'layerNorm',
  forward(ctx, inputs, { eps, hasGamma, hasBeta }) {
    const x = inputs[0];
    const gamma = hasGamma ? inputs[1] : null;
    const beta = hasBeta ? inputs[hasGamma ? 2 : 1] : null;
    const { rows, cols } = lastDim(x);
    const y = emptyTensor(x.backend, x.shape);
    const mean = emptyTensor(x.backend, [rows]);
    const rstd = emptyTensor(x.backend, [rows]);
    x.backend.layerNorm(x.buf, gamma?.buf ?? null, beta?.buf ?? null, y.buf, mean.buf, rstd.buf, rows, cols, eps);
    ctx.save(...inputs);
    ctx.saveTemps(mean, rstd);
    return y;
  },
  backward(ctx, dy, { hasGamma, hasBeta }) {
    const n = 1 + (hasGamma ? 1 : 0) + (hasBeta ? 1 : 0);
    const x = ctx.saved[0];
    const gamma = hasGamma ? ctx.saved[1] : null;
    const [mean, rstd] = ctx.saved.slice(n);
    const { rows, cols } = lastDim(x);
    const be = x.backend;
    const dx = emptyTensor(be, x.shape);
    const dgamma = hasGamma && ctx.needsGrad[1] ? emptyTensor(be, [cols]) : null;
    const dbeta = hasBeta && ctx.needsGrad[n - 1] ? emptyTensor(be, [cols]) : null;
    be.layerNormBackward(x.buf, gamma?.buf ?? null, mean.buf, rstd.buf, dy.buf, dx.buf, dgamma?.buf ?? null, dbeta?.buf ?? null, rows, cols);
    const grads: (Tensor | null)[] = [dx];
    if (hasGamma) grads.push(dgamma);
    if (hasBeta) grads.push(dbeta);
    return grads;
  },
});

/** Layer normalisation over the last dim: (x - mean) / sqrt(var + eps) * weight + bias (biased variance). */
export function layerNorm(x: Tensor, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const cols = x.shape[x.rank - 1];
  for (const [p, label] of [[weight, 'weight'], [bias, 'bias']] as const) {
    if (p && !shapesEqual(p.shape, [cols])) {
      throw new Error(`layerNorm: ${label} ${fmtShape(p.shape)} must be [${cols}] to match the last dim of x ${fmtShape(x.shape)}`);
    }
  }
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return apply(layerNormOp, inputs, { eps, hasGamma: !!weight, hasBeta: !!bias });
}

export interface DropoutOptions {
  /** Dropout is the identity when false (evaluation). Default true. */
  training?: boolean;
  generator?: Generator;
}

/** Zeroes each element with probability p and scales survivors by 1 / (1 - p) (seeded). */
export function dropout(x: Tensor, p: number, opts: DropoutOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p = ${p} must be in [0, 1]`);
  if (opts.training === false || p === 0) return x;
  if (p === 1) return mul(x, full([], 0, { backend: x.backend }));
  const mask = emptyTensor(x.backend, x.shape);
  const s = (opts.generator ?? defaultGenerator()).take(x.size);
  x.backend.dropoutMask(mask.buf, x.size, p, s.seedLo, s.seedHi, s.counter);
  return mul(x, mask);
}
