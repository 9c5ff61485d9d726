// Builds the demo page into dist/web: app.js (the page) and worker.js (the training worker with the
// library) bundled by esbuild from the TypeScript sources, the kernel binaries, and the static files.
// `npm run build:web`; `wasmgrad serve` serves the result. Exported for the browser test.
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const STATIC = ['index.html', 'style.css', 'sw.js'];
const KERNELS = ['kernels.relaxed.wasm', 'kernels.simd.wasm', 'kernels.scalar.wasm'];

/** Bundles and copies; returns the output files with their sizes in bytes. */
export async function buildWeb({ outDir = join(root, 'dist', 'web'), minify = true } = {}) {
  const esbuild = await import('esbuild');
  await mkdir(outDir, { recursive: true });
  await esbuild.build({
    entryPoints: { app: join(here, 'app.ts'), worker: join(root, 'src', 'web', 'worker.ts') },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    outdir: outDir,
    minify,
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const f of STATIC) await copyFile(join(here, f), join(outDir, f));
  // The worker fetches one of these at startup: the loader asks for new URL('./kernels.<variant>.wasm',
  // import.meta.url), which in the bundle is worker.js's own directory.
  for (const v of KERNELS) {
    const from = join(root, 'src', 'backend', 'wasm', v);
    try {
      await copyFile(from, join(outDir, v));
    } catch (err) {
      throw new Error(`build:web: ${from} is missing; run npm run build:wasm first`, { cause: err });
    }
  }
  const out = {};
  for (const f of ['app.js', 'worker.js', ...STATIC, ...KERNELS]) out[f] = (await stat(join(outDir, f))).size;
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = await buildWeb();
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`dist/web: ${Object.entries(sizes).map(([f, n]) => `${f} ${kb(n)}`).join(', ')}`);
}
