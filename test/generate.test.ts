/**
 * Text generation: the logit processors on hand-made scores, then greedy, sampling and beam search on
 * the tiny GPT-2 of test/fixtures/models/gpt2.json (vocab 61, 24 positions; weights with std 0.2, so
 * the next-token distributions are far from flat). Cached decoding must pick exactly the tokens of
 * uncached decoding, and generation must leave the backend's live bytes unchanged.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { GPT2Config, GPT2LMHeadModel } from '../src/models/gpt2/index.js';
import {
  applyRepetitionPenalty, applyTemperature, generate, noRepeatNgramBans, reorderCache, sampleFromScores, topKFilter, topPFilter,
  type GenerateOptions, type TokenEvent,
} from '../src/models/generate/index.js';
import { gatherRows } from '../src/models/generate/decoder.js';
import { argmax, logSoftmax, softmax } from '../src/models/generate/sampling.js';
import { loadFixture, stateTensors } from './fixtures/models/fixtures.js';

let model: GPT2LMHeadModel;
let V: number;

beforeAll(() => {
  const fx = loadFixture('gpt2');
  model = new GPT2LMHeadModel(new GPT2Config(fx.config), { generator: new W.Generator(7) }).eval();
  const state = stateTensors(fx);
  expect(model.loadStateDict(state).missing).toEqual([]);
  W.dispose([...state.values()]);
  V = model.config.vocab_size;
});

afterAll(() => model.dispose());

const PROMPTS = [[5, 17, 3, 42], [9, 1, 30, 30], [60, 2, 2, 11]];
const f64 = (xs: number[]) => Float64Array.from(xs);
const kept = (s: Float64Array) => Array.from(s.keys()).filter((i) => s[i] !== -Infinity);

/** Log-softmax of the last position of a full forward over `seq` (no cache), on the host. */
function lastLogProbs(seq: number[]): Float64Array {
  return W.tidy(() => {
    const logits = model.forward(W.tensor(seq, [1, seq.length], { dtype: 'int32' })).logits;
    return logSoftmax(logits.toArray().subarray((seq.length - 1) * V));
  });
}

/** Sum of the model's log-probs of seq[promptLength..], each from a full forward over its prefix. */
function seqLogProb(seq: number[], promptLength: number): number {
  const lp = W.tidy(() => W.logSoftmax(model.forward(W.tensor(seq, [1, seq.length], { dtype: 'int32' })).logits, -1).toArray());
  let sum = 0;
  for (let t = promptLength; t < seq.length; t++) sum += lp[(t - 1) * V + seq[t]];
  return sum;
}

/** Runs fn and checks the backend holds exactly the bytes it held before. */
function flat<T>(fn: () => T): T {
  const be = W.getBackend();
  const before = be.liveBytes();
  const out = fn();
  expect(be.liveBytes()).toBe(before);
  return out;
}

describe('logit processors', () => {
  it('temperature divides the logits', () => {
    expect(Array.from(applyTemperature(f64([2, -1, 0.5]), 0.5))).toEqual([4, -2, 1]);
    expect(() => applyTemperature(f64([1]), 0)).toThrow(/temperature/);
  });

  it('topK keeps the k highest (and ties with the k-th)', () => {
    expect(kept(topKFilter(f64([1, 3, 2, 5, 4]), 2))).toEqual([3, 4]);
    expect(kept(topKFilter(f64([1, 3, 2, 5, 4]), 1))).toEqual([3]);
    expect(kept(topKFilter(f64([0, 2, 2, 1]), 2))).toEqual([1, 2]);
    expect(kept(topKFilter(f64([0, 2, 1, 1]), 2))).toEqual([1, 2, 3]);
    expect(kept(topKFilter(f64([1, 2]), 5))).toEqual([0, 1]);
  });

  it('topP keeps the smallest most-likely set reaching p, and at least one token', () => {
    // Probabilities 0.05, 0.5, 0.15, 0.3 at indices 0..3 (not sorted, to test the ordering).
    const probs = [0.05, 0.5, 0.15, 0.3];
    const logits = () => f64(probs.map((p) => Math.log(p) + 1.7));
    expect(kept(topPFilter(logits(), 0.3))).toEqual([1]); // 0.5 already >= 0.3
    expect(kept(topPFilter(logits(), 0.45))).toEqual([1]);
    expect(kept(topPFilter(logits(), 0.75))).toEqual([1, 3]); // 0.8
    expect(kept(topPFilter(logits(), 0.85))).toEqual([1, 2, 3]); // 0.95
    expect(kept(topPFilter(logits(), 0.97))).toEqual([0, 1, 2, 3]);
    expect(kept(topPFilter(logits(), 1e-9))).toEqual([1]);
    expect(kept(topPFilter(f64([3, -Infinity, 1]), 0.5))).toEqual([0]);
  });

  it('topP keeps exactly the minimal prefix of the sorted distribution (random logits)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 12 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (xs, p) => {
        const probs = softmax(xs);
        const keep = kept(topPFilter(f64(xs), p));
        const mass = keep.reduce((a, i) => a + probs[i], 0);
        const minKept = Math.min(...keep.map((i) => probs[i]));
        // Every dropped token is no more likely than every kept one, the kept mass reaches p, and
        // dropping the least likely kept token would fall short of p.
        for (let i = 0; i < xs.length; i++) if (!keep.includes(i)) expect(probs[i]).toBeLessThanOrEqual(minKept);
        if (p < 1) expect(mass).toBeGreaterThanOrEqual(p - 1e-12);
        if (keep.length > 1) expect(mass - minKept).toBeLessThan(p + 1e-12);
      }),
    );
  });

  it('repetition penalty divides positive and multiplies negative scores of seen tokens, once each', () => {
    expect(Array.from(applyRepetitionPenalty(f64([2, -2, 1, 0.5]), [0, 1, 1, 1], 2))).toEqual([1, -4, 1, 0.5]);
    expect(Array.from(applyRepetitionPenalty(f64([2, -2]), [0, 1], 1))).toEqual([2, -2]);
  });

  it('no-repeat-ngram bans exactly the tokens that would repeat an n-gram', () => {
    expect(noRepeatNgramBans([1, 2, 3, 1, 2], 3)).toEqual([3]);
    expect(noRepeatNgramBans([1, 2, 1, 3, 1], 2)).toEqual([2, 3]);
    expect(noRepeatNgramBans([4, 2, 4], 1)).toEqual([2, 4]);
    expect(noRepeatNgramBans([1, 2], 3)).toEqual([]);
    // Against the definition: t is banned iff tokens + [t] ends with an n-gram that occurred before.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 14 }), fc.integer({ min: 1, max: 4 }), (tokens, n) => {
        const gram = (s: number[], i: number) => s.slice(i, i + n).join(',');
        const expected = [0, 1, 2, 3].filter((t) => {
          const s = [...tokens, t];
          if (s.length < n) return false;
          const lastGram = gram(s, s.length - n);
          for (let i = 0; i + n <= tokens.length; i++) if (gram(s, i) === lastGram) return true;
          return false;
        });
        expect(noRepeatNgramBans(tokens, n)).toEqual(expected);
      }),
    );
  });

  it('sampling inverts the CDF and never draws a filtered token', () => {
    const s = f64([Math.log(0.2), -Infinity, Math.log(0.5), Math.log(0.3)]);
    expect(sampleFromScores(s, 0.1)).toBe(0);
    expect(sampleFromScores(s, 0.25)).toBe(2);
    expect(sampleFromScores(s, 0.69)).toBe(2);
    expect(sampleFromScores(s, 0.71)).toBe(3);
    expect(sampleFromScores(s, 0.99999999)).toBe(3);
    expect(argmax(f64([1, 3, 3, 2]))).toBe(1);
  });
});

describe('generate on the fixture GPT-2', () => {
  it('gathers cache rows along the batch dim (beams reorder and repeat rows)', () => {
    W.tidy(() => {
      const x = W.tensor(Array.from({ length: 3 * 2 * 2 }, (_, i) => i), [3, 2, 2]);
      expect(gatherRows(x, [2, 0, 2]).toNested()).toEqual([[[8, 9], [10, 11]], [[0, 1], [2, 3]], [[8, 9], [10, 11]]]);
      const [layer] = reorderCache([{ key: x, value: x.mul(-1) }], [1]);
      expect(layer.key.toNested()).toEqual([[[4, 5], [6, 7]]]);
      expect(layer.value.toNested()).toEqual([[[-4, -5], [-6, -7]]]);
    });
  });

  it('greedy equals the step-by-step argmax of full forwards, with and without the cache', () => {
    const prompt = PROMPTS[0];
    const expected = prompt.slice();
    for (let i = 0; i < 12; i++) expected.push(argmax(lastLogProbs(expected)));
    for (const useCache of [true, false]) {
      const r = flat(() => generate(model, prompt, { maxNewTokens: 12, useCache }));
      expect(r.sequences).toEqual([expected]);
      expect(r.scores[0]).toBeCloseTo(seqLogProb(expected, prompt.length), 4);
    }
    expect(new Set(expected.slice(4)).size).toBeGreaterThan(1); // the model is not stuck on one token
  });

  it('batched prompts (equal and different lengths) give what each prompt gives alone', () => {
    const prompts = [...PROMPTS, [7, 8], [33, 4, 19, 50, 50, 1], [12, 13]];
    for (const opts of [{}, { numBeams: 3 }, { strategy: 'sample' as const, numReturnSequences: 1 }]) {
      const alone = prompts.map((p) => generate(model, [p], { ...opts, maxNewTokens: 8 }).sequences[0]);
      const together = flat(() => generate(model, prompts, { ...opts, maxNewTokens: 8 }).sequences);
      if (!('strategy' in opts)) expect(together).toEqual(alone);
      together.forEach((s, i) => expect(s.slice(0, prompts[i].length)).toEqual(prompts[i]));
    }
  });

  it('a left-padded batch (mask + position ids) decodes each prompt as alone, with and without the cache, scores included', () => {
    const prompts = [[7, 8], [33, 4, 19, 50, 50, 1], [12, 13, 40]];
    for (const useCache of [true, false]) {
      for (const opts of [{}, { strategy: 'beam' as const, numBeams: 3 }]) {
        const alone = prompts.map((p) => generate(model, [p], { ...opts, useCache, maxNewTokens: 6 }));
        const together = generate(model, prompts, { ...opts, useCache, maxNewTokens: 6 });
        expect(together.sequences).toEqual(alone.map((a) => a.sequences[0]));
        together.scores.forEach((s, i) => expect(s).toBeCloseTo(alone[i].scores[0], 4));
      }
    }
  });

  it('GPT-2 with position ids: a left-padded row has the logits it has alone', () => {
    const short = [12, 13, 40];
    const long = [33, 4, 19, 50, 50, 1];
    const pad = long.length - short.length;
    const [batched, alone] = W.tidy(() => {
      const ids = W.tensor([...Array(pad).fill(0), ...short, ...long], [2, long.length], { dtype: 'int32' });
      const attentionMask = W.tensor([...Array(pad).fill(0), ...short.map(() => 1), ...long.map(() => 1)], [2, long.length], { dtype: 'int32' });
      const positionIds = W.tensor([...Array(pad).fill(0), ...short.map((_, t) => t), ...long.map((_, t) => t)], [2, long.length], { dtype: 'int32' });
      const b = model.forward(ids, { attentionMask, positionIds }).logits.toArray();
      const a = model.forward(W.tensor(short, [1, short.length], { dtype: 'int32' })).logits.toArray();
      return [Array.from(b.subarray(pad * V, long.length * V)), Array.from(a)];
    });
    expect(batched.length).toBe(alone.length);
    for (let i = 0; i < alone.length; i++) expect(Math.abs(batched[i] - alone[i])).toBeLessThan(1e-5);
  });

  it('sampling is deterministic by seed, differs across seeds, and is the same with and without the cache', () => {
    const opts: GenerateOptions = { strategy: 'sample', maxNewTokens: 12, temperature: 1.3, repetitionPenalty: 1.2 };
    const run = (seed: number, useCache = true) => flat(() => generate(model, PROMPTS, { ...opts, useCache, generator: new W.Generator(seed) }).sequences);
    const a = run(11);
    expect(run(11)).toEqual(a);
    expect(run(11, false)).toEqual(a);
    expect(run(12)).not.toEqual(a);
    const filtered = { ...opts, topK: 8, topP: 0.9, noRepeatNgramSize: 2, numReturnSequences: 2 };
    const b = flat(() => generate(model, PROMPTS, { ...filtered, generator: new W.Generator(3) }));
    const bUncached = generate(model, PROMPTS, { ...filtered, useCache: false, generator: new W.Generator(3) });
    expect(bUncached.sequences).toEqual(b.sequences);
    bUncached.scores.forEach((x, i) => expect(x).toBeCloseTo(b.scores[i], 4)); // float32 rounding differs with the cache
    expect(b.sequences.length).toBe(6);
    expect(b.sequences[0]).not.toEqual(b.sequences[1]); // independent draws for one prompt
  });

  it('sampling with topK = 1 is greedy', () => {
    const greedy = generate(model, PROMPTS, { maxNewTokens: 10 }).sequences;
    for (const seed of [1, 2]) {
      expect(generate(model, PROMPTS, { strategy: 'sample', topK: 1, temperature: 0.7, maxNewTokens: 10, generator: new W.Generator(seed) }).sequences).toEqual(greedy);
    }
  });

  it('noRepeatNgramSize keeps every n-gram of the output unique', () => {
    for (const opts of [{}, { numBeams: 3 }] as GenerateOptions[]) {
      const { sequences } = generate(model, PROMPTS, { ...opts, maxNewTokens: 16, noRepeatNgramSize: 2 });
      for (const s of sequences) {
        const grams = s.slice(1).map((t, i) => `${s[i]},${t}`);
        expect(new Set(grams).size).toBe(grams.length);
      }
    }
  });

  it('eos stops a sequence (and only that one); padTokenId right-pads the batch', () => {
    const free = generate(model, PROMPTS, { maxNewTokens: 10 }).sequences;
    const eos = free[0][4 + 2]; // the third new token of prompt 0
    const stopAt = (s: number[]) => {
      const i = s.indexOf(eos, 4);
      return i < 0 ? s : s.slice(0, i + 1);
    };
    for (const useCache of [true, false]) {
      const events: TokenEvent[] = [];
      const r = flat(() => generate(model, PROMPTS, { maxNewTokens: 10, eosTokenId: eos, useCache, onToken: (e) => events.push(e) }));
      expect(r.sequences).toEqual(free.map(stopAt));
      expect(r.sequences[0].length).toBeLessThanOrEqual(7);
      expect(events.length).toBe(r.sequences.reduce((a, s) => a + s.length - 4, 0));
      expect(events.filter((e) => e.finished).map((e) => e.prompt).sort()).toEqual([0, 1, 2]);
      for (const [i, s] of r.sequences.entries()) {
        expect(events.filter((e) => e.prompt === i).map((e) => e.token)).toEqual(s.slice(4));
      }
    }
    const padded = generate(model, PROMPTS, { maxNewTokens: 10, eosTokenId: eos, padTokenId: 0 }).sequences;
    expect(padded.every((s) => s.length === 14)).toBe(true);
    expect(padded[0]).toEqual([...stopAt(free[0]), ...Array(14 - stopAt(free[0]).length).fill(0)]);
  });
});

describe('beam search', () => {
  it('gives the same sequences and scores with and without the cache', () => {
    for (const opts of [
      { numBeams: 3, numReturnSequences: 3 },
      { numBeams: 4, numReturnSequences: 2, lengthPenalty: 0.5, noRepeatNgramSize: 2, earlyStopping: true },
      { numBeams: 3, eosTokenId: 48, lengthPenalty: 2, earlyStopping: 'never' as const },
      { numBeams: 3, eosTokenId: 34, lengthPenalty: 0.5 },
    ] as GenerateOptions[]) {
      const cached = flat(() => generate(model, PROMPTS, { ...opts, maxNewTokens: 10 }));
      const uncached = flat(() => generate(model, PROMPTS, { ...opts, maxNewTokens: 10, useCache: false }));
      expect(cached.sequences).toEqual(uncached.sequences);
      cached.scores.forEach((s, i) => expect(s).toBeCloseTo(uncached.scores[i], 4));
    }
  });

  it('with numBeams = 1 equals greedy', () => {
    const greedy = generate(model, PROMPTS, { maxNewTokens: 12 });
    const beam = generate(model, PROMPTS, { strategy: 'beam', numBeams: 1, maxNewTokens: 12, lengthPenalty: 0 });
    expect(beam.sequences).toEqual(greedy.sequences);
    beam.scores.forEach((s, i) => expect(s).toBeCloseTo(greedy.scores[i], 4));
    // With eos: both stop there (earlyStopping: one finished hypothesis is enough for one beam).
    const eos = greedy.sequences[1][4 + 3];
    expect(generate(model, PROMPTS, { strategy: 'beam', numBeams: 1, eosTokenId: eos, earlyStopping: true, maxNewTokens: 12 }).sequences)
      .toEqual(generate(model, PROMPTS, { eosTokenId: eos, maxNewTokens: 12 }).sequences);
  });

  it('returns sequences sorted by length-penalised score, each score recomputable from the model', () => {
    for (const lengthPenalty of [1, 0.5, 2]) {
      const K = 4;
      const eos = 48; // frequent in this model's beams: hypotheses of several lengths compete
      const r = generate(model, PROMPTS, { numBeams: K, numReturnSequences: K, eosTokenId: eos, lengthPenalty, maxNewTokens: 10 });
      for (let p = 0; p < PROMPTS.length; p++) {
        const scores = r.scores.slice(p * K, (p + 1) * K);
        expect([...scores].sort((a, b) => b - a)).toEqual(scores);
        for (let j = 0; j < K; j++) {
          const s = r.sequences[p * K + j];
          const generated = s.length - PROMPTS[p].length;
          expect(s.indexOf(eos, PROMPTS[p].length)).toBeOneOf([-1, s.length - 1]);
          expect(scores[j]).toBeCloseTo(seqLogProb(s, PROMPTS[p].length) / generated ** lengthPenalty, 4);
        }
      }
      if (lengthPenalty < 2) expect(new Set(r.sequences.map((s) => s.length)).size).toBeGreaterThan(1);
    }
  });

  it("finds a sequence at least as likely as greedy's under the same length penalty", () => {
    // Not a theorem of beam search in general; with no eos every candidate has the same length, and
    // on these prompts the wider search must not lose the greedy path's probability.
    for (const lengthPenalty of [1, 0.7]) {
      const greedy = generate(model, PROMPTS, { maxNewTokens: 10 }).sequences;
      const beam = generate(model, PROMPTS, { numBeams: 4, lengthPenalty, maxNewTokens: 10 });
      let strictlyBetter = 0;
      PROMPTS.forEach((p, i) => {
        const greedyScore = seqLogProb(greedy[i], p.length) / 10 ** lengthPenalty;
        expect(beam.scores[i]).toBeGreaterThanOrEqual(greedyScore - 1e-5);
        if (beam.scores[i] > greedyScore + 1e-4) strictlyBetter++;
      });
      expect(strictlyBetter).toBeGreaterThan(0);
    }
  });

  it('leaves memory flat, also inside a caller tidy and with a model recording gradients', () => {
    const be = W.getBackend();
    const before = be.liveBytes();
    W.tidy(() => {
      generate(model, PROMPTS, { numBeams: 3, maxNewTokens: 6 });
      generate(model, PROMPTS, { strategy: 'sample', maxNewTokens: 6, generator: new W.Generator(1) });
    });
    expect(be.liveBytes()).toBe(before);
    expect(model.parameters().every((p) => p.requiresGrad && p.grad === null)).toBe(true);
  });

  it('rejects inconsistent options', () => {
    expect(() => generate(model, [1, 2], { numBeams: 2, strategy: 'greedy' })).toThrow(/needs strategy 'beam'/);
    expect(() => generate(model, [1, 2], { numBeams: 2, numReturnSequences: 3 })).toThrow(/exceeds numBeams/);
    expect(() => generate(model, [1, 2], { topP: 0.5 })).toThrow(/apply to strategy 'sample'/);
    expect(() => generate(model, [[1], []])).toThrow(/prompt 1 is empty/);
  });
});
