// Benchmark runner: runs the matmul, thread-pool, kernel, train-step and generation benchmarks, prints
// an aligned table and writes the rows to bench/results/latest.json. `npm run bench -- <args>` or,
// after `npm run build:ts`:
//   node dist/bench/run.js [--quick] [--only matmul,layerNorm] [--threads 1,2] [--out file.json]
//   node dist/bench/run.js --profile [--threads 1,2]   (per-op table of one training step)
//   node dist/bench/run.js --kernel-profile [--threads 1,2]   (per kernel and shape, thread counts side by side)
// --threads defaults to 1 and all cores. On Node >= 20.16 relaxed SIMD is enabled in-process, so both
// binaries are measured without flags.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelBenches } from './kernels.js';
import { kernelProfile } from './kernel-profile.js';
import { matmulBenches } from './matmul.js';
import { profileTrainStep, trainStepBenches } from './train-step.js';
import { createWasmBackend } from '../src/backend/wasm/index.js';
import { generateBenches } from './generate.js';
import { parserBenches } from './parsers.js';
import { threadBenches } from './threads.js';
import { availableCores } from '../src/backend/wasm/pool.js';
import type { BenchRow } from './types.js';

export interface RunOptions {
  /** Fewer shapes and samples (CI smoke runs). */
  quick?: boolean;
  /**
   * Benchmark names to run (case-insensitive prefixes of row names, e.g. "matmul", "layerNorm",
   * "matmul (backend)", "dispatch", "train"). Only what is named is run.
   */
  only?: string[];
  /** Output JSON file (default bench/results/latest.json in the package). */
  out?: string;
  /** Thread counts for the pool, kernel and train-step rows (default 1 and all available cores). */
  threads?: number[];
  /**
   * Instead of the benchmarks: print the per-op profile of one encoder training step for each binary
   * and thread count (W.profile).
   */
  profile?: boolean;
  /**
   * Instead of the benchmarks: the training step's kernel calls by kernel and shape, each binary's
   * thread counts side by side (least time over 3 steps).
   */
  kernelProfile?: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));

export async function runBenchmarks(opts: RunOptions = {}): Promise<BenchRow[]> {
  const only = opts.only?.filter((s) => s.length > 0).map((s) => s.toLowerCase());
  const wanted = (name: string) => !only || only.some((o) => name.toLowerCase().startsWith(o));
  console.log(`wasmgrad benchmarks (${opts.quick ? 'quick' : 'full'}): node ${process.version}, `
    + `${process.arch}, flags: ${process.execArgv.join(' ') || '(none)'}`);

  const threads = opts.threads ?? [...new Set([1, availableCores()])];
  if (opts.profile) {
    for (const variant of ['simd', 'relaxed-simd'] as const) {
      for (const t of threads) {
        const be = await createWasmBackend({ variant, threads: t });
        console.log(`\nprofile of one encoder training step (L4 d256 ffn1024 V5000 8x128), ${be.variant}, ${t} thread(s):`);
        console.log(profileTrainStep(be));
        be.dispose();
      }
    }
    return [];
  }
  if (opts.kernelProfile) {
    for (const variant of ['simd', 'relaxed-simd'] as const) {
      console.log(`\nkernels of one encoder training step (L4 d256 ffn1024 V5000 8x128), ${variant}, threads ${threads.join(', ')}:`);
      console.log(await kernelProfile(variant, threads));
    }
    return [];
  }
  const rows: BenchRow[] = [];
  // a group runs only when the filter names one of its rows
  const named = (...rowNames: string[]) => rowNames.some(wanted);
  if (named('matmul', 'matmul relaxed-simd')) {
    rows.push(...(await matmulBenches({ quick: opts.quick })).filter((r) => wanted(r.name)));
  }
  if (named('matmul (backend)', 'dispatch (empty parallel call)')) {
    rows.push(...(await threadBenches({ quick: opts.quick, threads })).filter((r) => wanted(r.name)));
  }
  // Only the kernel cases the filter names are set up and run (an --only naming none runs none).
  rows.push(...(await kernelBenches({ quick: opts.quick, threads, wanted })));
  if (named('train step encoder')) {
    rows.push(...(await trainStepBenches({ quick: opts.quick, threads })).filter((r) => wanted(r.name)));
  }
  if (named('generate greedy kv-cache', 'generate greedy no-cache')) {
    rows.push(...(await generateBenches({ quick: opts.quick })).filter((r) => wanted(r.name)));
  }
  if (named('bundle tour', 'bundle fine-tune', 'bundle kernel binary (fetched)')) {
    // esbuild is a dev dependency: loaded only here, and skipped (when not asked for) where it is absent
    const mod = await import('./bundle.js').catch((err: unknown) => {
      if (only) throw err;
      console.log(`bundle sizes skipped: ${(err as Error).message}`);
      return null;
    });
    if (mod) rows.push(...(await mod.bundleBenches({ packageDir: packageDir() })).filter((r) => wanted(r.name)));
  }
  if (!only || only.some((o) => ['bpe', 'safetensors'].some((p) => p.startsWith(o) || o.startsWith(p)))) {
    rows.push(...(await parserBenches({ quick: opts.quick })).filter((r) => wanted(r.name)));
  }

  console.log('');
  console.log(formatTable(rows));
  const out = resolve(opts.out ?? join(packageDir(), 'bench', 'results', 'latest.json'));
  writeAtomically(out, JSON.stringify(rows, null, 2) + '\n');
  console.log(`\nwrote ${rows.length} rows to ${out}`);
  return rows;
}

/** bench/ in source runs and dist/bench/ after tsc both sit below the package root. */
function packageDir(): string {
  return here.endsWith(join('dist', 'bench')) ? join(here, '..', '..') : join(here, '..');
}

/** Temp file + rename, so a reader never sees a half-written JSON file. */
function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

const fmt = (x: number | undefined, digits: number) => (x === undefined ? '' : x.toFixed(digits));

export function formatTable(rows: BenchRow[]): string {
  const header = ['name', 'shape', 'variant', 'threads', 'GFLOP/s', 'GB/s', 'tokens/s', 'ms', 'CPU ms', 'KB min', 'KB gzip', 'x10 input', 'vsTfjs', 'vsNaive', 'vsReference'];
  const kb = (b: number | undefined) => (b === undefined ? undefined : b / 1024);
  const body = rows.map((r) => [
    r.name, r.shape, r.variant, r.threads === undefined ? '' : String(r.threads), fmt(r.gflops, 1), fmt(r.gbps, 2), fmt(r.tokensPerSecond, 0), fmt(r.ms, 3), fmt(r.cpuMs, 1),
    fmt(kb(r.minBytes), 1), fmt(kb(r.gzipBytes), 1),
    r.scaling === undefined ? '' : `${r.scaling.toFixed(1)}x`,
    r.vsTfjs === undefined ? '' : `${r.vsTfjs.toFixed(2)}x`,
    r.vsNaive === undefined ? '' : `${r.vsNaive.toFixed(1)}x`,
    r.vsReference === undefined ? '' : `${r.vsReference.toFixed(1)}x`,
  ]);
  // Drop columns no row fills, then pad: text left-aligned, numbers right-aligned.
  const keep = header.map((_, c) => c < 3 || body.some((row) => row[c] !== ''));
  const table = [header, ...body].map((row) => row.filter((_, c) => keep[c]));
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(table[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line)].join('\n');
}

/** "1,2" -> [1, 2]; "auto" stands for the available cores. */
export function parseThreads(list: string): number[] {
  const out = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => (s === 'auto' ? availableCores() : Number(s)));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`--threads takes a comma-separated list of positive integers (or auto), got '${list}'`);
  }
  return [...new Set(out)];
}

function parseArgs(argv: string[]): RunOptions {
  const opts: RunOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--only') opts.only = (argv[++i] ?? '').split(',').map((s) => s.trim());
    else if (arg === '--out') opts.out = argv[++i];
    else if (arg === '--threads') opts.threads = parseThreads(argv[++i] ?? '');
    else if (arg === '--profile') opts.profile = true;
    else if (arg === '--kernel-profile') opts.kernelProfile = true;
    else throw new Error(`unknown argument ${arg} (use --quick, --only a,b, --threads 1,2, --profile, --kernel-profile, --out file)`);
  }
  return opts;
}

// Run when executed directly (node dist/bench/run.js), not when imported by the CLI.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runBenchmarks(parseArgs(process.argv.slice(2))).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
