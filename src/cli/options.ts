/** Command-line options several commands share, spelled and described once. */
import type { Command } from 'commander';
import { setCliThreads } from './backend.js';

/** --task, --datasets, --format: which classification data to read and how. */
export function taskOptions(cmd: Command): Command {
  return cmd
    .option('--task <name|path>', 'sentiment, sst2, cola, rte, or a directory/TSV file', 'sentiment')
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
