/**
 * The E2E NLG challenge's five metrics on raw texts: each metric gets the tokenisation the official
 * scorer gives it (mteval-v13a for BLEU and NIST, PTB-style for the COCO metrics).
 */
import { corpusBleu } from './bleu.js';
import { corpusCider } from './cider.js';
import { activeMeteorStages, corpusMeteor, METEOR_DEFAULTS, meteorNormalize, type MeteorStage } from './meteor.js';
import type { SynonymLookup } from './synonyms.js';
import { corpusNist } from './nist.js';
import { corpusRougeL } from './rouge.js';
import { cocoTokenize, mtevalTokenize } from './tokenize.js';
import { checkAligned } from './ngrams.js';

export interface GenerationScores {
  /** mteval-v13a corpus BLEU, 0..1 (papers usually print 100x). */
  bleu: number;
  /** mteval-v13a corpus NIST (5-gram). */
  nist: number;
  /** METEOR 1.5 (English), 0..1, with the stages in `meteorStages` (see meteor.ts). */
  meteor: number;
  /** The METEOR stages that ran: exact and stem, and synonym when WordNet was given. */
  meteorStages: MeteorStage[];
  /** COCO ROUGE-L F (beta 1.2), mean over instances, 0..1. */
  rougeL: number;
  /** COCO CIDEr-D (x10 scale), mean over instances. */
  cider: number;
  instances: number;
  references: number;
}

export const METRIC_NAMES = ['bleu', 'nist', 'meteor', 'rougeL', 'cider'] as const;

export interface ScoreOptions {
  /** WordNet for METEOR's synonym stage (in Node: `await loadWordNet()` from `wasmgrad/node`); without it METEOR runs exact and stem only. */
  synonyms?: SynonymLookup;
}

/** Scores one output per instance against that instance's references (at least one each). */
export function scoreGeneration(hyps: readonly string[], refs: readonly (readonly string[])[], opts: ScoreOptions = {}): GenerationScores {
  checkAligned('scoreGeneration', hyps, refs);
  const meteorParams = { ...METEOR_DEFAULTS, synonyms: opts.synonyms };
  const mtHyps = hyps.map((h) => mtevalTokenize(h));
  const mtRefs = refs.map((g) => g.map((r) => mtevalTokenize(r)));
  const cocoHyps = hyps.map((h) => cocoTokenize(h));
  const cocoRefs = refs.map((g) => g.map((r) => cocoTokenize(r)));
  return {
    bleu: corpusBleu(mtHyps, mtRefs),
    nist: corpusNist(mtHyps, mtRefs),
    meteor: corpusMeteor(cocoHyps.map(meteorNormalize), cocoRefs.map((g) => g.map(meteorNormalize)), meteorParams),
    meteorStages: activeMeteorStages(meteorParams),
    rougeL: corpusRougeL(cocoHyps, cocoRefs),
    cider: corpusCider(cocoHyps, cocoRefs),
    instances: hyps.length,
    references: refs.reduce((a, g) => a + g.length, 0),
  };
}

export { bleuFromStats, bleuSegmentStats, closestRefLength, corpusBleu, corpusBleuStats, type BleuStats } from './bleu.js';
export { corpusNist, nistInformationWeights, nistLengthPenalty, type NistOptions } from './nist.js';
export {
  activeMeteorStages, alignExact, corpusMeteor, meteorAlign, meteorFromStats, meteorMatches, meteorNormalize, meteorPairStats, meteorSegmentStats,
  METEOR_DEFAULTS, METEOR_STAGES, type Alignment, type MeteorParams, type MeteorStage, type MeteorStats, type StageCounts,
} from './meteor.js';
export { alignCandidates, findCandidates, type Candidate, type MatchResources } from './meteor-align.js';
export { stemEnglish } from './porter2.js';
export { WordNetSynonyms, WORDNET_POS, type SynonymLookup, type WordNetPos, type WordNetTexts } from './synonyms.js';
export { corpusRougeL, lcsLength, rougeL } from './rouge.js';
export { ciderSegments, corpusCider } from './cider.js';
export { cocoTokenize, COCO_PUNCTUATION, mtevalTokenize } from './tokenize.js';
export { ENGLISH_FUNCTION_WORDS } from './function-words.js';
