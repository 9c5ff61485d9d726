/**
 * Trains a byte-level BPE vocabulary for small models (a few thousand tokens) on a few MB of text.
 *
 * Words are counted once (GPT-2 pre-tokenization, so merges never cross word boundaries), then the
 * most frequent adjacent pair is merged repeatedly. Pair counts are updated incrementally: a merge
 * only touches the words that contain the pair (an index from pair to words), and the best pair comes
 * from a max-heap whose stale entries are re-checked when popped. Ties go to the pair with the lower
 * ids (earlier tokens), so the result depends only on the text, not on iteration order.
 */
import { BYTE_TO_UNICODE, byteAlphabet, utf8Bytes } from './bytes.js';
import { AddedTokenMatcher, GPT2_SPLIT_PATTERN, type AddedToken } from './pretokenize.js';
import { ByteLevelBPETokenizer } from './tokenizer.js';
import { Heap } from './heap.js';

export interface TrainProgress {
  phase: 'count' | 'merge' | 'done';
  /** Texts read so far (count phase). */
  texts: number;
  /** Merges learned so far. */
  merges: number;
  /** Current vocabulary size, specials and bytes included. */
  vocabSize: number;
  targetVocabSize: number;
}

export interface TrainOptions {
  /** Target size including special tokens and the 256 byte tokens. */
  vocabSize: number;
  /** Pairs seen fewer times than this are never merged (default 2); training may stop short of vocabSize. */
  minFrequency?: number;
  /** Given ids 0..k-1, matched as whole strings, and cut out of the training text. */
  specialTokens?: readonly (string | Omit<AddedToken, 'id'>)[];
  addPrefixSpace?: boolean;
  onProgress?: (p: TrainProgress) => void;
  /** Report every this many texts / merges (default 1000 / 100). */
  progressEvery?: number;
}

interface HeapEntry {
  count: number;
  a: number;
  b: number;
}

/** Max by count, then min by (a, b): the deterministic tie-break. */
const before = (x: HeapEntry, y: HeapEntry) => x.count > y.count || (x.count === y.count && (x.a < y.a || (x.a === y.a && x.b < y.b)));

export function trainByteLevelBPE(texts: Iterable<string>, opts: TrainOptions): ByteLevelBPETokenizer {
  const specials = (opts.specialTokens ?? []).map((t, id): AddedToken => ({ ...(typeof t === 'string' ? { content: t } : t), id }));
  const minFreq = opts.minFrequency ?? 2;
  const target = opts.vocabSize;
  const baseSize = specials.length + 256;
  if (!Number.isInteger(target) || target < baseSize) {
    throw new Error(`vocabSize ${target} is too small: the ${specials.length} special tokens and 256 byte tokens need ${baseSize}`);
  }
  const report = opts.onProgress ?? (() => {});

  // Vocabulary: specials first (as Hugging Face's trainer does), then the bytes in GPT-2's order.
  const tokens: string[] = specials.map((s) => s.content);
  const vocab = new Map<string, number>();
  for (const t of [...tokens, ...byteAlphabet()]) {
    if (vocab.has(t)) throw new Error(`special token ${JSON.stringify(t)} is declared twice or collides with a byte token`);
    vocab.set(t, vocab.size);
  }
  tokens.push(...byteAlphabet());
  const byteId = new Int32Array(256);
  for (let b = 0; b < 256; b++) byteId[b] = vocab.get(BYTE_TO_UNICODE[b]!)!;

  // 1. word frequencies
  const matcher = new AddedTokenMatcher(specials);
  const wordCounts = new Map<string, number>();
  const re = new RegExp(GPT2_SPLIT_PATTERN);
  const every = opts.progressEvery ?? 1000;
  let nTexts = 0;
  for (const text of texts) {
    matcher.split(text).forEach((seg, i) => {
      if (typeof seg === 'number') return;
      const s = opts.addPrefixSpace && i === 0 && !seg.startsWith(' ') ? ' ' + seg : seg;
      re.lastIndex = 0;
      for (let m = re.exec(s); m !== null; m = re.exec(s)) wordCounts.set(m[0], (wordCounts.get(m[0]) ?? 0) + 1);
    });
    if (++nTexts % every === 0) report({ phase: 'count', texts: nTexts, merges: 0, vocabSize: vocab.size, targetVocabSize: target });
  }

  // 2. words as symbol ids, pair counts, and which words hold each pair
  const stride = target + 1;
  const words: number[][] = [];
  const freq: number[] = [];
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const scratch: number[] = [];
  const addWord = (key: number, w: number) => {
    const list = pairWords.get(key);
    if (!list) pairWords.set(key, [w]);
    else if (list[list.length - 1] !== w) list.push(w);
  };
  for (const [word, count] of wordCounts) {
    const syms = utf8Bytes(word, scratch).map((b) => byteId[b]!);
    const w = words.length;
    words.push(syms);
    freq.push(count);
    for (let i = 0; i + 1 < syms.length; i++) {
      const key = syms[i]! * stride + syms[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + count);
      addWord(key, w);
    }
  }
  const heap = new Heap<HeapEntry>(before);
  for (const [key, count] of pairCount) heap.push({ count, a: Math.floor(key / stride), b: key % stride });

  // 3. merges
  const merges: [string, string][] = [];
  const seenAt = new Int32Array(words.length).fill(-1);
  const mergeEvery = opts.progressEvery ?? 100;
  while (vocab.size < target && heap.size > 0) {
    const top = heap.pop();
    const key = top.a * stride + top.b;
    const current = pairCount.get(key) ?? 0;
    if (current !== top.count) {
      if (current > 0) heap.push({ ...top, count: current }); // stale: counts only fall for existing pairs
      continue;
    }
    if (current < minFreq) break;
    const { a, b } = top;
    const text = tokens[a]! + tokens[b]!;
    // two different pairs can spell the same token ("ab"+"c", "a"+"bc"): reuse its id
    let id = vocab.get(text);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(text);
      vocab.set(text, id);
    }
    merges.push([tokens[a]!, tokens[b]!]);

    const grown = new Set<number>();
    const bump = (x: number, y: number, delta: number, w: number) => {
      const k = x * stride + y;
      const c = (pairCount.get(k) ?? 0) + delta;
      if (c > 0) pairCount.set(k, c);
      else pairCount.delete(k);
      if (delta > 0) {
        grown.add(k);
        addWord(k, w);
      }
    };
    for (const w of pairWords.get(key) ?? []) {
      if (seenAt[w] === merges.length) continue;
      seenAt[w] = merges.length;
      const syms = words[w]!;
      const f = freq[w]!;
      const out: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (syms[i] === a && i + 1 < syms.length && syms[i + 1] === b) {
          const prev = out.length > 0 ? out[out.length - 1]! : -1;
          const next = i + 2 < syms.length ? syms[i + 2]! : -1;
          if (prev >= 0) {
            bump(prev, a, -f, w);
            bump(prev, id, f, w);
          }
          bump(a, b, -f, w);
          if (next >= 0) {
            bump(b, next, -f, w);
            bump(id, next, f, w);
          }
          out.push(id);
          i++;
        } else out.push(syms[i]!);
      }
      words[w] = out;
    }
    pairCount.delete(key);
    pairWords.delete(key);
    for (const k of grown) {
      const c = pairCount.get(k);
      if (c) heap.push({ count: c, a: Math.floor(k / stride), b: k % stride });
    }
    if (merges.length % mergeEvery === 0) report({ phase: 'merge', texts: nTexts, merges: merges.length, vocabSize: vocab.size, targetVocabSize: target });
  }
  report({ phase: 'done', texts: nTexts, merges: merges.length, vocabSize: vocab.size, targetVocabSize: target });
  return new ByteLevelBPETokenizer(vocab, merges, { addedTokens: specials, addPrefixSpace: opts.addPrefixSpace });
}
