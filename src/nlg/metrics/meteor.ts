/**
 * METEOR after METEOR 1.5 as the MS-COCO caption evaluation runs it (`-l en -norm`, the E2E
 * challenge's METEOR), with the exact-match stage only.
 *
 * Implemented: English "ranking" task parameters (alpha 0.85, beta 0.2, gamma 0.6, delta 0.75);
 * exact word matching; an aligner that picks, by beam search (width 40), the alignment with the
 * most matches, then the fewest chunks, then the smallest summed distance |i - j|; content and
 * function words weighted delta and 1 - delta; for each segment the best-scoring reference; the
 * corpus score computed from the summed statistics of the chosen references (as the jar's EVAL
 * line does; a segment identical to its reference adds no chunk), not as a mean of segment scores:
 *   P = (delta m_c + (1 - delta) m_f) / (delta (|h| - f_h) + (1 - delta) f_h), R likewise on the reference,
 *   Fmean = P R / (alpha P + (1 - alpha) R),  frag = chunks / matches,
 *   score = Fmean (1 - gamma frag^beta)  (frag = 0 when the hypothesis equals the reference).
 * Not implemented: the stem (Snowball), synonym (WordNet) and paraphrase stages (weights 0.6, 0.8,
 * 0.6 in METEOR 1.5), which need METEOR's Java resources; and METEOR's own function-word list
 * (see function-words.ts). Without those stages fewer words match, so scores are a lower bound of
 * the official METEOR on the same tokens; the text normalisation is `cocoTokenize` followed by
 * splitting off remaining ASCII punctuation as METEOR's `-norm` does.
 */
import { ENGLISH_FUNCTION_WORDS } from './function-words.js';
import { checkAligned } from './ngrams.js';

export interface MeteorParams {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
  /** Alignment beam width (METEOR's default 40). */
  beamSize: number;
  functionWords: ReadonlySet<string>;
}

export const METEOR_DEFAULTS: MeteorParams = {
  alpha: 0.85,
  beta: 0.2,
  gamma: 0.6,
  delta: 0.75,
  beamSize: 40,
  functionWords: ENGLISH_FUNCTION_WORDS,
};

/** Sufficient statistics of one hypothesis/reference pair, or their sum over a corpus. */
export interface MeteorStats {
  hypLength: number;
  refLength: number;
  hypFunctionWords: number;
  refFunctionWords: number;
  /** Matched content / function words (exact matches: the same on both sides). */
  contentMatches: number;
  functionMatches: number;
  chunks: number;
}

/** One alignment: for each hypothesis position, the matched reference position or -1. */
export interface Alignment {
  links: number[];
  matches: number;
  chunks: number;
  distance: number;
}

/**
 * The exact-match alignment: most matches, then fewest chunks (runs of matches adjacent on both
 * sides), then smallest summed |i - j|. Beam search left to right over hypothesis positions;
 * states are ranked by matches so far plus the matches still possible, so leaving a word unmatched
 * to match a later copy is explored rather than pruned.
 */
export function alignExact(hyp: readonly string[], ref: readonly string[], beamSize = METEOR_DEFAULTS.beamSize): Alignment {
  const positions = new Map<string, number[]>();
  ref.forEach((w, j) => positions.set(w, [...(positions.get(w) ?? []), j]));
  interface State { links: number[]; used: Set<number>; matches: number; chunks: number; distance: number; last: number; bound: number }
  const hypLeft = new Map<string, number>();
  for (const w of hyp) hypLeft.set(w, (hypLeft.get(w) ?? 0) + 1);
  const shared = [...new Set(hyp)].filter((w) => positions.has(w));
  const potential = (used: Set<number>, left: Map<string, number>): number => {
    let p = 0;
    for (const w of shared) {
      const c = left.get(w)!;
      if (c === 0) continue;
      let free = 0;
      for (const j of positions.get(w)!) if (!used.has(j)) free++;
      p += Math.min(c, free);
    }
    return p;
  };
  let beam: State[] = [{ links: [], used: new Set(), matches: 0, chunks: 0, distance: 0, last: -2, bound: 0 }];
  for (let i = 0; i < hyp.length; i++) {
    const w = hyp[i]!;
    hypLeft.set(w, hypLeft.get(w)! - 1);
    const next: State[] = [];
    for (const s of beam) {
      next.push({ ...s, links: [...s.links, -1], last: -2, bound: 0 });
      for (const j of positions.get(w) ?? []) {
        if (s.used.has(j)) continue;
        const used = new Set(s.used).add(j);
        next.push({
          links: [...s.links, j], used, matches: s.matches + 1,
          chunks: s.chunks + (s.last === j - 1 ? 0 : 1), distance: s.distance + Math.abs(i - j), last: j, bound: 0,
        });
      }
    }
    for (const s of next) s.bound = s.matches + potential(s.used, hypLeft);
    next.sort((a, b) => b.bound - a.bound || a.chunks - b.chunks || a.distance - b.distance);
    beam = next.slice(0, beamSize);
  }
  beam.sort((a, b) => b.matches - a.matches || a.chunks - b.chunks || a.distance - b.distance);
  const best = beam[0]!;
  return { links: best.links, matches: best.matches, chunks: best.chunks, distance: best.distance };
}

/** METEOR statistics of one hypothesis against one reference. */
export function meteorPairStats(hyp: readonly string[], ref: readonly string[], params: MeteorParams = METEOR_DEFAULTS): MeteorStats {
  const a = alignExact(hyp, ref, params.beamSize);
  const fw = params.functionWords;
  let functionMatches = 0;
  a.links.forEach((j, i) => {
    if (j >= 0 && fw.has(hyp[i]!)) functionMatches++;
  });
  return {
    hypLength: hyp.length,
    refLength: ref.length,
    hypFunctionWords: hyp.filter((w) => fw.has(w)).length,
    refFunctionWords: ref.filter((w) => fw.has(w)).length,
    contentMatches: a.matches - functionMatches,
    functionMatches,
    chunks: a.chunks,
  };
}

/** The METEOR score of (possibly summed) statistics. */
export function meteorFromStats(s: MeteorStats, params: MeteorParams = METEOR_DEFAULTS): number {
  const { alpha, beta, gamma, delta } = params;
  const matched = delta * s.contentMatches + (1 - delta) * s.functionMatches;
  const p = matched / (delta * (s.hypLength - s.hypFunctionWords) + (1 - delta) * s.hypFunctionWords);
  const r = matched / (delta * (s.refLength - s.refFunctionWords) + (1 - delta) * s.refFunctionWords);
  const fMean = 1 / ((1 - alpha) / p + alpha / r);
  const m = s.contentMatches + s.functionMatches;
  const frag = m === s.hypLength && m === s.refLength && s.chunks === 1 ? 0 : s.chunks / m;
  const score = fMean * (1 - gamma * Math.pow(frag, beta));
  return Number.isNaN(score) ? 0 : Math.max(score, 0);
}

/** The statistics of the best-scoring reference (the first on ties). */
export function meteorSegmentStats(hyp: readonly string[], refs: readonly (readonly string[])[], params: MeteorParams = METEOR_DEFAULTS): MeteorStats {
  let best: MeteorStats | null = null;
  let bestScore = -1;
  for (const ref of refs) {
    const s = meteorPairStats(hyp, ref, params);
    const score = meteorFromStats(s, params);
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  return best!;
}

/** METEOR's extra normalisation (`-norm`) after `cocoTokenize`: remaining ASCII punctuation split off. */
export function meteorNormalize(tokens: readonly string[]): string[] {
  return tokens.flatMap((t) => t.replace(/([\x7b-\x7e\x5b-\x60\x21-\x26\x28-\x2b\x3a-\x40\x2f])/g, ' $1 ').trim().split(/\s+/)).filter((t) => t !== '');
}

/** Corpus METEOR from the summed statistics of each segment's best reference (identical segments add no chunk). */
export function corpusMeteor(
  hyps: readonly (readonly string[])[],
  refs: readonly (readonly (readonly string[])[])[],
  params: MeteorParams = METEOR_DEFAULTS,
): number {
  checkAligned('METEOR', hyps, refs);
  const total: MeteorStats = { hypLength: 0, refLength: 0, hypFunctionWords: 0, refFunctionWords: 0, contentMatches: 0, functionMatches: 0, chunks: 0 };
  hyps.forEach((h, i) => {
    const s = meteorSegmentStats(h, refs[i]!, params);
    const m = s.contentMatches + s.functionMatches;
    const perfect = m === s.hypLength && m === s.refLength && s.chunks === 1;
    for (const k of Object.keys(total) as (keyof MeteorStats)[]) if (k !== 'chunks' || !perfect) total[k] += s[k];
  });
  return meteorFromStats(total, params);
}
