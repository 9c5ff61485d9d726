/**
 * `wasmgrad pretrain`: trains a byte-level BPE tokenizer and a small GPT-2 (causal LM) or RoBERTa
 * (masked LM) from scratch on a corpus, and writes a Hugging Face-style checkpoint directory
 * (config.json, model.safetensors, tokenizer files, metrics.jsonl, README.md). Periodic checkpoints
 * add `training_state/state.safetensors` (weights, AdamW moments, generators, data cursor) so
 * `--resume` continues bit for bit; it is removed once the run completes. The run itself is
 * src/train/pretrain-run.ts; the files and corpora are src/node/pretrain-files.ts, loaded when the
 * command runs.
 */
import type { Command } from 'commander';
import { ensureBackend, setCliThreads } from '../backend.js';
import { CORPUS_SOURCES } from '../../node/corpora.js';
import type { PretrainToDirectoryOptions } from '../../node/pretrain-files.js';
import { PRETRAIN_DEFAULTS } from '../../train/pretrain-config.js';

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`expected an integer, got ${JSON.stringify(v)}`);
  return n;
};
const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`expected a number, got ${JSON.stringify(v)}`);
  return n;
};

/** Adds `pretrain` to the CLI. */
export function registerPretrain(program: Command): void {
  const d = PRETRAIN_DEFAULTS;
  program
    .command('pretrain')
    .description('train a BPE tokenizer and a small RoBERTa (masked LM) or GPT-2 (causal LM) from scratch, or continue one (--init); writes a Hugging Face checkpoint directory')
    .requiredOption('--arch <arch>', 'roberta or gpt2')
    .requiredOption('--out <dir>', 'checkpoint directory (config.json, model.safetensors, tokenizer files, metrics.jsonl, README.md)')
    .option('--corpus <list>', `comma-separated corpora (${Object.keys(CORPUS_SOURCES).join(', ')}) and/or directories of .txt files (one document each)`, 'sotu')
    .option('--vocab <n>', 'BPE vocabulary size', int, d.vocabSize)
    .option('--layers <n>', 'transformer layers', int, d.layers)
    .option('--d-model <n>', 'hidden size', int, d.dModel)
    .option('--heads <n>', 'attention heads', int, d.heads)
    .option('--ffn <n>', 'feed-forward width', int, d.ffn)
    .option('--seq <n>', 'tokens per block', int, d.seq)
    .option('--batch <n>', 'blocks per micro-batch', int, d.batch)
    .option('--accumulate <n>', 'gradient accumulation: micro-batches per optimizer step', int, d.accumulate)
    .option('--steps <n>', 'total optimizer steps (the LR schedule spans them)', int, d.steps)
    .option('--lr <x>', 'peak learning rate (AdamW)', num, d.lr)
    .option('--warmup <n>', 'linear warmup steps', int, d.warmup)
    .option('--decay <kind>', "after warmup: cosine, linear or constant to 10% of the peak, or wsd (hold the peak, decay linearly over the last --cooldown; lets --resume re-plan --steps before the cooldown)", d.decay)
    .option('--cooldown <f>', 'wsd: fraction of the post-warmup steps spent decaying', num, d.cooldown)
    .option('--seed <n>', 'seed for the split, init, data order and masking', int, d.seed)
    .option('--eval-every <n>', 'evaluate every n steps', int, d.evalEvery)
    .option('--save-every <n>', 'checkpoint every n steps', int, d.saveEvery)
    .option('--log-every <n>', 'write a train record to metrics.jsonl every n steps', int, d.logEvery)
    .option('--eval-blocks <n>', 'validation blocks per evaluation', int, d.evalBlocks)
    .option('--dropout <p>', 'dropout probability', num, d.dropout)
    .option('--resume', 'continue from <out>/training_state exactly (same options)')
    .option('--stop-after <n>', 'stop after this step, keeping the training state for --resume', int)
    .option('--minutes <m>', 'time budget of this session: stop with a checkpoint and a resumable state once it is used up', num)
    .option('--keep-state', 'keep training_state/ after the run completes')
    .option('--weights <dtype>', 'model.safetensors dtype: f32 or f16 (half the size; the training state stays f32)', 'f32')
    .option('--unigram-bias', "RoBERTa: start the LM head's bias at the log unigram frequencies (skips the unigram plateau)")
    .option('--polarity-lexicon <names|files>', 'RoBERTa, sentiment-knowledge pretraining (after SKEP): mask this lexicon\'s words more often and predict their polarity with a linear head; afinn (AFINN-165, sentiment package), vader (VADER, vader-sentiment package) or a JSON file of word -> valence; a comma list merges several (the first to rate a word wins)')
    .option('--polarity-weight <x>', 'weight of the polarity loss next to the masked-LM loss', num, d.polarityWeight)
    .option('--polarity-mask <p>', 'selection probability of lexicon tokens (other tokens keep 0.15)', num, d.polarityMask)
    .option('--polarity-targets <which>', "where the polarity head learns: selected (the masked/selected lexicon tokens, as SKEP) or all (every lexicon token)", d.polarityTargets)
    .option('--polarity-negation <words>', "negation-aware labels: a lexicon word within this many words after a negator (not, never, don't...; same clause) takes the opposite polarity; 0 is off", int, d.polarityNegation)
    .option('--tokenizer <dir>', 'use the tokenizer in <dir> instead of training one (e.g. from an earlier run on the same corpus)')
    .option('--init <dir>', "continued pretraining: start from this checkpoint's weights (same --arch) instead of a fresh init, e.g. to adapt a base model to your domain's text; its config sets the shape and its tokenizer is used")
    .option('--no-dedup', 'keep repeated paragraphs (default: exact paragraph-level deduplication)')
    .option('--threads <n|auto>', 'threads the WebAssembly kernels run on (default 1; auto: the available cores); results are identical for any count')
    .action(async (o: Record<string, unknown>, cmd: Command) => {
      if (o.init !== undefined) {
        // the shape comes from the checkpoint: only shape options typed on the command line are compared with it
        for (const name of ['vocab', 'layers', 'dModel', 'heads', 'ffn', 'seq']) if (cmd.getOptionValueSource(name) === 'default') delete o[name];
      }
      const { vocab, weights, threads, ...rest } = o;
      setCliThreads(threads as string | undefined);
      await ensureBackend();
      const { pretrainToDirectory } = await import('../../node/pretrain-files.js');
      const w = String(weights).toUpperCase();
      if (w !== 'F32' && w !== 'F16') throw new Error(`--weights ${String(weights)}: use f32 or f16`);
      await pretrainToDirectory({ ...rest, vocabSize: vocab, weights: w } as unknown as PretrainToDirectoryOptions);
    });
}
