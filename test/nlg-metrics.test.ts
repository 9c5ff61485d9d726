/**
 * The E2E metrics on hand-computed cases (the arithmetic is in the comments), their edge cases,
 * and agreement with NLTK's corpus BLEU/NIST on a committed fixture
 * (test/fixtures/scripts/make_nlg_fixtures.py).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closestRefLength, corpusBleu } from '../src/nlg/metrics/bleu.js';
import { ciderSegments, corpusCider } from '../src/nlg/metrics/cider.js';
import { alignExact, corpusMeteor, meteorFromStats, meteorPairStats, METEOR_DEFAULTS, meteorSegmentStats } from '../src/nlg/metrics/meteor.js';
import { corpusNist, nistLengthPenalty } from '../src/nlg/metrics/nist.js';
import { corpusRougeL, lcsLength, rougeL } from '../src/nlg/metrics/rouge.js';
import { cocoTokenize, mtevalTokenize } from '../src/nlg/metrics/tokenize.js';
import { scoreGeneration } from '../src/nlg/metrics/index.js';
import { readE2E } from '../src/nlg/e2e.js';
import { mulberry32 } from './helpers.js';

const t = (s: string) => (s === '' ? [] : s.split(' '));

describe('tokenisation', () => {
  it('mteval-v13a: lowercase, punctuation split, digits keep . and , inside, dash after a digit', () => {
    expect(mtevalTokenize("The Eagle's price is £20-25, isn't it? 3.5 stars.")).toEqual(
      ['the', "eagle's", 'price', 'is', '£20', '-', '25', ',', "isn't", 'it', '?', '3.5', 'stars', '.'],
    );
    expect(mtevalTokenize('A&amp;B (x/y) 1,000 &quot;ok&quot;')).toEqual(['a', '&', 'b', '(', 'x', '/', 'y', ')', '1,000', '"', 'ok', '"']);
    expect(mtevalTokenize('Keep Case', true)).toEqual(['Keep', 'Case']);
    expect(mtevalTokenize('   ')).toEqual([]);
  });
  it('COCO: PTB-style clitics, currency and brackets split, punctuation tokens dropped', () => {
    expect(cocoTokenize("It's £20-25, isn't it?")).toEqual(['it', "'s", '£', '20-25', 'is', "n't", 'it']);
    expect(cocoTokenize('"The Eagle" (a pub) - family-friendly.')).toEqual(['the', 'eagle', 'a', 'pub', 'family-friendly']);
    expect(cocoTokenize('...')).toEqual([]);
    expect(cocoTokenize("riverside,they serve 1,000 dishes at 10:30;it's fine")).toEqual(['riverside', 'they', 'serve', '1,000', 'dishes', 'at', '10:30', 'it', "'s", 'fine']);
    expect(cocoTokenize("called 'Aromi' near U.S. food.")).toEqual(['called', 'aromi', 'near', 'u.s.', 'food']);
  });
});

describe('BLEU (mteval-v13a)', () => {
  it('closest reference length: ties go to the shorter, empty references are skipped', () => {
    expect(closestRefLength(7, [11, 8, 6, 7])).toBe(7);
    expect(closestRefLength(7, [11, 8, 6])).toBe(6); // |7-8| = |7-6|, 6 < 8
    expect(closestRefLength(5, [8, 0])).toBe(8);
  });
  it('a hand-computed case with a smoothed empty 4-gram order', () => {
    // hyp "the cat sat on the mat"; refs "the cat is on the mat", "there is a cat on the mat"
    // 1-grams: the x2 (max ref count 2), cat, on, mat match, sat does not -> 5/6
    // 2-grams: the cat, on the, the mat -> 3/5;  3-grams: on the mat -> 1/4
    // 4-grams: none of 3 -> smoothed 1/(2*3) = 1/6;  closest ref length 6 = hyp length -> BP 1
    // BLEU = (5/6 * 3/5 * 1/4 * 1/6)^(1/4) = (1/48)^(1/4) = 0.379918...
    const b = corpusBleu([t('the cat sat on the mat')], [[t('the cat is on the mat'), t('there is a cat on the mat')]]);
    expect(b).toBeCloseTo(Math.pow(1 / 48, 0.25), 12);
  });
  it('brevity penalty, and orders the hypotheses are too short for count as precision 1', () => {
    // c = 2, r = 6: BP = exp(1 - 6/2) = e^-2; p1 = 2/2, p2 = 1/1, no 3- or 4-grams -> log 1 each; /4 as mteval
    expect(corpusBleu([t('the cat')], [[t('the cat sat on the mat')]])).toBeCloseTo(Math.exp(-2), 12);
  });
  it('is corpus-level: statistics are summed before the geometric mean', () => {
    // seg 1 "a b c d" = its ref; seg 2 "x y z w" vs "a b c d": 0 matches
    // sums: p1 = 4/8, p2 = 3/6, p3 = 2/4, p4 = 1/2 -> BLEU = 0.5 (a mean of segment BLEUs would differ)
    expect(corpusBleu([t('a b c d'), t('x y z w')], [[t('a b c d')], [t('a b c d')]])).toBeCloseTo(0.5, 12);
  });
  it('an empty corpus output scores 0; mismatched counts are an error naming both', () => {
    expect(corpusBleu([[]], [[t('a b')]])).toBe(0);
    expect(() => corpusBleu([t('a')], [[t('a')], [t('b')]])).toThrow(/1 hypotheses but 2 reference groups/);
  });
});

describe('NIST (mteval-v13a)', () => {
  // refs: seg 1 {"a b", "a c"}, seg 2 {"a b"}; 6 reference words; counts a 3, b 2, c 1, "a b" 2, "a c" 1
  // info(a) = log2(6/3) = 1, info(b) = log2(6/2) = log2 3, info("a b") = log2(3/2)
  // hyps "a b" (matches a, b, "a b") and "c" (no match in seg 2's reference)
  // NIST = (1 + log2 3) / 3 unigrams + log2(3/2) / 1 bigram + 0 = 1.446616...
  const hyps = [t('a b'), t('c')];
  const refs = [[t('a b'), t('a c')], [t('a b')]];
  const expected = (1 + Math.log2(3)) / 3 + Math.log2(1.5);
  it('information-weighted matches over the corpus', () => {
    // L_ref = 6 reference words / 2 reference sets = 3 = hypothesis words -> no penalty
    expect(corpusNist(hyps, refs)).toBeCloseTo(expected, 12);
  });
  it('length penalty: 0.5 at ratio 2/3, exp(-beta ln(r)^2) below 1', () => {
    expect(nistLengthPenalty(2 / 3)).toBeCloseTo(0.5, 12);
    expect(nistLengthPenalty(1.2)).toBe(1);
    // one reference set: L_ref = 6, ratio 3/6 -> beta = ln 2 / ln(1.5)^2, penalty exp(-beta ln(0.5)^2)
    const beta = Math.log(2) / Math.log(1.5) ** 2;
    expect(corpusNist(hyps, refs, { referenceSets: 1 })).toBeCloseTo(expected * Math.exp(-beta * Math.log(0.5) ** 2), 12);
  });
});

describe('ROUGE-L (COCO)', () => {
  it('LCS', () => {
    expect(lcsLength(t('a b c d'), t('a c d e f'))).toBe(3);
    expect(lcsLength(t('a b'), [])).toBe(0);
  });
  it('precision and recall are maximised over references separately, beta 1.2', () => {
    // ref 1 "a c d e f": LCS 3 -> P 3/4, R 3/5; ref 2 "b d": LCS 2 -> P 2/4, R 2/2
    // P = 3/4, R = 1: F = 2.44 * 0.75 / (1 + 1.44 * 0.75) = 1.83 / 2.08 = 0.879807...
    expect(rougeL(t('a b c d'), [t('a c d e f'), t('b d')])).toBeCloseTo(1.83 / 2.08, 12);
    expect(rougeL(t('x'), [t('a b')])).toBe(0);
    expect(corpusRougeL([t('a b'), t('x')], [[t('a b')], [t('y')]])).toBeCloseTo(0.5, 12);
  });
});

describe('CIDEr-D (COCO)', () => {
  it('tf-idf with document frequency from the references, clipped cosine, mean over n, x10', () => {
    // N = 2 segments, every reference n-gram has df 1 -> weight ln 2; unseen n-grams also ln 2 (df 0 -> 1)
    // seg 1 "a b" vs "a b": cosine 1 for n = 1, 2; no 3-, 4-grams (0) -> 10 * (1 + 1) / 4 = 5
    // seg 2 "c e" vs "c d": n = 1 -> ln2^2 / (sqrt2 ln2)^2 = 1/2; n = 2 -> 0 -> 10 * 0.5 / 4 = 1.25
    const segs = ciderSegments([t('a b'), t('c e')], [[t('a b')], [t('c d')]]);
    expect(segs[0]).toBeCloseTo(5, 12);
    expect(segs[1]).toBeCloseTo(1.25, 12);
    expect(corpusCider([t('a b'), t('c e')], [[t('a b')], [t('c d')]])).toBeCloseTo(3.125, 12);
  });
  it('gaussian length penalty on the bigram counts (sigma 6) and division by the number of references', () => {
    // seg 1 "a b x" vs "a b": n = 1: 2 ln2^2 / (sqrt3 ln2 * sqrt2 ln2) = 2/sqrt6; n = 2: 1/sqrt2;
    // n = 3: reference norm 0 -> 0; bigram counts 2 vs 1 -> penalty exp(-1/72)
    const s = ciderSegments([t('a b x'), t('c d')], [[t('a b')], [t('c d')]]);
    expect(s[0]).toBeCloseTo((10 * (2 / Math.sqrt(6) + 1 / Math.SQRT2) * Math.exp(-1 / 72)) / 4, 12);
    // two references of which one is identical: (5 + 0) / 2 references
    const two = ciderSegments([t('a b'), t('c d')], [[t('a b'), t('q r')], [t('c d')]]);
    // df: a, b, "a b", q, r, "q r" 1 each; the same weights ln 2, so the identical reference gives 5
    expect(two[0]).toBeCloseTo(2.5, 12);
  });
  it('a single-segment corpus has idf 0 everywhere and scores 0 (as the COCO code)', () => {
    expect(corpusCider([t('a b')], [[t('a b')]])).toBe(0);
  });
});

describe('METEOR (exact stage)', () => {
  const params = { ...METEOR_DEFAULTS, functionWords: new Set(['the', 'a']) };
  it('a hand-computed case', () => {
    // hyp "a cat sat" (function word: a), ref "the cat sat down" (function word: the)
    // matches cat, sat (content), 1 chunk; P = .75*2 / (.75*2 + .25*1) = 1.5/1.75; R = 1.5 / (.75*3 + .25*1) = 0.6
    // Fmean = 1 / (.15/P + .85/R); frag = 1/2; penalty = 0.6 * 0.5^0.2; score = Fmean * (1 - penalty) = 0.30010...
    const P = 1.5 / 1.75;
    const R = 0.6;
    const fMean = 1 / (0.15 / P + 0.85 / R);
    const s = meteorPairStats(t('a cat sat'), t('the cat sat down'), params);
    expect(s).toEqual({
      hypLength: 3, refLength: 4, hypFunctionWords: 1, refFunctionWords: 1, chunks: 1,
      hypContentMatches: [2, 0, 0], hypFunctionMatches: [0, 0, 0], refContentMatches: [2, 0, 0], refFunctionMatches: [0, 0, 0],
    });
    expect(meteorFromStats(s, params)).toBeCloseTo(fMean * (1 - 0.6 * Math.pow(0.5, 0.2)), 12);
  });
  it('identical texts score 1 (no fragmentation); no match scores 0', () => {
    expect(meteorFromStats(meteorPairStats(t('the cat sat'), t('the cat sat'), params), params)).toBeCloseTo(1, 12);
    expect(meteorFromStats(meteorPairStats(t('x y'), t('a b'), params), params)).toBe(0);
  });
  it('the aligner prefers fewer chunks among maximal alignments', () => {
    // "the" can match ref position 0 or 2; matching 2 keeps "the cat" one chunk
    expect(alignExact(t('the cat'), t('the x the cat'))).toMatchObject({ links: [2, 3], matches: 2, chunks: 1 });
    expect(alignExact(t('b a'), t('a b'))).toMatchObject({ matches: 2, chunks: 2 });
    // a repeated hypothesis word: skip the first copy to stay in one chunk
    expect(alignExact(t('cat x cat sat'), t('cat sat'))).toMatchObject({ links: [-1, -1, 0, 1], chunks: 1 });
  });
  it('the aligner finds the best alignment of exhaustive search on small random cases', () => {
    // exhaustive: every one-to-one pairing of equal words, compared by matches, then chunks, then distance
    const exhaustive = (h: string[], r: string[]) => {
      let best = { matches: -1, chunks: 0, distance: 0 };
      const used = new Array<boolean>(r.length).fill(false);
      const walk = (i: number, last: number, m: number, c: number, d: number) => {
        if (i === h.length) {
          if (m > best.matches || (m === best.matches && (c < best.chunks || (c === best.chunks && d < best.distance)))) best = { matches: m, chunks: c, distance: d };
          return;
        }
        walk(i + 1, -2, m, c, d);
        r.forEach((w, j) => {
          if (w !== h[i] || used[j]) return;
          used[j] = true;
          walk(i + 1, j, m + 1, c + (last === j - 1 ? 0 : 1), d + Math.abs(i - j));
          used[j] = false;
        });
      };
      walk(0, -2, 0, 0, 0);
      return best;
    };
    const rand = mulberry32(7);
    const words = ['a', 'b', 'c'];
    const text = () => Array.from({ length: 1 + Math.floor(rand() * 7) }, () => words[Math.floor(rand() * 3)]!);
    for (let k = 0; k < 300; k++) {
      const h = text();
      const r = text();
      const a = alignExact(h, r);
      expect({ matches: a.matches, chunks: a.chunks, distance: a.distance }, `${h.join(' ')} | ${r.join(' ')}`).toEqual(exhaustive(h, r));
    }
  });
  it('picks the best reference per segment and scores the corpus from summed statistics', () => {
    const seg = meteorSegmentStats(t('a cat sat'), [t('x y'), t('the cat sat down')], params);
    expect(seg.hypContentMatches).toEqual([2, 0, 0]);
    // seg 1 "the cat sat" = its reference: 3 words, 1 function word each side, matches 2 content +
    // 1 function, one chunk, which a perfect segment does not add to the corpus (as METEOR's addStats);
    // seg 2 "a dog ran far" vs "the dog ran": lengths 4 / 3, 1 function word each, 2 content matches, 1 chunk.
    // sums: m_c 4, m_f 1, |h| 7 (f 2), |r| 6 (f 2), chunks 1
    // P = (.75*4 + .25*1) / (.75*5 + .25*2) = 3.25/4.25; R = 3.25 / (.75*4 + .25*2) = 3.25/3.5; frag = 1/5
    const hyps = [t('the cat sat'), t('a dog ran far')];
    const refs = [[t('the cat sat')], [t('the dog ran')]];
    const P = 3.25 / 4.25;
    const R = 3.25 / 3.5;
    const expected = (1 / (0.15 / P + 0.85 / R)) * (1 - 0.6 * Math.pow(1 / 5, 0.2));
    expect(corpusMeteor(hyps, refs, params)).toBeCloseTo(expected, 12);
    // the mean of the segment scores is something else
    const mean = (1 + meteorFromStats(meteorPairStats(hyps[1]!, refs[1]![0]!, params), params)) / 2;
    expect(Math.abs(mean - expected)).toBeGreaterThan(0.05);
  });
});

describe('scoreGeneration', () => {
  it('perfect outputs get the maximum of each metric; counts must match', () => {
    const refs = [['The Eagle is a pub.', 'A pub, The Eagle.'], ['Blue Spice serves cheap food in the riverside area.'], ['Zizzi is a family-friendly place near the river.']];
    const s = scoreGeneration(refs.map((g) => g[0]!), refs);
    expect(s.bleu).toBeCloseTo(1, 12);
    expect(s.meteor).toBeGreaterThan(0.99);
    expect(s.rougeL).toBeCloseTo(1, 12);
    expect(s.instances).toBe(3);
    expect(s.references).toBe(4);
    expect(() => scoreGeneration(['a'], refs)).toThrow(/1 hypotheses but 3 reference groups/);
  });
});

const FIXTURE = join(import.meta.dirname, 'fixtures', 'nlg-nltk.json');
describe('agreement with NLTK (committed fixture)', () => {
  interface Fixture { cases: { name: string; hyps: string[][]; refs: string[][][]; bleu: number; nist?: number }[] }
  const fx = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
  it.each(fx.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    expect(Math.abs(corpusBleu(c.hyps, c.refs) - c.bleu)).toBeLessThan(1e-14);
    if (c.nist !== undefined) expect(Math.abs(corpusNist(c.hyps, c.refs) - c.nist)).toBeLessThan(1e-13);
  });
});

const DEVSET = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'e2e', 'devset.csv');
describe.runIf(existsSync(DEVSET))('the E2E development set', () => {
  it('leave-one-out scores of the first reference are in the range human texts reach', () => {
    const data = readE2E(readFileSync(DEVSET)).slice(0, 60);
    const s = scoreGeneration(data.map((i) => i.refs[0]!), data.map((i) => i.refs.slice(1)));
    for (const v of [s.bleu, s.meteor, s.rougeL]) expect(v).toBeGreaterThan(0.2);
    expect(s.nist).toBeGreaterThan(3);
    expect(s.cider).toBeGreaterThan(0.5);
  });
});
