/** Pretraining run configuration: plain JSON data with defaults and a validate() that says what to change. */

export type PretrainArch = 'roberta' | 'gpt2';

export interface PretrainConfig {
  arch: PretrainArch;
  /** Target BPE vocabulary size (specials and the 256 byte tokens included). */
  vocabSize: number;
  layers: number;
  dModel: number;
  heads: number;
  ffn: number;
  /** Tokens per block (specials included). */
  seq: number;
  /** Blocks per micro-batch. */
  batch: number;
  /** Gradient accumulation: micro-batches of `batch` blocks per optimizer step. */
  accumulate: number;
  /** Total optimizer steps; the LR schedule spans exactly these. */
  steps: number;
  lr: number;
  warmup: number;
  decay: 'cosine' | 'linear' | 'constant' | 'wsd';
  /** 'wsd' decay: fraction of the post-warmup steps spent decaying. */
  cooldown: number;
  minLrRatio: number;
  weightDecay: number;
  /** Dropout everywhere (attention, residual, embeddings). */
  dropout: number;
  seed: number;
  evalEvery: number;
  saveEvery: number;
  /** Write a train record (mean loss since the previous one) every this many steps. */
  logEvery: number;
  /** Validation blocks scored at each evaluation. */
  evalBlocks: number;
  /** Fraction of documents held out for validation. */
  validationFraction: number;
  /**
   * RoBERTa: start the LM head's output bias at the training split's log unigram frequencies, so
   * the model predicts the unigram distribution from step 0 instead of spending its first hundreds
   * of steps learning it (Adam moves a bias by about lr per step; log frequencies span ~10 nats).
   */
  unigramBias: boolean;
  /**
   * RoBERTa, sentiment-knowledge pretraining (src/train/polarity.ts): the name of the word-polarity
   * lexicon (`afinn`, or a JSON file's path) whose single-token words are masked with probability
   * `polarityMask` and whose polarity a linear head predicts at those positions, the loss weighted
   * by `polarityWeight`; null for plain masked-LM pretraining.
   */
  polarityLexicon: string | null;
  polarityWeight: number;
  polarityMask: number;
  /** Where the polarity head is trained: the selected (mostly masked) lexicon tokens, as SKEP, or every lexicon token of the block. */
  polarityTargets: 'selected' | 'all';
  /**
   * Negation-aware polarity labels: a lexicon word within this many words after a negator (`not`,
   * `never`, `don't`..., same clause) is labelled with the opposite polarity; 0 keeps the lexicon's
   * context-free polarity (SKEP's labels).
   */
  polarityNegation: number;
}

export const PRETRAIN_DEFAULTS: PretrainConfig = {
  arch: 'roberta',
  vocabSize: 4096,
  layers: 2,
  dModel: 128,
  heads: 4,
  ffn: 512,
  seq: 64,
  batch: 16,
  accumulate: 1,
  steps: 1000,
  lr: 1e-3,
  warmup: 100,
  decay: 'cosine',
  cooldown: 0.2,
  minLrRatio: 0.1,
  weightDecay: 0.01,
  dropout: 0,
  seed: 0,
  evalEvery: 200,
  saveEvery: 200,
  logEvery: 10,
  evalBlocks: 256,
  validationFraction: 0.05,
  unigramBias: false,
  polarityLexicon: null,
  polarityWeight: 1,
  polarityMask: 0.5,
  polarityTargets: 'selected',
  polarityNegation: 0,
};

/** Throws listing every invalid field and what to change. */
export function validatePretrainConfig(c: PretrainConfig): PretrainConfig {
  const errs: string[] = [];
  if (c.arch !== 'roberta' && c.arch !== 'gpt2') errs.push(`arch '${c.arch}' must be roberta or gpt2`);
  const posInt = ['vocabSize', 'layers', 'dModel', 'heads', 'ffn', 'seq', 'batch', 'accumulate', 'steps', 'evalEvery', 'saveEvery', 'logEvery', 'evalBlocks'] as const;
  for (const k of posInt) if (!(Number.isInteger(c[k]) && c[k] >= 1)) errs.push(`${k} = ${c[k]} must be a positive integer`);
  if (Number.isInteger(c.dModel) && Number.isInteger(c.heads) && c.dModel % c.heads !== 0) {
    errs.push(`dModel = ${c.dModel} must be divisible by heads = ${c.heads}`);
  }
  if (c.arch === 'roberta' && c.seq < 3) errs.push(`seq = ${c.seq} must be >= 3 for RoBERTa (<s> text </s>)`);
  if (c.arch === 'gpt2' && c.seq < 2) errs.push(`seq = ${c.seq} must be >= 2 for GPT-2 (a token and its successor)`);
  if (!(c.lr > 0)) errs.push(`lr = ${c.lr} must be > 0`);
  if (!(Number.isInteger(c.warmup) && c.warmup >= 0)) errs.push(`warmup = ${c.warmup} must be a non-negative integer`);
  if (!(c.minLrRatio >= 0 && c.minLrRatio <= 1)) errs.push(`minLrRatio = ${c.minLrRatio} must be in [0, 1]`);
  if (!(c.weightDecay >= 0)) errs.push(`weightDecay = ${c.weightDecay} must be >= 0`);
  if (!(c.dropout >= 0 && c.dropout < 1)) errs.push(`dropout = ${c.dropout} must be in [0, 1)`);
  if (!(Number.isInteger(c.seed) && c.seed >= 0 && c.seed < 2 ** 32)) errs.push(`seed = ${c.seed} must be an integer in [0, 2^32)`);
  if (!(c.validationFraction > 0 && c.validationFraction < 1)) errs.push(`validationFraction = ${c.validationFraction} must be in (0, 1)`);
  if (!['cosine', 'linear', 'constant', 'wsd'].includes(c.decay)) errs.push(`decay '${c.decay}' must be cosine, linear, constant or wsd`);
  if (!(c.cooldown > 0 && c.cooldown <= 1)) errs.push(`cooldown = ${c.cooldown} must be in (0, 1]`);
  if (typeof c.unigramBias !== 'boolean') errs.push(`unigramBias = ${String(c.unigramBias)} must be true or false`);
  if (c.unigramBias && c.arch !== 'roberta') errs.push('unigramBias applies to RoBERTa (GPT-2\'s head has no bias); drop it for gpt2');
  if (c.polarityLexicon !== null && (typeof c.polarityLexicon !== 'string' || c.polarityLexicon.trim() === '')) {
    errs.push(`polarityLexicon = ${JSON.stringify(c.polarityLexicon)} must be a lexicon name or path, or null`);
  }
  if (c.polarityLexicon !== null && c.arch !== 'roberta') errs.push('polarityLexicon applies to masked-LM pretraining (roberta); drop it for gpt2');
  if (!(c.polarityWeight > 0)) errs.push(`polarityWeight = ${c.polarityWeight} must be > 0`);
  if (c.polarityTargets !== 'selected' && c.polarityTargets !== 'all') errs.push(`polarityTargets '${String(c.polarityTargets)}' must be selected or all`);
  if (!(c.polarityMask >= 0 && c.polarityMask <= 1)) errs.push(`polarityMask = ${c.polarityMask} must be in [0, 1]`);
  if (!(Number.isInteger(c.polarityNegation) && c.polarityNegation >= 0)) errs.push(`polarityNegation = ${c.polarityNegation} must be a non-negative integer (words after a negator; 0 is off)`);
  if (c.polarityNegation > 0 && c.polarityLexicon === null) errs.push('polarityNegation needs a polarity lexicon (polarityLexicon); drop it or give one');
  if (errs.length) throw new Error(`pretrain config: ${errs.join('; ')}`);
  return c;
}
