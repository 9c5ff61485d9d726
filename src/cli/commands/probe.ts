/** Registers `wasmgrad probe`; the probe (src/cli/probe.ts) is loaded when the command runs. */
import type { Command } from 'commander';
import { PROBE_POOLINGS } from '../../train/probe-pooling.js';
import { taskOptions } from '../options.js';
import type { ProbeCommandOptions } from '../probe.js';

/** Adds `probe` to the CLI. */
export function registerProbe(program: Command): void {
  const cmd = program
    .command('probe')
    .description('linear probe (L2 logistic regression, C by cross-validation) on frozen pooled features, or the bag-of-words baseline, on a binary task');
  taskOptions(cmd)
    .option('--model <name|dir>', 'checkpoint directory or bundled name (tiny-roberta, tiny-gpt2, ...)')
    .option('--method <probe|bow>', 'probe: frozen features of --model; bow: binary word presence (no model)', 'probe')
    .option('--pool <list>', `poolings to probe: ${PROBE_POOLINGS.join(', ')}`, 'mean,first')
    .option('--layers <list>', "hidden states to probe: last, all, or a list of 0..layers (0 = the embeddings' output)", 'last')
    .option('--folds <n>', 'cross-validation folds on the training split for choosing C', Number, 5)
    .option('--max-length <n>', 'token cap per text (default: the model maximum)', Number)
    .option('--json <file>', 'also write the rows as JSON')
    .action(async (o: ProbeCommandOptions) => {
      const { runProbeCommand } = await import('../probe.js');
      await runProbeCommand(o);
    });
}
