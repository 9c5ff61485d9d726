/**
 * A pretraining run from start to checkpoint: tokenizer, data, model, the training loop with
 * periodic evaluation and saving, exact resume, and stopping at a step or time budget. Portable: it
 * reads the corpus and writes files only through the `PretrainData` and `PretrainStore` interfaces
 * (src/node/pretrain-files.ts implements them on a directory), so it runs anywhere the engine does.
 */
import type { TokenSource } from '../data/blocks.js';
import type { ByteLevelBPETokenizer } from '../tokenizer/tokenizer.js';
import { trainByteLevelBPE } from '../tokenizer/train.js';
import { decodeTrainingState, encodeTrainingState } from './checkpoint.js';
import { metricsLine, perplexity, truncateMetrics, type MetricsRecord } from './metrics.js';
import { checkpointReadme, type PretrainSummary } from './model-card.js';
import { PRETRAIN_DEFAULTS, PretrainTask, specialTokensFor, validatePretrainConfig, type PretrainConfig, type PretrainHostState, type PretrainModel } from './pretrain.js';
import { formatDuration, ProgressBar } from './progress.js';
import { cooldownStart } from './schedule.js';
import { Trainer } from './trainer.js';
import type { StateValue } from '../nn/module.js';
import type { PolarityLexicon } from './polarity.js';

/** Where a run keeps what it writes: the checkpoint, the resumable state, metrics and README. */
export interface PretrainStore {
  /** The tokenizer an earlier session of this run saved, or null. */
  loadTokenizer(): Promise<ByteLevelBPETokenizer | null>;
  saveTokenizer(tokenizer: ByteLevelBPETokenizer): Promise<void>;
  /** The model checkpoint (config and weights) that users load. */
  saveModel(model: PretrainModel): Promise<void>;
  readState(): Promise<Uint8Array | null>;
  writeState(bytes: Uint8Array): Promise<void>;
  removeState(): Promise<void>;
  /** metrics.jsonl: the whole text ('' if none), replaced, or appended to. */
  readMetrics(): Promise<string>;
  writeMetrics(text: string): Promise<void>;
  appendMetrics(text: string): Promise<void>;
  writeReadme(text: string): Promise<void>;
}

/** Token streams of both splits: each document's ids followed by the separator. */
export interface EncodedCorpus {
  train: TokenSource;
  validation: TokenSource;
  trainDocs: number;
  validationDocs: number;
  /** Lines for the log (e.g. what deduplication removed). */
  notes: string[];
  /** Releases file handles. */
  close(): void;
}

/** The corpus of a run, split by document; the validation split is never trained on (tokenizer included). */
export interface PretrainData {
  /** How the corpus is named in logs and the README (e.g. `sotu,brown`). */
  readonly name: string;
  /** Licence of each part, for the README. */
  readonly licences: readonly string[];
  /** The training split's texts, read lazily (for the tokenizer). */
  trainTexts(): Iterable<string>;
  /** Both splits encoded with `tokenizer`, `separator` after every document (may be cached between sessions). */
  encode(tokenizer: ByteLevelBPETokenizer, separator: number): Promise<EncodedCorpus>;
}

export interface PretrainRunOptions {
  config: Partial<PretrainConfig>;
  data: PretrainData;
  store: PretrainStore;
  /** Continue from the saved training state exactly (same config required). */
  resume?: boolean;
  /** Stop (with a resumable training state) after this many steps; the schedule still spans `steps`. */
  stopAfter?: number;
  /**
   * Time budget of this session in minutes, tokenizer and data preparation included: once it is
   * used up the run stops after the current step and saves a resumable state, so a long run ends
   * at a planned time with a checkpoint. The schedule still spans `steps`.
   */
  minutes?: number;
  /** Keep the training state after the run completes. */
  keepState?: boolean;
  /** Progress and messages. */
  write: (text: string) => void;
  /** Rewrite the progress line in place. */
  tty?: boolean;
  /** The command line to record in the README. */
  command: string;
  /** Checkpoint name for the README title (default `<arch>`). */
  name?: string;
  /**
   * Use this tokenizer instead of training one (e.g. the tokenizer of an earlier run on the same
   * corpus); it must have the architecture's special tokens. Ignored on resume.
   */
  tokenizer?: ByteLevelBPETokenizer;
  /**
   * Continued pretraining: the model starts from these weights (a checkpoint of the same
   * architecture and shape, loaded strictly) instead of its seeded init, e.g. to adapt a base model
   * to a domain's text. `source` names the checkpoint in errors and the README. The weights are not
   * read on resume (the training state holds them), so a resumed run may pass `source` alone: the
   * README still names where the run started.
   */
  init?: { weights?: Map<string, StateValue>; source: string };
  /** The word-polarity lexicon that `config.polarityLexicon` names (sentiment-knowledge pretraining; src/train/polarity.ts). */
  lexicon?: PolarityLexicon;
  /** Milliseconds clock (default performance.now). */
  now?: () => number;
}

/** Runs (or resumes) pretraining; returns where it stopped and the last validation figures. */
export async function runPretrain(opts: PretrainRunOptions): Promise<PretrainSummary> {
  const now = opts.now ?? (() => performance.now());
  const sessionStart = now();
  const { write, store, data } = opts;
  if (opts.minutes !== undefined && !(opts.minutes > 0)) throw new Error(`pretrain: minutes = ${opts.minutes} must be > 0`);
  const deadline = opts.minutes !== undefined ? sessionStart + opts.minutes * 60_000 : Infinity;
  const fields = Object.fromEntries(Object.entries(opts.config).filter(([k, v]) => k in PRETRAIN_DEFAULTS && v !== undefined));
  const config = validatePretrainConfig({ ...PRETRAIN_DEFAULTS, ...fields });

  // The tokenizer is always used as read back from the store, so a resumed run encodes exactly as the first.
  if (!opts.resume && opts.tokenizer) {
    for (const t of specialTokensFor(config.arch)) opts.tokenizer.requireId(typeof t === 'string' ? t : t.content, `${config.arch} pretraining (--tokenizer)`);
    await store.saveTokenizer(opts.tokenizer);
    write(`tokenizer: ${opts.tokenizer.vocabSize} tokens, given\n`);
  } else if (!opts.resume) {
    const t0 = now();
    const trained = trainByteLevelBPE(data.trainTexts(), { vocabSize: config.vocabSize, specialTokens: specialTokensFor(config.arch) });
    await store.saveTokenizer(trained);
    write(`tokenizer: ${trained.vocabSize} tokens trained in ${formatDuration((now() - t0) / 1000)}\n`);
  }
  const tokenizer = await store.loadTokenizer();
  if (!tokenizer) throw new Error('--resume: no tokenizer saved for this run; start without --resume');
  const t1 = now();
  const sep = tokenizer.requireId(config.arch === 'gpt2' ? '<|endoftext|>' : '</s>', `${config.arch} pretraining`);
  const corpus = await data.encode(tokenizer, sep);
  for (const note of corpus.notes) write(note + '\n');
  if (opts.init && config.unigramBias) throw new Error('pretrain: unigramBias sets the LM head bias of a fresh model; drop it when starting from a checkpoint (init)');
  let task: PretrainTask;
  try {
    task = new PretrainTask(config, tokenizer, corpus.train, corpus.validation, { lexicon: opts.lexicon });
  } catch (err) {
    corpus.close();
    throw err;
  }
  if (opts.init && !opts.resume) {
    try {
      if (!opts.init.weights) throw new Error(`pretrain: init ${opts.init.source} has no weights; they are needed unless the run resumes`);
      task.model.loadStateDict(opts.init.weights, { strict: true, source: opts.init.source });
    } catch (err) {
      task.dispose();
      corpus.close();
      throw err;
    }
    write(`weights: from ${opts.init.source}\n`);
  }
  write(`data ${data.name}: ${corpus.trainDocs} training / ${corpus.validationDocs} validation documents, ` +
    `${task.train.source.length} / ${task.validation.source.length} tokens (${task.train.count} blocks of ${config.seq}), ready in ${formatDuration((now() - t1) / 1000)}\n`);
  write(`model: ${config.arch}, ${task.model.numParameters()} parameters; ${task.tokensPerStep} tokens per step\n`);
  if (task.polarity) {
    const t = task.polarity.matcher;
    const skipped = t.lexiconNegators === 1 ? '1 lexicon word is a negator, not a target' : `${t.lexiconNegators} lexicon words are negators, not targets`;
    const negation = t.negationScope > 0 ? `; labels flip within ${t.negationScope} words after a negator (${t.negators} negators; ${skipped})` : '';
    write(`polarity lexicon ${config.polarityLexicon}: ${t.words} of ${t.lexiconWords} words encoded (${t.singleTokenWords} are one token after a space), ` +
      `masked with probability ${config.polarityMask}; polarity loss weight ${config.polarityWeight}${negation}\n`);
  }

  let step = 0;
  let tokensSeen = 0;
  let lossSum = 0;
  let lossN = 0;
  let priorSeconds = 0;
  if (opts.resume) {
    const bytes = await store.readState();
    if (!bytes) throw new Error('--resume: no training state saved for this run; start without --resume');
    const s = decodeTrainingState(bytes, task.trainedParameters, task.optimizer);
    const saved = s.extra.config as PretrainConfig;
    // With 'wsd' decay the steps may be re-planned while both schedules are still before their cooldown:
    // every learning rate used so far is the peak in both, so the run equals one planned that way from the start.
    // (a field missing from an older state has its default value)
    const replan = config.decay === 'wsd' && saved.decay === 'wsd' && saved.steps !== config.steps &&
      s.step < Math.min(cooldownStart(task.schedule), cooldownStart({ ...task.schedule, total: saved.steps, warmup: Math.min(saved.warmup, saved.steps) }));
    const differs = (Object.keys(config) as (keyof PretrainConfig)[])
      .filter((k) => !['evalEvery', 'saveEvery', 'logEvery'].includes(k) && !(k === 'steps' && replan) && (saved[k] ?? PRETRAIN_DEFAULTS[k]) !== config[k]);
    if (differs.length) throw new Error(`--resume: options differ from the saved run (${differs.map((k) => `${k}: ${saved[k]} -> ${config[k]}`).join(', ')}); use the same options`);
    task.restoreHostState(s.extra.host as PretrainHostState);
    // the partial mean of the current log interval, so the resumed log matches an uninterrupted one
    ({ lossSum, lossN } = s.extra.logInterval as { lossSum: number; lossN: number });
    ({ step, tokensSeen } = s);
    priorSeconds = s.elapsedSeconds;
    await store.writeMetrics(truncateMetrics(await store.readMetrics(), step));
    write(`resumed at step ${step}${replan ? ` (re-planned: ${saved.steps} -> ${config.steps} steps, before the cooldown)` : ''}\n`);
  } else {
    await store.writeMetrics('');
  }
  const log = (r: MetricsRecord) => store.appendMetrics(metricsLine(r));
  await log({ type: opts.resume ? 'resume' : 'start', step, config });

  const loopStart = now();
  const startStep = step;
  const trainSeconds = () => priorSeconds + (now() - loopStart) / 1000;
  const saveState = async (at: number) => {
    await store.saveModel(task.model);
    const extra = { config, host: task.hostState(), logInterval: { lossSum, lossN } };
    await store.writeState(encodeTrainingState(task.trainedParameters, task.optimizer, { step: at, tokensSeen, elapsedSeconds: trainSeconds(), extra }));
    await log({ type: 'save', step: at });
  };
  const bar = new ProgressBar({ total: config.steps, start: step, write, tty: opts.tty, now, deadline });
  let last = { loss: NaN, baseline: NaN, tokens: 0, step: -1 };
  const evaluate = async (at: number) => {
    const r = task.evaluate();
    last = { ...r, step: at };
    const pol = r.polarity ? { polarity_acc: r.polarity.accuracy, polarity_loss: r.polarity.loss, polarity_tokens: r.polarity.tokens } : {};
    await log({ type: 'eval', step: at, val_loss: r.loss, val_ppl: perplexity(r.loss), baseline_loss: r.baseline, baseline_ppl: perplexity(r.baseline), val_tokens: r.tokens, ...pol });
    bar.log(`step ${at}: validation loss ${r.loss.toFixed(4)} (ppl ${perplexity(r.loss).toFixed(1)}), unigram baseline ${r.baseline.toFixed(4)} (ppl ${perplexity(r.baseline).toFixed(1)})` +
      (r.polarity ? `; polarity ${(100 * r.polarity.accuracy).toFixed(1)}% of ${r.polarity.tokens} masked sentiment tokens` : ''));
  };

  let stopAt = Math.min(config.steps, opts.stopAfter ?? config.steps);
  let timeUp = false;
  const trainer = new Trainer({
    optimizer: task.optimizer,
    schedule: task.schedule,
    loss: () => task.trainLoss(),
    accumulate: config.accumulate,
    clipNorm: 1.0,
    afterStep: async ({ step: s, loss, lr }) => {
      tokensSeen += task.tokensPerStep;
      lossSum += loss;
      lossN++;
      bar.update({ step: s, loss, lr, tokensPerStep: task.tokensPerStep });
      if (s % config.logEvery === 0 || s === config.steps) {
        const secs = (now() - loopStart) / 1000;
        await log({ type: 'train', step: s, loss: lossSum / lossN, lr, tokens: tokensSeen, tokens_per_sec: ((s - startStep) * task.tokensPerStep) / secs, elapsed_s: trainSeconds() });
        lossSum = lossN = 0;
      }
      if (s < stopAt && now() >= deadline) {
        timeUp = true;
        stopAt = s;
      }
      if (s % config.evalEvery === 0 || s === config.steps) await evaluate(s);
      if (s % config.saveEvery === 0 || s === stopAt) await saveState(s);
    },
  });
  // One step per call, so the time budget can end the run between steps.
  for (let s = step; s < stopAt; s++) await trainer.run(s, s + 1);
  bar.finish();
  if (timeUp) write(`time budget of ${opts.minutes} minutes used up: stopping at step ${stopAt} of ${config.steps}\n`);
  if (last.step !== stopAt) await evaluate(stopAt);

  const complete = stopAt === config.steps;
  const loopSeconds = (now() - loopStart) / 1000;
  const summary: PretrainSummary = {
    step: stopAt, complete, tokensSeen, trainSeconds: trainSeconds(),
    tokensPerSecond: loopSeconds > 0 ? ((stopAt - startStep) * task.tokensPerStep) / loopSeconds : 0,
    valLoss: last.loss, baselineLoss: last.baseline, valTokens: last.tokens,
  };
  if (stopAt === startStep) await saveState(stopAt); // nothing ran (already complete): still leave consistent files
  if (complete) {
    await log({ type: 'final', step: stopAt, val_loss: summary.valLoss, val_ppl: perplexity(summary.valLoss), baseline_loss: summary.baselineLoss,
      baseline_ppl: perplexity(summary.baselineLoss), tokens: tokensSeen, train_seconds: summary.trainSeconds, tokens_per_sec: summary.tokensPerSecond });
  }
  await store.writeReadme(checkpointReadme({
    name: opts.name, config, corpus: data.name, licences: data.licences, command: opts.command, summary,
    parameters: task.model.numParameters(), vocabSize: tokenizer.vocabSize, trainDocs: corpus.trainDocs, validationDocs: corpus.validationDocs,
    init: opts.init?.source,
    sessionSeconds: (now() - sessionStart) / 1000,
  }));
  if (complete && !opts.keepState) await store.removeState();
  write(`${complete ? 'done' : 'stopped'} at step ${stopAt}: validation loss ${summary.valLoss.toFixed(4)} (ppl ${perplexity(summary.valLoss).toFixed(1)}) ` +
    `vs unigram baseline ${summary.baselineLoss.toFixed(4)} (ppl ${perplexity(summary.baselineLoss).toFixed(1)}); ` +
    `${tokensSeen} tokens, ${Math.round(summary.tokensPerSecond)} tok/s, ${formatDuration(summary.trainSeconds)}\n`);
  task.dispose();
  corpus.close();
  return summary;
}
