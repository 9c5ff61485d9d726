/**
 * The seeded order training examples are visited in, shared by every task's batches. The order is
 * an endless stream of epochs, each a fresh permutation of all examples keyed by (seed, epoch); step
 * s takes stream positions [s * batchSize, (s + 1) * batchSize). So every batch is full, every
 * example is seen exactly once per epoch (a batch may straddle two epochs), and `indicesAt(step)` is
 * a pure function of (seed, step, batchSize, example count): resuming a run needs nothing but its
 * step counter. The permutation is the pretraining BlockSampler's (src/data/blocks.ts), so the
 * library has one definition of a seeded shuffle.
 *
 * Length grouping (optional): batches are padded to their longest example, so a random batch of
 * short sentences pays for its one long sentence (on the sentiment task, random batches of 32 carry
 * 2.5x the real tokens). With grouping, each epoch's permutation is cut into windows of
 * `windowBatches` batches; each window is sorted by length and its batches are visited in a seeded
 * random order. Every example is still seen once per epoch and the order still depends on nothing
 * but (seed, epoch), so resuming stays exact; what changes is that a batch holds examples of similar
 * length drawn from a random window of the data (as Hugging Face's group_by_length does).
 */
import { permutation } from '../data/blocks.js';

/** Where a training step starts: the epoch and the position inside that epoch's order. */
export interface ExampleCursor {
  epoch: number;
  position: number;
}

/** Length grouping of {@link ExampleOrder}: each example's length, and the window size in batches. */
export interface LengthGrouping {
  lengths: ArrayLike<number>;
  /** Batches per length-sorted window (>= 2; larger windows pad less and mix less). */
  windowBatches: number;
}

export class ExampleOrder {
  private cached: { epoch: number; order: Uint32Array } | null = null;

  constructor(readonly count: number, readonly batchSize: number, readonly seed: number, readonly grouping?: LengthGrouping) {
    if (grouping) {
      if (grouping.lengths.length !== count) throw new Error(`ExampleOrder: ${grouping.lengths.length} lengths for ${count} examples; give one length per example`);
      if (!(Number.isInteger(grouping.windowBatches) && grouping.windowBatches >= 2)) {
        throw new Error(`ExampleOrder: length grouping window of ${grouping.windowBatches} batches must be an integer >= 2 (0 turns grouping off where it is an option)`);
      }
    }
  }

  /** Steps per epoch; fractional when batchSize does not divide the example count. */
  get stepsPerEpoch(): number {
    return this.count / this.batchSize;
  }

  /** The epoch and position where step `step` begins. */
  cursorAt(step: number, owner = 'ExampleOrder'): ExampleCursor {
    if (!(Number.isSafeInteger(step) && step >= 0)) throw new RangeError(`${owner}: step ${step} must be a non-negative integer`);
    const start = step * this.batchSize;
    return { epoch: Math.floor(start / this.count), position: start % this.count };
  }

  /** Example indices of training step `step`. */
  indicesAt(step: number, owner?: string): number[] {
    let { epoch, position } = this.cursorAt(step, owner);
    const out: number[] = [];
    while (out.length < this.batchSize) {
      if (position === this.count) {
        epoch++;
        position = 0;
      }
      out.push(this.orderOf(epoch)[position++]!);
    }
    return out;
  }

  // One epoch's permutation is kept: consecutive steps reuse it, and recomputing is O(n) anyway.
  private orderOf(epoch: number): Uint32Array {
    if (this.cached?.epoch !== epoch) {
      const order = permutation(this.count, this.seed, epoch);
      if (this.grouping) this.groupByLength(order, epoch, this.grouping);
      this.cached = { epoch, order };
    }
    return this.cached.order;
  }

  /**
   * Sorts windows of the epoch's order by length and shuffles the whole batches inside each window.
   * Windows start on the batch grid of the step stream: the first `lead` positions of an epoch finish
   * a batch begun in the previous epoch and stay as they are, as does a partial batch at the end.
   */
  private groupByLength(order: Uint32Array, epoch: number, g: LengthGrouping): void {
    const B = this.batchSize;
    const lead = (B - ((epoch * this.count) % B)) % B;
    const W = g.windowBatches * B;
    const byLength = (a: number, b: number) => g.lengths[a]! - g.lengths[b]!;
    for (let start = Math.min(lead, this.count), k = 0; start < this.count; start += W, k++) {
      const end = Math.min(this.count, start + W);
      const sorted = Array.from(order.subarray(start, end)).sort(byLength); // stable: ties keep the random order
      const full = Math.floor((end - start) / B);
      // whole batches of the window in a seeded order; a trailing partial batch keeps its place
      const visit = permutation(full, (this.seed * 1_000_003 + k + 1) >>> 0, epoch);
      for (let j = 0; j < full; j++) order.set(sorted.slice(visit[j]! * B, (visit[j]! + 1) * B), start + j * B);
      order.set(sorted.slice(full * B), start + full * B);
    }
  }
}
