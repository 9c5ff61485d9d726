/** Selection ops: where / maskedFill, embedding lookup (gather rows), one-hot. */
import { broadcastShapes, fmtShape, shapesEqual } from '../backend/strides.js';
import { apply, defineOp } from '../autograd/op.js';
import { emptyTensor, type Tensor } from '../tensor/tensor.js';
import { lift, tensor, zeros, zerosLike, type TensorLike } from './create.js';
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
    const cond = ctx.saved[0];
    const zero = zerosLike(dy);
    return [null, ctx.needsGrad[1] ? where(cond, dy, zero) : null, ctx.needsGrad[2] ? where(cond, zero, dy) : null];
  },
});

/** a where cond != 0, else b (numpy broadcasting over all three). cond carries no gradient. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const ta = lift(a, cond);
  const tb = lift(b, cond);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
  let c = cond;
  if (c.dtype === 'int32') c = tensor(Array.from(c.toArray(), (v) => (v !== 0 ? 1 : 0)), c.shape, { backend: c.backend });
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
  const v = ids.toArray();
  for (let i = 0; i < v.length; i++) {
    if (v[i] < 0 || v[i] >= limit) {
      // As in PyTorch, only x[ids] (indexRows here) counts negative ids from the end.
      const hint = v[i] < 0 && v[i] >= -limit ? '; negative ids are not wrapped here (nor in PyTorch); for x[ids] semantics use indexRows' : '';
      throw new Error(`${op}: id ${v[i]} at position ${i} is outside [0, ${limit}) (${what})${hint}`);
    }
  }
}

export const embeddingOp = defineOp<Record<string, never>>({
  name: 'embedding',
  forward(ctx, [table, ids]) {
    const dim = table.shape[1];
    const out = emptyTensor(table.backend, [...ids.shape, dim]);
    table.backend.gatherRows(table.buf, ids.buf, out.buf, ids.size, dim);
    ctx.save(table, ids);
    return out;
  },
  // Rows looked up several times receive the sum of their gradients (scatter-add).
  backward(ctx, dy) {
    const [table, ids] = ctx.saved;
    const dtable = zeros(table.shape, { backend: table.backend });
    table.backend.scatterAddRows(dy.buf, ids.buf, dtable.buf, ids.size, table.shape[1]);
    return [dtable, null];
  },
});

/** Rows of `table` [V, D] picked by int32 `ids` of any shape: result [...ids.shape, D]. */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  if (table.rank !== 2) throw new Error(`embedding: table must be [rows, dim], got ${fmtShape(table.shape)}`);
  checkIds('embedding', ids, table.shape[0], `the table has ${table.shape[0]} rows`);
  return apply(embeddingOp, [table, ids], {});
}

/** One-hot float rows [...ids.shape, classes]; ids must be in [0, classes). No gradient. */
export function oneHot(ids: Tensor, classes: number): Tensor {
  if (!Number.isInteger(classes) || classes <= 0) throw new Error(`oneHot: classes must be a positive integer, got ${classes}`);
  checkIds('oneHot', ids, classes, `classes = ${classes}`);
  const out = emptyTensor(ids.backend, [...ids.shape, classes]);
  ids.backend.oneHot(ids.buf, out.buf, ids.size, classes);
  return out;
}
