/**
 * Token streams cut into fixed-length training blocks (the "group texts" step of LM pretraining),
 * and a resumable, seeded order over the blocks.
 */
import { keySchedule, word } from '../backend/rng.js';

/**
 * Concatenates the token ids of each document, with `separator` after every document, so a model
 * sees where one text ends and the next begins (`<|endoftext|>` for GPT-2, `</s>` for RoBERTa).
 */
export function tokenStream(docs: readonly (readonly number[])[], separator: number): Int32Array {
  let n = 0;
  for (const d of docs) n += d.length + 1;
  const out = new Int32Array(n);
  let at = 0;
  for (const d of docs) {
    out.set(d, at);
    at += d.length;
    out[at++] = separator;
  }
  return out;
}

export interface BlockLayout {
  /** Tokens per block, specials included. */
  length: number;
  /** Ids placed before each chunk (RoBERTa: `<s>`). */
  prefix?: readonly number[];
  /** Ids placed after each chunk (RoBERTa: `</s>`). */
  suffix?: readonly number[];
}

/**
 * A token stream that can be read piecewise: an array in memory, or a file read block by block
 * (src/node/token-file.ts), so a corpus larger than memory never has to be loaded whole.
 */
export interface TokenSource {
  /** Number of tokens. */
  readonly length: number;
  /** Copies tokens [start, start + out.length) into out. */
  read(start: number, out: Int32Array): void;
}

/** A TokenSource over ids already in memory. */
export class ArrayTokenSource implements TokenSource {
  constructor(readonly ids: Int32Array) {}
  get length(): number {
    return this.ids.length;
  }
  read(start: number, out: Int32Array): void {
    if (!(start >= 0 && start + out.length <= this.ids.length)) {
      throw new RangeError(`ArrayTokenSource: tokens [${start}, ${start + out.length}) are outside [0, ${this.ids.length})`);
    }
    out.set(this.ids.subarray(start, start + out.length));
  }
}

/** Occurrences of each id in [0, vocabSize) over a source, read in chunks. */
export function tokenCounts(source: TokenSource, vocabSize: number, chunk = 1 << 16): Float64Array {
  const counts = new Float64Array(vocabSize);
  const buf = new Int32Array(chunk);
  for (let at = 0; at < source.length; at += chunk) {
    const part = buf.subarray(0, Math.min(chunk, source.length - at));
    source.read(at, part);
    for (let i = 0; i < part.length; i++) {
      const t = part[i]!;
      if (!(t >= 0 && t < vocabSize)) throw new RangeError(`tokenCounts: token ${t} at ${at + i} is outside the vocabulary [0, ${vocabSize})`);
      counts[t]!++;
    }
  }
  return counts;
}

/**
 * Fixed-length blocks over a stream: block i holds prefix + stream[i*k, (i+1)*k) + suffix with
 * k = length - |prefix| - |suffix|. The tail shorter than k is dropped, so there is no padding and
 * every position is a real token (causal LM blocks are the case without prefix and suffix). Blocks
 * are read from the source when a batch is built, so the stream may live on disk.
 */
export class TokenBlocks {
  readonly length: number;
  readonly count: number;
  readonly source: TokenSource;
  private readonly chunk: number;
  private readonly prefix: readonly number[];
  private readonly suffix: readonly number[];

  constructor(stream: Int32Array | TokenSource, layout: BlockLayout) {
    this.source = stream instanceof Int32Array ? new ArrayTokenSource(stream) : stream;
    this.prefix = layout.prefix ?? [];
    this.suffix = layout.suffix ?? [];
    this.length = layout.length;
    this.chunk = layout.length - this.prefix.length - this.suffix.length;
    if (!Number.isInteger(layout.length) || this.chunk < 1) {
      throw new Error(`TokenBlocks: length ${layout.length} leaves no room for text after ${this.prefix.length + this.suffix.length} special tokens`);
    }
    this.count = Math.floor(this.source.length / this.chunk);
    if (this.count < 1) {
      throw new Error(`TokenBlocks: the stream has ${this.source.length} tokens, fewer than one block of ${this.chunk}; use more text or a shorter length`);
    }
  }

  /** Writes block i into out at offset (length ids). */
  write(i: number, out: Int32Array, offset = 0): void {
    if (!(Number.isInteger(i) && i >= 0 && i < this.count)) throw new RangeError(`TokenBlocks: block ${i} is outside [0, ${this.count})`);
    out.set(this.prefix, offset);
    const at = offset + this.prefix.length;
    this.source.read(i * this.chunk, out.subarray(at, at + this.chunk));
    out.set(this.suffix, offset + this.prefix.length + this.chunk);
  }

  /** The blocks `indices` as one (indices.length x length) row-major batch. */
  batch(indices: readonly number[]): Int32Array {
    const out = new Int32Array(indices.length * this.length);
    indices.forEach((b, r) => this.write(b, out, r * this.length));
    return out;
  }

  /** `n` block indices spread evenly over the stream (a fixed evaluation set that covers every part of it). */
  evenlySpaced(n: number): number[] {
    const k = Math.min(n, this.count);
    return Array.from({ length: k }, (_, j) => Math.floor((j * this.count) / k));
  }
}

/** Where a BlockSampler is: the epoch and the position within that epoch's order. */
export interface SamplerCursor {
  epoch: number;
  index: number;
}

/**
 * Visits every block once per epoch in a seeded shuffled order. The order of an epoch is a pure
 * function of (seed, epoch), so the cursor alone is enough to resume exactly where a run stopped.
 */
export class BlockSampler {
  private order: Uint32Array;
  private cursor: SamplerCursor = { epoch: 0, index: 0 };

  constructor(readonly count: number, readonly seed: number) {
    if (!(Number.isInteger(count) && count >= 1)) throw new Error(`BlockSampler: count ${count} must be a positive integer`);
    this.order = permutation(count, seed, 0);
  }

  /** The next n block indices; an epoch boundary inside a batch continues into the next epoch's order. */
  next(n: number): number[] {
    const out: number[] = [];
    while (out.length < n) {
      if (this.cursor.index === this.count) this.setState({ epoch: this.cursor.epoch + 1, index: 0 });
      out.push(this.order[this.cursor.index++]!);
    }
    return out;
  }

  state(): SamplerCursor {
    return { ...this.cursor };
  }

  setState(c: SamplerCursor): void {
    if (!(Number.isInteger(c.epoch) && c.epoch >= 0 && Number.isInteger(c.index) && c.index >= 0 && c.index <= this.count)) {
      throw new Error(`BlockSampler: cursor ${JSON.stringify(c)} is invalid for ${this.count} blocks`);
    }
    if (c.epoch !== this.cursor.epoch || c.epoch === 0) this.order = permutation(this.count, this.seed, c.epoch);
    this.cursor = { ...c };
  }
}

/** Fisher-Yates driven by the counter-based hash: key (seed, epoch), element i gives the i-th swap. */
export function permutation(n: number, seed: number, epoch: number): Uint32Array {
  const [h0, h1] = keySchedule(seed >>> 0, epoch >>> 0);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    // 53-bit draw so the modulo bias is negligible for any realistic n
    const r = (word(h0, h1, i, 0) * 2097152 + (word(h0, h1, i, 1) >>> 11)) % (i + 1);
    const t = p[i]!;
    p[i] = p[r]!;
    p[r] = t;
  }
  return p;
}
