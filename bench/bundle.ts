// Bundle sizes: what a browser app that imports wasmgrad ships. Each case is a small app bundled with
// esbuild (ESM, minified, code splitting on, as Vite and webpack do for dynamic imports); the size is
// the entry chunk plus the chunks it imports statically (what loads before the app runs), minified and
// gzipped (level 9). Lazy chunks (the reference backend behind init({ backend: 'reference' })) are
// left out and listed. The lean package fetches one .wasm kernel binary at init(): its size is a row.
// `embedded` cases import 'wasmgrad/embedded' (base64 binaries in the JavaScript, no fetch).
import { build, type Metafile } from 'esbuild';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BenchRow } from './types.js';

/** A small app importing the package as a user would ('wasmgrad', 'wasmgrad/embedded'). */
export interface BundleCase {
  name: string;
  /** What the app does, for the table's shape column. */
  shape: string;
  variant: 'lean' | 'embedded';
  code: string;
}

const TOUR = `
import { init, tensor, tidy, linear, AdamW } from 'wasmgrad';
await init();
const w = tensor([[0.5, -0.25], [0.1, 0.8]], undefined, { requiresGrad: true });
const opt = new AdamW([w], { lr: 1e-2 });
const loss = tidy(() => {
  const l = linear(tensor([[1, 2], [3, 4]]), w).tanh().square().mean();
  l.backward();
  opt.step();
  opt.zeroGrad();
  return l.item();
});
console.log(loss);
`;

const FINETUNE = `
import { init, fromPretrained, loadTokenizer, urlSource, applyAdapter, AdamW, tidy, tensor } from 'wasmgrad';
await init();
const source = urlSource(new URL('./tiny-roberta/', globalThis.location.href));
const tokenizer = await loadTokenizer(source);
const model = await fromPretrained(source, { architecture: 'RobertaForSequenceClassification', freshHead: true });
const adapted = applyAdapter(model, globalThis.METHOD === 'lora'
  ? { peft_type: 'LORA', r: 8, target_modules: ['query', 'value'] }
  : { peft_type: 'GRASP', num_groups: 32 });
const opt = new AdamW(adapted.trainableParameters(), { lr: 1e-2 });
const ids = tensor([tokenizer.encode('a fine day')], undefined, { dtype: 'int32' });
const labels = tensor([1], undefined, { dtype: 'int32' });
console.log(tidy(() => {
  const l = model.loss(ids, labels);
  l.backward();
  opt.step();
  opt.zeroGrad();
  return l.item();
}));
`;

const withEmbedded = (code: string) => `import 'wasmgrad/embedded';\n${code}`;

export const BUNDLE_CASES: readonly BundleCase[] = [
  { name: 'bundle tour', shape: 'init+linear+AdamW step', variant: 'lean', code: TOUR },
  { name: 'bundle tour', shape: 'init+linear+AdamW step', variant: 'embedded', code: withEmbedded(TOUR) },
  { name: 'bundle fine-tune', shape: 'fromPretrained+LoRA/GRASP step', variant: 'lean', code: FINETUNE },
  { name: 'bundle fine-tune', shape: 'fromPretrained+LoRA/GRASP step', variant: 'embedded', code: withEmbedded(FINETUNE) },
];

export interface BundleResult {
  /** Bytes of the entry chunk and its static imports, minified. */
  minBytes: number;
  gzipBytes: number;
  /** The package's source files in those chunks, relative to the package root. */
  inputs: string[];
  /** Source files only in lazily loaded chunks (dynamic imports). */
  lazyInputs: string[];
  /** The output directory (deleted unless `keep`). */
  outdir: string;
  ms: number;
}

export interface BundleOptions {
  /** The package root (its package.json `exports` resolve 'wasmgrad'). */
  packageDir: string;
  /** 'browser' (default) or 'node' (to run the bundle in this process's runtime). */
  platform?: 'browser' | 'node';
  /** Keep the output directory (the caller deletes it). */
  keep?: boolean;
  /** Resolve 'wasmgrad' and 'wasmgrad/embedded' to these files instead of the package's exports (bundling the TypeScript sources). */
  alias?: Record<string, string>;
}

/** Bundles `code` as an app importing wasmgrad and measures what loads up front. */
export async function bundleApp(code: string, opts: BundleOptions): Promise<BundleResult> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmgrad-bundle-'));
  const outdir = join(dir, 'out');
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(opts.packageDir, join(dir, 'node_modules', 'wasmgrad'), 'dir');
    writeFileSync(join(dir, 'app.js'), code);
    const t0 = performance.now();
    const result = await build({
      entryPoints: [join(dir, 'app.js')], bundle: true, minify: true, format: 'esm', splitting: true,
      platform: opts.platform ?? 'browser', target: 'es2022', outdir, metafile: true, write: true, logLevel: 'silent',
      alias: opts.alias, absWorkingDir: dir,
    });
    const ms = performance.now() - t0;
    const meta = result.metafile;
    const entry = Object.keys(meta.outputs).find((o) => meta.outputs[o]!.entryPoint !== undefined)!;
    const upFront = staticClosure(meta, entry);
    let minBytes = 0;
    let gzipBytes = 0;
    for (const o of upFront) {
      const bytes = readFileSync(join(dir, o));
      minBytes += bytes.length;
      gzipBytes += gzipSync(bytes, { level: 9 }).length;
    }
    const own = (outs: Iterable<string>) => [...new Set([...outs].flatMap((o) => Object.keys(meta.outputs[o]!.inputs)))]
      .map((i) => relative(opts.packageDir, join(dir, i)))
      .filter((i) => !i.startsWith('..'))
      .sort();
    const inputs = own(upFront);
    const lazy = own(Object.keys(meta.outputs).filter((o) => o.endsWith('.js') && !upFront.has(o))).filter((i) => !inputs.includes(i));
    return { minBytes, gzipBytes, inputs, lazyInputs: lazy, outdir, ms };
  } finally {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** The entry chunk and every chunk it imports statically, transitively (paths relative to the build's working directory). */
function staticClosure(meta: Metafile, entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (o: string) => {
    if (seen.has(o)) return;
    seen.add(o);
    for (const imp of meta.outputs[o]!.imports) if (imp.kind === 'import-statement' && !imp.external) visit(imp.path);
  };
  visit(entry);
  return seen;
}

/** Copies the kernel binaries next to a bundle (what a bundler that understands `new URL(..., import.meta.url)` does). */
export function copyKernelsNextTo(outdir: string, kernelDir: string): void {
  for (const v of ['relaxed', 'simd', 'scalar']) copyFileSync(join(kernelDir, `kernels.${v}.wasm`), join(outdir, `kernels.${v}.wasm`));
}

export async function bundleBenches(opts: { packageDir: string }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of BUNDLE_CASES) {
    const r = await bundleApp(c.code, { packageDir: opts.packageDir });
    if (r.inputs.some((i) => i.includes('backend/reference/'))) throw new Error(`bench bundle: ${c.name} (${c.variant}) loads the reference backend up front`);
    rows.push({ name: c.name, shape: c.shape, variant: c.variant, ms: r.ms, minBytes: r.minBytes, gzipBytes: r.gzipBytes });
    console.log(`${c.name} (${c.variant}): ${(r.minBytes / 1024).toFixed(1)} KB min, ${(r.gzipBytes / 1024).toFixed(1)} KB gzip; lazy: ${r.lazyInputs.filter((i) => i.includes('reference')).length} reference-backend files`);
  }
  const wasmDir = join(opts.packageDir, 'dist', 'src', 'backend', 'wasm');
  for (const [variant, file] of [['relaxed-simd', 'relaxed'], ['simd', 'simd'], ['scalar', 'scalar']] as const) {
    const bytes = readFileSync(join(wasmDir, `kernels.${file}.wasm`));
    rows.push({ name: 'bundle kernel binary (fetched)', shape: `kernels.${file}.wasm`, variant, ms: 0, minBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length });
  }
  return rows;
}
