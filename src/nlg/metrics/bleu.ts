/**
 * Corpus BLEU as NIST's mteval-v13a computes it (the E2E challenge's BLEU): n = 1..4 clipped
 * n-gram precisions against the per-n-gram maximum count over a segment's references, summed over
 * the corpus; brevity penalty exp(min(0, 1 - r / c)) where c is the total hypothesis length and r
 * the sum over segments of the reference length closest to the hypothesis length (ties go to the
 * shorter reference). mteval-v13a's default smoothing is kept: an order with no match at all
 * counts as precision 1 / (2^k * total) for the k-th such order (it only matters for tiny corpora).
 * Input is tokens (see `mtevalTokenize`).
 */
import { checkAligned, maxRefCounts, ngramCounts, ngramOrder } from './ngrams.js';

export const BLEU_MAX_N = 4;

/** Sufficient statistics of one segment or a whole corpus (index n-1 for order n). */
export interface BleuStats {
  matches: number[];
  totals: number[];
  hypLength: number;
  refLength: number;
}

/**
 * mteval-v13a's closest reference length: the first reference's length, then each later
 * non-empty reference replaces it when strictly closer, or equally close and shorter.
 */
export function closestRefLength(hypLength: number, refLengths: readonly number[]): number {
  let best = refLengths[0]!;
  for (const len of refLengths.slice(1)) {
    if (len === 0) continue; // mteval pads missing references with empty segments and skips them here
    const d = Math.abs(hypLength - len);
    const bd = Math.abs(hypLength - best);
    if (d < bd || (d === bd && len < best)) best = len;
  }
  return best;
}

export function bleuSegmentStats(hyp: readonly string[], refs: readonly (readonly string[])[]): BleuStats {
  const maxRef = maxRefCounts(refs, BLEU_MAX_N);
  const matches = new Array<number>(BLEU_MAX_N).fill(0);
  const totals = new Array<number>(BLEU_MAX_N).fill(0);
  for (const [k, c] of ngramCounts(hyp, BLEU_MAX_N)) {
    const n = ngramOrder(k);
    totals[n - 1]! += c;
    matches[n - 1]! += Math.min(c, maxRef.get(k) ?? 0);
  }
  return { matches, totals, hypLength: hyp.length, refLength: closestRefLength(hyp.length, refs.map((r) => r.length)) };
}

/** The BLEU score (0..1) of summed statistics, with mteval-v13a's smoothing of empty orders. */
export function bleuFromStats(s: BleuStats): number {
  if (s.hypLength === 0) return 0;
  const lengthFactor = Math.exp(Math.min(0, 1 - s.refLength / s.hypLength));
  let logSum = 0;
  let smooth = 1;
  for (let n = 0; n < BLEU_MAX_N; n++) {
    const t = s.totals[n]!;
    if (t === 0) continue; // log(1): mteval adds nothing for an order the hypotheses are too short for
    if (s.matches[n] === 0) {
      smooth *= 2;
      logSum += Math.log(1 / (smooth * t));
    } else logSum += Math.log(s.matches[n]! / t);
  }
  return Math.exp(logSum / BLEU_MAX_N) * lengthFactor;
}

/** Corpus BLEU (0..1) of tokenised hypotheses against tokenised reference groups. */
export function corpusBleu(hyps: readonly (readonly string[])[], refs: readonly (readonly (readonly string[])[])[]): number {
  return bleuFromStats(corpusBleuStats(hyps, refs));
}

export function corpusBleuStats(hyps: readonly (readonly string[])[], refs: readonly (readonly (readonly string[])[])[]): BleuStats {
  checkAligned('BLEU', hyps, refs);
  const total: BleuStats = { matches: new Array(BLEU_MAX_N).fill(0), totals: new Array(BLEU_MAX_N).fill(0), hypLength: 0, refLength: 0 };
  hyps.forEach((h, i) => {
    const s = bleuSegmentStats(h, refs[i]!);
    for (let n = 0; n < BLEU_MAX_N; n++) {
      total.matches[n]! += s.matches[n]!;
      total.totals[n]! += s.totals[n]!;
    }
    total.hypLength += s.hypLength;
    total.refLength += s.refLength;
  });
  return total;
}
