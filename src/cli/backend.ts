/** Backend selection shared by the commands. */
import { init } from '../index.js';
import { getBackend } from '../tensor/engine.js';

/** Uses the active backend if one is set (tests pick theirs), else the fastest WebAssembly build. */
export async function ensureBackend(): Promise<void> {
  try {
    getBackend();
  } catch {
    await init();
  }
}
