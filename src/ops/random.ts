/**
 * Seeded random streams. A Generator hands out disjoint counter ranges of one counter-based stream
 * (backend/rng.ts), so results depend only on the seed and the order of calls, on every backend.
 */
import { splitSeed } from '../backend/rng.js';

export interface StreamSlice {
  seedLo: number;
  seedHi: number;
  counter: number;
}

export class Generator {
  private lo: number;
  private hi: number;
  private counter = 0;

  constructor(seed: number | bigint = 0) {
    [this.lo, this.hi] = splitSeed(seed);
  }

  /** Reserves n consecutive stream elements. Rolls over to a derived key after 2^32 elements. */
  take(n: number): StreamSlice {
    if (this.counter + n > 0x100000000) {
      // The kernels index a stream with 32-bit counters; continue on a fresh key rather than wrap.
      this.hi = (this.hi + 0x9e3779b9) >>> 0;
      this.counter = 0;
    }
    const slice = { seedLo: this.lo, seedHi: this.hi, counter: this.counter };
    this.counter += n;
    return slice;
  }

  /** Current position, for checkpoints (exact resume). */
  state(): { seedLo: number; seedHi: number; counter: number } {
    return { seedLo: this.lo, seedHi: this.hi, counter: this.counter };
  }

  setState(s: { seedLo: number; seedHi: number; counter: number }): void {
    this.lo = s.seedLo >>> 0;
    this.hi = s.seedHi >>> 0;
    this.counter = s.counter;
  }
}

let global = new Generator(0);

/** Reseeds the default generator used when an op is given no generator. */
export function manualSeed(seed: number | bigint): void {
  global = new Generator(seed);
}

export function defaultGenerator(): Generator {
  return global;
}
