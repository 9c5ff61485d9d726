/**
 * The training worker: `new Worker(url, { type: 'module' })` on the bundle of this file, then talk to
 * it with {@link createTrainerWorker} (client.ts). It starts the WebAssembly kernels (on every core
 * when the page is cross-origin isolated, which SharedArrayBuffer needs; else on one thread), says
 * `ready`, and routes each call of the protocol (protocol.ts) to a {@link DemoSession}. A `stop`
 * is answered while a training or a noise sweep runs: those yield between steps.
 *
 * `?threads=1` (or any count) in the worker's URL overrides the thread choice.
 */
import { createWasmBackend, resolveThreads } from '../backend/wasm/index.js';
import '../ops/methods.js';
import { setBackend } from '../tensor/engine.js';
import { serializeError, type CallMessage, type OpName, type Ops, type ProgressEvent, type RuntimeInfo, type WorkerMessage } from './protocol.js';
import { DemoSession } from './session.js';

/** The part of a dedicated worker's global scope used here (the DOM lib types `self` as a Window). */
interface WorkerScope {
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<CallMessage>) => void): void;
  readonly crossOriginIsolated?: boolean;
  readonly location: { href: string; search: string };
}
const scope = globalThis as unknown as WorkerScope;

type Handler<K extends OpName> = (args: Ops[K]['args'], progress: (e: ProgressEvent) => void) => Ops[K]['reply'] | Promise<Ops[K]['reply']>;

const session = new DemoSession(scope.location.href);

// A mapped table: an operation of the protocol without a handler does not compile.
const handlers: { [K in OpName]: Handler<K> } = {
  load: (a, p) => session.load(a, p),
  train: (a, p) => session.train(a, p),
  evaluate: () => session.evaluate(),
  generate: (a) => session.generate(a),
  noise: (a, p) => session.noise(a, p),
  saveAdapter: () => session.saveAdapter(),
  loadAdapter: (a) => session.loadAdapter(a.files),
  logits: (a) => session.logits(a.texts),
  stop: () => session.stop(),
};

function threadRequest(): 'auto' | number {
  const given = new URLSearchParams(scope.location.search).get('threads');
  if (given === null || given === 'auto') return scope.crossOriginIsolated ? 'auto' : 1;
  return Number(given);
}

const ready: Promise<RuntimeInfo> = (async () => {
  const isolated = scope.crossOriginIsolated === true;
  const threads = resolveThreads(threadRequest());
  const backend = await createWasmBackend({ threads });
  setBackend(backend);
  return { variant: backend.variant, threads: backend.threads, crossOriginIsolated: isolated };
})();

ready.then(
  (runtime) => scope.postMessage({ type: 'ready', runtime }),
  (err) => scope.postMessage({ type: 'fatal', error: serializeError(err) }),
);

/** Bytes in a reply move to the page instead of being copied. */
function transferables(value: unknown): Transferable[] {
  const files = (value as { files?: { bytes?: unknown }[] } | null)?.files;
  if (!Array.isArray(files)) return [];
  return files.flatMap((f) => (f.bytes instanceof Uint8Array ? [f.bytes.buffer as ArrayBuffer] : []));
}

scope.addEventListener('message', (e) => {
  const msg = e.data;
  if (msg?.type !== 'call' || !Object.hasOwn(handlers, msg.op)) return;
  const progress = (event: ProgressEvent) => scope.postMessage({ type: 'progress', id: msg.id, event });
  void (async () => {
    try {
      await ready;
      const handler = handlers[msg.op] as Handler<OpName>;
      const value = await handler(msg.args as never, progress);
      scope.postMessage({ type: 'reply', id: msg.id, ok: true, value }, transferables(value));
    } catch (err) {
      console.error(err);
      scope.postMessage({ type: 'reply', id: msg.id, ok: false, error: serializeError(err) });
    }
  })();
});
