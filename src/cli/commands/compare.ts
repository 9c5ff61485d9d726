/** Registers `wasmgrad compare`; the run itself (src/cli/compare.ts) is loaded when the command runs. */
import type { Command } from 'commander';
import { METHOD_NAMES } from '../../adapters/presets.js';
import type { NoiseModel } from '../../adapters/noise.js';
import type { GlueTask } from '../../tasks/glue.js';
import { e2eOptions, e2eSettings, seriesArgs, seriesOptions, taskOptions, trainingOptions } from '../options.js';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

/** The methods compare runs without --methods: on text tasks, and on series tasks (the linear row comes on top). */
const TEXT_METHODS = 'full,bitfit,lora,grasp,stochgrasp';
const SERIES_METHODS = 'one-for-all,gpt4ts';

export function registerCompare(program: Command): void {
  const compare = program.command('compare');
  seriesOptions(e2eOptions(trainingOptions(taskOptions(compare))))
    .description('fine-tune a checkpoint with several methods on one task (text: clean and under weight noise; series: test metrics, cost, forecast and rank-sweep plots) and write report.md/report.html')
    .option('--model <dir|name>', 'checkpoint directory or bundled name', 'tiny-roberta')
    .option('--methods <list>', `comma-separated, each name[:key=value,...] (${METHOD_NAMES.join(', ')}); separate methods with ";" when using overrides (default: ${TEXT_METHODS}; series tasks: ${SERIES_METHODS})`)
    .option('--sweep <key=values>', 'run every method at each value of a config key, crossed with other --sweep flags (repeatable): --sweep r=2,4,8,16,32,64 --sweep scaling=standard,rs', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--no-baseline', 'series tasks: leave out the linear baseline row')
    .option('--out <dir>', 'output directory', 'runs/compare')
    .option('--lr <x>', 'one learning rate for all methods (default: per method)', Number)
    .option('--limit-train <n>', 'use at most n training examples', Number)
    .option('--draws <n>', 'noise draws per sigma, 0 = none (default 10; 0 for --task e2e and series tasks)', Number)
    .option('--noise <mode>', 'multiplicative or additive', 'multiplicative')
    .option('--sigmas <list>', 'noise levels', '0,0.05,0.1,0.15,0.2,0.3')
    .option('--seed <n>', 'seed', Number)
    .option('--offload-optimizer', 'keep AdamW state outside the WebAssembly heap, updating block by block')
    .option('--seeds <list>', 'repeat each method over these data-order seeds and report mean ± std (e.g. 0,1,2)')
    .option('--no-epoch-evals', 'text tasks: evaluate only after training, not after each epoch (the report uses only the final evaluation)')
    .action(async (a: Record<string, string | number | boolean | undefined>) => {
      const { expandSweeps, parseMethodSpec, runCompare } = await import('../compare.js');
      const { isSeriesTask } = await import('../series.js');
      const methods = a.methods === undefined ? (isSeriesTask(String(a.task)) ? SERIES_METHODS : TEXT_METHODS) : String(a.methods);
      const specs = expandSweeps(methods.includes(';') ? methods.split(';') : list(methods), a.sweep as unknown as string[]);
      await runCompare({
        model: String(a.model), task: String(a.task), out: String(a.out), methods: specs.map(parseMethodSpec),
        epochs: a.epochs as number | undefined, batchSize: a.batchSize as number | undefined, maxLength: a.maxLength as number | undefined, groupByLength: a.groupByLength as number | undefined,
        lr: a.lr as number | undefined, headLr: a.headLr as number | undefined, limitTrain: a.limitTrain as number | undefined, draws: a.draws as number | undefined,
        noiseMode: a.noise as NoiseModel, sigmas: list(String(a.sigmas)).map(Number), datasetsDir: a.datasets as string | undefined, format: a.format as GlueTask | undefined,
        offloadOptimizer: a.offloadOptimizer === true, epochEvals: a.epochEvals !== false, seed: a.seed as number | undefined, seeds: a.seeds === undefined ? undefined : list(String(a.seeds)).map(Number),
        data: a.data as string | undefined, e2e: e2eSettings(a), series: seriesArgs(a), baseline: a.baseline !== false,
      });
    });
}
