/**
 * Corpus NIST as NIST's mteval-v13a computes it (the E2E challenge's NIST), n = 1..5.
 *
 * Information weights come from the references of the whole evaluated set:
 * info(w1..wn) = log2(count(w1..wn-1) / count(w1..wn)), with count(empty prefix) = the number of
 * reference words; counts are all occurrences in all references. A hypothesis n-gram earns its
 * weight for each occurrence up to its maximum count in any one reference of the segment.
 * NIST = sum over n of (summed weights of matched n-grams / number of hypothesis n-grams), times
 * the brevity penalty exp(-beta * ln(min(1, L_hyp / L_ref))^2), beta chosen so a ratio of 2/3
 * scores 0.5; L_ref is the total reference words divided by the number of reference sets.
 *
 * The E2E scorer hands mteval as many reference sets as the instance with the most references has,
 * padding the others with empty references, so L_ref = (all reference words) / (largest group
 * size), not the mean reference length. `referenceSets` defaults to that (pass the mean group size
 * to get the textbook average instead).
 */
import { checkAligned, maxRefCounts, ngramCounts, ngramOrder } from './ngrams.js';

export const NIST_MAX_N = 5;

export interface NistOptions {
  /** The divisor of the total reference length (default: the largest number of references of any instance). */
  referenceSets?: number;
}

/** Information weight of every n-gram (n <= 5) in the references. */
export function nistInformationWeights(refs: readonly (readonly (readonly string[])[])[]): Map<string, number> {
  const counts = new Map<string, number>();
  let words = 0;
  for (const group of refs) {
    for (const ref of group) {
      words += ref.length;
      for (const [k, c] of ngramCounts(ref, NIST_MAX_N)) counts.set(k, (counts.get(k) ?? 0) + c);
    }
  }
  const info = new Map<string, number>();
  for (const [k, c] of counts) {
    const cut = k.lastIndexOf(' ');
    const prefixCount = cut < 0 ? words : counts.get(k.slice(0, cut))!;
    info.set(k, Math.log2(prefixCount / c));
  }
  return info;
}

/** mteval's length penalty for ratio = hypothesis length / reference length. */
export function nistLengthPenalty(ratio: number): number {
  if (ratio >= 1) return 1;
  if (ratio <= 0) return 0;
  const beta = -Math.log(0.5) / (Math.log(1.5) * Math.log(1.5));
  return Math.exp(-beta * Math.log(ratio) * Math.log(ratio));
}

/** Corpus NIST of tokenised hypotheses against tokenised reference groups. */
export function corpusNist(
  hyps: readonly (readonly string[])[],
  refs: readonly (readonly (readonly string[])[])[],
  opts: NistOptions = {},
): number {
  checkAligned('NIST', hyps, refs);
  const sets = opts.referenceSets ?? Math.max(...refs.map((g) => g.length));
  if (!(sets > 0)) throw new Error(`NIST: referenceSets ${sets} must be positive`);
  const info = nistInformationWeights(refs);
  const gained = new Array<number>(NIST_MAX_N).fill(0);
  const totals = new Array<number>(NIST_MAX_N).fill(0);
  let hypWords = 0;
  let refWords = 0;
  hyps.forEach((h, i) => {
    const group = refs[i]!;
    const maxRef = maxRefCounts(group, NIST_MAX_N);
    for (const [k, c] of ngramCounts(h, NIST_MAX_N)) {
      const n = ngramOrder(k);
      totals[n - 1]! += c;
      const m = Math.min(c, maxRef.get(k) ?? 0);
      if (m > 0) gained[n - 1]! += info.get(k)! * m;
    }
    hypWords += h.length;
    for (const r of group) refWords += r.length;
  });
  let score = 0;
  for (let n = 0; n < NIST_MAX_N; n++) score += gained[n]! / Math.max(totals[n]!, 1);
  return score * nistLengthPenalty(hypWords / (refWords / sets));
}
