/** Command-line options several commands share, spelled and described once. */
import type { Command } from 'commander';
import { setCliThreads } from './backend.js';
import { E2E_DEFAULTS, type E2ETaskConfig } from '../tasks/e2e.js';

/** --task, --datasets, --format: which classification data to read and how. */
export function taskOptions(cmd: Command): Command {
  return cmd
    .option('--task <name|path>', 'sentiment, sst2, cola, rte, sentiment-lm, a directory/TSV file, or e2e (with --data)', 'sentiment')
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

/** --data and the E2E task's split, decoding and loss settings (`--task e2e`). */
export function e2eOptions(cmd: Command): Command {
  const D = E2E_DEFAULTS;
  return cmd
    .option('--data <csv>', 'the E2E NLG CSV of --task e2e (header mr,ref; one row per reference)')
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
