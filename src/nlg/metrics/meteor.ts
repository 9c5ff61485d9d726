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
 * (see function-words.ts). Without those stages fewer words match, so scores are usually lower
 * than the official METEOR's on the same tokens (not always: the function-word lists differ, and
 * extra matches can add chunks); the text normalisation is `cocoTokenize` followed by
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
 * sides), then smallest summed |i - j|. Beam search left to right over hypothesis positions:
 * a state's bound is its matches plus the matches still possible, states below the best bound are
 * dropped (with exact matching the largest number of matches is known), and the rest are ranked by
 * chunks, then distance. So leaving a word unmatched to match a later copy is explored, not pruned.
 */
export function alignExact(hyp: readonly string[], ref: readonly string[], beamSize = METEOR_DEFAULTS.beamSize): Alignment {
  // Words found on both sides get ids; only they can match.
  const ids = new Map<string, number>();
  const positions: number[][] = [];
  ref.forEach((w, j) => {
    let id = ids.get(w);
    if (id === undefined) {
      id = positions.length;
      ids.set(w, id);
      positions.push([]);
    }
    positions[id]!.push(j);
  });
  const hypIds = hyp.map((w) => ids.get(w) ?? -1);
  const left = new Array<number>(positions.length).fill(0); // occurrences in the rest of the hypothesis
  for (const id of hypIds) if (id >= 0) left[id]!++;
  // States share their parents' arrays until they change them; links come from a chain of match nodes.
  interface MatchNode { i: number; j: number; prev: MatchNode | null }
  interface State {
    node: MatchNode | null; used: Uint8Array; free: Int16Array;
    matches: number; chunks: number; distance: number; last: number; bound: number;
  }
  const bound = (st: State): number => {
    let p = st.matches;
    for (let id = 0; id < left.length; id++) p += Math.min(left[id]!, st.free[id]!);
    return p;
  };
  const skip = (st: State): State => (st.last === -2 ? st : { ...st, last: -2 });
  let beam: State[] = [{
    node: null, used: new Uint8Array(ref.length), free: Int16Array.from(positions.map((p) => p.length)),
    matches: 0, chunks: 0, distance: 0, last: -2, bound: 0,
  }];
  for (let i = 0; i < hyp.length; i++) {
    const id = hypIds[i]!;
    if (id < 0) {
      beam = beam.map(skip); // nothing to match: every state moves on unchanged
      continue;
    }
    left[id]!--;
    const next: State[] = [];
    for (const st of beam) {
      next.push(skip(st));
      if (st.free[id] === 0) continue;
      for (const j of positions[id]!) {
        if (st.used[j]) continue;
        const used = st.used.slice();
        used[j] = 1;
        const free = st.free.slice();
        free[id]!--;
        next.push({
          node: { i, j, prev: st.node }, used, free, matches: st.matches + 1,
          chunks: st.chunks + (st.last === j - 1 ? 0 : 1), distance: st.distance + Math.abs(i - j), last: j, bound: 0,
        });
      }
    }
    let top = 0;
    for (const st of next) top = Math.max(top, (st.bound = bound(st)));
    // Matches come first in the comparison, so a state that can no longer reach the best bound is dropped.
    const alive = next.filter((st) => st.bound === top);
    alive.sort((a, b) => a.chunks - b.chunks || a.distance - b.distance);
    beam = alive.length > beamSize ? alive.slice(0, beamSize) : alive;
  }
  beam.sort((a, b) => b.matches - a.matches || a.chunks - b.chunks || a.distance - b.distance);
  const best = beam[0]!;
  const links = new Array<number>(hyp.length).fill(-1);
  for (let n = best.node; n; n = n.prev) links[n.i] = n.j;
  return { links, matches: best.matches, chunks: best.chunks, distance: best.distance };
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
