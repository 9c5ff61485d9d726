/**
 * The byte-level BPE trainer: vocabulary size, determinism, round trips, compression, agreement with
 * a from-scratch recount of pair frequencies, and save -> load through the Node file helpers.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizerFromDirectory, saveTokenizer } from '../src/node/tokenizer-files.js';
import { BYTE_TO_UNICODE, ByteLevelBPETokenizer, pretokenize, trainByteLevelBPE, utf8Bytes, type TrainProgress } from '../src/tokenizer/index.js';

/** Deterministic English-like text: Zipf-distributed made-up words, numbers, punctuation, some non-ASCII. */
function corpus(paragraphs: number, seed = 1): string[] {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const syllables = ['ka', 'ri', 'to', 'men', 'sa', 'lo', 'the', 'an', 'or', 'ing', 'ed', 'str', 'qu', 'é', 'ü', 'ño'];
  const lexicon = Array.from({ length: 2000 }, () => {
    const n = 1 + Math.floor(rand() * 3);
    return Array.from({ length: n }, () => syllables[Math.floor(rand() * syllables.length)]).join('');
  });
  const extras = ['東京', '🎉', "it's", "we're", '3.14', '—', '"quoted"', '(aside)'];
  const word = () => {
    if (rand() < 0.03) return extras[Math.floor(rand() * extras.length)]!;
    if (rand() < 0.03) return String(Math.floor(rand() * 10000));
    return lexicon[Math.floor(lexicon.length * rand() ** 3)]!; // cubic skew: a few words dominate
  };
  return Array.from({ length: paragraphs }, () => {
    const sentences = Array.from({ length: 3 + Math.floor(rand() * 5) }, () => {
      const w = Array.from({ length: 5 + Math.floor(rand() * 12) }, word);
      w[0] = w[0]!.charAt(0).toUpperCase() + w[0]!.slice(1);
      return w.join(rand() < 0.1 ? ', ' : ' ') + (rand() < 0.2 ? '?' : '.');
    });
    return sentences.join(' ') + '\n';
  });
}

/** Training by recounting every pair from scratch after each merge: slow, obviously correct. */
function naiveMerges(texts: string[], merges: number): [string, string][] {
  const counts = new Map<string, number>();
  for (const t of texts) for (const w of pretokenize(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const alphabet = [...BYTE_TO_UNICODE].sort();
  const order = new Map(alphabet.map((c, i) => [c, i]));
  const words = [...counts].map(([w, c]) => ({ syms: utf8Bytes(w).map((b) => BYTE_TO_UNICODE[b]!), c }));
  const out: [string, string][] = [];
  while (out.length < merges) {
    const pairs = new Map<string, { a: string; b: string; n: number }>();
    for (const { syms, c } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const k = syms[i] + ' ' + syms[i + 1];
        const p = pairs.get(k) ?? { a: syms[i]!, b: syms[i + 1]!, n: 0 };
        p.n += c;
        pairs.set(k, p);
      }
    }
    let best: { a: string; b: string; n: number } | null = null;
    const id = (t: string) => order.get(t)!;
    for (const p of pairs.values()) {
      if (!best || p.n > best.n || (p.n === best.n && (id(p.a) < id(best.a) || (id(p.a) === id(best.a) && id(p.b) < id(best.b))))) best = p;
    }
    if (!best || best.n < 2) break;
    const { a, b } = best;
    out.push([a, b]);
    if (!order.has(a + b)) order.set(a + b, order.size);
    for (const w of words) {
      const next: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (w.syms[i] === a && w.syms[i + 1] === b) (next.push(a + b), i++);
        else next.push(w.syms[i]!);
      }
      w.syms = next;
    }
  }
  return out;
}

const texts = corpus(800); // ~210 KB
const joined = texts.join('');
let tok: ByteLevelBPETokenizer;
let progress: TrainProgress[];
const dirs: string[] = [];

beforeAll(() => {
  progress = [];
  tok = trainByteLevelBPE(texts, { vocabSize: 1000, specialTokens: ['<|endoftext|>', '<pad>'], onProgress: (p) => progress.push(p) });
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('trainByteLevelBPE', () => {
  it('reaches the requested vocabulary size: specials, then 256 bytes, then merges', () => {
    expect(joined.length).toBeGreaterThan(150_000);
    expect(tok.vocabSize).toBe(1000);
    expect(tok.tokenToId('<|endoftext|>')).toBe(0);
    expect(tok.tokenToId('<pad>')).toBe(1);
    expect(tok.tokenToId('!')).toBe(2); // bytes in GPT-2's order, after the specials
    expect(tok.merges.length).toBeGreaterThanOrEqual(1000 - 258);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', vocabSize: 1000, merges: tok.merges.length });
    const merged = progress.filter((p) => p.phase === 'merge').map((p) => p.merges);
    expect(merged).toEqual([...merged].sort((a, b) => a - b));
  });

  it('learns the same merges as recounting all pairs after every merge', () => {
    const small = corpus(60, 7);
    const fast = trainByteLevelBPE(small, { vocabSize: 256 + 300 });
    expect(fast.merges).toEqual(naiveMerges(small, 300));
  });

  it('is deterministic, and independent of the order of the texts', () => {
    const again = trainByteLevelBPE(texts, { vocabSize: 1000, specialTokens: ['<|endoftext|>', '<pad>'] });
    const reversed = trainByteLevelBPE([...texts].reverse(), { vocabSize: 1000, specialTokens: ['<|endoftext|>', '<pad>'] });
    expect(again.merges).toEqual(tok.merges);
    expect(reversed.merges).toEqual(tok.merges);
  });

  it('round-trips any string, including ones far from the corpus (property)', () => {
    expect(tok.decode(tok.encode(joined))).toBe(joined);
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (s) => {
        expect(tok.decode(tok.encode(s))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('compresses: far fewer tokens than bytes, frequent words are single tokens', () => {
    const bytes = new TextEncoder().encode(joined).length;
    const ids = tok.encode(joined);
    expect(ids.length).toBeLessThan(bytes / 3);
    const counts = new Map<string, number>();
    for (const w of pretokenize(joined)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    expect(tok.encode(top)).toHaveLength(1);
  });

  it('special tokens are matched whole and kept out of the merges', () => {
    const ids = tok.encode('Kari<|endoftext|><pad>');
    expect(ids.slice(-2)).toEqual([0, 1]);
    const withSpecials = trainByteLevelBPE(texts.map((t) => t + '<|endoftext|>'), { vocabSize: 400, specialTokens: ['<|endoftext|>'] });
    expect(withSpecials.merges.some(([a, b]) => (a + b).includes('endoftext'))).toBe(false);
  });

  it('stops early below minFrequency, and rejects impossible sizes', () => {
    const rare = trainByteLevelBPE(['abc abd abe'], { vocabSize: 2000 });
    // words "abc", " abd", " abe": "ab" occurs 3 times, then " ab" twice; nothing else repeats
    expect(rare.merges).toEqual([['a', 'b'], ['Ġ', 'ab']]);
    expect(rare.vocabSize).toBe(258);
    expect(() => trainByteLevelBPE(['x'], { vocabSize: 200 })).toThrow(/vocabSize 200 is too small/);
  });

  it('save -> load (tokenizer.json, and vocab.json + merges.txt) gives identical encodings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmgrad-tok-'));
    dirs.push(dir);
    await saveTokenizer(tok, join(dir, 'out'));
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['merges.txt', 'tokenizer.json', 'vocab.json']); // no temp files left
    const fromJson = await loadTokenizerFromDirectory(join(dir, 'out'));
    const fromPair = await loadTokenizerFromDirectory(join(dir, 'out'), { prefer: 'vocab.json+merges.txt', specialTokens: ['<|endoftext|>', '<pad>'] });
    const sample = joined.slice(0, 20_000) + '<|endoftext|> tail 東京 🎉';
    const ids = tok.encode(sample);
    expect(fromJson.encode(sample)).toEqual(ids);
    expect(fromPair.encode(sample)).toEqual(ids);
    expect(fromJson.vocabSize).toBe(tok.vocabSize);
    expect(fromJson.decode(ids)).toBe(sample);
  });
});
