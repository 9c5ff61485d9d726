/**
 * Data-to-text generation on E2E NLG data as a fine-tuning {@link Task}: the model reads a
 * linearised meaning representation (e2ePrompt) and writes the restaurant description. Training
 * pairs are (prompt, one reference) per CSV row, the prompt masked out of the loss (CausalLMTask's
 * batches and loss, optionally label-smoothed); evaluation decodes one output per held-out MR with
 * beam search on the KV cache (prompts batched with left padding) and scores the outputs with the
 * E2E challenge's five metrics against every reference of each MR.
 */
import { generate, type CausalLM } from '../models/generate/index.js';
import { scoreGeneration } from '../nlg/metrics/index.js';
import type { SynonymLookup } from '../nlg/metrics/synonyms.js';
import { e2ePrompt } from '../nlg/mr.js';
import type { E2EInstance } from '../nlg/e2e.js';
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { causalLoss, collatePrompts, IGNORE, PromptBatches, type CausalBatch, type PromptExample } from './causal-lm.js';
import type { Task, TaskEval, TaskGeneration, TaskModel, TrainBatches } from './task.js';
import { validateE2EConfig, type E2ETaskConfig } from './e2e-config.js';

export { E2E_DEFAULTS, resolveE2EConfig, validateE2EConfig, type E2ETaskConfig } from './e2e-config.js';

/** What the task needs of a tokenizer. */
export interface TextCodec {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

export interface E2ETaskOptions {
  name: string;
  train: readonly E2EInstance[];
  validation: readonly E2EInstance[];
  tokenizer: TextCodec;
  bos: number;
  eos: number;
  padId: number;
  /** Tokens per training pair at most (prompt + reference); also the model's positions for decoding. */
  maxLength: number;
  config: E2ETaskConfig;
  /** WordNet for METEOR's synonym stage (in Node: `loadWordNet()` from `wasmgrad/node`); without it METEOR runs exact and stem. */
  synonyms?: SynonymLookup;
}

/** A training batch (pairs), or an evaluation batch: one row per MR with its first reference, decoded up to `maxNewTokens`. */
export interface E2EBatch extends CausalBatch {
  maxNewTokens?: number;
}

export interface E2EEval extends TaskEval {
  /** Mean cross-entropy per token of each evaluated MR's first reference. */
  perplexity: number;
  generation: TaskGeneration;
  /** One output per evaluated MR, in order. */
  outputs: string[];
  /** The evaluated MRs, in order. */
  mrs: string[];
}

/** `[bos] + tokens of the linearised MR`. */
export function e2ePromptIds(mr: string, t: TextCodec, bos: number): number[] {
  return [bos, ...t.encode(e2ePrompt(mr))];
}

/**
 * Training pairs: one per reference, `' ' + ref + eos` after the prompt. A pair longer than
 * `maxLength` keeps its prompt and loses the end of its reference (and the eos); a prompt that leaves
 * fewer than 2 tokens is skipped and counted.
 */
export function e2ePairs(instances: readonly E2EInstance[], t: TextCodec, o: { bos: number; eos: number; maxLength: number }): { pairs: PromptExample[]; skipped: number; truncated: number } {
  const pairs: PromptExample[] = [];
  let skipped = 0;
  let truncated = 0;
  for (const inst of instances) {
    const prompt = e2ePromptIds(inst.mr, t, o.bos);
    for (const ref of inst.refs) {
      const room = o.maxLength - prompt.length;
      if (room < 2) {
        skipped++;
        continue;
      }
      const continuation = [...t.encode(' ' + ref), o.eos];
      if (continuation.length > room) truncated++;
      pairs.push({ prompt, continuation: continuation.slice(0, room) });
    }
  }
  return { pairs, skipped, truncated };
}

function describeDecoding(c: E2ETaskConfig): string {
  const search = c.numBeams > 1 ? `beam ${c.numBeams}, length penalty ${c.lengthPenalty}` : 'greedy';
  const ngram = c.noRepeatNgramSize > 0 ? `, no-repeat ${c.noRepeatNgramSize}-gram` : '';
  return `${search}${ngram}, at most ${c.maxNewTokens} new tokens`;
}

export class E2ETask implements Task<E2EBatch, E2EEval> {
  readonly kind = 'causal-lm' as const;
  readonly name: string;
  readonly metric = 'bleu';
  readonly higherIsBetter = true;
  readonly metricNames = ['bleu', 'nist', 'meteor', 'rougeL', 'cider', 'perplexity'] as const;
  readonly config: E2ETaskConfig;
  private readonly trainPairs: PromptExample[];
  /** Training rows left out / cut short by maxLength. */
  readonly skippedRows: number;
  readonly truncatedRows: number;
  /** The evaluated MRs (evalLimit of those whose prompt fits), their prompts, and how many held-out MRs did not fit. */
  private readonly evalSet: { inst: E2EInstance; prompt: number[]; first: PromptExample; cap: number }[];
  readonly skippedMRs: number;

  constructor(readonly o: E2ETaskOptions) {
    this.name = o.name;
    this.config = validateE2EConfig({ ...o.config });
    const c = this.config;
    const codec = o.tokenizer;
    const made = e2ePairs(o.train, codec, o);
    if (made.pairs.length === 0) {
      throw new Error(
        `${o.name}: no training pair fits in ${o.maxLength} tokens (${made.skipped} rows skipped: their prompts are too long); ` +
          'use a model with more positions or a larger --max-length',
      );
    }
    this.trainPairs = made.pairs;
    this.skippedRows = made.skipped;
    this.truncatedRows = made.truncated;
    const fits: E2ETask['evalSet'] = [];
    let skipped = 0;
    for (const inst of o.validation) {
      const prompt = e2ePromptIds(inst.mr, codec, o.bos);
      const cap = Math.min(c.maxNewTokens, o.maxLength - prompt.length);
      if (cap < 1) {
        skipped++;
        continue;
      }
      const first = e2ePairs([{ ...inst, refs: inst.refs.slice(0, 1) }], codec, o).pairs[0] ?? { prompt, continuation: [o.eos] };
      fits.push({ inst, prompt, first, cap });
    }
    this.skippedMRs = skipped;
    this.evalSet = c.evalLimit > 0 ? fits.slice(0, c.evalLimit) : fits;
    if (this.evalSet.length === 0) {
      throw new Error(`${o.name}: none of the ${o.validation.length} validation MRs leaves room to decode within ${o.maxLength} tokens; use a model with more positions`);
    }
  }

  get trainExamples(): number {
    return this.trainPairs.length;
  }

  /** MRs decoded at each evaluation. */
  get validationExamples(): number {
    return this.evalSet.length;
  }

  trainBatches(o: { batchSize: number; seed: number }): TrainBatches<E2EBatch> {
    return new PromptBatches(this.trainPairs, o.batchSize, o.seed, this.o.padId);
  }

  /**
   * Batches of `decodeBatchSize` MRs with the same decoding budget (so a prompt decodes the same
   * number of tokens whichever batch it lands in), in evaluation order within each budget.
   */
  *validationBatches(): Iterable<E2EBatch> {
    const byCap = new Map<number, number[]>();
    this.evalSet.forEach((e, i) => byCap.set(e.cap, [...(byCap.get(e.cap) ?? []), i]));
    const firsts = this.evalSet.map((e) => e.first);
    for (const [cap, idx] of [...byCap].sort((a, b) => b[0] - a[0])) {
      for (let s = 0; s < idx.length; s += this.config.decodeBatchSize) {
        yield { ...collatePrompts(firsts, idx.slice(s, s + this.config.decodeBatchSize), this.o.padId), maxNewTokens: cap };
      }
    }
  }

  loss(model: TaskModel, b: E2EBatch): Tensor {
    return causalLoss(model, b, 'mean', this.config.labelSmoothing);
  }

  size(b: E2EBatch): number {
    return b.attentionMask.reduce((n, v) => n + v, 0);
  }

  /** Decodes `prompts` (token ids) with the task's search settings; returns the new tokens of each, eos removed. */
  decode(model: CausalLM, prompts: number[][], maxNewTokens: number): number[][] {
    const c = this.config;
    const { sequences } = generate(model, prompts, {
      maxNewTokens, eosTokenId: this.o.eos,
      ...(c.numBeams > 1 ? { strategy: 'beam' as const, numBeams: c.numBeams, lengthPenalty: c.lengthPenalty } : { strategy: 'greedy' as const }),
      ...(c.noRepeatNgramSize > 0 ? { noRepeatNgramSize: c.noRepeatNgramSize } : {}),
    });
    return sequences.map((s, i) => {
      const out = s.slice(prompts[i].length);
      return out.at(-1) === this.o.eos ? out.slice(0, -1) : out;
    });
  }

  evaluate(model: TaskModel, batches: Iterable<E2EBatch>): E2EEval {
    const wasTraining = model.training;
    model.eval();
    const outputs: string[] = new Array(this.evalSet.length);
    let lossSum = 0;
    let tokens = 0;
    let generated = 0;
    let decodeMs = 0;
    try {
      for (const b of batches) {
        lossSum += tidy(() => noGrad(() => causalLoss(model, b, 'sum').item()));
        tokens += b.labels.reduce((n, v) => n + (v === IGNORE ? 0 : 1), 0);
        const t0 = performance.now();
        const news = this.decode(model as unknown as CausalLM, b.indices.map((i) => this.evalSet[i].prompt), b.maxNewTokens ?? this.config.maxNewTokens);
        decodeMs += performance.now() - t0;
        b.indices.forEach((i, r) => {
          generated += news[r].length;
          outputs[i] = this.o.tokenizer.decode(news[r]).trim();
        });
      }
    } finally {
      model.train(wasTraining);
    }
    const missing = outputs.findIndex((x) => x === undefined);
    if (outputs.length === 0 || missing >= 0) throw new Error(`${this.name}: evaluation batches must cover every evaluated MR (MR ${missing} was not decoded); pass task.validationBatches()`);
    const s = scoreGeneration(outputs, this.evalSet.map((e) => e.inst.refs), { synonyms: this.o.synonyms });
    const loss = lossSum / Math.max(1, tokens);
    const perplexity = Math.exp(loss);
    const scores = { bleu: s.bleu, nist: s.nist, meteor: s.meteor, rougeL: s.rougeL, cider: s.cider };
    const generation: TaskGeneration = {
      scores, instances: outputs.length, skipped: this.skippedMRs, decodeSeconds: decodeMs / 1000, generatedTokens: generated,
      decoding: describeDecoding(this.config),
      samples: this.evalSet.slice(0, this.config.samples).map((e, i) => ({ input: e.inst.mr, output: outputs[i], reference: e.inst.refs[0] })),
    };
    return {
      loss, examples: outputs.length, perplexity, generation, outputs, mrs: this.evalSet.map((e) => e.inst.mr),
      metrics: { ...scores, perplexity },
    };
  }

  describe(e: E2EEval): string {
    const g = e.generation;
    const s = g.scores;
    return `val loss ${e.loss.toFixed(4)} per token; ${g.instances} MRs decoded in ${g.decodeSeconds.toFixed(1)} s: BLEU ${s.bleu.toFixed(4)}, NIST ${s.nist.toFixed(3)}, ` +
      `METEOR ${s.meteor.toFixed(4)}, ROUGE-L ${s.rougeL.toFixed(4)}, CIDEr ${s.cider.toFixed(3)}`;
  }

  record(e: E2EEval): Record<string, number> {
    const g = e.generation;
    return { val_loss: e.loss, ...e.metrics, examples: e.examples, decode_seconds: g.decodeSeconds, generated_tokens: g.generatedTokens };
  }
}
