/** Row gather / scatter-add by int32 ids, and one-hot encoding. */
import type { Buf } from '../kernels.js';
import { checkCount, fdata, idata } from './buffer.js';

/** Throws unless row `id` lies inside a table of `size` elements with rows of `dim`. */
function checkRow(id: number, dim: number, size: number, r: number): void {
  if (id < 0 || (id + 1) * dim > size) {
    throw new RangeError(`reference backend: ids[${r}] = ${id} is outside the table's ${Math.floor(size / Math.max(dim, 1))} rows`);
  }
}

export function gatherRows(table: Buf, ids: Buf, out: Buf, n: number, dim: number): void {
  checkCount(n, 'n');
  checkCount(dim, 'dim');
  const t = fdata(table, 'table', 0);
  const id = idata(ids, 'ids', n);
  const o = fdata(out, 'out', n * dim);
  for (let r = 0; r < n; r++) {
    const row = id[r]!;
    checkRow(row, dim, t.length, r);
    for (let j = 0; j < dim; j++) o[r * dim + j] = t[row * dim + j]!;
  }
}

export function scatterAddRows(dout: Buf, ids: Buf, dtable: Buf, n: number, dim: number): void {
  checkCount(n, 'n');
  checkCount(dim, 'dim');
  const g = fdata(dout, 'dout', n * dim);
  const id = idata(ids, 'ids', n);
  const t = fdata(dtable, 'dtable', 0);
  for (let r = 0; r < n; r++) {
    const row = id[r]!;
    checkRow(row, dim, t.length, r);
    for (let j = 0; j < dim; j++) t[row * dim + j] = t[row * dim + j]! + g[r * dim + j]!;
  }
}

export function oneHot(ids: Buf, out: Buf, n: number, classes: number): void {
  checkCount(n, 'n');
  checkCount(classes, 'classes');
  const id = idata(ids, 'ids', n);
  const o = fdata(out, 'out', n * classes);
  o.fill(0, 0, n * classes);
  for (let r = 0; r < n; r++) {
    const c = id[r]!;
    if (c >= 0 && c < classes) o[r * classes + c] = 1;
  }
}
