/**
 * The E2E NLG challenge's five metrics on raw texts: each metric gets the tokenisation the official
 * scorer gives it (mteval-v13a for BLEU and NIST, PTB-style for the COCO metrics).
 */
import { corpusBleu } from './bleu.js';
import { corpusCider } from './cider.js';
import { corpusMeteor, meteorNormalize } from './meteor.js';
import { corpusNist } from './nist.js';
import { corpusRougeL } from './rouge.js';
import { cocoTokenize, mtevalTokenize } from './tokenize.js';
import { checkAligned } from './ngrams.js';

export interface GenerationScores {
  /** mteval-v13a corpus BLEU, 0..1 (papers usually print 100x). */
  bleu: number;
  /** mteval-v13a corpus NIST (5-gram). */
  nist: number;
  /** METEOR, exact-match stage only (see meteor.ts), 0..1. */
  meteor: number;
  /** COCO ROUGE-L F (beta 1.2), mean over instances, 0..1. */
  rougeL: number;
  /** COCO CIDEr-D (x10 scale), mean over instances. */
  cider: number;
  instances: number;
  references: number;
}

export const METRIC_NAMES = ['bleu', 'nist', 'meteor', 'rougeL', 'cider'] as const;

/** Scores one output per instance against that instance's references (at least one each). */
export function scoreGeneration(hyps: readonly string[], refs: readonly (readonly string[])[]): GenerationScores {
  checkAligned('scoreGeneration', hyps, refs);
  const mtHyps = hyps.map((h) => mtevalTokenize(h));
  const mtRefs = refs.map((g) => g.map((r) => mtevalTokenize(r)));
  const cocoHyps = hyps.map((h) => cocoTokenize(h));
  const cocoRefs = refs.map((g) => g.map((r) => cocoTokenize(r)));
  return {
    bleu: corpusBleu(mtHyps, mtRefs),
    nist: corpusNist(mtHyps, mtRefs),
    meteor: corpusMeteor(cocoHyps.map(meteorNormalize), cocoRefs.map((g) => g.map(meteorNormalize))),
    rougeL: corpusRougeL(cocoHyps, cocoRefs),
    cider: corpusCider(cocoHyps, cocoRefs),
    instances: hyps.length,
    references: refs.reduce((a, g) => a + g.length, 0),
  };
}

export { bleuFromStats, bleuSegmentStats, closestRefLength, corpusBleu, corpusBleuStats, type BleuStats } from './bleu.js';
export { corpusNist, nistInformationWeights, nistLengthPenalty, type NistOptions } from './nist.js';
export { alignExact, corpusMeteor, meteorFromStats, meteorNormalize, meteorPairStats, meteorSegmentStats, METEOR_DEFAULTS, type Alignment, type MeteorParams, type MeteorStats } from './meteor.js';
export { corpusRougeL, lcsLength, rougeL } from './rouge.js';
export { ciderSegments, corpusCider } from './cider.js';
export { cocoTokenize, COCO_PUNCTUATION, mtevalTokenize } from './tokenize.js';
export { ENGLISH_FUNCTION_WORDS } from './function-words.js';
