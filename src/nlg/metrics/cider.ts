/**
 * CIDEr-D as the MS-COCO caption evaluation computes it (the E2E challenge's CIDEr).
 *
 * For n = 1..4 each text becomes a vector over its n-grams with weight tf * (ln N - ln max(1, df)),
 * where tf is the raw count in the text, N the number of segments evaluated, and df the number of
 * segments whose references contain the n-gram (document frequency from the references of the
 * evaluated set). For each reference: sim_n = sum over hypothesis n-grams of
 * min(h_g, r_g) * r_g / (|h_n| |r_n|) (clipped cosine; 0 when a norm is 0), times the length
 * penalty exp(-(l_h - l_r)^2 / (2 * 6^2)). Segment score = 10 * mean over n of the mean over
 * references; corpus score = mean over segments. As in the COCO code, the lengths l_h, l_r in the
 * penalty are the numbers of bigrams (the code counts n-grams at index 1), i.e. words - 1 for
 * non-empty texts. Input is tokens (see `cocoTokenize`).
 */
import { checkAligned, ngramCounts, ngramOrder } from './ngrams.js';

export const CIDER_MAX_N = 4;
export const CIDER_SIGMA = 6;

interface Vec {
  /** Per order n-1: n-gram -> weight. */
  weights: Map<string, number>[];
  norms: number[];
  length: number;
}

function toVec(tokens: readonly string[], df: Map<string, number>, logN: number): Vec {
  const weights = Array.from({ length: CIDER_MAX_N }, () => new Map<string, number>());
  const norms = new Array<number>(CIDER_MAX_N).fill(0);
  let length = 0;
  for (const [k, tf] of ngramCounts(tokens, CIDER_MAX_N)) {
    const n = ngramOrder(k) - 1;
    const w = tf * (logN - Math.log(Math.max(1, df.get(k) ?? 0)));
    weights[n]!.set(k, w);
    norms[n]! += w * w;
    if (n === 1) length += tf;
  }
  return { weights, norms: norms.map(Math.sqrt), length };
}

function similarity(h: Vec, r: Vec, sigma: number): number[] {
  const delta = h.length - r.length;
  const penalty = Math.exp(-(delta * delta) / (2 * sigma * sigma));
  return h.weights.map((hw, n) => {
    let v = 0;
    for (const [k, w] of hw) {
      const rw = r.weights[n]!.get(k) ?? 0;
      v += Math.min(w, rw) * rw;
    }
    if (h.norms[n] !== 0 && r.norms[n] !== 0) v /= h.norms[n]! * r.norms[n]!;
    return v * penalty;
  });
}

/** Segment CIDEr-D scores; the corpus score is their mean (`corpusCider`). */
export function ciderSegments(
  hyps: readonly (readonly string[])[],
  refs: readonly (readonly (readonly string[])[])[],
  sigma = CIDER_SIGMA,
): number[] {
  checkAligned('CIDEr', hyps, refs);
  const df = new Map<string, number>();
  for (const group of refs) {
    const seen = new Set<string>();
    for (const ref of group) for (const k of ngramCounts(ref, CIDER_MAX_N).keys()) seen.add(k);
    for (const k of seen) df.set(k, (df.get(k) ?? 0) + 1);
  }
  const logN = Math.log(refs.length);
  return hyps.map((h, i) => {
    const hv = toVec(h, df, logN);
    const group = refs[i]!;
    const sums = new Array<number>(CIDER_MAX_N).fill(0);
    for (const ref of group) similarity(hv, toVec(ref, df, logN), sigma).forEach((v, n) => (sums[n]! += v));
    const mean = sums.reduce((a, b) => a + b, 0) / CIDER_MAX_N;
    return (mean / group.length) * 10;
  });
}

export function corpusCider(hyps: readonly (readonly string[])[], refs: readonly (readonly (readonly string[])[])[], sigma = CIDER_SIGMA): number {
  const s = ciderSegments(hyps, refs, sigma);
  return s.reduce((a, b) => a + b, 0) / s.length;
}
