/**
 * ROUGE-L as the MS-COCO caption evaluation computes it (the E2E challenge's ROUGE_L): for each
 * segment, P = max over references of LCS / |hyp| and R = max over references of LCS / |ref|
 * (each maximised on its own), F = (1 + beta^2) P R / (R + beta^2 P) with beta = 1.2 (0 when P or R
 * is 0); the corpus score is the mean of the segment scores. Input is tokens (see `cocoTokenize`).
 * As in the COCO code, an empty text counts as one empty token, so it has length 1.
 */
import { checkAligned } from './ngrams.js';

export const ROUGE_BETA = 1.2;

/** Length of the longest common subsequence of two token lists. */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  if (a.length < b.length) [a, b] = [b, a];
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

// The COCO code splits on single spaces, so "" is [""].
const asSplit = (t: readonly string[]): readonly string[] => (t.length === 0 ? [''] : t);

/** ROUGE-L F of one hypothesis against its references. */
export function rougeL(hyp: readonly string[], refs: readonly (readonly string[])[], beta = ROUGE_BETA): number {
  const h = asSplit(hyp);
  let pMax = 0;
  let rMax = 0;
  for (const ref of refs) {
    const r = asSplit(ref);
    const lcs = lcsLength(r, h);
    pMax = Math.max(pMax, lcs / h.length);
    rMax = Math.max(rMax, lcs / r.length);
  }
  if (pMax === 0 || rMax === 0) return 0;
  return ((1 + beta * beta) * pMax * rMax) / (rMax + beta * beta * pMax);
}

/** Mean segment ROUGE-L over the corpus. */
export function corpusRougeL(hyps: readonly (readonly string[])[], refs: readonly (readonly (readonly string[])[])[]): number {
  checkAligned('ROUGE-L', hyps, refs);
  let sum = 0;
  hyps.forEach((h, i) => (sum += rougeL(h, refs[i]!)));
  return sum / hyps.length;
}
