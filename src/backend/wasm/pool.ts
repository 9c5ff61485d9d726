/**
 * A pool of worker threads running the kernel module on the backend's one shared memory.
 *
 * Each worker instantiates the same compiled module on the same `WebAssembly.Memory` (shared), so a
 * kernel pointer means the same bytes on every thread. The allocator and all checks stay on the
 * calling thread. A parallel call is a list of tasks (export index + arguments, see parallel.ts)
 * written into a small control block (a SharedArrayBuffer of its own); the caller bumps a generation
 * counter and wakes the workers (`Atomics.notify`), then takes tasks itself; whoever finishes the last
 * task wakes the caller. Threads that find no work spin briefly, then sleep in `Atomics.wait`.
 *
 * Task claiming is one compare-and-swap on a word holding (generation tag, next index, task count), so
 * a worker that wakes late for a finished call can never take a task of the next one.
 *
 * Workers: Node `worker_threads` (found through `process.getBuiltinModule`, so no `node:` import is
 * visible to bundlers), or Web Workers (browsers, Deno) from a Blob URL. The worker code is this
 * file's `drain` and `workerMain`, serialised with Function.prototype.toString, so nothing has to be
 * resolved as a separate file. Node workers are unref'd: the pool never keeps a process alive.
 */
import { PARALLEL, PARALLEL_KERNELS, type ParallelKernel, type SplitContext, type Task } from './parallel.js';

// ---- control block layout (Int32 indices, then byte offsets of the regions) ----------------------------
const GEN = 0;
const NEXT = 1;
const DONE = 2;
const ERR = 3;
const ERRLEN = 4;
const STOP = 5;
const READY = 6;
/** Float64 slots per task: kernel index, argument count, up to 18 arguments. */
const SLOTS = 20;
/** Tasks per call (the NEXT word keeps 8 bits for the count and 8 for the index). */
export const MAX_TASKS = 128;
const TASKS_AT = 64;
const RESULTS_AT = TASKS_AT + MAX_TASKS * SLOTS * 8;
const MSG_AT = RESULTS_AT + MAX_TASKS * 8;
const MSG_BYTES = 1024;
const CONTROL_BYTES = MSG_AT + MSG_BYTES;
/** Loads of the generation word a worker makes before sleeping (a few microseconds). */
const SPIN = 20000;

/**
 * Takes and runs tasks of the call tagged `tag` until none is left. Self-contained (it is also the
 * worker's code): only its parameters and globals (Atomics, TextEncoder) are used.
 */
function drain(
  ctrl: Int32Array, tasks: Float64Array, results: Float64Array, msg: Uint8Array,
  fns: readonly ((...a: number[]) => unknown)[], scratchArgs: readonly number[], scratch: number, tag: number,
  where: string,
): void {
  for (;;) {
    const cur = Atomics.load(ctrl, 1);
    if (cur >>> 16 !== tag) return;
    const idx = (cur >>> 8) & 255;
    const n = cur & 255;
    if (idx >= n) return;
    if (Atomics.compareExchange(ctrl, 1, cur, (cur + 256) | 0) !== cur) continue;
    const o = idx * 20;
    const k = tasks[o]!;
    const nargs = tasks[o + 1]!;
    const args = new Array<number>(nargs);
    for (let i = 0; i < nargs; i++) args[i] = tasks[o + 2 + i]!;
    if (scratchArgs[k]! >= 0) args[scratchArgs[k]!] = scratch;
    try {
      const r = fns[k]!(...args);
      results[idx] = typeof r === 'number' ? r : 0;
    } catch (e) {
      // first error wins; its message goes to the caller through the control block
      if (Atomics.compareExchange(ctrl, 3, 0, idx + 1) === 0) {
        const text = new TextEncoder().encode(`${where}: ${String((e as Error)?.message ?? e)}`).subarray(0, msg.length);
        msg.set(text);
        Atomics.store(ctrl, 4, text.length);
      }
    }
    if (Atomics.add(ctrl, 2, 1) === n - 1) Atomics.notify(ctrl, 2);
  }
}

interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  names: string[];
  scratchArgs: number[];
  scratch: number;
  layout: { tasksAt: number; resultsAt: number; msgAt: number; maxTasks: number; msgBytes: number; spin: number };
}

/** A worker's life: instantiate, then wait for generations and drain their tasks until told to stop. */
function workerMain(init: WorkerInit): void {
  const { module, memory, control, names, scratchArgs, scratch, layout } = init;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fns = names.map((n) => instance.exports[n] as (...a: number[]) => unknown);
  const ctrl = new Int32Array(control, 0, 16);
  const tasks = new Float64Array(control, layout.tasksAt, layout.maxTasks * 20);
  const results = new Float64Array(control, layout.resultsAt, layout.maxTasks);
  const msg = new Uint8Array(control, layout.msgAt, layout.msgBytes);
  let seen = Atomics.load(ctrl, 0);
  Atomics.add(ctrl, 6, 1);
  for (;;) {
    let g = Atomics.load(ctrl, 0);
    for (let i = 0; g === seen && i < layout.spin; i++) g = Atomics.load(ctrl, 0);
    if (g === seen) {
      Atomics.wait(ctrl, 0, seen);
      continue;
    }
    seen = g;
    if (Atomics.load(ctrl, 5) !== 0) return;
    drain(ctrl, tasks, results, msg, fns, scratchArgs, scratch, (g & 0xffff) >>> 0, 'in a worker thread');
  }
}

/**
 * `workerMain` calls `drain` by whatever name it has in this build: a minifier renames both (to `nn`,
 * say), and a function expression's own name is not in scope outside it, so the name is bound too.
 */
const renamed = drain.name && drain.name !== 'drain' && /^[A-Za-z_$][\w$]*$/.test(drain.name) ? `const ${drain.name} = drain;\n` : '';
const WORKER_SOURCE =
  `const drain = (${drain.toString()});\n` +
  renamed +
  `const workerMain = (${workerMain.toString()});\n` +
  'const proc = globalThis["process"];\n' +
  'if (proc && proc.versions && proc.versions.node) {\n' +
  '  proc.getBuiltinModule("node:worker_threads").parentPort.once("message", workerMain);\n' +
  '} else {\n' +
  '  self.onmessage = (e) => workerMain(e.data);\n' +
  '}\n';

interface AnyWorker {
  postMessage(m: unknown): void;
  terminate(): unknown;
  unref?(): void;
}

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

function nodeBuiltin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (proc?.versions?.node === undefined) return undefined;
  if (typeof proc.getBuiltinModule !== 'function') {
    throw new Error('wasm backend: threads on Node need Node >= 20.16 (for getBuiltinModule); use threads: 1 or a newer Node');
  }
  return proc.getBuiltinModule(id) as T;
}

/** Cores the runtime reports (Node: os.availableParallelism; browsers and Deno: navigator.hardwareConcurrency). */
export function availableCores(): number {
  try {
    const os = nodeBuiltin<{ availableParallelism?: () => number; cpus(): unknown[] }>('node:os');
    if (os !== undefined) return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    /* fall through */
  }
  const hc = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof hc === 'number' && hc > 0 ? hc : 1;
}

function spawn(init: WorkerInit, onError: (e: unknown) => void): AnyWorker {
  const wt = nodeBuiltin<{ Worker: new (src: string, o: { eval: boolean }) => AnyWorker & { on(ev: string, f: (e: unknown) => void): void } }>(
    'node:worker_threads',
  );
  if (wt !== undefined) {
    const w = new wt.Worker(WORKER_SOURCE, { eval: true });
    w.on('error', onError);
    w.postMessage(init);
    w.unref?.();
    return w;
  }
  const W = (globalThis as { Worker?: new (url: string, o?: { type: string }) => AnyWorker & { onerror: unknown } }).Worker;
  if (typeof W !== 'function') throw new Error('wasm backend: this runtime has no Worker; use threads: 1');
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new W(url, { type: 'module' });
  w.onerror = onError;
  w.postMessage(init);
  return w;
}

/** Whether this thread may block in Atomics.wait (a browser's main thread may not). */
function canBlock(ctrl: Int32Array): boolean {
  try {
    Atomics.wait(ctrl, READY, -1, 0);
    return true;
  } catch {
    return false;
  }
}

export interface PoolInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: Record<string, unknown>;
  /** Total threads including the caller (>= 2). */
  threads: number;
  /** Per-thread scratch blocks (threads of them; index 0 is the caller's). */
  scratch: readonly number[];
  /** MAX_TASKS parameter blocks of `paramBytes` each, one per task of a split strided call. */
  paramArea: number;
  paramBytes: number;
  /** An Int32Array over the current memory (re-created after growth). */
  i32(): Int32Array;
  /** Allocates a 64-byte aligned block of the shared memory (for the packing block). */
  alloc(bytes: number): number;
  free(ptr: number): void;
}

/**
 * The largest packing block a pool keeps (bytes): a split matmul whose shared operand packs into more
 * (K x N above 4M values) lets each task pack it, as a single-stage split.
 */
export const PACK_BLOCK_LIMIT = 16 << 20;

export class WorkerPool {
  readonly threads: number;
  private readonly workers: AnyWorker[] = [];
  private readonly ctrl: Int32Array;
  private readonly tasks: Float64Array;
  private readonly results: Float64Array;
  private readonly msg: Uint8Array;
  private readonly fns: ((...a: number[]) => unknown)[];
  private readonly scratchArgs: number[];
  private readonly callerScratch: number;
  private readonly blocking: boolean;
  private readonly ctx: SplitContext;
  private gen = 0;
  private busy = false;
  private disposed = false;
  private workerError: unknown = undefined;
  /** Estimated kernel time (ns) above which a call is split; set from the measured dispatch cost. */
  private thresholdNs = 50_000;
  private measuredNs: number | undefined;
  private fixedThreshold = false;
  /** The packing block split matmuls share (see parallel.ts), grown on demand; 0 until first needed. */
  private packPtr = 0;
  private packBytes = 0;

  constructor(init: PoolInit) {
    this.threads = init.threads;
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    this.ctrl = new Int32Array(control, 0, 16);
    this.tasks = new Float64Array(control, TASKS_AT, MAX_TASKS * SLOTS);
    this.results = new Float64Array(control, RESULTS_AT, MAX_TASKS);
    this.msg = new Uint8Array(control, MSG_AT, MSG_BYTES);
    this.fns = PARALLEL_KERNELS.map((k) => init.exports[k] as (...a: number[]) => unknown);
    this.scratchArgs = PARALLEL_KERNELS.map((k) => PARALLEL[k].scratchArg ?? -1);
    this.callerScratch = init.scratch[0]!;
    this.blocking = canBlock(this.ctrl);
    this.ctx = {
      i32: init.i32,
      params: (t) => init.paramArea + t * init.paramBytes,
      packBlock: (bytes) => {
        if (bytes > PACK_BLOCK_LIMIT) return 0;
        if (bytes > this.packBytes) {
          // grow geometrically, so a run whose shapes grow step by step reallocates only a few times
          const size = Math.min(PACK_BLOCK_LIMIT, Math.max(bytes, 2 * this.packBytes));
          if (this.packPtr !== 0) init.free(this.packPtr);
          this.packPtr = init.alloc(size);
          this.packBytes = size;
        }
        return this.packPtr;
      },
    };
    const layout = { tasksAt: TASKS_AT, resultsAt: RESULTS_AT, msgAt: MSG_AT, maxTasks: MAX_TASKS, msgBytes: MSG_BYTES, spin: SPIN };
    for (let t = 1; t < init.threads; t++) {
      this.workers.push(spawn(
        { module: init.module, memory: init.memory, control, names: PARALLEL_KERNELS, scratchArgs: this.scratchArgs, scratch: init.scratch[t]!, layout },
        (e) => { this.workerError = e; },
      ));
    }
  }

  /** Workers that have instantiated the module and wait for work. */
  readyWorkers(): number {
    return Atomics.load(this.ctrl, READY);
  }

  /** Resolves once every worker is ready (or rejects after `timeoutMs`). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const t0 = Date.now();
    while (this.readyWorkers() < this.workers.length) {
      if (this.workerError !== undefined) throw new Error(`wasm backend: a worker failed to start: ${String(this.workerError)}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`wasm backend: workers not ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Sets the estimated kernel time (ns) above which calls are split (tests use 0: split whenever possible). */
  setSplitThreshold(ns: number): void {
    if (!(ns >= 0)) throw new RangeError(`wasm backend: split threshold must be >= 0 ns, got ${ns}`);
    this.thresholdNs = ns;
    this.fixedThreshold = true;
  }

  /** The measured cost of an empty parallel call in nanoseconds (undefined until workers are ready). */
  dispatchNs(): number | undefined {
    return this.measuredNs;
  }

  /** Runs a kernel call, split across the threads when its estimated cost pays for the dispatch. */
  call<K extends ParallelKernel>(kernel: K, args: number[]): number {
    const spec = PARALLEL[kernel];
    if (this.measuredNs === undefined && this.readyWorkers() === this.workers.length) this.calibrate();
    if (this.disposed || this.busy) return this.direct(kernel, args);
    const cost = spec.cost(args as never, this.ctx);
    if (cost < this.thresholdNs) return this.direct(kernel, args);
    // Up to 4 tasks per thread, each worth at least the threshold: a thread that the OS deschedules
    // (a loaded machine) then holds up only a small piece while the others take the rest.
    const parts = Math.max(this.threads, Math.min(4 * this.threads, Math.floor(cost / Math.max(this.thresholdNs, 1))));
    const stages = spec.stages?.(args as never, parts, this.ctx);
    if (stages !== undefined && stages !== null) {
      for (const stage of stages) this.runTasks(stage, kernel);
      return 0;
    }
    const tasks = spec.split(args as never, parts, this.ctx);
    if (tasks.length <= 1) return this.direct(kernel, args);
    const results = this.runTasks(tasks, kernel);
    return spec.combine !== undefined ? spec.combine(results, tasks) : 0;
  }

  private direct(kernel: ParallelKernel, args: number[]): number {
    const sa = PARALLEL[kernel].scratchArg;
    if (sa !== undefined) args[sa] = this.callerScratch;
    const r = this.fns[PARALLEL_KERNELS.indexOf(kernel)]!(...args);
    return typeof r === 'number' ? r : 0;
  }

  /** Runs the given tasks on all threads (the caller included) and returns their return values. */
  runTasks(tasks: readonly Task[], name: string): number[] {
    if (this.disposed) throw new Error('wasm backend: the thread pool was disposed');
    const n = tasks.length;
    if (n > MAX_TASKS) throw new Error(`wasm backend: ${n} tasks exceed the pool's ${MAX_TASKS}`);
    const { ctrl } = this;
    for (let i = 0; i < n; i++) {
      const t = tasks[i]!;
      const o = i * SLOTS;
      this.tasks[o] = PARALLEL_KERNELS.indexOf(t.kernel);
      this.tasks[o + 1] = t.args.length;
      for (let j = 0; j < t.args.length; j++) this.tasks[o + 2 + j] = t.args[j]!;
    }
    this.busy = true;
    try {
      Atomics.store(ctrl, DONE, 0);
      Atomics.store(ctrl, ERR, 0);
      this.gen = (this.gen + 1) | 0;
      const tag = (this.gen & 0xffff) >>> 0;
      Atomics.store(ctrl, NEXT, (tag << 16) | n);
      Atomics.store(ctrl, GEN, this.gen);
      Atomics.notify(ctrl, GEN);
      drain(ctrl, this.tasks, this.results, this.msg, this.fns, this.scratchArgs, this.callerScratch, tag, 'on the calling thread');
      let spins = 0;
      for (;;) {
        const done = Atomics.load(ctrl, DONE);
        if (done >= n) break;
        if (this.blocking && ++spins > 2000) Atomics.wait(ctrl, DONE, done, 1000);
      }
      const bad = Atomics.load(ctrl, ERR);
      if (bad !== 0) {
        const text = new TextDecoder().decode(this.msg.slice(0, Atomics.load(ctrl, ERRLEN)));
        const t = tasks[bad - 1]!;
        throw new Error(`wasm backend: kernel '${t.kernel}' (parallel ${name}, task ${bad - 1} of ${n}) failed: ${text}`);
      }
      return Array.from(this.results.subarray(0, n));
    } finally {
      this.busy = false;
    }
  }

  /** Times empty parallel calls and sets the split threshold to a few times that cost. */
  calibrate(): void {
    const empty: Task[] = [];
    for (let t = 0; t < this.threads; t++) empty.push({ kernel: 'fill32', args: [0, 0, 0], base: 0 });
    const now = (): number => (globalThis.performance?.now?.() ?? Date.now());
    this.measuredNs = Infinity; // no re-entry
    const samples: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = now();
      this.runTasks(empty, 'dispatch');
      samples.push((now() - t0) * 1e6);
    }
    samples.sort((a, b) => a - b);
    this.measuredNs = samples[samples.length >> 1]!;
    if (!this.fixedThreshold) this.thresholdNs = Math.max(20_000, 4 * this.measuredNs);
  }

  /** Stops the workers; the backend then runs single-threaded. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.store(this.ctrl, GEN, (this.gen + 1) | 0);
    Atomics.notify(this.ctrl, GEN);
    for (const w of this.workers) void w.terminate();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}
