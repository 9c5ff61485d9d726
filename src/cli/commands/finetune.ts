/** Registers `wasmgrad finetune` and `wasmgrad eval`; the runs themselves (src/cli/finetune.ts) are loaded when a command runs. */
import type { Command } from 'commander';
import { METHOD_NAMES } from '../../adapters/presets.js';
import type { NoiseModel } from '../../adapters/noise.js';
import type { GlueTask } from '../../tasks/glue.js';
import { e2eOptions, e2eSettings, seriesArgs, seriesOptions, taskOptions, trainingOptions } from '../options.js';
import type { EvalSplit } from '../setup.js';

/** Adds `finetune` and `eval` to the CLI. */
export function registerFinetune(program: Command): void {
  const finetune = program.command('finetune');
  seriesOptions(e2eOptions(trainingOptions(taskOptions(finetune))))
    .description('fine-tune a checkpoint on a task (classification with RoBERTa, text continuation and E2E data-to-text with GPT-2, forecasting with a GPT4TS built on GPT-2) with one method; writes the adapter')
    .option('--model <dir|name>', 'checkpoint directory or a bundled name (tiny-roberta)', 'tiny-roberta')
    .requiredOption('--method <name[:key=value,...]>', `one of ${METHOD_NAMES.join(', ')}, with optional config overrides (grasp:num_groups=16)`)
    .requiredOption('--out <dir>', 'output directory')
    .option('--lr <x>', 'peak learning rate (default per method)', Number)
    .option('--weight-decay <x>', 'AdamW weight decay', Number)
    .option('--seed <n>', 'seed of the data order', Number)
    .option('--save-every <n>', 'training-state checkpoint interval in steps (default: each epoch)', Number)
    .option('--limit-train <n>', 'use at most n training examples (e2e: MRs, each with all its references)', Number)
    .option('--stop-after <n>', 'stop after n steps with a resumable state', Number)
    .option('--resume', 'continue from <out>/training_state')
    .option('--offload-optimizer', 'keep AdamW state outside the WebAssembly heap, updating block by block (bit-identical, less heap)')
    .option('--offload-dir <dir>', 'offload AdamW state to a scratch file in <dir> (deleted at the end) instead of host memory')
    .option('--overwrite', "replace an earlier run's files in a non-empty --out")
    .option('--detect-anomaly', 'check every op and gradient for NaN/Inf and name the op and module that produced it (slow)')
    .option('--noise-draws <n>', 'also measure the metric under weight noise with n draws per sigma', Number)
    .option('--baseline', 'series tasks (not classify-series): also train the linear baseline with the same loop and report its test metrics')
    .action(async (a: Record<string, string | number | boolean | undefined>) => {
      const { parseMethodSpec } = await import('../compare.js');
      const { runFinetuneCli } = await import('../finetune.js');
      const spec = parseMethodSpec(String(a.method));
      await runFinetuneCli({
        model: String(a.model), method: spec.method, adapter: spec.adapter, task: String(a.task), out: String(a.out),
        epochs: a.epochs as number | undefined, batchSize: a.batchSize as number | undefined, lr: a.lr as number | undefined,
        headLr: a.headLr as number | undefined, weightDecay: a.weightDecay as number | undefined, maxLength: a.maxLength as number | undefined, groupByLength: a.groupByLength as number | undefined, seed: a.seed as number | undefined,
        saveEvery: a.saveEvery as number | undefined, stopAfter: a.stopAfter as number | undefined, resume: a.resume === true, overwrite: a.overwrite === true,
        detectAnomaly: a.detectAnomaly === true,
        offloadOptimizer: a.offloadOptimizer === true ? true : undefined, offloadDir: a.offloadDir as string | undefined,
        noiseDraws: a.noiseDraws as number | undefined, datasetsDir: a.datasets as string | undefined, format: a.format as GlueTask | undefined,
        data: a.data as string | undefined, e2e: e2eSettings(a), limitTrain: a.limitTrain as number | undefined,
        series: seriesArgs(a), baseline: a.baseline === true,
      });
    });
  const evalCmd = program.command('eval');
  seriesOptions(e2eOptions(taskOptions(evalCmd)))
    .description('evaluate a checkpoint (and an adapter) on a task, clean and under weight noise')
    .option('--model <dir|name>', 'checkpoint directory or bundled name', 'tiny-roberta')
    .option('--adapter <dir>', 'adapter directory written by finetune')
    .option('--max-length <n>', 'max tokens per example', Number)
    .option('--draws <n>', 'noise draws per sigma (0 = clean only; default 10, and 0 for --task e2e, where each evaluation decodes)', Number)
    .option('--sigmas <list>', 'noise levels', '0,0.05,0.1,0.15,0.2,0.3')
    .option('--noise <mode>', 'multiplicative or additive', 'multiplicative')
    .option('--split <train|validation|all>', 'rows to score (default: every row of a single file, else the validation split)')
    .action(async (a: Record<string, string | number | undefined>) => {
      const { runEvalCli } = await import('../finetune.js');
      await runEvalCli({
        model: String(a.model), adapter: a.adapter as string | undefined, task: String(a.task),
        draws: (a.draws as number | undefined) ?? (a.task === 'e2e' ? 0 : 10), maxLength: a.maxLength as number | undefined,
        data: a.data as string | undefined, e2e: e2eSettings(a), split: a.split as EvalSplit | undefined,
        sigmas: String(a.sigmas).split(',').map(Number), noiseMode: a.noise as NoiseModel, datasetsDir: a.datasets as string | undefined, format: a.format as GlueTask | undefined,
        series: seriesArgs(a),
      });
    });
}
