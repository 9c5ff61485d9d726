/**
 * Language-model pretraining from scratch as data: a config with validate(), and a task that turns
 * tokenized documents into training batches (causal LM for GPT-2, masked LM for RoBERTa), evaluates
 * on a fixed validation set, and exposes its host state for exact resume. No file system here; the
 * run (src/train/pretrain-run.ts) drives it, and src/node/pretrain-files.ts reads the corpus and writes the checkpoints.
 */
import { ArrayTokenSource, BlockSampler, TokenBlocks, tokenCounts, tokenStream, type TokenSource } from '../data/blocks.js';
import { causalLmLabels, IGNORE_INDEX, maskTokens } from '../data/mlm.js';
import { GPT2LMHeadModel } from '../models/gpt2/index.js';
import { RobertaForMaskedLM } from '../models/roberta/index.js';
import { tensor } from '../ops/create.js';
import { crossEntropy } from '../ops/nn.js';
import { embedding } from '../ops/indexing.js';
import { reshape } from '../ops/shape.js';
import { Generator } from '../ops/random.js';
import { AdamW } from '../optim/adamw.js';
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ByteLevelBPETokenizer } from '../tokenizer/tokenizer.js';
import { buildModel, FAMILIES, type Family } from '../models/families.js';
import { unigramCrossEntropyFromCounts } from './metrics.js';
import { validateLrSchedule, type LrScheduleConfig } from './schedule.js';
import { PRETRAIN_DEFAULTS, validatePretrainConfig, type PretrainConfig } from './pretrain-config.js';
import { NO_POLARITY, PolarityMatcher, type PolarityLexicon } from './polarity.js';
import { Linear } from '../nn/layers.js';
import type { ParameterSource } from './checkpoint.js';
import { add, mul } from '../ops/elementwise.js';

export { PRETRAIN_DEFAULTS, validatePretrainConfig, type PretrainArch, type PretrainConfig } from './pretrain-config.js';

/** The family table's pretraining entry for `arch`: architecture, objective, special tokens, config. */
function pretrainSpec(arch: PretrainConfig['arch']): NonNullable<(typeof FAMILIES)[Family]['pretrain']> {
  const p = FAMILIES[arch].pretrain;
  if (!p) throw new Error(`pretrain: the ${arch} family is not pretrained here`);
  return p;
}

/** Special tokens of each architecture's tokenizer, in id order (ids 0..k-1, as Hugging Face's trainer assigns them). */
export function specialTokensFor(arch: PretrainConfig['arch']): (string | { content: string; lstrip: boolean })[] {
  return [...pretrainSpec(arch).specialTokens];
}

export type PretrainModel = GPT2LMHeadModel | RobertaForMaskedLM;

/** A fresh model for the config, sized to the tokenizer, initialised from `generator` (which also drives dropout). */
export function buildPretrainModel(c: PretrainConfig, tok: ByteLevelBPETokenizer, generator: Generator): PretrainModel {
  const p = pretrainSpec(c.arch);
  const shape = { vocabSize: tok.vocabSize, layers: c.layers, dModel: c.dModel, heads: c.heads, ffn: c.ffn, seq: c.seq, dropout: c.dropout };
  const fields = p.config(shape, (t) => tok.requireId(t, `${c.arch} pretraining`));
  return buildModel(c.arch, p.architecture, fields, { generator }) as PretrainModel;
}

/** The task's host state for checkpoints (generators and the data cursor). */
export interface PretrainHostState {
  modelGenerator: ReturnType<Generator['state']>;
  maskGenerator: ReturnType<Generator['state']>;
  cursor: ReturnType<BlockSampler['state']>;
}

export interface EvalResult {
  loss: number;
  /** The unigram baseline on exactly the same targets. */
  baseline: number;
  tokens: number;
  /** With a polarity lexicon: the head's accuracy and cross-entropy on the masked sentiment tokens of the validation targets. */
  polarity?: { accuracy: number; loss: number; tokens: number };
}

/** What the task needs beyond the config. */
export interface PretrainTaskOptions {
  /** The word-polarity lexicon that `config.polarityLexicon` names (required when it is set). */
  lexicon?: PolarityLexicon;
}

interface EvalBatch {
  inputs: Int32Array;
  labels: Int32Array;
  rows: number;
  polarity?: Int8Array;
}

export class PretrainTask {
  readonly model: PretrainModel;
  readonly optimizer: AdamW;
  readonly schedule: LrScheduleConfig;
  readonly train: TokenBlocks;
  readonly validation: TokenBlocks;
  readonly tokensPerStep: number;
  private readonly sampler: BlockSampler;
  private readonly modelGenerator: Generator;
  private readonly maskGenerator: Generator;
  private readonly specialIds: number[];
  private readonly maskId: number;
  /** `polarity`: each position's lexicon polarity (with a polarity lexicon), from the unmasked tokens. */
  private readonly evalBatches: EvalBatch[] = [];
  private baselineLoss: number | null = null;
  /** Sentiment-knowledge pretraining: the polarity head (d -> 2 logits: negative, positive) and the lexicon's words, as found in token ids. */
  readonly polarity: { head: Linear; matcher: PolarityMatcher } | null = null;
  /** What training updates and the training state holds: the model, and the polarity head if any. */
  readonly trainedParameters: ParameterSource;

  /**
   * `train` / `validation`: the token ids of each document (no special tokens), or a stream already
   * joined with the separator after every document (e.g. a token file on disk, read block by block).
   */
  constructor(
    readonly config: PretrainConfig,
    readonly tokenizer: ByteLevelBPETokenizer,
    train: readonly number[][] | TokenSource,
    validation: readonly number[][] | TokenSource,
    opts: PretrainTaskOptions = {},
  ) {
    const c = validatePretrainConfig({ ...PRETRAIN_DEFAULTS, ...config });
    this.config = c;
    this.specialIds = tokenizer.addedTokens.filter((t) => t.special !== false).map((t) => t.id);
    const gpt = c.arch === 'gpt2';
    const sep = tokenizer.requireId(gpt ? '<|endoftext|>' : '</s>', `${c.arch} pretraining`);
    const layout = gpt ? { length: c.seq } : { length: c.seq, prefix: [tokenizer.requireId('<s>', 'RoBERTa')], suffix: [sep] };
    const source = (d: readonly number[][] | TokenSource) => (Array.isArray(d) ? new ArrayTokenSource(tokenStream(d as number[][], sep)) : (d as TokenSource));
    this.train = new TokenBlocks(source(train), layout);
    this.validation = new TokenBlocks(source(validation), layout);
    this.maskId = gpt ? -1 : tokenizer.requireId('<mask>', 'RoBERTa');
    // Independent streams from one seed: init/dropout, masking, data order, evaluation masks.
    this.modelGenerator = new Generator(c.seed);
    this.maskGenerator = new Generator(BigInt(c.seed) + (1n << 32n));
    this.sampler = new BlockSampler(this.train.count, (c.seed ^ 0x5bd1e995) >>> 0);
    // the lexicon is checked before any tensor exists, so a bad one leaves nothing allocated
    let matcher: PolarityMatcher | null = null;
    if (c.polarityLexicon !== null) {
      if (!opts.lexicon) throw new Error(`pretrain: polarityLexicon ${JSON.stringify(c.polarityLexicon)} is set but no lexicon was given to the task; pass its words (PretrainTaskOptions.lexicon)`);
      matcher = new PolarityMatcher(tokenizer, opts.lexicon, { negationScope: c.polarityNegation });
      if (matcher.words === 0) throw new Error(`pretrain: polarity lexicon ${c.polarityLexicon} has no word with a non-zero valence that this tokenizer encodes; give another lexicon`);
    }
    this.model = buildPretrainModel(c, tokenizer, this.modelGenerator);
    if (c.unigramBias && this.model instanceof RobertaForMaskedLM) {
      // log of add-one smoothed frequencies, centred; special tokens (never targets) get the floor
      const V = tokenizer.vocabSize;
      const counts = tokenCounts(this.train.source, V);
      const special = new Set(this.specialIds);
      let total = 0;
      for (let v = 0; v < V; v++) if (!special.has(v)) total += counts[v]!;
      const logp = Array.from({ length: V }, (_, v) => Math.log(((special.has(v) ? 0 : counts[v]!) + 1) / (total + V)));
      const mean = logp.reduce((a, b) => a + b, 0) / V;
      const bias = this.model.lm_head.bias;
      bias.backend.write(bias.buf, logp.map((x) => x - mean));
    }
    if (matcher) {
      // its own stream, so the model's init and dropout draws are those of a run without the head
      this.polarity = { head: new Linear(c.dModel, 2, { generator: new Generator(BigInt(c.seed) + (3n << 32n)) }), matcher };
    }
    const head = this.polarity?.head;
    this.trainedParameters = head
      ? { namedParameters: () => [...this.model.namedParameters(), ...head.namedParameters().map(([n, p]): [string, Tensor] => [`polarity_head.${n}`, p])] }
      : this.model;
    this.optimizer = new AdamW(this.trainedParameters.namedParameters().map(([, p]) => p), { lr: c.lr, weightDecay: c.weightDecay });
    this.schedule = validateLrSchedule({ peak: c.lr, warmup: Math.min(c.warmup, c.steps), total: c.steps, decay: c.decay, minRatio: c.minLrRatio, cooldown: c.cooldown });
    this.tokensPerStep = c.batch * c.seq * c.accumulate;

    // A fixed validation set (blocks spread over the split; for MLM, masks from their own seed), so
    // every evaluation scores the same targets and evaluation never moves the training streams.
    const evalGen = new Generator(BigInt(c.seed) + (2n << 32n));
    const blocks = this.validation.evenlySpaced(c.evalBlocks);
    for (let i = 0; i < blocks.length; i += c.batch) {
      const rows = Math.min(c.batch, blocks.length - i);
      const ids = this.validation.batch(blocks.slice(i, i + rows));
      this.evalBatches.push(gpt ? { inputs: ids, labels: causalLmLabels(ids), rows } : { ...this.mask(ids, evalGen), rows, polarity: matcher?.label(ids) });
    }
  }

  /** MLM masks; with `polarity` (per-position labels) the lexicon words' tokens are selected with `polarityMask` (training only: validation targets stay those of plain masking). */
  private mask(ids: Int32Array, generator: Generator, polarity?: Int8Array) {
    const e = polarity ? { at: polarity.map((p) => (p === NO_POLARITY ? 0 : 1)), probability: this.config.polarityMask } : undefined;
    return maskTokens(ids, { maskId: this.maskId, vocabSize: this.tokenizer.vocabSize, specialIds: this.specialIds, generator, emphasis: e });
  }

  /** Loss of the next training (micro-)batch (advances the data cursor and, for MLM, the masking stream). */
  trainLoss(): Tensor {
    const { batch: B, seq: T } = this.config;
    const ids = this.train.batch(this.sampler.next(B));
    if (this.model instanceof GPT2LMHeadModel) return this.model.loss(tensor(ids, [B, T], { dtype: 'int32' }));
    const polarity = this.polarity?.matcher.label(ids);
    const { inputs, labels } = this.mask(ids, this.maskGenerator, polarity);
    if (!this.polarity || !polarity) return maskedLmLoss(this.model, inputs, labels, B, T, 'mean');
    const m = maskedPositions(this.model, inputs, labels, B, T);
    if (!m) return this.model.loss(tensor(inputs, [B, T], { dtype: 'int32' }), tensor(labels, [B, T], { dtype: 'int32' }));
    const lm = maskedLmFromRows(this.model, m.picked, m.targets, 'mean');
    // 'all': every lexicon token of the block, masked or not (the states features are read from); else the selected ones
    const all = this.config.polarityTargets === 'all';
    const pol = polarityLoss(this.polarity.head, m.hidden, polarity, (i) => all || labels[i] !== IGNORE_INDEX, 'mean');
    return pol ? add(lm, mul(pol.loss, this.config.polarityWeight)) : lm;
  }

  /** Mean cross-entropy over the validation targets (dropout off), with the unigram baseline on the same targets. */
  evaluate(): EvalResult {
    const T = this.config.seq;
    let sum = 0;
    let count = 0;
    const pol = { loss: 0, correct: 0, tokens: 0 };
    this.model.eval();
    try {
      for (const b of this.evalBatches) {
        const { total, n } = tidy(() => noGrad(() => this.batchLossSum(b, T, pol)));
        sum += total;
        count += n;
      }
    } finally {
      this.model.train();
    }
    const polarity = this.polarity ? { accuracy: pol.tokens ? pol.correct / pol.tokens : NaN, loss: pol.tokens ? pol.loss / pol.tokens : NaN, tokens: pol.tokens } : undefined;
    return { loss: sum / count, baseline: this.baseline(), tokens: count, ...(polarity ? { polarity } : {}) };
  }

  private batchLossSum(b: EvalBatch, T: number, pol: { loss: number; correct: number; tokens: number }): { total: number; n: number } {
    const { inputs, labels, rows: B } = b;
    const ids = tensor(inputs, [B, T], { dtype: 'int32' });
    if (this.model instanceof GPT2LMHeadModel) {
      // model.loss averages over the B * (T - 1) shifted targets, all real tokens here
      return { total: this.model.loss(ids).item() * B * (T - 1), n: B * (T - 1) };
    }
    const m = maskedPositions(this.model, inputs, labels, B, T);
    if (!m) return { total: 0, n: 0 };
    if (this.polarity && b.polarity) {
      const p = polarityLoss(this.polarity.head, m.hidden, b.polarity, (i) => labels[i] !== IGNORE_INDEX, 'sum');
      if (p) {
        pol.loss += p.loss.item();
        pol.correct += p.correct();
        pol.tokens += p.n;
      }
    }
    return { total: maskedLmFromRows(this.model, m.picked, m.targets, 'sum').item(), n: m.targets.length };
  }

  /** Unigram cross-entropy on the validation targets: causal LM predicts every token after the first of a block, MLM the masked ones. */
  baseline(): number {
    if (this.baselineLoss !== null) return this.baselineLoss;
    const V = this.tokenizer.vocabSize;
    const gpt = this.config.arch === 'gpt2';
    const special = new Set(this.specialIds);
    // MLM targets are never special tokens, so the baseline does not waste mass on them; a causal LM must also predict the separator.
    const candidates = Array.from({ length: V }, (_, i) => i).filter((i) => gpt || !special.has(i));
    const targets: number[] = [];
    for (const b of this.evalBatches) {
      if (!gpt) targets.push(...b.labels);
      else for (let i = 0; i < b.labels.length; i++) if (i % this.config.seq !== 0) targets.push(b.labels[i]!);
    }
    this.baselineLoss = unigramCrossEntropyFromCounts(tokenCounts(this.train.source, V), targets, candidates);
    return this.baselineLoss;
  }

  hostState(): PretrainHostState {
    return { modelGenerator: this.modelGenerator.state(), maskGenerator: this.maskGenerator.state(), cursor: this.sampler.state() };
  }

  restoreHostState(s: PretrainHostState): void {
    this.modelGenerator.setState(s.modelGenerator);
    this.maskGenerator.setState(s.maskGenerator);
    this.sampler.setState(s.cursor);
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
    this.polarity?.head.dispose();
  }
}

/**
 * Masked-LM cross-entropy computed on the masked positions only: the encoder runs on every token,
 * but the LM head (dense, layer norm and the V-wide decoder, the costliest matmul of a small model)
 * only on the ~15% of rows that have a label. Equal to `model.loss` up to float rounding; a batch
 * with no masked token falls back to it.
 */
export function maskedLmLoss(model: RobertaForMaskedLM, inputs: Int32Array, labels: Int32Array, B: number, T: number, reduction: 'mean' | 'sum'): Tensor {
  const m = maskedPositions(model, inputs, labels, B, T);
  if (!m) return model.loss(tensor(inputs, [B, T], { dtype: 'int32' }), tensor(labels, [B, T], { dtype: 'int32' }));
  return maskedLmFromRows(model, m.picked, m.targets, reduction);
}

/** The encoder's output at the labelled positions, (n, C), and their targets; null if no position has a label. */
function maskedPositions(model: RobertaForMaskedLM, inputs: Int32Array, labels: Int32Array, B: number, T: number): { picked: Tensor; targets: number[]; hidden: Tensor } | null {
  const rows: number[] = [];
  const targets: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === IGNORE_INDEX) continue;
    rows.push(i);
    targets.push(labels[i]!);
  }
  if (rows.length === 0) return null;
  const h = model.roberta.forward(tensor(inputs, [B, T], { dtype: 'int32' })); // (B, T, C)
  const C = h.shape[2]!;
  return { picked: embedding(reshape(h, [B * T, C]), tensor(Int32Array.from(rows), [rows.length], { dtype: 'int32' })), targets, hidden: h }; // (n, C)
}

function maskedLmFromRows(model: RobertaForMaskedLM, picked: Tensor, targets: readonly number[], reduction: 'mean' | 'sum'): Tensor {
  const logits = model.lm_head.forward(picked, model.roberta.embeddings.word_embeddings.weight); // (n, V)
  return crossEntropy(logits, tensor(Int32Array.from(targets), [targets.length], { dtype: 'int32' }), { reduction });
}

/**
 * Word polarity prediction: cross-entropy of the head's logits at the positions of `hidden`
 * (B, T, C) that are lexicon tokens (`polarity[i] !== NO_POLARITY`) and that `use` accepts, and
 * (for evaluation) how many it gets right; null if there are none.
 */
export function polarityLoss(head: Linear, hidden: Tensor, polarity: Int8Array, use: (i: number) => boolean, reduction: 'mean' | 'sum'):
  { loss: Tensor; n: number; correct: () => number } | null {
  const at: number[] = [];
  const cls: number[] = [];
  for (let i = 0; i < polarity.length; i++) {
    if (polarity[i] === NO_POLARITY || !use(i)) continue;
    at.push(i);
    cls.push(polarity[i]!);
  }
  if (at.length === 0) return null;
  const C = hidden.shape[hidden.rank - 1]!;
  const rows = embedding(reshape(hidden, [polarity.length, C]), tensor(Int32Array.from(at), [at.length], { dtype: 'int32' })); // (k, C)
  const logits = head.forward(rows); // (k, 2)
  const loss = crossEntropy(logits, tensor(Int32Array.from(cls), [at.length], { dtype: 'int32' }), { reduction });
  const correct = () => {
    const l = logits.toArray();
    let k = 0;
    for (let i = 0; i < cls.length; i++) if ((l[2 * i + 1]! > l[2 * i]! ? 1 : 0) === cls[i]) k++;
    return k;
  };
  return { loss, n: at.length, correct };
}
