/**
 * Memory accounting by category: every live buffer belongs to one category (parameters, gradients,
 * optimizer state, or activations, the default), and the ledger records the split at the instant
 * the total peaks. Both backends keep one, so a training run can report what its peak was made of
 * rather than estimating it afterwards from tensor sizes.
 *
 * How buffers get their category: allocations made while {@link MemoryLedger.setCategory} is in
 * force take that category (the optimizer allocates its moments under 'optimizer', backward copies
 * leaf gradients under 'gradients'); buffers that exist before they take a role (the parameters of
 * a loaded model) are retagged with {@link MemoryLedger.tag}. Everything else (activations saved for
 * backward, intermediate gradients in the backward sweep, batch tensors, kernel scratch) stays in
 * 'activations'.
 */

export const MEMORY_CATEGORIES = ['parameters', 'gradients', 'optimizer', 'activations'] as const;
export type MemoryCategory = (typeof MEMORY_CATEGORIES)[number];

/** Bytes per category; the total is their sum. */
export type MemoryBreakdown = Record<MemoryCategory, number>;

const INDEX: Record<MemoryCategory, number> = { parameters: 0, gradients: 1, optimizer: 2, activations: 3 };
const DEFAULT = INDEX.activations;

/** Throws unless `c` is a known category. */
export function checkCategory(c: unknown, where: string): MemoryCategory {
  if (typeof c !== 'string' || !Object.hasOwn(INDEX, c)) {
    throw new RangeError(`${where}: memory category ${JSON.stringify(c)} is not one of ${MEMORY_CATEGORIES.join(', ')}`);
  }
  return c as MemoryCategory;
}

export class MemoryLedger<K = unknown> {
  private readonly live = new Float64Array(4);
  private readonly atPeak = new Float64Array(4);
  private total = 0;
  private peak = 0;
  private current = DEFAULT;
  /** Blocks outside the default category: key -> [category index, bytes]. */
  private readonly tagged = new Map<K, [number, number]>();

  /** Records a new block of `bytes` under the current category. */
  alloc(key: K, bytes: number): void {
    this.live[this.current] += bytes;
    if (this.current !== DEFAULT) this.tagged.set(key, [this.current, bytes]);
    this.total += bytes;
    if (this.total > this.peak) this.snapshot();
  }

  /** Forgets a block of `bytes`. */
  free(key: K, bytes: number): void {
    const t = this.tagged.get(key);
    if (t) this.tagged.delete(key);
    this.live[t ? t[0] : DEFAULT] -= bytes;
    this.total -= bytes;
  }

  /** Moves a live block of `bytes` to `category` (a parameter created before training, ...). */
  tag(key: K, bytes: number, category: MemoryCategory): void {
    const to = INDEX[checkCategory(category, 'tag')];
    const t = this.tagged.get(key);
    this.live[t ? t[0] : DEFAULT] -= bytes;
    this.live[to] += bytes;
    if (to === DEFAULT) this.tagged.delete(key);
    else this.tagged.set(key, [to, bytes]);
  }

  /** Sets the category of the next allocations; returns the previous one (restore it in a finally). */
  setCategory(category: MemoryCategory): MemoryCategory {
    const prev = MEMORY_CATEGORIES[this.current];
    this.current = INDEX[checkCategory(category, 'setCategory')];
    return prev;
  }

  liveBytes(): number {
    return this.total;
  }

  peakBytes(): number {
    return this.peak;
  }

  /** The live bytes per category at the instant of the peak. */
  peakBreakdown(): MemoryBreakdown {
    return breakdown(this.atPeak);
  }

  /** The live bytes per category now. */
  liveBreakdown(): MemoryBreakdown {
    return breakdown(this.live);
  }

  /** Starts a new peak measurement from what is live now. */
  resetPeak(): void {
    this.snapshot();
  }

  private snapshot(): void {
    this.peak = this.total;
    this.atPeak.set(this.live);
  }
}

function breakdown(a: Float64Array): MemoryBreakdown {
  return { parameters: a[0], gradients: a[1], optimizer: a[2], activations: a[3] };
}
