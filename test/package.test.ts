/**
 * The published package: it ships the kernel binaries and the tiny checkpoints, its side-effect list
 * keeps what must run, and a bundle that never asks for the reference backend (or the embedded
 * base64 binaries) does not contain them, yet runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleApp, copyKernelsNextTo, type BundleResult } from '../bench/bundle.js';
import { PACKAGED_CHECKPOINTS } from '../src/node/paths.js';

const ROOT = join(import.meta.dirname, '..');
const SRC_WASM = join(ROOT, 'src', 'backend', 'wasm');
/** Bundle the TypeScript sources (the code under test), resolved as the package names them. */
const alias = { wasmgrad: join(ROOT, 'src', 'index.ts'), 'wasmgrad/embedded': join(SRC_WASM, 'embedded.ts') };

const TOUR = `
import { init, tensor, tidy } from 'wasmgrad';
await init();
const w = tensor([[0.5, -0.25], [0.1, 0.8]], undefined, { requiresGrad: true });
globalThis.__wasmgradBundle = tidy(() => {
  const l = tensor([[1, 2], [3, 4]]).matmul(w).tanh().sum();
  l.backward();
  return { loss: l.item(), grad: Array.from(w.grad.toArray()) };
});
`;

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => rmSync(join(d, '..'), { recursive: true, force: true })));

async function bundled(code: string, platform: 'browser' | 'node' = 'browser'): Promise<BundleResult> {
  const r = await bundleApp(code, { packageDir: ROOT, alias, platform, keep: true });
  outdirs.push(r.outdir);
  return r;
}

let runs = 0;
/** Imports the bundle in this process (a fresh module instance each time: a query string defeats the module cache). */
async function run(r: BundleResult): Promise<{ loss: number; grad: number[] }> {
  delete (globalThis as { __wasmgradBundle?: unknown }).__wasmgradBundle;
  await import(`${pathToFileURL(join(r.outdir, 'app.js')).href}?run=${++runs}`);
  return (globalThis as { __wasmgradBundle?: { loss: number; grad: number[] } }).__wasmgradBundle!;
}

describe('npm package contents', () => {
  it('ships the .wasm kernels next to their loader and the tiny checkpoints', () => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'backend', 'wasm', 'kernels.simd.wasm'))) {
      throw new Error('dist/ has no kernel binaries: run npm run build first');
    }
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    for (const v of ['relaxed', 'simd', 'scalar']) expect(files, `kernels.${v}.wasm`).toContain(`dist/src/backend/wasm/kernels.${v}.wasm`);
    for (const ckpt of PACKAGED_CHECKPOINTS) {
      for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.json', 'merges.txt']) {
        expect(files, `${ckpt}/${f}`).toContain(`examples/checkpoints/${ckpt}/${f}`);
      }
    }
    expect([...files].filter((f) => f.includes('small-roberta') || f.includes('small-gpt2'))).toEqual([]);
    expect(files).toContain('dist/src/backend/wasm/embedded.js');
    // the declaration of the base64 strings is a plain string type, not a 180 KB literal
    expect(readFileSync(join(ROOT, 'dist', 'src', 'backend', 'wasm', 'binaries.generated.d.ts'), 'utf8').length).toBeLessThan(1000);
  }, 180_000); // npm hashes every file (the checkpoints are 8 MB): slow on a loaded machine

  it('lists every module with top-level effects in sideEffects, and those files exist', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { sideEffects: string[]; exports: Record<string, unknown> };
    for (const f of ['./src/index.ts', './src/ops/methods.ts', './src/backend/wasm/embedded.ts']) {
      expect(pkg.sideEffects).toContain(f);
      expect(pkg.sideEffects).toContain(f.replace('./src/', './dist/src/').replace(/\.ts$/, '.js'));
      expect(existsSync(join(ROOT, f))).toBe(true);
    }
    expect(pkg.exports['./embedded']).toEqual({ types: './dist/src/backend/wasm/embedded.d.ts', import: './dist/src/backend/wasm/embedded.js' });
  });
});

describe('bundles', () => {
  it('a training app loads neither the reference backend nor the base64 binaries up front', async () => {
    const r = await bundled(TOUR);
    expect(r.inputs.some((i) => i.startsWith('src/backend/wasm/loader.ts'))).toBe(true);
    expect(r.inputs.filter((i) => i.includes('backend/reference/'))).toEqual([]);
    expect(r.inputs).not.toContain('src/backend/wasm/binaries.generated.ts');
    // init({ backend: 'reference' }) still works: the reference backend is a lazy chunk
    expect(r.lazyInputs).toContain('src/backend/reference/index.ts');
    const embedded = await bundled(`import 'wasmgrad/embedded';\n${TOUR}`);
    expect(embedded.inputs).toContain('src/backend/wasm/binaries.generated.ts');
    expect(embedded.minBytes - r.minBytes).toBeGreaterThan(150_000);
  });

  it('runs as a Node bundle with the .wasm files next to it, or embedded, and says what to do without either', async () => {
    const lean = await bundled(TOUR, 'node');
    // no .wasm next to the bundle: the error names the file and the ways out
    await expect(run(lean)).rejects.toThrow(/cannot read the kernel binary file:.*kernels\.(relaxed|simd|scalar)\.wasm.*import 'wasmgrad\/embedded'/);
    copyKernelsNextTo(lean.outdir, SRC_WASM);
    const viaFile = await run(lean);
    const embedded = await bundled(`import 'wasmgrad/embedded';\n${TOUR}`, 'node');
    const viaBase64 = await run(embedded);
    expect(Number.isFinite(viaFile.loss)).toBe(true);
    expect(viaBase64).toEqual(viaFile);
  });
});

describe('kernel binaries at run time', () => {
  it('every variant has its .wasm next to the loader', async () => {
    const { kernelUrl } = await import('../src/backend/wasm/kernel-files.js');
    for (const v of ['relaxed-simd', 'simd', 'scalar'] as const) {
      const bytes = readFileSync(kernelUrl(v));
      expect(WebAssembly.validate(bytes) || v === 'relaxed-simd', v).toBe(true);
      expect(Array.from(bytes.subarray(0, 4))).toEqual([0, 0x61, 0x73, 0x6d]);
    }
  });

  it('without a synchronous file reader (a browser, Node < 20.16) a sync load says to await init(); the async load still reads the file', async () => {
    const { loadKernels, loadKernelsSync } = await import('../src/backend/wasm/loader.js');
    const proc = process as { getBuiltinModule?: unknown };
    const saved = proc.getBuiltinModule;
    proc.getBuiltinModule = undefined;
    try {
      expect(() => loadKernelsSync({ variant: 'scalar' })).toThrow(/kernels\.scalar\.wasm\) must be fetched in this runtime.*call `await init\(\)` before creating tensors, or pass the binary yourself .*import 'wasmgrad\/embedded'/);
      const loaded = await loadKernels({ variant: 'scalar' });
      expect(loaded.variant).toBe('scalar');
    } finally {
      proc.getBuiltinModule = saved;
    }
  });
});
