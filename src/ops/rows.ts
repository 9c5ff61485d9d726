/**
 * PyTorch's integer-array indexing on the first axis, `x[ids]`: rows of x picked by int32 ids of any
 * shape, where a negative id counts from the end as in Python (-1 is the last row).
 *
 * PyTorch wraps negative ids only here (and in torch.take and nn.Embedding's padding_idx);
 * F.embedding, index_select and gather refuse them, and so does `embedding`.
 */
import { fmtShape } from '../backend/strides.js';
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from './create.js';
import { embedding } from './indexing.js';
import { reshape } from './shape.js';

/**
 * `x[ids]` in PyTorch: x (R, ...) and int32 ids of any shape give (...ids.shape, ...x.shape[1:]).
 * Ids must lie in [-R, R); a negative id i selects row R + i. Gradients scatter-add into x's rows.
 */
export function indexRows(x: Tensor, ids: Tensor): Tensor {
  if (x.rank < 1) throw new Error(`indexRows: x ${fmtShape(x.shape)} has no rows to index (rank 0)`);
  if (ids.dtype !== 'int32') throw new Error(`indexRows: ids ${ids.describe()} must be int32 (create them with { dtype: 'int32' })`);
  const R = x.shape[0];
  const v = ids.intValues();
  let wrapped: Int32Array | null = null;
  for (let i = 0; i < v.length; i++) {
    const id = v[i];
    if (id < -R || id >= R) {
      throw new Error(`indexRows: id ${id} at position ${i} is outside [-${R}, ${R}) for x ${fmtShape(x.shape)} (${R} rows)`);
    }
    if (id < 0) (wrapped ??= Int32Array.from(v))[i] = id + R;
  }
  const rest = x.shape.slice(1);
  const width = rest.reduce((a, b) => a * b, 1);
  const rowIds = wrapped ? tensor(wrapped, ids.shape, { dtype: 'int32', backend: ids.backend }) : ids;
  const picked = embedding(reshape(x, [R, width]), rowIds); // (...ids, width)
  return reshape(picked, [...ids.shape, ...rest]);
}
