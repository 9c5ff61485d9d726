import { afterAll, describe, expect, it } from 'vitest';
import { ensureBackend, setCliThreads } from '../src/cli/backend.js';
import type { WasmBackend } from '../src/backend/wasm/index.js';
import { activeBackend } from '../src/tensor/engine.js';

describe('CLI backend selection', () => {
  afterAll(() => (activeBackend() as WasmBackend | null)?.dispose());

  it('rejects a malformed --threads value', () => {
    expect(() => setCliThreads('0')).toThrow(/--threads must be 'auto' or a positive integer, got '0'/);
    expect(() => setCliThreads('two')).toThrow(/--threads/);
  });

  it('creates the backend on the --threads count and says so (no default backend created first)', async () => {
    expect(activeBackend()).toBeNull();
    setCliThreads('2');
    const lines: string[] = [];
    await ensureBackend((s) => lines.push(s));
    const be = activeBackend() as WasmBackend;
    expect(be.threads).toBe(2);
    expect(lines.join('')).toMatch(/^kernels: WebAssembly (relaxed-simd|simd|scalar), 2 threads\n$/);
    await ensureBackend((s) => lines.push(s));
    expect(activeBackend()).toBe(be);
    expect(lines).toHaveLength(1);
  });
});
