/** Reductions over axes: sum and max as ops; mean and var composed from them. */
import { normAxis, sizeOf } from '../backend/strides.js';
import { apply, defineOp } from '../autograd/op.js';
import { reduceKeepdim } from '../tensor/raw.js';
import type { Tensor } from '../tensor/tensor.js';
import { div, eq, mul, sub } from './elementwise.js';
import { broadcastTo, reshape } from './shape.js';

/** Sorted, de-duplicated, non-negative axes (all axes when undefined). */
function resolveAxes(op: string, x: Tensor, axes?: number | readonly number[]): number[] {
  if (axes === undefined) return x.shape.map((_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  return [...new Set(list.map((a) => normAxis(op, a, x.rank)))].sort((a, b) => a - b);
}

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((n, i) => (axes.includes(i) ? 1 : n));
}

interface ReduceAttrs {
  axes: number[];
  keepdim: boolean;
}

function finishShape(x: Tensor, t: Tensor, { axes, keepdim }: ReduceAttrs): Tensor {
  if (keepdim) return t;
  const out = t.shareStorage(x.shape.filter((_, i) => !axes.includes(i)));
  t.dispose();
  return out;
}

export const sumOp = defineOp<ReduceAttrs>({
  name: 'sum',
  forward(ctx, [x], attrs) {
    return finishShape(x, reduceKeepdim('sum', x, attrs.axes), attrs);
  },
  backward(ctx, dy, { axes }) {
    const shape = ctx.inputShapes[0];
    return [broadcastTo(reshape(dy, keptShape(shape, axes)), shape)];
  },
});

export const maxOp = defineOp<ReduceAttrs>({
  name: 'max',
  forward(ctx, [x], attrs) {
    const m = reduceKeepdim('max', x, attrs.axes);
    const out = finishShape(x, m.shareStorage(m.shape), attrs);
    ctx.save(x);
    ctx.saveTemps(m);
    return out;
  },
  // The gradient is shared evenly among the positions that attain the max.
  backward(ctx, dy, { axes }) {
    const [x, m] = ctx.saved as Tensor[];
    const mask = eq(x, m);
    const count = sum(mask, axes, true);
    return [mul(div(mask, count), reshape(dy, keptShape(x.shape, axes)))];
  },
});

/** Sum over `axes` (all by default). */
export function sum(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  return apply(sumOp, [x], { axes: resolveAxes('sum', x, axes), keepdim });
}

/** Max over `axes` (all by default); ties share the gradient evenly. */
export function max(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  return apply(maxOp, [x], { axes: resolveAxes('max', x, axes), keepdim });
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = resolveAxes('mean', x, axes);
  const n = sizeOf(ax.map((a) => x.shape[a]));
  return div(sum(x, ax, keepdim), n);
}

/**
 * Variance over `axes` with `correction` subtracted from the count: 1 (default, unbiased, as
 * torch.var) or 0 (biased, as layer norm uses).
 */
export function variance(
  x: Tensor, axes?: number | readonly number[], opts: { keepdim?: boolean; correction?: number } = {},
): Tensor {
  const ax = resolveAxes('var', x, axes);
  const n = sizeOf(ax.map((a) => x.shape[a]));
  const d = sub(x, mean(x, ax, true));
  return div(sum(mul(d, d), ax, opts.keepdim ?? false), n - (opts.correction ?? 1));
}
