/**
 * The seeded order training examples are visited in, shared by every task's batches. The order is
 * an endless stream of epochs, each a fresh permutation of all examples keyed by (seed, epoch); step
 * s takes stream positions [s * batchSize, (s + 1) * batchSize). So every batch is full, every
 * example is seen exactly once per epoch (a batch may straddle two epochs), and `indicesAt(step)` is
 * a pure function of (seed, step, batchSize, example count): resuming a run needs nothing but its
 * step counter. The permutation is the pretraining BlockSampler's (src/data/blocks.ts), so the
 * library has one definition of a seeded shuffle.
 */
import { permutation } from '../data/blocks.js';

/** Where a training step starts: the epoch and the position inside that epoch's order. */
export interface ExampleCursor {
  epoch: number;
  position: number;
}

export class ExampleOrder {
  private cached: { epoch: number; order: Uint32Array } | null = null;

  constructor(readonly count: number, readonly batchSize: number, readonly seed: number) {}

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
    if (this.cached?.epoch !== epoch) this.cached = { epoch, order: permutation(this.count, this.seed, epoch) };
    return this.cached.order;
  }
}
