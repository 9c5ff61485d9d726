/**
 * The byte-level BPE model: merge ranks and the merge loop that turns one pre-token's UTF-8 bytes
 * into token ids, with a cache because natural text repeats the same words over and over.
 *
 * Semantics follow GPT-2's reference `bpe()`: repeatedly take the adjacent pair with the lowest merge
 * rank and merge all of its non-overlapping occurrences left to right, until no pair has a rank.
 */
import { BYTE_TO_UNICODE, utf8Bytes } from './bytes.js';
import { Heap } from './heap.js';

export interface BpeModelOptions {
  /** Used for a byte whose character is not in the vocabulary; without it such input throws. */
  unkToken?: string;
  /** Emit a pre-token as one id when the whole of it is in the vocabulary (tokenizer.json `ignore_merges`). */
  ignoreMerges?: boolean;
  /** Names merge i in errors, e.g. `merges.txt line 7`. */
  describeMerge?: (index: number) => string;
  /** Words with more symbols than this use the heap-based merge loop (tests lower it to cover that path). */
  longWordThreshold?: number;
}

const CACHE_LIMIT = 100_000;

export class BpeModel {
  readonly vocab: ReadonlyMap<string, number>;
  /** Token text by id; holes where a vocabulary skips ids. */
  readonly idToToken: readonly (string | undefined)[];
  readonly merges: readonly (readonly [string, string])[];
  readonly unkId: number;
  readonly ignoreMerges: boolean;
  private readonly rankOf: PairTable;
  private readonly mergedIdByRank: Int32Array;
  private readonly byteIds = new Int32Array(256);
  private readonly longWord: number;
  private readonly cache = new Map<string, number[]>();
  private readonly scratch: number[] = [];

  constructor(vocab: ReadonlyMap<string, number>, merges: readonly (readonly [string, string])[], opts: BpeModelOptions = {}) {
    this.vocab = vocab;
    this.merges = merges;
    const idToToken: (string | undefined)[] = [];
    for (const [tok, id] of vocab) {
      if (!Number.isInteger(id) || id < 0) throw new Error(`token ${JSON.stringify(tok)} has invalid id ${id}`);
      if (idToToken[id] !== undefined) throw new Error(`tokens ${JSON.stringify(idToToken[id])} and ${JSON.stringify(tok)} share id ${id}`);
      idToToken[id] = tok;
    }
    this.idToToken = idToToken;
    this.unkId = opts.unkToken === undefined ? -1 : (vocab.get(opts.unkToken) ?? -1);
    if (opts.unkToken !== undefined && this.unkId < 0) throw new Error(`unk token ${JSON.stringify(opts.unkToken)} is not in the vocabulary`);
    this.ignoreMerges = opts.ignoreMerges ?? false;
    this.longWord = opts.longWordThreshold ?? 64;
    for (let b = 0; b < 256; b++) this.byteIds[b] = vocab.get(BYTE_TO_UNICODE[b]!) ?? -1;

    this.mergedIdByRank = new Int32Array(merges.length);
    this.rankOf = new PairTable(merges.length);
    const where = opts.describeMerge ?? ((i: number) => `merge ${i}`);
    merges.forEach(([a, b], rank) => {
      const ia = vocab.get(a);
      const ib = vocab.get(b);
      const im = vocab.get(a + b);
      const missing = ia === undefined ? a : ib === undefined ? b : im === undefined ? a + b : null;
      if (missing !== null) throw new Error(`${where(rank)}: token ${JSON.stringify(missing)} of merge "${a} ${b}" is not in the vocabulary`);
      // a repeated merge takes its last rank, as in the reference (a dict built from the list)
      this.rankOf.set(ia!, ib!, rank);
      this.mergedIdByRank[rank] = im!;
    });
  }

  /** Ids of one pre-token (plain text, not yet byte-level). */
  encodePiece(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    const bytes = utf8Bytes(piece, this.scratch);
    let ids: number[] | null = null;
    if (this.ignoreMerges) {
      let text = '';
      for (const b of bytes) text += BYTE_TO_UNICODE[b];
      const id = this.vocab.get(text);
      if (id !== undefined) ids = [id];
    }
    if (!ids) {
      const syms = bytes.map((b) => this.byteIds[b]!);
      ids = syms.length > this.longWord ? this.mergeLong(syms) : this.mergeShort(syms);
      for (let i = 0; i < ids.length; i++) if (ids[i]! < 0) ids[i] = this.unknown(bytes);
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }

  private unknown(bytes: number[]): number {
    if (this.unkId >= 0) return this.unkId;
    const chars = bytes.map((b) => BYTE_TO_UNICODE[b]).join('');
    throw new Error(`cannot encode ${JSON.stringify(chars)}: a byte's character is missing from the vocabulary and there is no unk token`);
  }

  private pairRank(a: number, b: number): number {
    return a < 0 || b < 0 ? -1 : this.rankOf.get(a, b);
  }

  /** Whole-word rescans: fastest for the short words that make up nearly all text. */
  private mergeShort(syms: number[]): number[] {
    let word = syms;
    while (word.length > 1) {
      let best = -1;
      for (let i = 0; i + 1 < word.length; i++) {
        const r = this.pairRank(word[i]!, word[i + 1]!);
        if (r >= 0 && (best < 0 || r < best)) best = r;
      }
      if (best < 0) break;
      const merged = this.mergedIdByRank[best]!;
      const next: number[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && this.pairRank(word[i]!, word[i + 1]!) === best) {
          next.push(merged);
          i++;
        } else next.push(word[i]!);
      }
      word = next;
    }
    return word;
  }

  /**
   * Same result as mergeShort in O(n log n) for long words (a CJK paragraph, a base64 blob): a linked
   * list of symbols and a min-heap of (rank, position) for every adjacent pair. All heap entries of the
   * lowest rank are taken as one batch in position order, which is exactly the reference's
   * "merge every occurrence left to right" pass; entries made stale by earlier merges are skipped.
   */
  private mergeLong(syms: number[]): number[] {
    const n = syms.length;
    const sym = Int32Array.from(syms);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    // keys are rank * n + position, so ties resolve leftmost first
    const heap = new Heap<number>((x, y) => x < y);
    const push = (p: number) => {
      const q = next[p]!;
      if (q < 0) return;
      const r = this.pairRank(sym[p]!, sym[q]!);
      if (r >= 0) heap.push(r * n + p);
    };
    for (let i = 0; i + 1 < n; i++) push(i);
    const batch: number[] = [];
    while (heap.size > 0) {
      const rank = Math.floor(heap.peek() / n);
      batch.length = 0;
      while (heap.size > 0 && Math.floor(heap.peek() / n) === rank) batch.push(heap.pop() - rank * n);
      const merged = this.mergedIdByRank[rank]!;
      for (const p of batch) {
        const q = next[p]!;
        // stale: p was absorbed into its left neighbour, or p/q now hold other symbols
        if (sym[p]! < 0 || q < 0 || this.pairRank(sym[p]!, sym[q]!) !== rank) continue;
        sym[p] = merged;
        sym[q] = -2; // absorbed
        const after = next[q]!;
        next[p] = after;
        if (after >= 0) prev[after] = p;
        if (prev[p]! >= 0) push(prev[p]!);
        push(p);
      }
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(sym[i]!);
    return out;
  }
}

/**
 * (id, id) -> rank, open addressing over typed arrays. A Map keyed by a * stride + b is several times
 * slower: for a 50k vocabulary the keys pass 2^31 and stop being small integers, so every lookup
 * hashes a heap number, and the lookup is the inner loop of encoding.
 */
class PairTable {
  private readonly mask: number;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly value: Int32Array;

  constructor(entries: number) {
    let size = 16;
    while (size < entries * 2) size *= 2; // load factor <= 1/2 keeps probe chains short
    this.mask = size - 1;
    this.left = new Int32Array(size).fill(-1);
    this.right = new Int32Array(size);
    this.value = new Int32Array(size);
  }

  private slot(a: number, b: number): number {
    let i = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77)) >>> 0 & this.mask;
    while (this.left[i] !== -1 && (this.left[i] !== a || this.right[i] !== b)) i = (i + 1) & this.mask;
    return i;
  }

  set(a: number, b: number, v: number): void {
    const i = this.slot(a, b);
    this.left[i] = a;
    this.right[i] = b;
    this.value[i] = v;
  }

  /** The rank, or -1. */
  get(a: number, b: number): number {
    const i = this.slot(a, b);
    return this.left[i] === -1 ? -1 : this.value[i]!;
  }
}
