/** The E2E data-to-text task's settings: plain data with defaults and a validate() that says what to change. */

/** How the E2E task splits, trains and decodes: plain data, checked by {@link validateE2EConfig}. */
export interface E2ETaskConfig {
  /** Share of the MRs held out for validation (by MR, never by row). */
  validationFraction: number;
  /** Seed of the split. */
  splitSeed: number;
  /** Held-out MRs decoded and scored at each evaluation (the first ones of the split); 0 = all. Decoding dominates evaluation time. */
  evalLimit: number;
  /** Beam width (1 = greedy). The LoRA paper's E2E recipe: 10. */
  numBeams: number;
  /** Beam score = sum of log-probs / length^lengthPenalty. LoRA recipe: 0.9. */
  lengthPenalty: number;
  /** No n-gram of this size repeats in a sequence (0 = off). LoRA recipe: 4. */
  noRepeatNgramSize: number;
  /** New tokens per output at most (fewer when the model's positions run out). */
  maxNewTokens: number;
  /** Label smoothing of the training loss. LoRA recipe: 0.1. */
  labelSmoothing: number;
  /** MRs decoded together in one batch (each takes numBeams rows). */
  decodeBatchSize: number;
  /** Sample outputs kept for the report. */
  samples: number;
}

export const E2E_DEFAULTS: E2ETaskConfig = {
  validationFraction: 0.1, splitSeed: 0, evalLimit: 100, numBeams: 10, lengthPenalty: 0.9, noRepeatNgramSize: 4,
  maxNewTokens: 64, labelSmoothing: 0.1, decodeBatchSize: 4, samples: 5,
};

export function validateE2EConfig(c: E2ETaskConfig): E2ETaskConfig {
  const errs: string[] = [];
  const int = (k: keyof E2ETaskConfig, min: number) => {
    if (!(Number.isInteger(c[k]) && c[k] >= min)) errs.push(`${k} = ${c[k]} must be an integer >= ${min}`);
  };
  if (!(c.validationFraction > 0 && c.validationFraction < 1)) errs.push(`validationFraction = ${c.validationFraction} must be in (0, 1)`);
  int('splitSeed', 0);
  int('evalLimit', 0);
  int('numBeams', 1);
  if (!Number.isFinite(c.lengthPenalty)) errs.push(`lengthPenalty = ${c.lengthPenalty} must be a finite number`);
  int('noRepeatNgramSize', 0);
  int('maxNewTokens', 1);
  if (!(c.labelSmoothing >= 0 && c.labelSmoothing < 1)) errs.push(`labelSmoothing = ${c.labelSmoothing} must be in [0, 1)`);
  int('decodeBatchSize', 1);
  int('samples', 0);
  if (errs.length) throw new Error(`E2E task config: ${errs.join('; ')}`);
  return c;
}

/** The defaults with `overrides` (undefined entries ignored), validated. */
export function resolveE2EConfig(overrides: Partial<E2ETaskConfig> = {}): E2ETaskConfig {
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return validateE2EConfig({ ...E2E_DEFAULTS, ...given });
}
