/**
 * Model input layouts built on top of plain encode(): special tokens around the text, truncation to a
 * maximum length, padding and the attention mask. Pure functions on id arrays so they are easy to test.
 */

export interface EncodedInput {
  ids: number[];
  /** 1 for real tokens (including specials), 0 for padding. */
  attentionMask: number[];
}

export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

export interface PaddingOptions {
  /** Pad with the pad id up to this length (no effect on longer inputs). */
  padTo?: number;
  /** Where padding goes; right (default) for encoders, left for batched generation with a decoder. */
  paddingSide?: 'right' | 'left';
}

export interface LayoutOptions extends PaddingOptions {
  /** Total length including special tokens; text tokens are cut from the end to fit. */
  maxLength?: number;
}

export interface PairLayoutOptions extends LayoutOptions {
  /** Which sequence loses tokens when the pair is too long (default longest_first). */
  truncation?: TruncationStrategy;
}

/**
 * Cuts a pair of sequences to at most `budget` tokens in total, from their ends. longest_first removes
 * one token at a time from the longer sequence (the second on ties), as Hugging Face tokenizers do.
 */
export function truncatePair(a: number[], b: number[], budget: number, strategy: TruncationStrategy = 'longest_first'): [number[], number[]] {
  let excess = a.length + b.length - budget;
  if (excess <= 0) return [a, b];
  if (strategy === 'only_first' || strategy === 'only_second') {
    const [cut, keep] = strategy === 'only_first' ? [a, b] : [b, a];
    if (excess > cut.length) {
      throw new Error(`cannot truncate with ${strategy}: ${excess} tokens must go but the ${strategy === 'only_first' ? 'first' : 'second'} sequence has ${cut.length}`);
    }
    const shorter = cut.slice(0, cut.length - excess);
    return strategy === 'only_first' ? [shorter, keep] : [keep, shorter];
  }
  let la = a.length;
  let lb = b.length;
  for (; excess > 0; excess--) {
    if (la > lb) la--;
    else lb--;
  }
  return [a.slice(0, la), b.slice(0, lb)];
}

/** Adds the attention mask and pads. */
export function finishLayout(ids: number[], padId: number, opts: PaddingOptions): EncodedInput {
  const attentionMask = ids.map(() => 1);
  const missing = (opts.padTo ?? 0) - ids.length;
  if (missing <= 0) return { ids, attentionMask };
  const padIds = new Array<number>(missing).fill(padId);
  const zeros = new Array<number>(missing).fill(0);
  return opts.paddingSide === 'left'
    ? { ids: [...padIds, ...ids], attentionMask: [...zeros, ...attentionMask] }
    : { ids: [...ids, ...padIds], attentionMask: [...attentionMask, ...zeros] };
}

/** Text token budget once `specials` special tokens are placed; throws if maxLength cannot hold them. */
export function textBudget(maxLength: number | undefined, specials: number): number {
  if (maxLength === undefined) return Infinity;
  if (!Number.isInteger(maxLength) || maxLength < specials) {
    throw new Error(`maxLength ${maxLength} is too small: the layout needs ${specials} special tokens`);
  }
  return maxLength - specials;
}
