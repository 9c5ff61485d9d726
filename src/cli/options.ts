/** Command-line options several commands share, spelled and described once. */
import type { Command } from 'commander';
import { setCliThreads } from './backend.js';
import { E2E_DEFAULTS, type E2ETaskConfig } from '../tasks/e2e-config.js';

/** --task, --datasets, --format: which classification data to read and how. */
export function taskOptions(cmd: Command): Command {
  return cmd
    .option('--task <name|path>', 'sentiment, sst2, cola, rte, a directory/TSV file, sentiment-lm or e2e (GPT-2), or a series task (GPT4TS): forecast, forecast-short, anomaly, impute, classify-series', 'sentiment')
    .option('--data <file>', 'the data file of --task e2e (an E2E NLG CSV: header mr,ref) or of a series task (a CSV with a date column and numeric columns, e.g. ETTh1.csv; anomaly: plus a 0/1 label column; classify-series: plus id and label columns)')
    .option('--datasets <dir>', 'folder holding glue/ (default: $WASMGRAD_DATASETS or ../shared/datasets)')
    .option('--format <sst2|cola|rte>', 'TSV layout of a task path (default: from the folder name or the first row)');
}

/** --epochs, --batch-size, --max-length, --head-lr: the fine-tuning knobs every training command takes. */
export function trainingOptions(cmd: Command): Command {
  return cmd
    .option('--epochs <n>', 'epochs', Number)
    .option('--batch-size <n>', 'batch size', Number)
    .option('--max-length <n>', 'max tokens per example', Number)
    .option('--group-by-length <n>', 'batch examples of similar length together over seeded windows of n batches (less padding; default 0 = random batches)', Number)
    .option('--head-lr <x>', 'peak learning rate of the task head (default min(lr, 2e-3))', Number)
    .option('--threads <n|auto>', 'threads the WebAssembly kernels run on (default 1; auto: the available cores)')
    .hook('preAction', (c) => setCliThreads((c.opts() as { threads?: string }).threads));
}

/** The E2E task's split, decoding and loss settings (`--task e2e`). */
export function e2eOptions(cmd: Command): Command {
  const D = E2E_DEFAULTS;
  return cmd
    .option('--validation-fraction <x>', `e2e: share of the MRs held out, split by MR (default ${D.validationFraction})`, Number)
    .option('--split-seed <n>', `e2e: seed of the split by MR (default ${D.splitSeed})`, Number)
    .option('--eval-limit <n>', `e2e: held-out MRs decoded and scored per evaluation, 0 = all (default ${D.evalLimit})`, Number)
    .option('--num-beams <n>', `e2e: beam width, 1 = greedy (default ${D.numBeams})`, Number)
    .option('--length-penalty <x>', `e2e: beam length penalty (default ${D.lengthPenalty})`, Number)
    .option('--ban-repeat-ngram <n>', `e2e: no n-gram of this size repeats in an output, 0 = off (default ${D.noRepeatNgramSize})`, Number)
    .option('--max-new-tokens <n>', `e2e: tokens decoded per MR at most (default ${D.maxNewTokens})`, Number)
    .option('--label-smoothing <x>', `e2e: label smoothing of the training loss (default ${D.labelSmoothing})`, Number)
    .option('--decode-batch <n>', `e2e: MRs decoded together (default ${D.decodeBatchSize})`, Number)
    .option('--samples <n>', `e2e: sample outputs in the report (default ${D.samples})`, Number);
}

/** The E2E settings commander parsed (undefined where not given). */
export function e2eSettings(a: Record<string, unknown>): Partial<E2ETaskConfig> {
  const n = (k: string) => a[k] as number | undefined;
  return {
    validationFraction: n('validationFraction'), splitSeed: n('splitSeed'), evalLimit: n('evalLimit'), numBeams: n('numBeams'),
    lengthPenalty: n('lengthPenalty'), noRepeatNgramSize: n('banRepeatNgram'), maxNewTokens: n('maxNewTokens'),
    labelSmoothing: n('labelSmoothing'), decodeBatchSize: n('decodeBatch'), samples: n('samples'),
  };
}

/** --horizon, --input-length, --features, --target, --train-fraction, --series-split, --gpt-layers: a series task's data and geometry. */
export function seriesOptions(cmd: Command): Command {
  return cmd
    .option('--horizon <n>', 'steps to forecast (default 96)', Number)
    .option('--input-length <n>', 'input window in steps (default 336)', Number)
    .option('--features <M|S>', 'M: every column in and out; S: the --target column only (default M)')
    .option('--target <column>', 'the column S forecasts (default OT)')
    .option('--train-fraction <x>', 'train on the first fraction of the training windows, in (0, 1] (few-shot; default 1)', Number)
    .option('--series-split <ett-hour|ett-minute|ratio>', 'train/val/test rows: 12/4/4 months (ETTh*, ETTm* files, the default for them) or 70/10/20 (default for other files)')
    .option('--gpt-layers <n>', 'GPT-2 blocks kept when building the forecaster from a GPT-2 checkpoint (default min(6, n_layer))', Number)
    .option('--label-column <name>', 'anomaly: the 0/1 anomaly column; classify-series: the class column (default label)')
    .option('--id-column <name>', 'classify-series: the column naming the series each row belongs to (default id)')
    .option('--anomaly-ratio <pct>', 'anomaly: expected percentage of anomalous rows; the threshold is that percentile of the validation scores (default 1)', Number)
    .option('--mask-ratio <x>', 'impute: share of values hidden, in (0, 1) (default 0.25)', Number)
    .option('--season <n>', 'forecast-short: seasonal period of MASE and Naive2 in steps (default 1)', Number);
}

/** The series flags as parsed by commander. */
export function seriesArgs(a: Record<string, unknown>): import('./series-data.js').SeriesOptions {
  return {
    data: a.data as string | undefined, horizon: a.horizon as number | undefined, inputLength: a.inputLength as number | undefined,
    features: a.features as string | undefined, target: a.target as string | undefined, trainFraction: a.trainFraction as number | undefined,
    split: a.seriesSplit as string | undefined, gptLayers: a.gptLayers as number | undefined,
    labelColumn: a.labelColumn as string | undefined, idColumn: a.idColumn as string | undefined, anomalyRatio: a.anomalyRatio as number | undefined,
    maskRatio: a.maskRatio as number | undefined, season: a.season as number | undefined,
  };
}
