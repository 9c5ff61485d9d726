/**
 * METEOR's stem and synonym stages: hand-computed cases (the arithmetic is in the comments), the
 * aligner against exhaustive search with non-exact candidates, and WordNet read from its files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alignCandidates, findCandidates } from '../src/nlg/metrics/meteor-align.js';
import { corpusMeteor, meteorFromStats, meteorPairStats, METEOR_DEFAULTS, type MeteorParams } from '../src/nlg/metrics/meteor.js';
import { scoreGeneration } from '../src/nlg/metrics/index.js';
import { WordNetSynonyms } from '../src/nlg/metrics/synonyms.js';
import { readE2E } from '../src/nlg/e2e.js';
import { loadWordNet, wordNetDirectory } from '../src/node/wordnet.js';
import { mulberry32 } from './helpers.js';

const t = (s: string) => (s === '' ? [] : s.split(' '));
const penalty = (frag: number) => 1 - 0.6 * Math.pow(frag, 0.2);
const fMean = (p: number, r: number) => 1 / (0.15 / p + 0.85 / r);

/** A two-synset WordNet written by hand: cheap = inexpensive (adj 00001), eatery = restaurant (noun 00002). */
const TOY = WordNetSynonyms.fromTexts({
  index: {
    noun: '  1 licence header line\neatery n 1 0 1 0 00000002\nrestaurant n 1 0 1 0 00000002\ngo n 1 0 1 0 00000009\n',
    verb: 'go v 1 2 @ ~ 1 0 00000003\n',
    adj: 'cheap a 1 0 1 0 00000001\ninexpensive a 1 0 1 0 00000001\n',
    adv: 'cheaply r 1 0 1 0 00000004\n',
  },
  exceptions: { noun: '', verb: 'went go\n', adj: '', adv: '' },
});

describe('METEOR stem stage', () => {
  const params: MeteorParams = { ...METEOR_DEFAULTS, functionWords: new Set(['the', 'a', 'an']) };
  it('a stem-only match counts with weight 0.6', () => {
    // hyp "cats sat", ref "the cat sat down": cats~cat by stem (both "cat"), sat = sat exactly; one chunk, 2 matches.
    // hyp: 2 content words; ref: 3 content + 1 function.
    // P = (0.6 * .75 + 1 * .75) / (.75 * 2) = 1.2 / 1.5 = 0.8;  R = 1.2 / (.75 * 3 + .25) = 0.48;  frag = 1/2
    const s = meteorPairStats(t('cats sat'), t('the cat sat down'), params);
    expect(s.hypContentMatches).toEqual([1, 1, 0]);
    expect(s.refContentMatches).toEqual([1, 1, 0]);
    expect(s.chunks).toBe(1);
    expect(meteorFromStats(s, params)).toBeCloseTo(fMean(0.8, 0.48) * penalty(0.5), 12);
    // exact stage alone: only "sat" (P = .75/1.5, R = .75/2.5, one chunk of one match: frag 1)
    const exact = { ...params, stages: ['exact'] as const };
    expect(meteorFromStats(meteorPairStats(t('cats sat'), t('the cat sat down'), exact), exact)).toBeCloseTo(fMean(0.5, 0.3) * penalty(1), 12);
  });
  it('a word matched exactly is not matched again by its stem; a fully stem-matched segment has no fragmentation', () => {
    // "the cats run" / "the cat runs": the (exact, function), cats~cat, run~runs (stems cat, run): 3 matches, one chunk, all words
    // P = R = (1 * .25 + 0.6 * .75 * 2) / (.75 * 2 + .25) = 1.15 / 1.75; frag 0 (everything matched in one chunk)
    const s = meteorPairStats(t('the cats run'), t('the cat runs'), params);
    expect(s.hypFunctionMatches).toEqual([1, 0, 0]);
    expect(s.hypContentMatches).toEqual([0, 2, 0]);
    expect(meteorFromStats(s, params)).toBeCloseTo(1.15 / 1.75, 12);
    expect(corpusMeteor([t('the cats run')], [[t('the cat runs')]], params)).toBeCloseTo(1.15 / 1.75, 12);
  });
});

describe('METEOR synonym stage', () => {
  const params: MeteorParams = { ...METEOR_DEFAULTS, functionWords: new Set(['the', 'a', 'an']), synonyms: TOY };
  it('reads synsets and base forms from WordNet index and exception texts', () => {
    expect([...TOY.synsets('cheap')]).toEqual(['a00000001']);
    expect([...TOY.synsets('restaurants')]).toEqual(['n00000002']); // detachment rule -s
    // exception list: went -> go, whose synsets of every part of speech count (as METEOR's dictionary, which ignores the POS)
    expect(new Set(TOY.synsets('went'))).toEqual(new Set(['n00000009', 'v00000003']));
    expect(new Set(TOY.synsets('go'))).toEqual(new Set(['n00000009', 'v00000003']));
    expect(TOY.synsets('zebra').size).toBe(0);
    expect(TOY.morph('boxes')).toBe(''); // no rule gives a lemma
    expect(() => WordNetSynonyms.fromTexts({ index: { noun: 'dog n 2 0 1 0 00000001\n', verb: 'x', adj: 'x', adv: 'x' }, exceptions: { noun: '', verb: '', adj: '', adv: '' } }))
      .toThrow(/index.noun line "dog n 2 0 1 0 00000001" is not/);
  });
  it('a synonym-only match counts with weight 0.8', () => {
    // hyp "an inexpensive eatery", ref "a cheap restaurant": an/a differ (no stage pairs them); inexpensive~cheap and
    // eatery~restaurant share synsets (stems differ): 2 matches at positions 1,2 -> 1,2, one chunk.
    // P = R = 0.8 * .75 * 2 / (.75 * 2 + .25) = 1.2 / 1.75; frag = 1/2
    const s = meteorPairStats(t('an inexpensive eatery'), t('a cheap restaurant'), params);
    expect(s.hypContentMatches).toEqual([0, 0, 2]);
    expect(s.chunks).toBe(1);
    expect(meteorFromStats(s, params)).toBeCloseTo((1.2 / 1.75) * penalty(0.5), 12);
    // without WordNet the stage does not run and nothing matches
    expect(meteorFromStats(meteorPairStats(t('an inexpensive eatery'), t('a cheap restaurant'), METEOR_DEFAULTS), METEOR_DEFAULTS)).toBe(0);
  });
  it('a pair found by the stem stage keeps the stem weight', () => {
    // "restaurants" ~ "restaurant": same stem and same synset; the earlier stage (stem, 0.6) counts
    const c = findCandidates(t('restaurants'), t('restaurant'), { stages: ['exact', 'stem', 'synonym'], stem: METEOR_DEFAULTS.stem, synonyms: TOY });
    expect(c).toEqual([{ i: 0, j: 0, stage: 1 }]);
  });
  it('scoreGeneration says which stages ran', () => {
    expect(scoreGeneration(['a cheap place'], [['an inexpensive place']]).meteorStages).toEqual(['exact', 'stem']);
    const withWn = scoreGeneration(['a cheap place'], [['an inexpensive place']], { synonyms: TOY });
    expect(withWn.meteorStages).toEqual(['exact', 'stem', 'synonym']);
    expect(withWn.meteor).toBeGreaterThan(scoreGeneration(['a cheap place'], [['an inexpensive place']]).meteor);
  });
});

describe('the aligner with non-exact candidates', () => {
  it('finds the best alignment of exhaustive search (most matches, fewest chunks, least distance)', () => {
    // stem = first letter: words sharing a first letter match by "stem"
    const stem = (w: string) => w[0]!;
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
          if (stem(w) !== stem(h[i]!) || used[j]) return;
          used[j] = true;
          walk(i + 1, j, m + 1, c + (last === j - 1 ? 0 : 1), d + Math.abs(i - j));
          used[j] = false;
        });
      };
      walk(0, -2, 0, 0, 0);
      return best;
    };
    // a beam wide enough to keep every tie: the search itself is exact; METEOR's width 40 is a heuristic
    // that can lose the least-distance alignment among equally good partial ones on such ambiguous inputs
    const BEAM = 100_000;
    const rand = mulberry32(11);
    const words = ['a', 'ab', 'b', 'bc', 'c'];
    const text = () => Array.from({ length: 1 + Math.floor(rand() * 7) }, () => words[Math.floor(rand() * words.length)]!);
    for (let k = 0; k < 300; k++) {
      const h = text();
      const r = text();
      const a = alignCandidates(h.length, r.length, findCandidates(h, r, { stages: ['exact', 'stem'], stem }), BEAM);
      expect({ matches: a.matches, chunks: a.chunks, distance: a.distance }, `${h.join(' ')} | ${r.join(' ')}`).toEqual(exhaustive(h, r));
    }
  });
});

const haveWordNet = (() => {
  try {
    return existsSync(join(wordNetDirectory(), 'index.noun'));
  } catch {
    return false;
  }
})();
const DEVSET = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'e2e', 'devset.csv');

describe.runIf(haveWordNet)('WordNet 3.0 from the installed package', () => {
  const wn = loadWordNet();
  it('knows common synonyms and irregular forms', () => {
    expect(wn.size).toBeGreaterThan(80_000);
    const shares = (a: string, b: string) => [...wn.synsets(a)].some((id) => wn.synsets(b).has(id));
    expect(shares('cheap', 'inexpensive')).toBe(true);
    expect(shares('went', 'go')).toBe(true);
    expect(shares('children', 'child')).toBe(true);
    expect(shares('cheap', 'restaurant')).toBe(false);
    expect(loadWordNet()).toBe(wn); // cached
  });
  it('names a directory without WordNet files', () => {
    expect(() => loadWordNet(import.meta.dirname)).toThrow(/index.noun is missing/);
  });
  it.runIf(existsSync(DEVSET))('on E2E references: more matches with each stage, never a lower score here', () => {
    const data = readE2E(readFileSync(DEVSET)).slice(0, 40);
    const hyps = data.map((i) => i.refs[0]!);
    const refs = data.map((i) => i.refs.slice(1));
    const exact = corpusMeteor(hyps.map((h) => t(h.toLowerCase())), refs.map((g) => g.map((r) => t(r.toLowerCase()))), { ...METEOR_DEFAULTS, stages: ['exact'] });
    const all = scoreGeneration(hyps, refs, { synonyms: wn });
    const stem = scoreGeneration(hyps, refs);
    expect(all.meteor).toBeGreaterThanOrEqual(stem.meteor);
    expect(stem.meteor).toBeGreaterThan(0.2);
    expect(exact).toBeGreaterThan(0.2);
  });
});
