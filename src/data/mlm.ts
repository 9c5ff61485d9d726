/**
 * Masked-LM inputs (BERT / RoBERTa): each non-special token is selected with probability 0.15; a
 * selected token becomes `<mask>` 80% of the time, a random token 10%, and stays itself 10%; labels
 * hold the original id at selected positions and -100 (ignored by the loss) everywhere else.
 * Special tokens (`<s>`, `</s>`, `<pad>`, ...) are never selected.
 */
import { keySchedule, uniform24, word } from '../backend/rng.js';
import type { Generator } from '../ops/random.js';

export const IGNORE_INDEX = -100;

export interface MlmMaskingOptions {
  maskId: number;
  vocabSize: number;
  /** Ids that are never selected and never drawn as random replacements. */
  specialIds: readonly number[];
  /** Selection probability (default 0.15). */
  probability?: number;
  /** Of the selected: fraction replaced by `<mask>` (default 0.8) and by a random token (default 0.1). */
  maskFraction?: number;
  randomFraction?: number;
  /**
   * Positions selected with their own probability instead of `probability` (e.g. the tokens of
   * sentiment words under sentiment masking): `at[i]` non-zero for each such position of `ids`. The
   * draws are the same either way: only the threshold differs.
   */
  emphasis?: { at: ArrayLike<number>; probability: number };
  /** Source of randomness; its counter advances by 3 per token, so a saved state resumes the same draws. */
  generator: Generator;
}

export interface MlmExample {
  inputs: Int32Array;
  labels: Int32Array;
}

/**
 * Masks `ids` (any shape, flattened). Draws are a pure function of the generator's state: element
 * 3i decides selection of token i, 3i+1 the replacement kind, 3i+2 the random token, so the result
 * does not depend on how a batch is chunked or on the backend.
 */
export function maskTokens(ids: Int32Array, opts: MlmMaskingOptions): MlmExample {
  const p = opts.probability ?? 0.15;
  const pMask = opts.maskFraction ?? 0.8;
  const pRandom = opts.randomFraction ?? 0.1;
  if (!(p >= 0 && p <= 1)) throw new Error(`maskTokens: probability ${p} must be in [0, 1]`);
  const emphasis = opts.emphasis;
  if (emphasis && !(emphasis.probability >= 0 && emphasis.probability <= 1)) {
    throw new Error(`maskTokens: emphasis probability ${emphasis.probability} must be in [0, 1]`);
  }
  if (emphasis && emphasis.at.length !== ids.length) throw new Error(`maskTokens: emphasis marks ${emphasis.at.length} positions for ${ids.length} tokens; give one per token`);
  if (!(pMask >= 0 && pRandom >= 0 && pMask + pRandom <= 1)) {
    throw new Error(`maskTokens: maskFraction ${pMask} + randomFraction ${pRandom} must be fractions summing to at most 1`);
  }
  const special = new Set(opts.specialIds);
  if (!special.has(opts.maskId)) special.add(opts.maskId);
  // Random replacements come from ordinary tokens only: a random `<pad>` would change the attention
  // mask and a random `<s>` or `</s>` would fake a sequence boundary.
  const ordinary: number[] = [];
  for (let id = 0; id < opts.vocabSize; id++) if (!special.has(id)) ordinary.push(id);
  if (ordinary.length === 0) throw new Error(`maskTokens: every id of the vocabulary (${opts.vocabSize}) is special; nothing to draw`);

  const n = ids.length;
  const s = opts.generator.take(3 * n);
  const [h0, h1] = keySchedule(s.seedLo, s.seedHi);
  const inputs = Int32Array.from(ids);
  const labels = new Int32Array(n).fill(IGNORE_INDEX);
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (special.has(id)) continue;
    const e = (s.counter + 3 * i) >>> 0;
    if (uniform24(h0, h1, e) >= (emphasis && emphasis.at[i] ? emphasis.probability : p)) continue;
    labels[i] = id;
    const kind = uniform24(h0, h1, (e + 1) >>> 0);
    if (kind < pMask) inputs[i] = opts.maskId;
    else if (kind < pMask + pRandom) inputs[i] = ordinary[word(h0, h1, (e + 2) >>> 0, 0) % ordinary.length]!;
    // else: keep the token; the model must still predict it
  }
  return { inputs, labels };
}

/**
 * Causal-LM example: the model shifts internally (logits at t predict token t + 1), so labels are
 * the ids themselves, with `padId` positions (if any) ignored.
 */
export function causalLmLabels(ids: Int32Array, padId?: number): Int32Array {
  const labels = Int32Array.from(ids);
  if (padId !== undefined) for (let i = 0; i < labels.length; i++) if (labels[i] === padId) labels[i] = IGNORE_INDEX;
  return labels;
}
