// Builds the demo page into dist/web: app.js (the page) and worker.js (the training worker, the
// library with its kernels) bundled by esbuild from the TypeScript sources, plus the static files.
// `npm run build:web`; `wasmgrad serve` serves the result. Exported for the browser test.
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const STATIC = ['index.html', 'style.css', 'sw.js'];

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
  const out = {};
  for (const f of ['app.js', 'worker.js', ...STATIC]) out[f] = (await stat(join(outDir, f))).size;
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = await buildWeb();
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`dist/web: ${Object.entries(sizes).map(([f, n]) => `${f} ${kb(n)}`).join(', ')}`);
}
