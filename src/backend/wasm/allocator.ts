/**
 * The TypeScript-side allocator over the kernel module's memory.
 *
 * The kernels run on AssemblyScript's stub runtime and never allocate: every buffer is a block handed
 * out here. Layout: [module data | heapBase, 64-aligned: parameter block | blocks ...].
 *
 * - Blocks are 64-byte aligned (a cache line, and more than any v128 access needs).
 * - Sizes are rounded up to size classes: multiples of 64 bytes up to 256, then four classes per power
 *   of two (waste <= 25%). Freed blocks go to a free list per class and are reused first, so a
 *   training step that allocates the same shapes every iteration reuses exactly the same blocks and
 *   the memory stops growing after the first step.
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
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  /** Live block address -> its class size. */
  private readonly live = new Map<number, number>();
  /** Addresses currently on a free list: tells a double free from a foreign pointer. */
  private readonly freed = new Set<number>();
  /** Live and peak bytes per memory category (class sizes). */
  readonly ledger = new MemoryLedger<number>();
  private f32View: Float32Array;
  private i32View: Int32Array;
  private u8View: Uint8Array;

  constructor(readonly memory: WebAssembly.Memory, heapBase: number) {
    this.paramPtr = alignUp(heapBase, ALIGN);
    this.base = this.paramPtr + PARAM_BYTES;
    this.top = this.base;
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
    const list = this.freeLists.get(cls);
    let ptr: number;
    if (list !== undefined && list.length > 0) {
      ptr = list.pop()!;
      this.freed.delete(ptr);
    } else {
      ptr = this.top;
      this.ensure(ptr + cls);
      this.top = ptr + cls;
    }
    this.live.set(ptr, cls);
    this.ledger.alloc(ptr, cls);
    return ptr;
  }

  /** Returns a block to its free list. */
  free(ptr: number): void {
    const cls = this.live.get(ptr);
    if (cls === undefined) {
      if (this.freed.has(ptr)) throw new Error(`wasm allocator: double free of the block at ${ptr}`);
      throw new Error(`wasm allocator: ${ptr} is not a block of this allocator (foreign or view pointer)`);
    }
    this.live.delete(ptr);
    this.ledger.free(ptr, cls);
    this.freed.add(ptr);
    let list = this.freeLists.get(cls);
    if (list === undefined) this.freeLists.set(cls, (list = []));
    list.push(ptr);
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

  /** Bytes handed out from the heap so far: live blocks plus blocks waiting on free lists. */
  reservedBytes(): number {
    return this.top - this.base;
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
