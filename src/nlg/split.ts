/** A train/validation split of E2E instances by meaning representation, never by row. */
import { hashName } from '../data/corpus.js';
import type { E2EInstance } from './e2e.js';

export interface MrSplitOptions {
  /** Fraction of the MRs held out for validation, in (0, 1). */
  validationFraction: number;
  /** Changes which MRs are held out (default 0). */
  seed?: number;
}

export interface MrSplit {
  train: E2EInstance[];
  validation: E2EInstance[];
}

/**
 * MRs are ranked by a seeded hash of their text and the lowest `round(fraction * count)` are held
 * out, with all their references: no MR is in both parts. The result depends only on the MRs and
 * the seed (not on the reading order); both parts keep the input order. Throws if a part is empty.
 */
export function splitByMR(instances: readonly E2EInstance[], opts: MrSplitOptions): MrSplit {
  const fraction = opts.validationFraction;
  if (!(fraction > 0 && fraction < 1)) throw new Error(`splitByMR: validationFraction ${fraction} must be in (0, 1)`);
  const seed = opts.seed ?? 0;
  const mrs = new Set<string>();
  for (const inst of instances) {
    if (mrs.has(inst.mr)) throw new Error(`splitByMR: MR ${JSON.stringify(inst.mr)} appears twice; group references by MR first (readE2E does)`);
    mrs.add(inst.mr);
  }
  const ranked = instances
    .map((inst) => ({ mr: inst.mr, hash: hashName(inst.mr, seed) }))
    .sort((a, b) => a.hash - b.hash || (a.mr < b.mr ? -1 : a.mr > b.mr ? 1 : 0));
  const cut = Math.round(fraction * ranked.length);
  const held = new Set(ranked.slice(0, cut).map((r) => r.mr));
  const train = instances.filter((i) => !held.has(i.mr));
  const validation = instances.filter((i) => held.has(i.mr));
  if (train.length === 0 || validation.length === 0) {
    throw new Error(
      `splitByMR: holding out ${fraction} of ${instances.length} MRs leaves ${train.length} for training and ${validation.length} for validation; ` +
        'use more MRs or a different validationFraction',
    );
  }
  return { train, validation };
}
