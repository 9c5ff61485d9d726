/** Reductions over axes: sum and max as ops; mean and var composed from them. */
import type { ReduceOp } from '../backend/kernels.js';
import { fmtShape, normAxis, sizeOf } from '../backend/strides.js';
import { apply, defineOp } from '../autograd/op.js';
import { emptyTensor, type Tensor } from '../tensor/tensor.js';
import { div, eq, mul, sub } from './elementwise.js';
import { broadcastTo, reshape } from './shape.js';

/** Sorted, de-duplicated, non-negative axes (all axes when undefined). */
function resolveAxes(op: string, x: Tensor, axes?: number | readonly number[]): number[] {
  if (axes === undefined) return x.shape.map((_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  return [...new Set(list.map((a) => normAxis(op, a, x.rank)))].sort((a, b) => a - b);
}

function keptShape(x: Tensor, axes: readonly number[]): number[] {
  return x.shape.map((n, i) => (axes.includes(i) ? 1 : n));
}

/**
 * Reduces `axes` of x into a keepdim-shaped result, one run of adjacent axes per kernel call
 * (each run is a single (outer, r, inner) reduction of the current buffer).
 */
function reduceKeepdim(op: ReduceOp, x: Tensor, axes: readonly number[]): Tensor {
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a) last[1] = a + 1;
    else runs.push([a, a + 1]);
  }
  let cur = x;
  let shape = [...x.shape];
  for (let k = runs.length - 1; k >= 0; k--) {
    const [a, b] = runs[k];
    const outer = sizeOf(shape.slice(0, a));
    const r = sizeOf(shape.slice(a, b));
    const inner = sizeOf(shape.slice(b));
    if (op === 'max' && r === 0) {
      throw new Error(`max: cannot reduce over an empty dim of ${fmtShape(x.shape)}; max of nothing is undefined`);
    }
    shape = shape.map((n, i) => (i >= a && i < b ? 1 : n));
    const out = emptyTensor(x.backend, shape);
    x.backend.reduce(op, cur.buf, out.buf, outer, r, inner);
    if (cur !== x) cur.dispose();
    cur = out;
  }
  if (cur === x) {
    // No axes: a reduction over nothing is a copy.
    const out = emptyTensor(x.backend, x.shape);
    x.backend.scale(1, x.buf, out.buf, x.size);
    cur = out;
  }
  return cur;
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
    ctx.save(x);
    return finishShape(x, reduceKeepdim('sum', x, attrs.axes), attrs);
  },
  backward(ctx, dy, { axes }) {
    const x = ctx.saved[0];
    return [broadcastTo(reshape(dy, keptShape(x, axes)), x.shape)];
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
    const [x, m] = ctx.saved;
    const mask = eq(x, m);
    const count = sum(mask, axes, true);
    return [mul(div(mask, count), reshape(dy, keptShape(x, axes)))];
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
