/** Selection ops: where / maskedFill, embedding lookup (gather rows), one-hot. */
import { broadcastShapes, fmtShape, shapesEqual } from '../backend/strides.js';
import { apply, defineOp } from '../autograd/op.js';
import { emptyTensor, type Tensor } from '../tensor/tensor.js';
import { lift, zeros, zerosLike, type TensorLike } from './create.js';
import { broadcastTo } from './shape.js';

export const whereOp = defineOp<Record<string, never>>({
  name: 'where',
  forward(ctx, [cond, a, b]) {
    const out = emptyTensor(a.backend, a.shape);
    a.backend.where(cond.buf, a.buf, b.buf, out.buf, out.size);
    ctx.save(cond);
    return out;
  },
  backward(ctx, dy) {
    const cond = ctx.get(0, 'where');
    const zero = zerosLike(dy);
    return [null, ctx.needsGrad[1] ? where(cond, dy, zero) : null, ctx.needsGrad[2] ? where(cond, zero, dy) : null];
  },
});

/** a where cond != 0, else b (numpy broadcasting over all three). cond carries no gradient. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const ta = lift(a, cond);
  const tb = lift(b, cond);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
  // the kernel reads an int32 cond as is (nonzero = take a): nothing goes through the host
  const c = cond;
  const fit = (t: Tensor) => (shapesEqual(t.shape, shape) ? t : broadcastTo(t, shape));
  return apply(whereOp, [fit(c), fit(ta), fit(tb)], {});
}

/** x with `value` wherever mask != 0. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}

function checkIds(op: string, ids: Tensor, limit: number, what: string): void {
  if (ids.dtype !== 'int32') {
    throw new Error(`${op}: ids ${ids.describe()} must be int32 (create them with { dtype: 'int32' })`);
  }
  // the range is computed once per ids tensor (from its host copy): a step re-checks it in O(1)
  const { min, max } = ids.intRange();
  if (min >= 0 && max < limit) return;
  const v = ids.intValues();
  for (let i = 0; i < v.length; i++) {
    if (v[i] < 0 || v[i] >= limit) {
      // As in PyTorch, only x[ids] (indexRows here) counts negative ids from the end.
      const hint = v[i] < 0 && v[i] >= -limit ? '; negative ids are not wrapped here (nor in PyTorch); for x[ids] semantics use indexRows' : '';
      throw new Error(`${op}: id ${v[i]} at position ${i} is outside [0, ${limit}) (${what})${hint}`);
    }
  }
}

export const embeddingOp = defineOp<{ paddingIdx: number | null }>({
  name: 'embedding',
  forward(ctx, [table, ids]) {
    const dim = table.shape[1];
    const out = emptyTensor(table.backend, [...ids.shape, dim]);
    table.backend.gatherRows(table.buf, ids.buf, out.buf, ids.size, dim);
    ctx.save(ids); // the table's shape is all backward needs of it
    return out;
  },
  // Rows looked up several times receive the sum of their gradients (scatter-add); the padding
  // row, if any, receives none (PyTorch's padding_idx): its gradient row is cleared on the device.
  backward(ctx, dy, { paddingIdx }) {
    const ids = ctx.get(0, 'embedding');
    const shape = ctx.inputShapes[0];
    const be = dy.backend;
    const dim = shape[1];
    const dtable = zeros(shape, { backend: be });
    be.scatterAddRows(dy.buf, ids.buf, dtable.buf, ids.size, dim);
    if (paddingIdx !== null) be.fill(be.view(dtable.buf, paddingIdx * dim, dim), 0);
    return [dtable, null];
  },
});

/**
 * Rows of `table` [V, D] picked by int32 `ids` of any shape: result [...ids.shape, D]. With
 * `paddingIdx`, that row of the table gets no gradient (PyTorch's F.embedding padding_idx).
 */
export function embedding(table: Tensor, ids: Tensor, opts: { paddingIdx?: number | null } = {}): Tensor {
  if (table.rank !== 2) throw new Error(`embedding: table must be [rows, dim], got ${fmtShape(table.shape)}`);
  const pad = opts.paddingIdx ?? null;
  if (pad !== null && !(Number.isInteger(pad) && pad >= 0 && pad < table.shape[0])) {
    throw new Error(`embedding: paddingIdx ${pad} is outside [0, ${table.shape[0]}) (the table's rows)`);
  }
  checkIds('embedding', ids, table.shape[0], `the table has ${table.shape[0]} rows`);
  return apply(embeddingOp, [table, ids], { paddingIdx: pad });
}

/** One-hot float rows [...ids.shape, classes]; ids must be in [0, classes). No gradient. */
export function oneHot(ids: Tensor, classes: number): Tensor {
  if (!Number.isInteger(classes) || classes <= 0) throw new Error(`oneHot: classes must be a positive integer, got ${classes}`);
  checkIds('oneHot', ids, classes, `classes = ${classes}`);
  const out = emptyTensor(ids.backend, [...ids.shape, classes]);
  ids.backend.oneHot(ids.buf, out.buf, ids.size, classes);
  return out;
}
