/**
 * A deterministic train/validation split for datasets that come without a dev split (the sentiment
 * fixtures, a single .tsv file).
 */
import { hashName } from '../data/corpus.js';
import type { ClassificationExample } from './registry.js';

export interface ExampleSplitOptions {
  /** Fraction of each label's examples held out, in (0, 1). */
  validationFraction: number;
  /** Changes which examples are held out (default 0). */
  seed?: number;
}

export interface ExampleSplit {
  train: ClassificationExample[];
  validation: ClassificationExample[];
}

const keyOf = (e: ClassificationExample) => (e.textPair === undefined ? e.text : `${e.text}\u0000${e.textPair}`);

/**
 * Stratified by label, decided by content: within each label, examples are ranked by a seeded hash
 * of their text (pair) and the lowest `round(fraction * count)` are held out. So
 * - the label balance of both parts matches the whole (a small validation set is not skewed by luck);
 * - the split depends on the examples, not on the order they were read in;
 * - identical texts with the same label share a hash and are never split across the two parts
 *   (the cut moves past a run of duplicates), so no validation sentence is also trained on.
 * Both parts keep the input order. Throws if either part would be empty.
 */
export function splitExamples(examples: readonly ClassificationExample[], opts: ExampleSplitOptions): ExampleSplit {
  const fraction = opts.validationFraction;
  if (!(fraction > 0 && fraction < 1)) throw new Error(`splitExamples: validationFraction ${fraction} must be in (0, 1)`);
  const seed = opts.seed ?? 0;
  const byLabel = new Map<number, { index: number; hash: number; key: string }[]>();
  examples.forEach((e, index) => {
    const key = keyOf(e);
    const group = byLabel.get(e.label) ?? [];
    group.push({ index, hash: hashName(key, seed), key });
    byLabel.set(e.label, group);
  });
  const held = new Set<number>();
  for (const group of byLabel.values()) {
    group.sort((a, b) => a.hash - b.hash || (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index));
    let cut = Math.round(fraction * group.length);
    while (cut > 0 && cut < group.length && group[cut]!.key === group[cut - 1]!.key) cut++;
    for (let i = 0; i < cut; i++) held.add(group[i]!.index);
  }
  const train = examples.filter((_, i) => !held.has(i));
  const validation = examples.filter((_, i) => held.has(i));
  if (train.length === 0 || validation.length === 0) {
    throw new Error(
      `splitExamples: holding out ${fraction} of ${examples.length} examples leaves ${train.length} for training and ${validation.length} for validation; ` +
        'use more examples or a different validationFraction',
    );
  }
  return { train, validation };
}
