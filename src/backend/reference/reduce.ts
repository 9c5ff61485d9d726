/** Reductions: reduce (sum / max over the middle axis of (outer, r, inner)) and sumSquares. */
import type { Buf, ReduceOp } from '../kernels.js';
import { checkCount, fdata } from './buffer.js';

export function reduce(op: ReduceOp, x: Buf, out: Buf, outer: number, r: number, inner: number): void {
  checkCount(outer, 'outer');
  checkCount(r, 'r');
  checkCount(inner, 'inner');
  if (op !== 'sum' && op !== 'max') throw new RangeError(`reference backend: unknown reduce op '${String(op)}'`);
  if (op === 'max' && r === 0) {
    throw new RangeError('reference backend: reduce max over an empty axis (r = 0) has no identity');
  }
  const xs = fdata(x, 'x', outer * r * inner);
  const o = fdata(out, 'out', outer * inner);
  for (let po = 0; po < outer; po++) {
    for (let i = 0; i < inner; i++) {
      const base = po * r * inner + i;
      let acc: number;
      if (op === 'sum') {
        acc = 0;
        for (let j = 0; j < r; j++) acc += xs[base + j * inner]!;
      } else {
        acc = xs[base]!;
        for (let j = 1; j < r; j++) {
          const v = xs[base + j * inner]!;
          // Once acc is NaN no comparison succeeds, so NaN sticks; a NaN v is taken explicitly.
          if (v > acc || v !== v) acc = v;
        }
      }
      o[po * inner + i] = acc;
    }
  }
}

export function sumSquares(x: Buf, n: number): number {
  checkCount(n, 'n');
  const xs = fdata(x, 'x', n);
  let acc = 0;
  for (let i = 0; i < n; i++) acc += xs[i]! * xs[i]!;
  return acc;
}
