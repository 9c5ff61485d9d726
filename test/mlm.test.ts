/** Pretraining data: MLM masking statistics and determinism, token blocks, the block order, the document split. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockSampler, permutation, TokenBlocks, tokenStream } from '../src/data/blocks.js';
import { splitDocuments } from '../src/data/corpus.js';
import { causalLmLabels, IGNORE_INDEX, maskTokens } from '../src/data/mlm.js';
import { Generator } from '../src/ops/random.js';

const V = 1000;
const SPECIALS = [0, 1, 2, 3, 4];
const MASK = 4;

/** Token ids with a special token every 7th position (as <s>, </s> around blocks). */
function sampleIds(n: number, seed: number): Int32Array {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i % 7 === 0 ? SPECIALS[i % 4]! : 5 + ((i * 7919 + seed * 104729) % (V - 5));
  return ids;
}

const mask = (ids: Int32Array, generator: Generator) => maskTokens(ids, { maskId: MASK, vocabSize: V, specialIds: SPECIALS, generator });

describe('maskTokens', () => {
  it('selects 15% of ordinary tokens, then 80% <mask>, 10% random, 10% kept; labels -100 elsewhere', () => {
    const ids = sampleIds(200_000, 1);
    const { inputs, labels } = mask(ids, new Generator(42));
    let ordinary = 0;
    let selected = 0;
    let masked = 0;
    let random = 0;
    let kept = 0;
    let wrong = 0; // unselected tokens changed, or labels that are not the original token
    for (let i = 0; i < ids.length; i++) {
      if (ids[i]! <= 4) continue; // specials
      ordinary++;
      if (labels[i] === IGNORE_INDEX) {
        if (inputs[i] !== ids[i]) wrong++;
        continue;
      }
      selected++;
      if (labels[i] !== ids[i]) wrong++;
      if (inputs[i] === MASK) masked++;
      else if (inputs[i] === ids[i]) kept++;
      else random++;
    }
    expect(wrong).toBe(0);
    // 5 binomial standard deviations: sd(selected fraction) ~ 0.0009 here, sd(kind fractions) ~ 0.0025
    expect(Math.abs(selected / ordinary - 0.15)).toBeLessThan(0.005);
    expect(Math.abs(masked / selected - 0.8)).toBeLessThan(0.013);
    // a random draw equal to the original (1 in 995) counts as kept: negligible at this tolerance
    expect(Math.abs(random / selected - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(kept / selected - 0.1)).toBeLessThan(0.01);
  });

  it('never selects special tokens and never draws one as a random replacement', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 400 }), (seed, n) => {
        const ids = sampleIds(n, seed % 97);
        const { inputs, labels } = mask(ids, new Generator(seed));
        for (let i = 0; i < n; i++) {
          if (SPECIALS.includes(ids[i]!)) {
            expect(labels[i]).toBe(IGNORE_INDEX);
            expect(inputs[i]).toBe(ids[i]);
          } else if (inputs[i] !== ids[i]) {
            expect(inputs[i] === MASK || !SPECIALS.includes(inputs[i]!)).toBe(true);
          }
        }
      }),
    );
  });

  it('an all-special sequence has no targets', () => {
    const { inputs, labels } = mask(Int32Array.from([0, 2, 1, 1, 3]), new Generator(0));
    expect([...labels]).toEqual([-100, -100, -100, -100, -100]);
    expect([...inputs]).toEqual([0, 2, 1, 1, 3]);
  });

  it('is a pure function of the seed: same seed same masks, other seed other masks', () => {
    const ids = sampleIds(5000, 3);
    const a = mask(ids, new Generator(7));
    const b = mask(ids, new Generator(7));
    const c = mask(ids, new Generator(8));
    expect(a.inputs).toEqual(b.inputs);
    expect(a.labels).toEqual(b.labels);
    expect(a.labels).not.toEqual(c.labels);
  });

  it('does not depend on how the tokens are chunked, and a saved generator state replays the same masks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2, max: 300 }), fc.nat(), (seed, n, cut) => {
        const ids = sampleIds(n, seed);
        const k = cut % n;
        const whole = mask(ids, new Generator(seed));
        const g = new Generator(seed);
        const first = mask(ids.subarray(0, k), g);
        const saved = g.state();
        const second = mask(ids.subarray(k), g);
        expect([...first.labels, ...second.labels]).toEqual([...whole.labels]);
        expect([...first.inputs, ...second.inputs]).toEqual([...whole.inputs]);
        const replay = new Generator(123);
        replay.setState(saved);
        expect(mask(ids.subarray(k), replay)).toEqual(second);
      }),
    );
  });

  it('rejects fractions that do not add up', () => {
    expect(() => maskTokens(new Int32Array(3), { maskId: 4, vocabSize: V, specialIds: [], generator: new Generator(0), maskFraction: 0.9, randomFraction: 0.2 }))
      .toThrow(/summing to at most 1/);
  });
});

describe('maskTokens: emphasis (sentiment masking)', () => {
  it('selects emphasised ids with their own probability from the same draws; the other tokens decide exactly as without it', () => {
    const ids = sampleIds(100_000, 3);
    const chosen = new Set<number>();
    for (let id = 5; id < V; id += 10) chosen.add(id);
    const plain = mask(ids, new Generator(9));
    const at = Uint8Array.from(ids, (id) => (chosen.has(id) ? 1 : 0));
    const withEmphasis = (probability: number) =>
      maskTokens(ids, { maskId: MASK, vocabSize: V, specialIds: SPECIALS, generator: new Generator(9), emphasis: { at, probability } });
    const all = withEmphasis(1);
    const none = withEmphasis(0);
    const half = withEmphasis(0.5);
    let emphasised = 0;
    let halfSelected = 0;
    let wrong = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (chosen.has(id)) {
        emphasised++;
        if (all.labels[i] !== id || none.labels[i] !== IGNORE_INDEX) wrong++;
        if (half.labels[i] !== IGNORE_INDEX) halfSelected++;
        // a token plain masking selected is selected at any higher probability, with the same replacement
        if (plain.labels[i] !== IGNORE_INDEX && half.inputs[i] !== plain.inputs[i]) wrong++;
      } else if (half.labels[i] !== plain.labels[i] || half.inputs[i] !== plain.inputs[i]) {
        wrong++;
      }
    }
    expect(wrong).toBe(0);
    expect(emphasised).toBeGreaterThan(5_000);
    expect(Math.abs(halfSelected / emphasised - 0.5)).toBeLessThan(0.03);
  });

  it('rejects an emphasis probability outside [0, 1], or marks that do not fit the tokens', () => {
    const opts = { maskId: MASK, vocabSize: V, specialIds: SPECIALS, generator: new Generator(1) };
    expect(() => maskTokens(new Int32Array([5]), { ...opts, emphasis: { at: [1], probability: 1.5 } })).toThrow(/emphasis probability 1.5 must be in \[0, 1\]/);
    expect(() => maskTokens(new Int32Array([5, 6]), { ...opts, emphasis: { at: [1], probability: 0.5 } })).toThrow(/emphasis marks 1 positions for 2 tokens/);
  });
});

describe('causal LM blocks', () => {
  it('tokenStream separates documents, TokenBlocks cut it into full blocks and drop the tail', () => {
    const stream = tokenStream([[10, 11, 12], [20, 21], [30, 31, 32, 33]], 0);
    expect([...stream]).toEqual([10, 11, 12, 0, 20, 21, 0, 30, 31, 32, 33, 0]);
    const blocks = new TokenBlocks(stream, { length: 5 });
    expect(blocks.count).toBe(2);
    expect([...blocks.batch([1, 0])]).toEqual([21, 0, 30, 31, 32, 10, 11, 12, 0, 20]);
    expect([...causalLmLabels(blocks.batch([0]))]).toEqual([10, 11, 12, 0, 20]);
    expect([...causalLmLabels(Int32Array.from([5, 6, 1, 1]), 1)]).toEqual([5, 6, -100, -100]);
  });

  it('RoBERTa blocks wrap each chunk in <s> ... </s>', () => {
    const blocks = new TokenBlocks(Int32Array.from([10, 11, 12, 13, 14, 15, 16]), { length: 5, prefix: [0], suffix: [2] });
    expect(blocks.count).toBe(2);
    expect([...blocks.batch([0, 1])]).toEqual([0, 10, 11, 12, 2, 0, 13, 14, 15, 2]);
  });

  it('explains a stream too short for one block', () => {
    expect(() => new TokenBlocks(Int32Array.from([1, 2]), { length: 4 })).toThrow(/fewer than one block/);
    expect(() => new TokenBlocks(Int32Array.from([1, 2]), { length: 2, prefix: [0], suffix: [2] })).toThrow(/no room/);
  });
});

describe('BlockSampler', () => {
  it('permutation() is a permutation', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.nat(), fc.nat(5), (n, seed, epoch) => {
        expect([...permutation(n, seed, epoch)].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
    );
  });

  it('visits every block once per epoch, reshuffles each epoch, and resumes from its cursor', () => {
    const s = new BlockSampler(10, 5);
    const e0 = s.next(10);
    const e1 = s.next(10);
    expect([...e0].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...e1].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(e1).not.toEqual(e0);

    const a = new BlockSampler(10, 5);
    a.next(7);
    const cursor = a.state();
    const rest = a.next(9); // crosses into epoch 1
    const b = new BlockSampler(10, 5);
    b.setState(cursor);
    expect(b.next(9)).toEqual(rest);
    expect([...e0.slice(7), ...e1.slice(0, 6)]).toEqual(rest);
  });
});

describe('splitDocuments', () => {
  const docs = Array.from({ length: 40 }, (_, i) => ({ name: `doc${i}.txt`, text: `text ${i}` }));

  it('holds out whole documents deterministically, whatever the reading order', () => {
    const a = splitDocuments(docs, { validationFraction: 0.1, seed: 3 });
    const b = splitDocuments([...docs].reverse(), { validationFraction: 0.1, seed: 3 });
    expect(a).toEqual(b);
    expect(a.validation).toHaveLength(4);
    expect(a.train).toHaveLength(36);
    const names = new Set(a.train.map((d) => d.name));
    for (const d of a.validation) expect(names.has(d.name)).toBe(false);
    expect(splitDocuments(docs, { validationFraction: 0.1, seed: 4 }).validation).not.toEqual(a.validation);
  });

  it('always keeps at least one document on each side', () => {
    const two = splitDocuments(docs.slice(0, 2), { validationFraction: 0.01 });
    expect(two.train).toHaveLength(1);
    expect(two.validation).toHaveLength(1);
    expect(() => splitDocuments(docs.slice(0, 1))).toThrow(/at least 2/);
    expect(() => splitDocuments([docs[0]!, docs[0]!])).toThrow(/appears twice/);
  });
});
