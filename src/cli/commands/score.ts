/** Registers `wasmgrad score`; the scorer (src/cli/score.ts) is loaded when the command runs. */
import type { Command } from 'commander';
import type { RefsFormat } from '../score.js';

/** Adds `score` to the CLI. */
export function registerScore(program: Command): void {
  program
    .command('score')
    .description("score generated texts with the E2E NLG challenge's metrics (BLEU, NIST, METEOR, ROUGE-L, CIDEr)")
    .requiredOption('--refs <file>', 'references: one per line with a blank line between instances, or an E2E CSV (mr,ref)')
    .requiredOption('--hyps <file>', 'system outputs, one line per instance in the references\' order')
    .option('--refs-format <format>', 'auto (CSV when the name ends in .csv), text or csv', 'auto')
    .option('--json', 'print the scores as JSON')
    .option('--no-synonyms', "METEOR without its WordNet synonym stage (exact and stem matches only)")
    .action(async (o: { refs: string; hyps: string; refsFormat: RefsFormat; json?: boolean; synonyms: boolean }) => {
      const { runScore } = await import('../score.js');
      await runScore({ refs: o.refs, hyps: o.hyps, refsFormat: o.refsFormat, json: o.json, synonyms: o.synonyms });
    });
}
