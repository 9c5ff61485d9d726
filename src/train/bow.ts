/**
 * The bag-of-words baseline for text classification: binary word presence (lowercased words seen
 * in the training split; unseen words ignored) and an L2 logistic regression with C chosen by
 * cross-validation on the training split, scored on the held-out split. No pretrained model is
 * involved, so a method or base model that does not beat it has not earned its cost.
 */
import { BinaryDesign, type Design } from './logistic.js';
import { fitProbe, type ProbeFit, type ProbeFitOptions, type RowSelector } from './probe.js';

/** Lowercased words: runs of letters and digits, with an inner apostrophe kept (don't, it's). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) ?? [];
}

export interface BagOfWordsResult extends ProbeFit {
  /** Distinct words of the training split (the features). */
  vocabulary: number;
  train: number;
  validation: number;
}

const selectBinaryRows: RowSelector = (X, rows) => {
  const d = X as BinaryDesign;
  return new BinaryDesign(rows.map((r) => d.active[r]!), d.cols);
};

/** Trains and scores the baseline on a binary task's splits. */
export function bagOfWordsBaseline(
  train: readonly { text: string; label: number }[], validation: readonly { text: string; label: number }[], opts: ProbeFitOptions = {},
): BagOfWordsResult {
  const vocab = new Map<string, number>();
  for (const e of train) for (const w of words(e.text)) if (!vocab.has(w)) vocab.set(w, vocab.size);
  const design = (examples: readonly { text: string }[]): Design =>
    new BinaryDesign(examples.map((e) => [...new Set(words(e.text).map((w) => vocab.get(w)).filter((j): j is number => j !== undefined))]), vocab.size);
  const fit = fitProbe(design(train), train.map((e) => e.label), design(validation), validation.map((e) => e.label), selectBinaryRows, opts);
  return { ...fit, vocabulary: vocab.size, train: train.length, validation: validation.length };
}
