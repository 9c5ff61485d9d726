/**
 * The TypeScript-side allocator over the kernel module's memory.
 *
 * The kernels run on AssemblyScript's stub runtime and never allocate: every buffer is a block handed
 * out here. Layout: [module data | heapBase, 64-aligned: parameter block | blocks ...].
 *
 * - Blocks are 64-byte aligned (a cache line, and more than any v128 access needs).
 * - Sizes are rounded up to size classes: multiples of 64 bytes up to 256, then four classes per power
 *   of two (waste <= 25%). A freed block of the same class is reused first, so a training step that
 *   allocates the same shapes every iteration reuses exactly the same blocks.
 * - Freed blocks coalesce with free neighbours, and a free block at the top of the heap lowers the
 *   bump pointer. A request with no free block of its class takes the smallest larger free block
 *   (split, the rest stays free). Without this, shapes that vary (batches padded to their longest
 *   sequence, evaluation batches, a new model per run) each kept their own blocks forever: the heap
 *   grew to the sum of every size's peak, several times the most bytes ever live at once.
 * - Fresh blocks come from a bump pointer; when it passes the end of memory, the memory grows (by at
 *   least half its size, so growth is amortised). Growth detaches every typed-array view of the old
 *   buffer, so views are obtained through `f32()` / `i32()` / `u8()`, which re-create them when
 *   `view.buffer !== memory.buffer`.
 */

import { MemoryLedger } from '../memory.js';

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE; // 4 GiB: the wasm32 address space
export const ALIGN = 64;
/**
 * Bytes reserved right after heapBase for shape/stride arrays passed to strided kernels (three lists
 * of up to 8 i32, plus 8 i32 the kernel uses as its odometer).
 */
export const PARAM_BYTES = 256;

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** The first index of the ascending `xs` whose value is >= `x` (xs.length if none). */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The size class (bytes actually reserved) for a request of `bytes`. */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return Math.max(ALIGN, alignUp(bytes, ALIGN));
  // (2^k, 2^(k+1)] is split into four classes of width 2^k / 4 (>= 64 since 2^k >= 256).
  const k = Math.floor(Math.log2(bytes - 1));
  const step = 2 ** k / 4;
  return alignUp(bytes, step);
}

export class Allocator {
  /** Address of the parameter block (PARAM_BYTES bytes, 64-aligned). */
  readonly paramPtr: number;
  private readonly base: number;
  /** End of the highest live block: the bump pointer. */
  private top: number;
  /** The highest `top` ever reached: the memory actually used. */
  private highWater: number;
  /** Free blocks (coalesced, none touching `top`): start -> bytes, and end -> start. */
  private readonly freeAt = new Map<number, number>();
  private readonly freeEnd = new Map<number, number>();
  /** Free block starts by size, and the sizes present, ascending (best fit by binary search). */
  private readonly bySize = new Map<number, Set<number>>();
  private readonly sizes: number[] = [];
  /** Live block address -> its class size. */
  private readonly live = new Map<number, number>();
  /** Live and peak bytes per memory category (class sizes). */
  readonly ledger = new MemoryLedger<number>();
  private f32View: Float32Array;
  private i32View: Int32Array;
  private u8View: Uint8Array;

  constructor(readonly memory: WebAssembly.Memory, heapBase: number) {
    this.paramPtr = alignUp(heapBase, ALIGN);
    this.base = this.paramPtr + PARAM_BYTES;
    this.top = this.base;
    this.highWater = this.base;
    this.ensure(this.top);
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
    this.u8View = new Uint8Array(memory.buffer);
  }

  /** A 64-byte aligned block of at least `bytes` bytes (uninitialised; reused blocks keep old data). */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new RangeError(`wasm allocator: block size must be a non-negative integer, got ${bytes}`);
    }
    const cls = sizeClass(bytes);
    let ptr: number;
    const i = lowerBound(this.sizes, cls);
    if (i < this.sizes.length) {
      // the same class if one is free, else the smallest larger block, split
      const size = this.sizes[i]!;
      ptr = this.bySize.get(size)!.values().next().value!;
      this.removeFree(ptr, size);
      if (size > cls) this.addFree(ptr + cls, size - cls);
    } else {
      ptr = this.top;
      this.ensure(ptr + cls);
      this.top = ptr + cls;
      if (this.top > this.highWater) this.highWater = this.top;
    }
    this.live.set(ptr, cls);
    this.ledger.alloc(ptr, cls);
    return ptr;
  }

  /** Returns a block: it merges with free neighbours, and lowers the top when it is the highest. */
  free(ptr: number): void {
    const cls = this.live.get(ptr);
    if (cls === undefined) throw new Error(this.badFree(ptr));
    this.live.delete(ptr);
    this.ledger.free(ptr, cls);
    let start = ptr;
    let size = cls;
    const right = this.freeAt.get(ptr + cls);
    if (right !== undefined) {
      this.removeFree(ptr + cls, right);
      size += right;
    }
    const left = this.freeEnd.get(ptr);
    if (left !== undefined) {
      const leftSize = this.freeAt.get(left)!;
      this.removeFree(left, leftSize);
      start = left;
      size += leftSize;
    }
    if (start + size === this.top) this.top = start;
    else this.addFree(start, size);
  }

  /** Why `ptr` cannot be freed (error path only, so the scans do not matter). */
  private badFree(ptr: number): string {
    for (const [p, n] of this.live) {
      if (ptr > p && ptr < p + n) return `wasm allocator: ${ptr} points inside the live block at ${p} (a view pointer); free the block itself`;
    }
    if (ptr % ALIGN === 0 && ptr >= this.base && ptr < this.highWater) return `wasm allocator: double free of the block at ${ptr} (no live block starts there any more)`;
    return `wasm allocator: ${ptr} is not a block of this allocator (foreign pointer)`;
  }

  private addFree(ptr: number, size: number): void {
    this.freeAt.set(ptr, size);
    this.freeEnd.set(ptr + size, ptr);
    let set = this.bySize.get(size);
    if (set === undefined) {
      this.bySize.set(size, (set = new Set()));
      this.sizes.splice(lowerBound(this.sizes, size), 0, size);
    }
    set.add(ptr);
  }

  private removeFree(ptr: number, size: number): void {
    this.freeAt.delete(ptr);
    this.freeEnd.delete(ptr + size);
    const set = this.bySize.get(size)!;
    set.delete(ptr);
    if (set.size === 0) {
      this.bySize.delete(size);
      this.sizes.splice(lowerBound(this.sizes, size), 1);
    }
  }

  /** Class size of a live block, or undefined. */
  blockBytes(ptr: number): number | undefined {
    return this.live.get(ptr);
  }

  /** Bytes of live blocks (class sizes, so >= the bytes requested). */
  liveBytes(): number {
    return this.ledger.liveBytes();
  }

  /** The most bytes live at once since construction or the last {@link resetPeak} (training-memory reports). */
  peakLiveBytes(): number {
    return this.ledger.peakBytes();
  }

  /** Starts a new peak measurement from the current live bytes. */
  resetPeak(): void {
    this.ledger.resetPeak();
  }

  /** Bytes of the heap in use now: up to the end of the highest live block (live blocks plus the free gaps between them). */
  reservedBytes(): number {
    return this.top - this.base;
  }

  /** The most heap bytes ever in use ({@link reservedBytes} at its highest): what the memory had to grow to. */
  highWaterBytes(): number {
    return this.highWater - this.base;
  }

  /** Grows the memory so [0, end) is addressable. */
  private ensure(end: number): void {
    if (end > MAX_BYTES) {
      throw new RangeError(
        `wasm allocator: out of memory: ${end} bytes would exceed the 4 GiB limit of 32-bit WebAssembly ` +
          `(${this.ledger.liveBytes()} bytes live, ${this.reservedBytes()} reserved); free unused tensors or use smaller batches`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const needPages = Math.ceil((end - have) / PAGE);
    // grow by at least half of the current size so repeated small growths stay amortised O(1)
    const maxPages = MAX_BYTES / PAGE - have / PAGE;
    const pages = Math.min(maxPages, Math.max(needPages, Math.ceil(have / PAGE / 2)));
    try {
      this.memory.grow(pages);
    } catch (e) {
      try {
        this.memory.grow(needPages); // the engine may refuse the larger step but allow the minimum
      } catch {
        throw new RangeError(
          `wasm allocator: could not grow memory to ${end} bytes (${(e as Error).message}); ` +
            'the engine refused more memory',
        );
      }
    }
  }

  f32(): Float32Array {
    if (this.f32View.buffer !== this.memory.buffer) this.f32View = new Float32Array(this.memory.buffer);
    return this.f32View;
  }

  i32(): Int32Array {
    if (this.i32View.buffer !== this.memory.buffer) this.i32View = new Int32Array(this.memory.buffer);
    return this.i32View;
  }

  u8(): Uint8Array {
    if (this.u8View.buffer !== this.memory.buffer) this.u8View = new Uint8Array(this.memory.buffer);
    return this.u8View;
  }
}
