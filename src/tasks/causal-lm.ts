/**
 * Causal language modelling as a fine-tuning {@link Task}: each example is a prompt and its
 * continuation; training sees `prompt + continuation` with the prompt (and padding) masked out of
 * the loss, so the model learns to continue, not to repeat the prompt. Evaluation reports the
 * per-token loss and perplexity of the continuations, and decodes (greedy or beam) from each prompt
 * to score the generated tokens against the reference (token accuracy, exact match).
 */
import { generate, type CausalLM } from '../models/generate/index.js';
import { tensor } from '../ops/create.js';
import { crossEntropy } from '../ops/nn.js';
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBatchOptions } from './batches.js';
import { ExampleOrder } from './order.js';
import type { Task, TaskEval, TaskModel, TrainBatches } from './task.js';

/** Label of positions the loss skips (the prompt, padding). */
export const IGNORE = -100;

/** A prompt and the tokens that should follow it (ids, specials included). */
export interface PromptExample {
  prompt: number[];
  continuation: number[];
}

/** Right-padded rows of prompt + continuation; labels are the ids on continuation tokens, -100 elsewhere. */
export interface CausalBatch {
  ids: Int32Array;
  attentionMask: Int32Array;
  labels: Int32Array;
  batch: number;
  length: number;
  /** Which examples the rows are. */
  indices: number[];
}

export function collatePrompts(examples: readonly PromptExample[], indices: readonly number[], padId: number): CausalBatch {
  if (indices.length === 0) throw new Error('collatePrompts: no examples to batch');
  const length = Math.max(...indices.map((i) => examples[i].prompt.length + examples[i].continuation.length));
  const batch = indices.length;
  const ids = new Int32Array(batch * length).fill(padId);
  const attentionMask = new Int32Array(batch * length);
  const labels = new Int32Array(batch * length).fill(IGNORE);
  indices.forEach((i, row) => {
    const { prompt, continuation } = examples[i];
    const at = row * length;
    ids.set(prompt, at);
    ids.set(continuation, at + prompt.length);
    attentionMask.fill(1, at, at + prompt.length + continuation.length);
    labels.set(continuation, at + prompt.length);
  });
  return { ids, attentionMask, labels, batch, length, indices: [...indices] };
}

/**
 * Splits each token sequence into a prompt (the first `promptFraction`, at least one token) and its
 * continuation, after `bos`; `eos` ends each continuation. Sequences are cut to `maxLength` tokens
 * in all; those too short to leave a continuation token are skipped.
 */
export function promptExamples(sequences: readonly number[][], o: { bos: number; eos: number; maxLength: number; promptFraction?: number }): PromptExample[] {
  const frac = o.promptFraction ?? 0.5;
  if (!(frac > 0 && frac < 1)) throw new Error(`promptExamples: promptFraction ${frac} must be in (0, 1)`);
  if (!(Number.isInteger(o.maxLength) && o.maxLength >= 4)) throw new Error(`promptExamples: maxLength ${o.maxLength} must be an integer >= 4`);
  const out: PromptExample[] = [];
  for (const seq of sequences) {
    const body = seq.slice(0, o.maxLength - 2); // room for bos and eos
    if (body.length < 2) continue;
    const cut = Math.min(body.length - 1, Math.max(1, Math.round(frac * body.length)));
    out.push({ prompt: [o.bos, ...body.slice(0, cut)], continuation: [...body.slice(cut), o.eos] });
  }
  return out;
}

export interface CausalEval extends TaskEval {
  /** exp(loss): loss is the mean cross-entropy per continuation token. */
  perplexity: number;
  /** Fraction of reference tokens the decoded continuation reproduces at the same position (first `maxNewTokens`). */
  tokenAccuracy: number;
  /** Fraction of examples whose decoded tokens equal the reference's first `maxNewTokens`. */
  exactMatch: number;
  /** Continuation tokens the loss averages over. */
  tokens: number;
}

export interface CausalLMTaskOptions {
  name: string;
  train: readonly PromptExample[];
  validation: readonly PromptExample[];
  padId: number;
  /** Tokens decoded per prompt in evaluation (default 8; fewer when the reference is shorter). */
  maxNewTokens?: number;
  /** Greedy (default) or beam search with `numBeams` beams. */
  decoding?: 'greedy' | 'beam';
  numBeams?: number;
  evalBatchSize?: number;
  /** Label smoothing of the training loss, in [0, 1) (default 0); evaluation losses are unsmoothed. */
  labelSmoothing?: number;
}

export class PromptBatches implements TrainBatches<CausalBatch> {
  private readonly order: ExampleOrder;

  constructor(private readonly examples: readonly PromptExample[], batchSize: number, seed: number, private readonly padId: number) {
    checkBatchOptions('PromptBatches', examples.length, { batchSize, padId });
    this.order = new ExampleOrder(examples.length, batchSize, seed);
  }

  get stepsPerEpoch(): number {
    return this.order.stepsPerEpoch;
  }

  batchAt(step: number): CausalBatch {
    return collatePrompts(this.examples, this.order.indicesAt(step, 'PromptBatches'), this.padId);
  }
}

/**
 * Cross-entropy of the continuation tokens (mean or sum over them): logits at t predict ids[t + 1].
 * `labelSmoothing` mixes the one-hot target with a uniform one (training recipes; evaluation uses 0).
 */
export function causalLoss(model: TaskModel, b: CausalBatch, reduction: 'mean' | 'sum', labelSmoothing = 0): Tensor {
  const ids = tensor(b.ids, [b.batch, b.length], { dtype: 'int32' });
  const attentionMask = tensor(b.attentionMask, [b.batch, b.length], { dtype: 'int32' });
  // Position t predicts label t + 1; the last position predicts nothing (ignored). Shifting the
  // targets rather than slicing the logits keeps two (B, T, V) buffers out of the step: the slice's
  // copy, and the zero-padded gradient its backward would scatter into.
  const shifted = new Int32Array(b.batch * b.length).fill(IGNORE);
  for (let r = 0; r < b.batch; r++) shifted.set(b.labels.subarray(r * b.length + 1, (r + 1) * b.length), r * b.length);
  const targets = tensor(shifted, [b.batch, b.length], { dtype: 'int32' });
  // A model that can skip the (B, T, V) logits (GPT-2's chunked head) does; the loss is the same.
  if (model.lmLoss) return model.lmLoss(ids, targets, { attentionMask, ignoreIndex: IGNORE, reduction, labelSmoothing });
  const { logits } = model.forward(ids, { attentionMask }); // (B, T, V)
  return crossEntropy(logits, targets, { ignoreIndex: IGNORE, reduction, labelSmoothing }); // (B, T, V) vs (B, T)
}

export class CausalLMTask implements Task<CausalBatch, CausalEval> {
  readonly kind = 'causal-lm' as const;
  readonly name: string;
  readonly metric = 'token_accuracy';
  readonly metricNames = ['perplexity', 'token_accuracy', 'exact_match'] as const;
  readonly higherIsBetter = true;

  constructor(readonly o: CausalLMTaskOptions) {
    this.name = o.name;
    if (o.decoding === 'beam' && !(Number.isInteger(o.numBeams) && o.numBeams! >= 2)) {
      throw new Error(`CausalLMTask: beam decoding needs numBeams >= 2, got ${o.numBeams}`);
    }
    const s = o.labelSmoothing ?? 0;
    if (!(s >= 0 && s < 1)) throw new Error(`CausalLMTask: labelSmoothing ${s} must be in [0, 1)`);
  }

  get trainExamples(): number {
    return this.o.train.length;
  }

  get validationExamples(): number {
    return this.o.validation.length;
  }

  trainBatches(o: { batchSize: number; seed: number }): TrainBatches<CausalBatch> {
    return new PromptBatches(this.o.train, o.batchSize, o.seed, this.o.padId);
  }

  *validationBatches(): Iterable<CausalBatch> {
    const n = this.o.validation.length;
    if (n === 0) throw new Error(`${this.name}: no validation examples`);
    const size = this.o.evalBatchSize ?? 64;
    for (let start = 0; start < n; start += size) {
      const idx = Array.from({ length: Math.min(size, n - start) }, (_, k) => start + k);
      yield collatePrompts(this.o.validation, idx, this.o.padId);
    }
  }

  loss(model: TaskModel, b: CausalBatch): Tensor {
    return causalLoss(model, b, 'mean', this.o.labelSmoothing ?? 0);
  }

  size(b: CausalBatch): number {
    return b.attentionMask.reduce((n, v) => n + v, 0);
  }

  evaluate(model: TaskModel, batches: Iterable<CausalBatch>): CausalEval {
    const wasTraining = model.training;
    model.eval();
    let lossSum = 0;
    let tokens = 0;
    let matched = 0;
    let compared = 0;
    let exact = 0;
    let examples = 0;
    const maxNew = this.o.maxNewTokens ?? 8;
    try {
      for (const b of batches) {
        lossSum += tidy(() => noGrad(() => causalLoss(model, b, 'sum').item()));
        tokens += b.labels.reduce((n, v) => n + (v === IGNORE ? 0 : 1), 0);
        const refs = b.indices.map((i) => this.o.validation[i]);
        const k = Math.min(maxNew, ...refs.map((e) => e.continuation.length));
        const { sequences } = generate(model as unknown as CausalLM, refs.map((e) => e.prompt), {
          maxNewTokens: k, strategy: this.o.decoding === 'beam' ? 'beam' : 'greedy', numBeams: this.o.numBeams,
        });
        refs.forEach((e, r) => {
          const got = sequences[r].slice(e.prompt.length, e.prompt.length + k);
          let same = 0;
          for (let t = 0; t < k; t++) if (got[t] === e.continuation[t]) same++;
          matched += same;
          compared += k;
          if (same === k) exact++;
        });
        examples += b.batch;
      }
    } finally {
      model.train(wasTraining);
    }
    if (examples === 0) throw new Error(`${this.name}: no evaluation examples`);
    const loss = lossSum / Math.max(1, tokens);
    const tokenAccuracy = matched / Math.max(1, compared);
    const exactMatch = exact / examples;
    const perplexity = Math.exp(loss);
    return {
      loss, examples, tokens, perplexity, tokenAccuracy, exactMatch,
      metrics: { perplexity, token_accuracy: tokenAccuracy, exact_match: exactMatch },
    };
  }

  describe(e: CausalEval): string {
    return `val loss ${e.loss.toFixed(4)} per token, perplexity ${e.perplexity.toFixed(2)}, token accuracy ${(100 * e.tokenAccuracy).toFixed(2)}%, exact match ${(100 * e.exactMatch).toFixed(2)}%`;
  }

  record(e: CausalEval): Record<string, number> {
    return { val_loss: e.loss, perplexity: e.perplexity, token_accuracy: e.tokenAccuracy, exact_match: e.exactMatch, examples: e.examples, tokens: e.tokens };
  }
}
