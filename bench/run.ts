// Benchmark runner: runs the matmul and kernel benchmarks, prints an aligned table and writes the
// rows to bench/results/latest.json. Runnable directly after `npm run build:ts`:
//   node dist/bench/run.js [--quick] [--only matmul,layerNorm] [--out file.json]
// (add --experimental-wasm-relaxed-simd on Node 20 to also measure the relaxed-SIMD binary).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelBenches } from './kernels.js';
import { matmulBenches } from './matmul.js';
import { trainStepBenches } from './train-step.js';
import { generateBenches } from './generate.js';
import { parserBenches } from './parsers.js';
import type { BenchRow } from './types.js';

export interface RunOptions {
  /** Fewer shapes and samples (CI smoke runs). */
  quick?: boolean;
  /** Benchmark names to run (case-insensitive prefixes of row names, e.g. "matmul", "layerNorm"). */
  only?: string[];
  /** Output JSON file (default bench/results/latest.json in the package). */
  out?: string;
}

const here = dirname(fileURLToPath(import.meta.url));

export async function runBenchmarks(opts: RunOptions = {}): Promise<BenchRow[]> {
  const only = opts.only?.filter((s) => s.length > 0).map((s) => s.toLowerCase());
  const wanted = (name: string) => !only || only.some((o) => name.toLowerCase().startsWith(o));
  console.log(`wasmgrad benchmarks (${opts.quick ? 'quick' : 'full'}): node ${process.version}, `
    + `${process.arch}, flags: ${process.execArgv.join(' ') || '(none)'}`);

  const isMatmulFilter = (o: string) => 'matmul'.startsWith(o) || o.startsWith('matmul');
  const rows: BenchRow[] = [];
  if (!only || only.some(isMatmulFilter)) {
    rows.push(...(await matmulBenches({ quick: opts.quick })).filter((r) => wanted(r.name)));
  }
  // Skip the kernel benchmarks outright when the filter names nothing but matmul or the train step.
  const own = ['matmul', 'train', 'generate', 'bpe', 'safetensors'];
  if (!only || only.some((o) => !own.some((prefix) => o.startsWith(prefix)))) {
    rows.push(...(await kernelBenches()).filter((r) => wanted(r.name)));
  }
  if (!only || only.some((o) => 'train'.startsWith(o) || o.startsWith('train'))) {
    rows.push(...(await trainStepBenches({ quick: opts.quick })).filter((r) => wanted(r.name)));
  }
  if (!only || only.some((o) => 'generate'.startsWith(o) || o.startsWith('generate'))) {
    rows.push(...(await generateBenches({ quick: opts.quick })).filter((r) => wanted(r.name)));
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
  const header = ['name', 'shape', 'variant', 'GFLOP/s', 'GB/s', 'tokens/s', 'ms', 'x10 input', 'vsTfjs', 'vsNaive', 'vsReference'];
  const body = rows.map((r) => [
    r.name, r.shape, r.variant, fmt(r.gflops, 1), fmt(r.gbps, 2), fmt(r.tokensPerSecond, 0), fmt(r.ms, 3),
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

function parseArgs(argv: string[]): RunOptions {
  const opts: RunOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--only') opts.only = (argv[++i] ?? '').split(',').map((s) => s.trim());
    else if (arg === '--out') opts.out = argv[++i];
    else throw new Error(`unknown argument ${arg} (use --quick, --only a,b, --out file)`);
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
