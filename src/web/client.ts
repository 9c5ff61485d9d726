/**
 * The page's side of the training worker: `createTrainerWorker(url)` starts the worker and returns
 * one promise-returning method per operation of the protocol, each with an optional progress
 * callback, plus `ready` (the kernels it runs on) and `terminate()`.
 *
 * ```ts
 * const trainer = createTrainerWorker(new URL('./worker.js', import.meta.url));
 * console.log(await trainer.ready); // { variant: 'relaxed-simd', threads: 4, crossOriginIsolated: true }
 * await trainer.load({ checkpoint: { url: '/checkpoints/tiny-roberta/' }, data: { url: '/data/sentiment/' } });
 * const run = await trainer.train({ method: 'grasp', steps: 60 }, (e) => e.kind === 'train' && draw(e.step, e.loss));
 * const { files } = await trainer.saveAdapter(); // adapter_config.json + adapter_model.safetensors
 * ```
 */
import { OP_NAMES, type OpName, type Ops, type ProgressEvent, type RuntimeInfo, type SerializedError, type WorkerMessage } from './protocol.js';

export type TrainerCalls = {
  [K in OpName]: (args: Ops[K]['args'], onProgress?: (e: ProgressEvent) => void) => Promise<Ops[K]['reply']>;
};

export interface TrainerWorker extends TrainerCalls {
  /** Resolves once the kernels are loaded; rejects if the worker cannot start them. */
  readonly ready: Promise<RuntimeInfo>;
  readonly worker: Worker;
  /** Ends the worker at once (a running call rejects). */
  terminate(): void;
}

/** An error raised in the worker, with its name and message. */
export class WorkerError extends Error {
  constructor(e: SerializedError) {
    super(e.message);
    this.name = e.name === 'Error' ? 'WorkerError' : e.name;
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: (e: ProgressEvent) => void;
}

/** Starts the worker (a module worker from `source`, or one already created) and wraps its protocol. */
export function createTrainerWorker(source: string | URL | Worker): TrainerWorker {
  const worker = typeof source === 'string' || source instanceof URL ? new Worker(source, { type: 'module' }) : source;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let failure: Error | null = null;
  let markReady: (r: RuntimeInfo) => void = () => {};
  let failReady: (e: Error) => void = () => {};
  const ready = new Promise<RuntimeInfo>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  const fail = (err: Error) => {
    failure ??= err;
    failReady(err);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.addEventListener('message', (e: MessageEvent<WorkerMessage>) => {
    const m = e.data;
    if (m.type === 'ready') markReady(m.runtime);
    else if (m.type === 'fatal') fail(new WorkerError({ name: m.error.name, message: `the training worker could not start: ${m.error.message}` }));
    else if (m.type === 'progress') pending.get(m.id)?.onProgress?.(m.event);
    else if (m.type === 'reply') {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new WorkerError(m.error));
    }
  });
  worker.addEventListener('error', (e: ErrorEvent) => {
    e.preventDefault?.();
    fail(new Error(`the training worker failed: ${e.message || 'it could not be loaded (check the script URL and the browser console)'}`));
  });
  const call = <K extends OpName>(op: K, args: Ops[K]['args'], onProgress?: (e: ProgressEvent) => void): Promise<Ops[K]['reply']> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      worker.postMessage({ type: 'call', id, op, args });
    });
  };
  const calls = Object.fromEntries(OP_NAMES.map((op) => [op, (args: never, onProgress?: (e: ProgressEvent) => void) => call(op, args ?? {}, onProgress)])) as unknown as TrainerCalls;
  return {
    ...calls,
    ready,
    worker,
    terminate() {
      worker.terminate();
      fail(new Error('the training worker was terminated'));
    },
  };
}
