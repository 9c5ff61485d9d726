/**
 * The relaxed-SIMD binary's suites (test/matmul.test.ts and test/wasm-kernels.test.ts) in a second
 * Node. Node 20 runs relaxed SIMD only behind a flag, so those files skip it here; this reruns them
 * in a Node started with the flag (worker threads share the process's V8 flags), where they run it.
 * Where the runtime already validates relaxed SIMD, the fast tier ran it directly.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectFeatures } from '../src/backend/wasm/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('relaxed-SIMD binary in a child process', () => {
  (detectFeatures().relaxed ? it.skip : it)('passes the matmul and kernel suites under node --experimental-wasm-relaxed-simd', () => {
    const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
    const res = spawnSync(
      process.execPath,
      ['--experimental-wasm-relaxed-simd', vitest, 'run', '--project', 'fast', 'test/matmul.test.ts', 'test/wasm-kernels.test.ts', '--pool=threads'],
      { cwd: root, env: { ...process.env, WASMGRAD_RELAXED_CHILD: '1', NO_COLOR: '1' }, encoding: 'utf8' },
    );
    const output = `${res.stdout}\n${res.stderr}`;
    expect(res.status, output).toBe(0);
    expect(output).toMatch(/Test Files\s+2 passed \(2\)/);
    expect(output, 'the child must actually run the relaxed suites, not skip them').not.toMatch(/skipped/);
  }, 600_000);
});
