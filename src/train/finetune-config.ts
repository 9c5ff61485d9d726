/**
 * The fine-tuning configuration, resolved in one place: defaults, the method's learning rate when
 * none is given, and validation. `finetune`, `compare` and the experiment scripts all call
 * {@link resolveFinetuneConfig}.
 */
import { defaultLr, presetFor, type MethodName } from '../adapters/registry.js';

export interface FinetuneConfig {
  epochs: number;
  batchSize: number;
  /** Peak learning rate (default: the method's own, AdapterMethod.defaultLr). */
  lr: number;
  weightDecay: number;
  /** Fraction of the steps spent in linear warmup (LoRA's RoBERTa recipe: 0.06). */
  warmupRatio: number;
  clipNorm: number;
  /**
   * Peak learning rate of the task head (default: min(lr, {@link DEFAULT_HEAD_LR})). A freshly
   * initialised head at the 1e-2 that scale/shift methods want oscillates instead of learning.
   */
  headLr?: number;
  /** Max tokens per example, special tokens included. */
  maxLength: number;
  /**
   * Batch training examples of similar length together, over seeded windows of this many batches
   * (0: random batches). Batches are padded to their longest example, so this cuts the padded
   * tokens (sentiment, batch 32: 2.5x the real tokens at 0, 1.24x at 8). Tasks of fixed-size
   * examples ignore it.
   */
  groupByLength: number;
  seed: number;
  /**
   * Keep AdamW's moments outside the WebAssembly heap between updates and update block by block
   * through a one-block staging area (src/optim/offload.ts). Bit-identical results; less heap, more copying.
   */
  offloadOptimizer: boolean;
}

/** Cap of the head's default learning rate (see FinetuneConfig.headLr). */
export const DEFAULT_HEAD_LR = 2e-3;

export const FINETUNE_DEFAULTS: Omit<FinetuneConfig, 'lr'> = {
  epochs: 3, batchSize: 32, weightDecay: 0, warmupRatio: 0.06, clipNorm: 1, maxLength: 64, groupByLength: 0, seed: 0, offloadOptimizer: false,
};

export function validateFinetuneConfig(c: FinetuneConfig): FinetuneConfig {
  const errs: string[] = [];
  const int = (k: 'epochs' | 'batchSize' | 'maxLength' | 'seed' | 'groupByLength', min: number) => {
    if (!(Number.isInteger(c[k]) && c[k] >= min)) errs.push(`${k} = ${c[k]} must be an integer >= ${min}`);
  };
  int('epochs', 1);
  int('batchSize', 1);
  int('maxLength', 4);
  int('seed', 0);
  int('groupByLength', 0);
  if (c.groupByLength === 1) errs.push('groupByLength = 1 groups nothing (a window of one batch); use 0 (off) or a window of >= 2 batches, e.g. 8');
  if (!(c.lr > 0 && c.lr < 1)) errs.push(`lr = ${c.lr} must be in (0, 1)`);
  if (c.headLr !== undefined && !(c.headLr > 0 && c.headLr < 1)) errs.push(`headLr = ${c.headLr} must be in (0, 1)`);
  if (!(c.weightDecay >= 0)) errs.push(`weightDecay = ${c.weightDecay} must be >= 0`);
  if (!(c.warmupRatio >= 0 && c.warmupRatio < 1)) errs.push(`warmupRatio = ${c.warmupRatio} must be in [0, 1)`);
  if (!(c.clipNorm >= 0)) errs.push(`clipNorm = ${c.clipNorm} must be >= 0 (0 disables clipping)`);
  if (typeof c.offloadOptimizer !== 'boolean') errs.push(`offloadOptimizer = ${JSON.stringify(c.offloadOptimizer)} must be true or false`);
  if (errs.length) throw new Error(`finetune config: ${errs.join('; ')}`);
  return c;
}

/**
 * A complete, validated config from user overrides: FINETUNE_DEFAULTS for what is not given, the
 * method's default learning rate when `lr` is not given, and `maxLength` capped at `maxPositions`.
 */
export function resolveFinetuneConfig(overrides: Partial<FinetuneConfig>, method: MethodName, o: { maxPositions?: number } = {}): FinetuneConfig {
  presetFor(method); // an unknown name fails here, listing the known ones
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<FinetuneConfig>;
  const c: FinetuneConfig = { ...FINETUNE_DEFAULTS, lr: defaultLr(method), ...given };
  if (o.maxPositions !== undefined) c.maxLength = Math.min(c.maxLength, o.maxPositions);
  return validateFinetuneConfig(c);
}
