/**
 * Classification examples as model inputs: encoded once, then gathered into right-padded batches.
 * Padding is dynamic (to the longest sequence of each batch), so batches of short sentences stay cheap.
 * Plain Int32Arrays only: turning a batch into tensors is the caller's step.
 */
import { ExampleOrder, type ExampleCursor } from './order.js';
import type { PairLayoutOptions } from '../tokenizer/layout.js';
import type { ByteLevelBPETokenizer } from '../tokenizer/tokenizer.js';
import type { ClassificationExample } from './registry.js';

export type { ExampleCursor };

/** An example as token ids (specials included, not padded) and its label. */
export interface EncodedExample {
  ids: number[];
  label: number;
}

/** A batch in row-major (batch x length) layout, right-padded with the pad id. */
export interface ClassificationBatch {
  /** (batch, length) token ids. */
  ids: Int32Array;
  /** (batch, length): 1 on real tokens, 0 on padding. */
  attentionMask: Int32Array;
  /** (batch) class indices. */
  labels: Int32Array;
  /** Rows. */
  batch: number;
  /** Columns: the longest sequence in the batch. */
  length: number;
  /** Which examples the rows are (positions in the example list). */
  indices: number[];
}

/** The part of a tokenizer encoding needs (ByteLevelBPETokenizer, or a stand-in in tests). */
export type ExampleEncoder = Pick<ByteLevelBPETokenizer, 'encodeForRoberta' | 'encodePair'>;

export interface EncodeExamplesOptions {
  /** Longest encoding, special tokens included (the model's position limit); longer text is cut. */
  maxLength: number;
  /** Which text of a pair loses tokens when it is too long (default longest_first). */
  truncation?: PairLayoutOptions['truncation'];
}

/** RoBERTa layouts: `<s> text </s>`, or `<s> a </s></s> b </s>` for pairs; no padding yet. */
export function encodeExamples(tokenizer: ExampleEncoder, examples: readonly ClassificationExample[], opts: EncodeExamplesOptions): EncodedExample[] {
  return examples.map((e, i) => {
    if (!(Number.isInteger(e.label) && e.label >= 0)) throw new Error(`encodeExamples: example ${i} has label ${e.label}; labels are class indices (integers >= 0)`);
    const { ids } =
      e.textPair === undefined
        ? tokenizer.encodeForRoberta(e.text, { maxLength: opts.maxLength })
        : tokenizer.encodePair(e.text, e.textPair, { maxLength: opts.maxLength, truncation: opts.truncation });
    return { ids, label: e.label };
  });
}

/** Gathers `indices` of `examples` into one batch padded to its longest sequence. */
export function collateExamples(examples: readonly EncodedExample[], indices: readonly number[], padId: number): ClassificationBatch {
  if (indices.length === 0) throw new Error('collateExamples: no examples to batch');
  let length = 0;
  for (const i of indices) {
    const e = examples[i];
    if (e === undefined) throw new RangeError(`collateExamples: example ${i} is outside [0, ${examples.length})`);
    length = Math.max(length, e.ids.length);
  }
  const batch = indices.length;
  const ids = new Int32Array(batch * length).fill(padId);
  const attentionMask = new Int32Array(batch * length);
  const labels = new Int32Array(batch);
  indices.forEach((i, row) => {
    const e = examples[i]!;
    ids.set(e.ids, row * length);
    attentionMask.fill(1, row * length, row * length + e.ids.length);
    labels[row] = e.label;
  });
  return { ids, attentionMask, labels, batch, length, indices: [...indices] };
}

export interface ClassificationBatchOptions {
  batchSize: number;
  /** Id written into padded positions (RoBERTa `<pad>`); masked out by attentionMask anyway. */
  padId: number;
}

export interface TrainingBatchOptions extends ClassificationBatchOptions {
  /** Seed of the example order (default 0). */
  seed?: number;
  /**
   * Group examples of similar length into batches, over windows of this many batches (0 or absent:
   * random batches). Cuts the padding; see {@link ExampleOrder}.
   */
  groupByLength?: number;
}

export function checkBatchOptions(name: string, count: number, opts: ClassificationBatchOptions): void {
  if (count < 1) throw new Error(`${name}: no examples to batch`);
  if (!(Number.isInteger(opts.batchSize) && opts.batchSize >= 1)) throw new Error(`${name}: batchSize ${opts.batchSize} must be a positive integer`);
  if (!Number.isInteger(opts.padId)) throw new Error(`${name}: padId ${opts.padId} must be an integer token id`);
}

/** Training batches in the seeded shuffled order of {@link ExampleOrder}. */
export class ClassificationBatches {
  readonly batchSize: number;
  readonly padId: number;
  readonly seed: number;
  private readonly order: ExampleOrder;

  constructor(readonly examples: readonly EncodedExample[], opts: TrainingBatchOptions) {
    checkBatchOptions('ClassificationBatches', examples.length, opts);
    this.batchSize = opts.batchSize;
    this.padId = opts.padId;
    this.seed = opts.seed ?? 0;
    const window = opts.groupByLength ?? 0;
    this.order = new ExampleOrder(examples.length, this.batchSize, this.seed,
      window > 0 ? { lengths: examples.map((e) => e.ids.length), windowBatches: window } : undefined);
  }

  /** Steps per epoch; fractional when batchSize does not divide the example count. */
  get stepsPerEpoch(): number {
    return this.order.stepsPerEpoch;
  }

  /** The epoch and position where step `step` begins. */
  cursorAt(step: number): ExampleCursor {
    return this.order.cursorAt(step, 'ClassificationBatches');
  }

  /** Example indices of training step `step`. */
  indicesAt(step: number): number[] {
    return this.order.indicesAt(step, 'ClassificationBatches');
  }

  /** The batch of training step `step`. */
  batchAt(step: number): ClassificationBatch {
    return collateExamples(this.examples, this.indicesAt(step), this.padId);
  }
}

/**
 * Evaluation batches: the examples in order, not shuffled; the last batch holds the remainder, so
 * there are ceil(n / batchSize) of them. Options are checked on the call, not on the first batch.
 */
export function evaluationBatches(examples: readonly EncodedExample[], opts: ClassificationBatchOptions): Generator<ClassificationBatch> {
  checkBatchOptions('evaluationBatches', examples.length, opts);
  return inOrder(examples, opts);
}

function* inOrder(examples: readonly EncodedExample[], opts: ClassificationBatchOptions): Generator<ClassificationBatch> {
  for (let start = 0; start < examples.length; start += opts.batchSize) {
    const end = Math.min(examples.length, start + opts.batchSize);
    yield collateExamples(examples, Array.from({ length: end - start }, (_, k) => start + k), opts.padId);
  }
}
