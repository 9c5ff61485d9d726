/**
 * Attention softmax with the mask computed per element rather than materialised: scale, replace
 * blocked scores with -1e9, softmax (and its backward). Float64 arithmetic, one rounding at the store.
 */
import type { Buf } from '../kernels.js';
import { anydata, checkCount, fdata } from './buffer.js';

/** The score a blocked key gets (src/nn/attention.ts MASK_VALUE). */
const MASK = -1e9;

/** Checks the dims; returns the row count and a predicate "key j is blocked for row r". */
function layout(
  keep: Buf | null, batch: number, heads: number, queryLen: number, keyLen: number, causal: boolean,
): { rows: number; blocked: (r: number, j: number) => boolean } {
  checkCount(batch, 'batch');
  checkCount(heads, 'heads');
  checkCount(queryLen, 'queryLen');
  checkCount(keyLen, 'keyLen');
  if (causal && keyLen < queryLen) {
    throw new RangeError(`reference backend: causal attention needs keyLen ${keyLen} >= queryLen ${queryLen}`);
  }
  const k = keep === null ? null : anydata(keep, 'keep', batch * keyLen);
  const past = keyLen - queryLen;
  const perBatch = heads * queryLen;
  return {
    rows: batch * perBatch,
    blocked: (r, j) => (causal && j > past + (r % queryLen)) || (k !== null && k[Math.floor(r / perBatch) * keyLen + j] === 0),
  };
}

export function attentionSoftmax(
  x: Buf, keep: Buf | null, out: Buf, batch: number, heads: number, queryLen: number, keyLen: number,
  scale: number, causal: boolean,
): void {
  const { rows, blocked } = layout(keep, batch, heads, queryLen, keyLen, causal);
  const xs = fdata(x, 'x', rows * keyLen);
  const o = fdata(out, 'out', rows * keyLen);
  const s = new Float64Array(keyLen);
  for (let r = 0; r < rows; r++) {
    const base = r * keyLen;
    let m = -Infinity;
    for (let j = 0; j < keyLen; j++) {
      s[j] = blocked(r, j) ? MASK : scale * xs[base + j]!;
      if (s[j]! > m || s[j] !== s[j]) m = s[j]!;
    }
    let sum = 0;
    for (let j = 0; j < keyLen; j++) {
      s[j] = Math.exp(s[j]! - m);
      sum += s[j]!;
    }
    for (let j = 0; j < keyLen; j++) o[base + j] = s[j]! / sum;
  }
}

export function attentionSoftmaxBackward(
  y: Buf, dy: Buf, dx: Buf, keep: Buf | null, batch: number, heads: number, queryLen: number, keyLen: number,
  scale: number, causal: boolean,
): void {
  const { rows, blocked } = layout(keep, batch, heads, queryLen, keyLen, causal);
  const ys = fdata(y, 'y', rows * keyLen);
  const g = fdata(dy, 'dy', rows * keyLen);
  const o = fdata(dx, 'dx', rows * keyLen);
  for (let r = 0; r < rows; r++) {
    const base = r * keyLen;
    let dot = 0;
    for (let j = 0; j < keyLen; j++) dot += g[base + j]! * ys[base + j]!;
    for (let j = 0; j < keyLen; j++) o[base + j] = blocked(r, j) ? 0 : scale * ys[base + j]! * (g[base + j]! - dot);
  }
}
