#!/usr/bin/env node
/**
 * The `wasmgrad` command line. Each command registers its options from small modules and imports its
 * implementation (and the library) only when it runs, so `--help` and option errors answer at once.
 */
import { Command } from 'commander';
import { registerCompare } from './commands/compare.js';
import { registerFinetune } from './commands/finetune.js';
import { registerForecast } from './commands/forecast.js';
import { registerPretrain } from './commands/pretrain.js';
import { registerScore } from './commands/score.js';
import { registerProbe } from './commands/probe.js';
import { registerServe } from './commands/serve.js';

const program = new Command();
program.name('wasmgrad').description('Fine-tune transformers on WebAssembly SIMD: tools and benchmarks');

program
  .command('bench')
  .description('run the kernel micro-benchmarks on this machine, print the table and write bench/results/latest.json')
  .option('--quick', 'fewer shapes and samples (a smoke run)')
  .option('--only <names>', 'comma-separated benchmark names, e.g. matmul,layerNorm')
  .option('--out <file>', 'where to write the JSON rows', 'bench/results/latest.json')
  .option('--threads <list>', 'thread counts, e.g. 1,2 or auto (default: 1 and all cores)')
  .option('--profile', 'print the per-op profile of one encoder training step instead of the table')
  .option('--kernel-profile', "print the training step's kernel calls by kernel and shape, thread counts side by side")
  .action(async (opts: { quick?: boolean; only?: string; out: string; threads?: string; profile?: boolean; kernelProfile?: boolean }) => {
    const { runBenchmarks, parseThreads } = await import('../../bench/run.js');
    await runBenchmarks({
      quick: opts.quick, only: opts.only?.split(',').map((s) => s.trim()), out: opts.out,
      threads: opts.threads === undefined ? undefined : parseThreads(opts.threads), profile: opts.profile,
      kernelProfile: opts.kernelProfile,
    });
  });

registerPretrain(program);
registerProbe(program);
registerCompare(program);
registerFinetune(program);
registerForecast(program);
registerScore(program);
registerServe(program);

program.parseAsync(process.argv).catch((err: Error) => {
  console.error(`wasmgrad: ${err.message}`);
  process.exit(1);
});
