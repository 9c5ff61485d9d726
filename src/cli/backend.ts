/** Backend selection shared by the commands. */
import { init } from '../index.js';
import { getBackend } from '../tensor/engine.js';

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
 * Uses the active backend if one is set (tests pick theirs), else the fastest WebAssembly build on
 * the `--threads` count (default 1).
 */
export async function ensureBackend(): Promise<void> {
  try {
    getBackend();
  } catch {
    await init({ threads });
  }
}
