/**
 * Backend selection shared by the commands. The library is imported when a command first needs a
 * backend, not when the command line starts, so `--help` and option errors do not wait for it.
 */
import type { WasmBackend } from '../backend/wasm/index.js';

let threads: 'auto' | number | undefined;

/** Records a `--threads` value ('auto' or a positive integer) for the backend ensureBackend creates. */
export function setCliThreads(value: string | undefined): void {
  if (value === undefined) return;
  if (value === 'auto') {
    threads = 'auto';
    return;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--threads must be 'auto' or a positive integer, got '${value}'`);
  threads = n;
}

/**
 * Uses the backend set by `init`/`setBackend` if there is one (tests pick theirs), else creates the
 * fastest WebAssembly build on the `--threads` count (default 1) and says on stderr which it chose.
 */
export async function ensureBackend(write: (s: string) => void = (s) => void process.stderr.write(s)): Promise<void> {
  const { activeBackend } = await import('../tensor/engine.js');
  if (activeBackend() !== null) return;
  const { init } = await import('../index.js');
  const be = await init({ threads });
  const { variant, threads: n } = be as WasmBackend;
  write(`kernels: WebAssembly ${variant}, ${n} thread${n === 1 ? '' : 's'}${threads === undefined && n === 1 ? ' (--threads auto uses all cores)' : ''}\n`);
}
