/** Shape and stride arithmetic shared by the op layer and the backends. */

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** numpy broadcasting of two shapes; `op` names the caller in the error. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (dim ${i} of the aligned shapes: ` +
          `${da} vs ${db}); make them equal or 1 there, e.g. with reshape or unsqueeze`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a contiguous tensor of shape `inShape` broadcast to `outShape` (0 on broadcast dims). */
export function broadcastStrides(inShape: Shape, outShape: Shape): number[] {
  const inStrides = contiguousStrides(inShape);
  const lead = outShape.length - inShape.length;
  const out = new Array<number>(outShape.length);
  for (let i = 0; i < outShape.length; i++) {
    if (i < lead) out[i] = 0;
    else out[i] = inShape[i - lead] === 1 && outShape[i] !== 1 ? 0 : inStrides[i - lead];
  }
  return out;
}

/**
 * Merges adjacent dims that every stride list walks contiguously, and drops size-1 dims, so kernels see
 * the smallest rank that describes the same traversal. Returns the new shape and stride lists.
 */
export function coalesce(shape: Shape, strideLists: readonly (readonly number[])[]): {
  shape: number[];
  strides: number[][];
} {
  const outShape: number[] = [];
  const outStrides: number[][] = strideLists.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    const mergeable =
      last >= 0 && strideLists.every((s, k) => outStrides[k][last] === s[d] * shape[d]);
    if (mergeable) {
      outShape[last] *= shape[d];
      strideLists.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strideLists.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    outStrides.forEach((s) => s.push(1));
  }
  return { shape: outShape, strides: outStrides };
}

/** Resolves a possibly negative axis against `rank`; `op` names the caller in the error. */
export function normAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new Error(`${op}: axis ${axis} is out of range for a tensor of rank ${rank} (use -${rank}..${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}
