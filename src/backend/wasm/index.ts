/**
 * The WebAssembly backend: the kernel contract of ../kernels.ts on pointers into one memory.
 *
 * Buffers are handles {size, kind, ptr}; kernels forward the pointers to the module's exports, so no
 * tensor data is ever copied between JS and WASM except by read() and write(). Each call checks its
 * handles (ownership, use after free, sizes) with a few comparisons, never per element, because a
 * wrong size here would silently corrupt a neighbouring buffer instead of failing.
 */
import type { Backend, Buf, Kernels } from '../kernels.js';
import { Allocator, PARAM_BYTES } from './allocator.js';
import { WasmBuf, bindRow, type BindContext, type Row } from './bind.js';
import { BINDINGS } from './bindings.js';
import { loadKernels, loadKernelsSync, type KernelExports, type LoadOptions, type LoadedModule } from './loader.js';
import { PARALLEL, PARALLEL_KERNELS } from './parallel.js';
import { MAX_TASKS, WorkerPool, availableCores } from './pool.js';
import { sharedMemoryAvailable } from './shared.js';

export type { LoadOptions, WasmSource, WasmVariant } from './loader.js';
export { bestVariant, detectFeatures } from './loader.js';
export { Allocator, sizeClass } from './allocator.js';
export { availableCores, WorkerPool } from './pool.js';
export { sharedMemoryAvailable } from './shared.js';
export { WasmBuf } from './bind.js';

/** 'auto' uses at most this many threads. */
export const AUTO_THREADS_CAP = 8;
/** An explicit thread count may not exceed this (the pool's task slots bound it). */
export const MAX_THREADS = 16;

export interface WasmBackendOptions extends Omit<LoadOptions, 'shared'> {
  /**
   * Threads the kernels run on, the calling thread included (default 1: no workers, no shared memory,
   * exactly the single-threaded backend). 'auto' uses the available cores (at most 8) where shared
   * memory works, and 1 elsewhere (e.g. a browser page without cross-origin isolation: it needs the
   * headers `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`).
   * A number > 1 where shared memory is unavailable is an error. Results are bit-identical for any count.
   */
  threads?: 'auto' | number;
}

/** The thread count `opts.threads` asks for on this runtime. */
export function resolveThreads(threads: WasmBackendOptions['threads']): number {
  if (threads === undefined || threads === 1) return 1;
  if (threads === 'auto') return sharedMemoryAvailable() ? Math.max(1, Math.min(AUTO_THREADS_CAP, availableCores())) : 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new RangeError(`wasm backend: threads must be 'auto' or an integer in [1, ${MAX_THREADS}], got ${String(threads)}`);
  }
  if (!sharedMemoryAvailable()) {
    throw new Error(
      `wasm backend: threads: ${threads} needs SharedArrayBuffer and shared WebAssembly memory, which this runtime refuses; ` +
        'in a browser serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, ' +
        "or use threads: 'auto' (falls back to 1) or 1",
    );
  }
  return threads;
}

/** The backend plus what tests and benchmarks want to inspect. */
export interface WasmBackend extends Backend {
  readonly variant: 'relaxed-simd' | 'simd' | 'scalar';
  /** The allocator (reservedBytes, block-level liveBytes). */
  readonly allocator: Allocator;
  /** The raw module exports. */
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  /** Threads kernels run on (1: no pool). */
  readonly threads: number;
  /** The worker pool, or null when single-threaded. */
  readonly pool: WorkerPool | null;
  /** Stops the worker threads (the backend keeps working on the calling thread). */
  dispose(): void;
}

/** Loads the kernels; with threads > 1 also starts the workers and waits until they are ready. */
export async function createWasmBackend(opts?: WasmBackendOptions): Promise<WasmBackend> {
  const threads = resolveThreads(opts?.threads);
  const be = makeBackend(await loadKernels({ ...opts, shared: threads > 1 }), threads);
  if (be.pool !== null) {
    await be.pool.ready();
    be.pool.calibrate();
  }
  return be;
}

/**
 * Same as createWasmBackend, for the embedded binaries or given bytes (compiles synchronously). With
 * threads > 1 the workers start in the background; until they are ready the caller runs every task.
 */
export function createWasmBackendSync(opts?: WasmBackendOptions): WasmBackend {
  const threads = resolveThreads(opts?.threads);
  return makeBackend(loadKernelsSync({ ...opts, shared: threads > 1 }), threads);
}

/** Every contract method, from its row in BINDINGS (or its binding written out there). */
function bindKernels(ctx: BindContext): Kernels {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(BINDINGS) as (keyof Kernels)[]) {
    const b = BINDINGS[name];
    out[name] = 'custom' in b ? b.custom(ctx) : bindRow(name, b as Row<typeof name>, ctx, name in PARALLEL);
  }
  return out as unknown as Kernels;
}

function isCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0;
}

function makeBackend(mod: LoadedModule, threads: number): WasmBackend {
  const ex = mod.exports;
  const heap = new Allocator(mod.memory, ex.heapBase());
  const owner = {};
  let liveBufferBytes = 0;
  let matmulScratch = 0;

  let pool: WorkerPool | null = null;
  if (threads > 1) {
    // one matmul packing block per thread; the caller's is also the single-threaded one
    const scratch = Array.from({ length: threads }, () => heap.alloc(ex.matmulScratchBytes?.() ?? 0));
    matmulScratch = scratch[0]!;
    pool = new WorkerPool({
      module: mod.module, memory: mod.memory, exports: ex as unknown as Record<string, unknown>, threads, scratch,
      paramArea: heap.alloc(MAX_TASKS * PARAM_BYTES), paramBytes: PARAM_BYTES, i32: () => heap.i32(),
      alloc: (bytes) => heap.alloc(bytes), free: (ptr) => heap.free(ptr),
    });
  }

  const err = (msg: string): never => {
    throw new RangeError(`wasm backend: ${msg}`);
  };

  function live(buf: Buf, name: string): WasmBuf {
    if (!(buf instanceof WasmBuf) || buf.owner !== owner) {
      throw new TypeError(`wasm backend: ${name} is not a buffer of this wasm backend`);
    }
    if (buf.state.freed) throw new Error(`wasm backend: ${name} is used after free`);
    return buf;
  }

  const direct = Object.fromEntries(PARALLEL_KERNELS.map((name) => [name, ex[name] as ((...a: number[]) => number) | undefined]));
  const ctx: BindContext = {
    ex,
    heap,
    paramPtr: heap.paramPtr,
    owner,
    pool: () => pool,
    run: (kernel, args) => (pool !== null ? pool.call(kernel, args) : direct[kernel]!.apply(undefined, args)),
    err,
    live,
    fp(buf, name, need) {
      const b = live(buf, name);
      if (b.kind !== 'f') throw new TypeError(`wasm backend: ${name} must be a float buffer`);
      if (b.size < need) err(`${name} has ${b.size} elements, the kernel needs ${need}`);
      return b.ptr;
    },
    ip(buf, name, need) {
      const b = live(buf, name);
      if (b.kind !== 'i') throw new TypeError(`wasm backend: ${name} must be an int32 buffer`);
      if (b.size < need) err(`${name} has ${b.size} elements, the kernel needs ${need}`);
      return b.ptr;
    },
    count(n, name) {
      if (!isCount(n)) err(`${name} must be a non-negative integer, got ${n}`);
    },
    matmulScratch() {
      if (matmulScratch === 0) matmulScratch = heap.alloc(ex.matmulScratchBytes?.() ?? 0);
      return matmulScratch;
    },
  };
  const kernels = bindKernels(ctx);

  const backend: WasmBackend = {
    ...kernels,
    name: 'wasm',
    dtype: 'float32',
    variant: mod.variant,
    allocator: heap,
    exports: ex,
    // Block-level bytes (size classes included): what the heap really had to hold.
    peakBytes: () => heap.peakLiveBytes(),
    resetPeak: () => heap.resetPeak(),
    peakBreakdown: () => heap.ledger.peakBreakdown(),
    setMemoryCategory: (c) => heap.ledger.setCategory(c),
    tagMemory(buf, category) {
      const b = live(buf, 'tagMemory(buf)');
      if (b.isView) err('tagMemory: views share their block; tag the buffer they view');
      heap.ledger.tag(b.ptr, heap.blockBytes(b.ptr)!, category);
    },
    memory: mod.memory,
    threads,
    get pool() {
      return pool;
    },
    dispose() {
      pool?.dispose();
      pool = null;
    },

    alloc(size, kind) {
      if (!isCount(size)) err(`alloc size must be a non-negative integer, got ${size}`);
      if (kind !== 'f' && kind !== 'i') err(`alloc kind must be 'f' or 'i', got '${String(kind)}'`);
      const ptr = heap.alloc(size * 4);
      liveBufferBytes += size * 4;
      return new WasmBuf(size, kind, ptr, owner, { freed: false }, false);
    },

    free(buf) {
      const b = live(buf, 'free(buf)');
      if (b.isView) throw new Error('wasm backend: views must not be freed (free the buffer they view)');
      heap.free(b.ptr);
      b.state.freed = true;
      liveBufferBytes -= b.size * 4;
    },

    view(buf, offset, size) {
      const b = live(buf, 'view(buf)');
      ctx.count(offset, 'view offset');
      ctx.count(size, 'view size');
      if (offset + size > b.size) err(`view [${offset}, ${offset + size}) is outside ${b.size} elements`);
      return new WasmBuf(size, b.kind, b.ptr + offset * 4, owner, b.state, true);
    },

    read(buf) {
      const b = live(buf, 'read(buf)');
      const start = b.ptr >>> 2;
      return b.kind === 'f' ? heap.f32().slice(start, start + b.size) : heap.i32().slice(start, start + b.size);
    },

    write(buf, data) {
      const b = live(buf, 'write(buf)');
      if (data.length !== b.size) err(`write of ${data.length} values into a buffer of ${b.size}`);
      (b.kind === 'f' ? heap.f32() : heap.i32()).set(data, b.ptr >>> 2);
    },

    /** Bytes of the live buffers (4 per element), as the reference backend counts them. */
    liveBytes: () => liveBufferBytes,
  };
  return backend;
}
