/**
 * Kernel calls on whole tensors, outside autograd: the pieces the differentiable ops wrap and the
 * backward engine uses directly (the engine sits below the op layer, so it cannot call the ops).
 * Every result is a new tensor; nothing here records a graph node.
 */
import type { ReduceOp } from '../backend/kernels.js';
import { coalesce, contiguousStrides, fmtShape, shapesEqual, sizeOf } from '../backend/strides.js';
import { emptyTensor, type Tensor } from './tensor.js';

/**
 * Reduces `axes` of x into a keepdim-shaped result, one run of adjacent axes per kernel call
 * (each run is a single (outer, r, inner) reduction of the current buffer).
 */
export function reduceKeepdim(op: ReduceOp, x: Tensor, axes: readonly number[]): Tensor {
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

/** a + b for two float tensors of one shape (the kernel `add` uses, so sums match the op's bit for bit). */
export function addSameShape(a: Tensor, b: Tensor): Tensor {
  if (!shapesEqual(a.shape, b.shape)) {
    throw new Error(`addSameShape: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ; broadcast first`);
  }
  const out = emptyTensor(a.backend, a.shape);
  const strides = contiguousStrides(a.shape);
  const c = coalesce(a.shape, [strides, strides]);
  a.backend.binary('add', a.buf, c.strides[0], b.buf, c.strides[1], out.buf, c.shape);
  return out;
}

/** A float copy of `t` with its own storage. */
export function copyFloat(t: Tensor): Tensor {
  const out = emptyTensor(t.backend, t.shape, t.dtype);
  t.backend.scale(1, t.buf, out.buf, t.size);
  return out;
}

/** A float tensor shaped like `like`, every element `value`. */
export function filledLike(like: Tensor, value: number): Tensor {
  const out = emptyTensor(like.backend, like.shape, like.dtype);
  like.backend.fill(out.buf, value);
  return out;
}
