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
  private readonly evalBatches: { inputs: Int32Array; labels: Int32Array; rows: number }[] = [];
  private baselineLoss: number | null = null;

  /**
   * `train` / `validation`: the token ids of each document (no special tokens), or a stream already
   * joined with the separator after every document (e.g. a token file on disk, read block by block).
   */
  constructor(readonly config: PretrainConfig, readonly tokenizer: ByteLevelBPETokenizer, train: readonly number[][] | TokenSource, validation: readonly number[][] | TokenSource) {
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
    this.optimizer = new AdamW(this.model.parameters(), { lr: c.lr, weightDecay: c.weightDecay });
    this.schedule = validateLrSchedule({ peak: c.lr, warmup: Math.min(c.warmup, c.steps), total: c.steps, decay: c.decay, minRatio: c.minLrRatio, cooldown: c.cooldown });
    this.tokensPerStep = c.batch * c.seq * c.accumulate;

    // A fixed validation set (blocks spread over the split; for MLM, masks from their own seed), so
    // every evaluation scores the same targets and evaluation never moves the training streams.
    const evalGen = new Generator(BigInt(c.seed) + (2n << 32n));
    const blocks = this.validation.evenlySpaced(c.evalBlocks);
    for (let i = 0; i < blocks.length; i += c.batch) {
      const rows = Math.min(c.batch, blocks.length - i);
      const ids = this.validation.batch(blocks.slice(i, i + rows));
      this.evalBatches.push(gpt ? { inputs: ids, labels: causalLmLabels(ids), rows } : { ...this.mask(ids, evalGen), rows });
    }
  }

  private mask(ids: Int32Array, generator: Generator) {
    return maskTokens(ids, { maskId: this.maskId, vocabSize: this.tokenizer.vocabSize, specialIds: this.specialIds, generator });
  }

  /** Loss of the next training (micro-)batch (advances the data cursor and, for MLM, the masking stream). */
  trainLoss(): Tensor {
    const { batch: B, seq: T } = this.config;
    const ids = this.train.batch(this.sampler.next(B));
    if (this.model instanceof GPT2LMHeadModel) return this.model.loss(tensor(ids, [B, T], { dtype: 'int32' }));
    const { inputs, labels } = this.mask(ids, this.maskGenerator);
    return maskedLmLoss(this.model, inputs, labels, B, T, 'mean');
  }

  /** Mean cross-entropy over the validation targets (dropout off), with the unigram baseline on the same targets. */
  evaluate(): EvalResult {
    const T = this.config.seq;
    let sum = 0;
    let count = 0;
    this.model.eval();
    try {
      for (const b of this.evalBatches) {
        const { total, n } = tidy(() => noGrad(() => this.batchLossSum(b.inputs, b.labels, b.rows, T)));
        sum += total;
        count += n;
      }
    } finally {
      this.model.train();
    }
    return { loss: sum / count, baseline: this.baseline(), tokens: count };
  }

  private batchLossSum(inputs: Int32Array, labels: Int32Array, B: number, T: number): { total: number; n: number } {
    const ids = tensor(inputs, [B, T], { dtype: 'int32' });
    if (this.model instanceof GPT2LMHeadModel) {
      // model.loss averages over the B * (T - 1) shifted targets, all real tokens here
      return { total: this.model.loss(ids).item() * B * (T - 1), n: B * (T - 1) };
    }
    const n = labels.reduce((k, v) => k + (v === IGNORE_INDEX ? 0 : 1), 0);
    return { total: n === 0 ? 0 : maskedLmLoss(this.model, inputs, labels, B, T, 'sum').item(), n };
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
  }
}

/**
 * Masked-LM cross-entropy computed on the masked positions only: the encoder runs on every token,
 * but the LM head (dense, layer norm and the V-wide decoder, the costliest matmul of a small model)
 * only on the ~15% of rows that have a label. Equal to `model.loss` up to float rounding; a batch
 * with no masked token falls back to it.
 */
export function maskedLmLoss(model: RobertaForMaskedLM, inputs: Int32Array, labels: Int32Array, B: number, T: number, reduction: 'mean' | 'sum'): Tensor {
  const rows: number[] = [];
  const targets: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === IGNORE_INDEX) continue;
    rows.push(i);
    targets.push(labels[i]!);
  }
  const ids = tensor(inputs, [B, T], { dtype: 'int32' });
  if (rows.length === 0) return model.loss(ids, tensor(labels, [B, T], { dtype: 'int32' }));
  const h = model.roberta.forward(ids); // (B, T, C)
  const C = h.shape[2]!;
  const picked = embedding(reshape(h, [B * T, C]), tensor(Int32Array.from(rows), [rows.length], { dtype: 'int32' })); // (n, C)
  const logits = model.lm_head.forward(picked, model.roberta.embeddings.word_embeddings.weight); // (n, V)
  return crossEntropy(logits, tensor(Int32Array.from(targets), [rows.length], { dtype: 'int32' }), { reduction });
}
