/** Shape ops: reshape (a view), broadcastTo, permute/transpose, slice, concat, stack. */
import {
  broadcastShapes, broadcastStrides, coalesce, contiguousStrides, fmtShape, normAxis, shapesEqual, sizeOf,
  type Shape,
} from '../backend/strides.js';
import { apply, defineOp } from '../autograd/op.js';
import { emptyTensor, type Tensor } from '../tensor/tensor.js';
import { zeros } from './create.js';

/** Strided copy of `src` (read with srcStrides from srcOffset) into `dst`, over `shape`. */
function copyInto(
  src: Tensor, srcOffset: number, srcStrides: readonly number[],
  dst: Tensor, dstOffset: number, dstStrides: readonly number[], shape: Shape, accumulate: boolean,
): void {
  const c = coalesce(shape, [srcStrides, dstStrides]);
  if (sizeOf(shape) === 0) return;
  src.backend.copyStrided(src.buf, srcOffset, c.strides[0], dst.buf, dstOffset, c.strides[1], c.shape, accumulate);
}

function resolveShape(op: string, x: Tensor, shape: Shape): number[] {
  const out = [...shape];
  const infer = out.indexOf(-1);
  if (infer !== out.lastIndexOf(-1)) throw new Error(`${op}: at most one dim may be -1, got ${fmtShape(shape)}`);
  if (infer >= 0) {
    const known = sizeOf(out.filter((_, i) => i !== infer));
    if (known === 0 || x.size % known !== 0) {
      throw new Error(`${op}: cannot infer -1 in ${fmtShape(shape)} for ${x.size} elements of ${fmtShape(x.shape)}`);
    }
    out[infer] = x.size / known;
  }
  if (sizeOf(out) !== x.size || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${op}: cannot view ${fmtShape(x.shape)} (${x.size} elements) as ${fmtShape(shape)}`);
  }
  return out;
}

export const reshapeOp = defineOp<{ shape: number[] }>({
  name: 'reshape',
  forward(ctx, [x], { shape }) {
    return x.shareStorage(shape);
  },
  backward(ctx, dy) {
    return [reshape(dy, ctx.inputShapes[0])];
  },
});

/** Same values, new shape (one dim may be -1). Shares storage: no copy. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  return apply(reshapeOp, [x], { shape: resolveShape('reshape', x, shape) });
}

export const broadcastToOp = defineOp<{ shape: number[] }>({
  name: 'broadcastTo',
  forward(_ctx, [x], { shape }) {
    const out = emptyTensor(x.backend, shape, x.dtype);
    copyInto(x, 0, broadcastStrides(x.shape, shape), out, 0, contiguousStrides(shape), shape, false);
    return out;
  },
  // The engine sums dy back to x's shape.
  backward: (_ctx, dy) => [dy],
});

/** Materialises x broadcast to `shape` (numpy rules). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes('broadcastTo', x.shape, shape);
  if (!shapesEqual(target, shape)) {
    throw new Error(`broadcastTo: ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(shape)}`);
  }
  if (shapesEqual(x.shape, shape)) return x;
  return apply(broadcastToOp, [x], { shape: [...shape] });
}

export const permuteOp = defineOp<{ perm: number[] }>({
  name: 'permute',
  forward(_ctx, [x], { perm }) {
    const shape = perm.map((d) => x.shape[d]);
    const xs = contiguousStrides(x.shape);
    const out = emptyTensor(x.backend, shape, x.dtype);
    copyInto(x, 0, perm.map((d) => xs[d]), out, 0, contiguousStrides(shape), shape, false);
    return out;
  },
  backward(_ctx, dy, { perm }) {
    const inv = new Array<number>(perm.length);
    perm.forEach((d, i) => (inv[d] = i));
    return [permute(dy, inv)];
  },
});

/** Reorders dims: out.shape[i] = x.shape[perm[i]] (copies). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const p = perm.map((d) => normAxis('permute', d, x.rank));
  if (p.length !== x.rank || new Set(p).size !== p.length) {
    throw new Error(`permute: [${perm.join(', ')}] is not a permutation of the ${x.rank} dims of ${fmtShape(x.shape)}`);
  }
  if (p.every((d, i) => d === i)) return x;
  return apply(permuteOp, [x], { perm: p });
}

/** Swaps two dims (default the last two). For matmul, prefer its transA/transB flags: no copy. */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const perm = x.shape.map((_, i) => i);
  const a = normAxis('transpose', dim0, x.rank);
  const b = normAxis('transpose', dim1, x.rank);
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return permute(x, perm);
}

export const sliceOp = defineOp<{ starts: number[]; sizes: number[] }>({
  name: 'slice',
  forward(_ctx, [x], { starts, sizes }) {
    const xs = contiguousStrides(x.shape);
    const offset = starts.reduce((acc, s, d) => acc + s * xs[d], 0);
    const out = emptyTensor(x.backend, sizes, x.dtype);
    copyInto(x, offset, xs, out, 0, contiguousStrides(sizes), sizes, false);
    return out;
  },
  backward(ctx, dy, { starts, sizes }) {
    const shape = ctx.inputShapes[0];
    const dx = zeros(shape, { backend: dy.backend });
    const xs = contiguousStrides(shape);
    const offset = starts.reduce((acc, s, d) => acc + s * xs[d], 0);
    copyInto(dy, 0, contiguousStrides(sizes), dx, offset, xs, sizes, true);
    return [dx];
  },
});

/**
 * Sub-tensor [starts[d], ends[d]) on each dim (negative indices count from the end; omitted dims
 * are taken whole). `slice(x, [0, 2], [4, 5])` = x[0:4, 2:5].
 */
export function slice(x: Tensor, starts: readonly number[], ends?: readonly number[]): Tensor {
  if (starts.length > x.rank || (ends && ends.length > x.rank)) {
    throw new Error(`slice: ${starts.length} starts for a tensor of rank ${x.rank} ${fmtShape(x.shape)}`);
  }
  const s: number[] = [];
  const sizes: number[] = [];
  for (let d = 0; d < x.rank; d++) {
    const n = x.shape[d];
    let a = starts[d] ?? 0;
    let b = ends?.[d] ?? n;
    if (a < 0) a += n;
    if (b < 0) b += n;
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b > n || a > b) {
      throw new Error(`slice: range [${starts[d]}, ${ends?.[d] ?? n}) is out of bounds for dim ${d} of size ${n} in ${fmtShape(x.shape)}`);
    }
    s.push(a);
    sizes.push(b - a);
  }
  if (shapesEqual(sizes, x.shape)) return x;
  return apply(sliceOp, [x], { starts: s, sizes });
}

/** `length` entries of dim `axis` starting at `start`. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const d = normAxis('narrow', axis, x.rank);
  const starts = x.shape.map((_, i) => (i === d ? start : 0));
  const ends = x.shape.map((n, i) => (i === d ? start + length : n));
  return slice(x, starts, ends);
}

export const concatOp = defineOp<{ axis: number }>({
  name: 'concat',
  forward(ctx, xs, { axis }) {
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((acc, t) => acc + t.shape[axis], 0);
    const out = emptyTensor(xs[0].backend, shape, xs[0].dtype);
    const os = contiguousStrides(shape);
    let at = 0;
    for (const t of xs) {
      copyInto(t, 0, contiguousStrides(t.shape), out, at * os[axis], os, t.shape, false);
      at += t.shape[axis];
    }
    return out;
  },
  backward(ctx, dy, { axis }) {
    let at = 0;
    return ctx.inputShapes.map((shape, i) => {
      const start = at;
      at += shape[axis];
      return ctx.needsGrad[i] ? narrow(dy, axis, start, shape[axis]) : null;
    });
  },
});

/** Joins tensors along an existing axis; all other dims must match. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const ax = normAxis('concat', axis, xs[0].rank);
  for (const t of xs) {
    const ok = t.rank === xs[0].rank && t.shape.every((n, d) => d === ax || n === xs[0].shape[d]);
    if (!ok || t.dtype !== xs[0].dtype) {
      throw new Error(
        `concat: ${fmtShape(t.shape)} ${t.dtype} does not match ${fmtShape(xs[0].shape)} ${xs[0].dtype} ` +
          `outside axis ${ax}; all inputs need the same rank, dtype and sizes except along the axis`,
      );
    }
  }
  if (xs.length === 1) return xs[0];
  return apply(concatOp, xs, { axis: ax });
}

/** Inserts a size-1 dim at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const d = normAxis('unsqueeze', axis, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}

/** Removes size-1 dims (all of them, or the given one). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((n) => n !== 1));
  const d = normAxis('squeeze', axis, x.rank);
  if (x.shape[d] !== 1) throw new Error(`squeeze: dim ${d} of ${fmtShape(x.shape)} has size ${x.shape[d]}, not 1`);
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

/** Stacks equal-shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('stack: needs at least one tensor');
  const ax = normAxis('stack', axis, xs[0].rank + 1);
  for (const t of xs) {
    if (!shapesEqual(t.shape, xs[0].shape)) {
      throw new Error(`stack: shapes ${fmtShape(t.shape)} and ${fmtShape(xs[0].shape)} differ; stack needs equal shapes`);
    }
  }
  return concat(xs.map((t) => unsqueeze(t, ax)), ax);
}

/** Collapses dims [startDim, endDim] into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const a = normAxis('flatten', startDim, x.rank);
  const b = normAxis('flatten', endDim, x.rank);
  const shape = [...x.shape.slice(0, a), sizeOf(x.shape.slice(a, b + 1)), ...x.shape.slice(b + 1)];
  return reshape(x, shape);
}
