/** Learning-rate schedules: linear warmup, then cosine or linear decay to a floor. */

export interface LrScheduleConfig {
  /** Peak learning rate, reached at the end of warmup. */
  peak: number;
  /** Steps of linear warmup (0 = start at the peak). */
  warmup: number;
  /** Total optimizer steps of the run; decay ends here. */
  total: number;
  /**
   * Shape of the decay after warmup (default cosine). 'wsd' (warmup-stable-decay) holds the peak
   * and decays linearly over the last `cooldown` fraction of the post-warmup steps only, so the
   * learning rates before the cooldown do not depend on `total`: a run can be re-planned longer or
   * shorter before its cooldown starts and still equal a run planned that way from the start.
   */
  decay?: 'cosine' | 'linear' | 'constant' | 'wsd';
  /** 'wsd' only: fraction of the post-warmup steps spent decaying (default 0.2). */
  cooldown?: number;
  /** Final learning rate as a fraction of the peak (default 0.1). */
  minRatio?: number;
}

/** Throws with every problem found and what to change. */
export function validateLrSchedule(c: LrScheduleConfig): LrScheduleConfig {
  const errs: string[] = [];
  if (!(c.peak > 0)) errs.push(`peak ${c.peak} must be > 0`);
  if (!(Number.isInteger(c.total) && c.total >= 1)) errs.push(`total ${c.total} must be a positive integer (steps)`);
  if (!(Number.isInteger(c.warmup) && c.warmup >= 0 && c.warmup <= c.total)) errs.push(`warmup ${c.warmup} must be an integer in [0, total = ${c.total}]`);
  const r = c.minRatio ?? 0.1;
  if (!(r >= 0 && r <= 1)) errs.push(`minRatio ${r} must be in [0, 1]`);
  if (c.decay !== undefined && !['cosine', 'linear', 'constant', 'wsd'].includes(c.decay)) errs.push(`decay '${c.decay}' must be cosine, linear, constant or wsd`);
  const cd = c.cooldown ?? 0.2;
  if (!(cd > 0 && cd <= 1)) errs.push(`cooldown ${cd} must be in (0, 1]`);
  if (errs.length) throw new Error(`LR schedule: ${errs.join('; ')}`);
  return c;
}

/**
 * Learning rate of step `step` (0-based: the update that turns step parameters into step + 1).
 * Warmup: peak * (step + 1) / warmup, so the first update already moves and step warmup - 1 uses
 * the peak. Decay: progress q = (step - warmup) / (total - warmup) in [0, 1), cosine
 * min + (peak - min) (1 + cos(pi q)) / 2 or linear peak - (peak - min) q. A pure function of the
 * step, so a resumed run needs no schedule state.
 */
export function lrAt(step: number, c: LrScheduleConfig): number {
  const min = c.peak * (c.minRatio ?? 0.1);
  if (step < c.warmup) return (c.peak * (step + 1)) / c.warmup;
  const span = c.total - c.warmup;
  const q = span > 0 ? Math.min(1, (step - c.warmup) / span) : 1;
  switch (c.decay ?? 'cosine') {
    case 'constant':
      return c.peak;
    case 'linear':
      return c.peak - (c.peak - min) * q;
    case 'cosine':
      return min + ((c.peak - min) * (1 + Math.cos(Math.PI * q))) / 2;
    case 'wsd': {
      const start = cooldownStart(c);
      return step < start ? c.peak : c.peak - ((c.peak - min) * Math.min(1, (step - start + 1) / (c.total - start)));
    }
  }
}

/** 'wsd': the first step of the cooldown (the learning rate is the peak from warmup up to here). */
export function cooldownStart(c: LrScheduleConfig): number {
  return c.total - Math.max(1, Math.round((c.cooldown ?? 0.2) * (c.total - c.warmup)));
}
