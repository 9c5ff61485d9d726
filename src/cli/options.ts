/** Command-line options several commands share, spelled and described once. */
import type { Command } from 'commander';
import { setCliThreads } from './backend.js';

/** --task, --datasets, --format: which classification data to read and how. */
export function taskOptions(cmd: Command): Command {
  return cmd
    .option('--task <name|path>', 'sentiment, sst2, cola, rte, a directory/TSV file, sentiment-lm (GPT-2), or forecast (with --data)', 'sentiment')
    .option('--datasets <dir>', 'folder holding glue/ (default: $WASMGRAD_DATASETS or ../shared/datasets)')
    .option('--format <sst2|cola|rte>', 'TSV layout of a task path (default: from the folder name or the first row)');
}

/** --epochs, --batch-size, --max-length, --head-lr: the fine-tuning knobs every training command takes. */
export function trainingOptions(cmd: Command): Command {
  return cmd
    .option('--epochs <n>', 'epochs', Number)
    .option('--batch-size <n>', 'batch size', Number)
    .option('--max-length <n>', 'max tokens per example', Number)
    .option('--head-lr <x>', 'peak learning rate of the task head (default min(lr, 2e-3))', Number)
    .option('--threads <n|auto>', 'threads the WebAssembly kernels run on (default 1; auto: the available cores)')
    .hook('preAction', (c) => setCliThreads((c.opts() as { threads?: string }).threads));
}

/** --data, --horizon, --input-length, --features, --target, --train-fraction, --split, --gpt-layers: a series task's data and geometry. */
export function seriesOptions(cmd: Command): Command {
  return cmd
    .option('--data <csv>', 'series CSV for --task forecast: a date column and numeric columns (ETTh1.csv)')
    .option('--horizon <n>', 'steps to forecast (default 96)', Number)
    .option('--input-length <n>', 'input window in steps (default 336)', Number)
    .option('--features <M|S>', 'M: every column in and out; S: the --target column only (default M)')
    .option('--target <column>', 'the column S forecasts (default OT)')
    .option('--train-fraction <x>', 'train on the first fraction of the training windows, in (0, 1] (few-shot; default 1)', Number)
    .option('--split <ett-hour|ett-minute|ratio>', 'train/val/test rows: 12/4/4 months (ETTh*, ETTm* files, the default for them) or 70/10/20 (default for other files)')
    .option('--gpt-layers <n>', 'GPT-2 blocks kept when building the forecaster from a GPT-2 checkpoint (default min(6, n_layer))', Number);
}

/** The series flags as parsed by commander. */
export function seriesArgs(a: Record<string, unknown>): import('./series.js').SeriesOptions {
  return {
    data: a.data as string | undefined, horizon: a.horizon as number | undefined, inputLength: a.inputLength as number | undefined,
    features: a.features as string | undefined, target: a.target as string | undefined, trainFraction: a.trainFraction as number | undefined,
    split: a.split as string | undefined, gptLayers: a.gptLayers as number | undefined,
  };
}
