// Row gather / scatter-add by int32 ids (embeddings) and one-hot encoding.
import { ldi, ldv, stv } from './common';

/** out[r, :] = table[ids[r], :]; ids are checked by the caller. */
export function gatherRows(table: usize, ids: usize, out: usize, n: i32, dim: i32): void {
  const rb = (<usize>dim) << 2;
  for (let r = 0; r < n; r++) {
    memory.copy(out + <usize>r * rb, table + <usize>ldi(ids, r) * rb, rb);
  }
}

/** dtable[ids[r], :] += dout[r, :], in r order (repeated ids add up). */
export function scatterAddRows(dout: usize, ids: usize, dtable: usize, n: i32, dim: i32): void {
  const rb = (<usize>dim) << 2;
  for (let r = 0; r < n; r++) {
    const src = dout + <usize>r * rb;
    const dst = dtable + <usize>ldi(ids, r) * rb;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= dim; j += 4) stv(dst, j, f32x4.add(ldv(dst, j), ldv(src, j)));
    }
    for (; j < dim; j++) {
      const p = dst + ((<usize>j) << 2);
      store<f32>(p, load<f32>(p) + load<f32>(src + ((<usize>j) << 2)));
    }
  }
}

/** out (n, classes) = one-hot of ids; ids outside [0, classes) give a zero row. */
export function oneHot(ids: usize, out: usize, n: i32, classes: i32): void {
  memory.fill(out, 0, (<usize>n * <usize>classes) << 2);
  for (let r = 0; r < n; r++) {
    const c = ldi(ids, r);
    if (c >= 0 && c < classes) store<f32>(out + ((<usize>r * <usize>classes + <usize>c) << 2), 1);
  }
}
