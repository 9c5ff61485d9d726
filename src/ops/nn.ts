/** Neural-network ops with fused kernels: softmax, log-softmax, cross-entropy, layer norm; dropout. */
import type { Backend, Buf } from '../backend/kernels.js';
import { fmtShape, normAxis, shapesEqual } from '../backend/strides.js';
import { apply, defineOp } from '../autograd/op.js';
import { emptyTensor, type Tensor } from '../tensor/tensor.js';
import { full, tensor } from './create.js';
import { div, mul, sub } from './elementwise.js';
import { defaultGenerator, type Generator } from './random.js';
import { permute, reshape, slice, transpose } from './shape.js';
import { noGrad } from '../tensor/engine.js';
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
      const y = ctx.get(0, name);
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
    const [logits, targets, lse] = ctx.saved as Tensor[];
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
  /**
   * Per-class weights [C] (torch's `weight`): row i's loss is scaled by weight[target_i], and 'mean'
   * divides by the sum of those weights over the non-ignored rows, as PyTorch does. With label
   * smoothing, the smoothing term weights each class c by weight[c]. No gradient flows to the weights.
   */
  weight?: Tensor;
  /**
   * The axis of `logits` holding the classes (default -1, the last). PyTorch and ONNX put it at 1:
   * logits (N, C, d1, ...) with targets (N, d1, ...); pass `classAxis: 1` for that layout.
   */
  classAxis?: number;
}

/**
 * Cross-entropy of logits [..., C] against int32 class targets [...] (or, with `classAxis`, classes
 * on another axis of logits and targets shaped like logits without it).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const smoothing = opts.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing < 1)) throw new Error(`crossEntropy: labelSmoothing ${smoothing} must be in [0, 1)`);
  if (targets.dtype !== 'int32') {
    throw new Error(`crossEntropy: targets ${targets.describe()} must be int32 class indices (create them with { dtype: 'int32' })`);
  }
  if (opts.classAxis !== undefined) {
    const moved = classesLast(logits, targets, opts.classAxis);
    if (moved !== logits) return crossEntropy(moved, targets, { ...opts, classAxis: undefined });
  }
  if (logits.rank < 1 || !shapesEqual(logits.shape.slice(0, -1), targets.shape)) {
    throw new Error(
      `crossEntropy: logits ${fmtShape(logits.shape)} need shape [...targets.shape, classes] for targets ${fmtShape(targets.shape)}` +
        (logits.rank >= 2 && shapesEqual([logits.shape[0], ...logits.shape.slice(2)], targets.shape)
          ? ' (for PyTorch/ONNX logits (N, C, d1, ...) pass { classAxis: 1 })' : ''),
    );
  }
  if (opts.weight) return weightedCrossEntropy(logits, targets, opts.weight, ignoreIndex, smoothing, opts.reduction ?? 'mean');
  const attrs: XentAttrs = { ignoreIndex, smoothing };
  const loss = apply(crossEntropyOp, [logits, targets], attrs);
  const reduction = opts.reduction ?? 'mean';
  if (reduction === 'none') return reshape(loss, targets.shape);
  const total = sum(loss);
  if (reduction === 'sum') return total;
  return div(total, attrs.count!); // 0/0 = NaN when every row is ignored, as in PyTorch
}

// ---- cross-entropy options beyond the fused kernel: the class axis and class weights ----------

/** logits with the class axis moved last (itself when it is already last), after checking the shapes. */
function classesLast(logits: Tensor, targets: Tensor, classAxis: number): Tensor {
  if (logits.rank < 1) throw new Error(`crossEntropy: logits ${fmtShape(logits.shape)} need a class axis`);
  const a = normAxis('crossEntropy', classAxis, logits.rank);
  const rest = logits.shape.filter((_, i) => i !== a);
  if (!shapesEqual(rest, targets.shape)) {
    throw new Error(
      `crossEntropy: logits ${fmtShape(logits.shape)} with classes on axis ${classAxis} need targets ${fmtShape(rest)}, ` +
        `got ${fmtShape(targets.shape)}`,
    );
  }
  if (a === logits.rank - 1) return logits;
  return permute(logits, [...rest.map((_, i) => (i < a ? i : i + 1)), a]); // (N, C, d1, ...) -> (N, d1, ..., C)
}

/**
 * PyTorch's weighted cross-entropy, for logits (..., C):
 *   loss_i = (1 - s) w[t_i] (-log p_i[t_i]) + (s / C) sum_c w[c] (-log p_i[c]),  0 for ignored rows,
 *   mean = sum_i loss_i / sum_{i not ignored} w[t_i].
 * The first term is the fused kernel's per-row loss (s = 0) times a constant per-row weight; the
 * smoothing term is a weighted row sum of logSoftmax. Gradients reach the logits only.
 */
function weightedCrossEntropy(
  logits: Tensor, targets: Tensor, weight: Tensor, ignoreIndex: number, smoothing: number, reduction: 'mean' | 'sum' | 'none',
): Tensor {
  const C = logits.shape[logits.rank - 1];
  if (!shapesEqual(weight.shape, [C]) || weight.dtype === 'int32') {
    throw new Error(`crossEntropy: weight ${weight.describe()} must be a float tensor [${C}], one weight per class`);
  }
  const w = weight.toArray();
  const t = targets.toArray();
  const rowWeight = new Float64Array(t.length);
  const kept = new Float64Array(t.length);
  let total = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === ignoreIndex) continue;
    if (!(t[i] >= 0 && t[i] < C)) {
      throw new Error(`crossEntropy: target ${t[i]} in row ${i} is outside [0, ${C}) and is not the ignore index ${ignoreIndex}`);
    }
    rowWeight[i] = w[t[i]];
    kept[i] = 1;
    total += w[t[i]];
  }
  const be = logits.backend;
  const rows = targets.shape;
  const nll = apply(crossEntropyOp, [logits, targets], { ignoreIndex, smoothing: 0 }); // (rows), 0 where ignored
  let loss = mul(reshape(nll, rows), tensor(rowWeight, rows, { backend: be }));
  if (smoothing > 0) {
    const weighted = mul(logSoftmax(logits), tensor(w, [C], { backend: be })); // w[c] log p_i[c]
    const smooth = mul(sum(weighted, -1), tensor(kept, rows, { backend: be }));
    loss = sub(mul(loss, 1 - smoothing), mul(smooth, smoothing / C));
  }
  if (reduction === 'none') return loss;
  const summed = sum(loss);
  return reduction === 'sum' ? summed : div(summed, total); // 0/0 = NaN when every row is ignored, as in PyTorch
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
    // dx, dgamma and dbeta read x, gamma, mean and rstd; never beta.
    ctx.save(x, gamma);
    ctx.saveTemps(mean, rstd);
    return y;
  },
  backward(ctx, dy, { hasGamma, hasBeta }) {
    const n = 1 + (hasGamma ? 1 : 0) + (hasBeta ? 1 : 0);
    const x = ctx.get(0, 'layerNorm');
    const gamma = hasGamma ? ctx.get(1, 'layerNorm') : null;
    const mean = ctx.get(2, 'layerNorm');
    const rstd = ctx.get(3, 'layerNorm');
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
  /**
   * `x` is row 0 (index 0 of its second-to-last dim, of size 1) of a tensor that has `firstRowOf`
   * rows there: the mask is that row of the whole tensor's mask and the generator advances as for
   * the whole tensor, so the result is exactly row 0 of dropout on the whole tensor (a model that
   * computes only one row of a layer stays identical to computing all of them).
   */
  firstRowOf?: number;
}

/** Zeroes each element with probability p and scales survivors by 1 / (1 - p) (seeded). */
export function dropout(x: Tensor, p: number, opts: DropoutOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p = ${p} must be in [0, 1]`);
  const rows = opts.firstRowOf;
  if (rows !== undefined && !(Number.isInteger(rows) && rows >= 1 && x.rank >= 2 && x.shape[x.rank - 2] === 1)) {
    throw new Error(`dropout: firstRowOf = ${rows} needs a positive integer and x ${fmtShape(x.shape)} with 1 row in its second-to-last dim`);
  }
  if (opts.training === false || p === 0) return x;
  if (p === 1) return mul(x, full([], 0, { backend: x.backend }));
  const whole = rows === undefined ? x.shape : x.shape.map((n, d) => (d === x.rank - 2 ? rows : n));
  const size = whole.reduce((a, n) => a * n, 1);
  let mask = emptyTensor(x.backend, whole);
  const s = (opts.generator ?? defaultGenerator()).take(size);
  x.backend.dropoutMask(mask.buf, size, p, s.seedLo, s.seedHi, s.counter);
  if (rows !== undefined && rows > 1) {
    const wholeMask = mask;
    mask = noGrad(() => slice(wholeMask, whole.map(() => 0), x.shape)); // row 0 of each (rows, cols) block
    wholeMask.dispose();
  }
  return mul(x, mask);
}
