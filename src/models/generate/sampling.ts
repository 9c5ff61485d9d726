/**
 * Logit processors and host-side sampling for text generation.
 *
 * They work on one row of scores (length V) copied out of the model's last position: the vocabularies
 * here are small enough that a host loop costs far less than the forward pass, and float64 on the host
 * keeps the selection independent of the backend's precision. Every processor edits `scores` in place
 * and returns it; removed tokens become -Infinity, as in Hugging Face's processors.
 */

/**
 * CTRL's repetition penalty (Keskar et al. 2019, as HF): a token already in `tokens` has a positive
 * score divided by `penalty` and a negative one multiplied by it, so penalty > 1 always lowers it.
 */
export function applyRepetitionPenalty(scores: Float64Array, tokens: readonly number[], penalty: number): Float64Array {
  if (!(penalty > 0)) throw new Error(`repetitionPenalty must be > 0, got ${penalty}`);
  if (penalty === 1) return scores;
  // Each distinct token once: a token seen three times is penalised once, not cubed.
  for (const t of new Set(tokens)) {
    const s = scores[t];
    scores[t] = s < 0 ? s * penalty : s / penalty;
  }
  return scores;
}

/**
 * Tokens that would complete an n-gram already present in `tokens`: for every earlier occurrence of
 * the last n - 1 tokens, the token that followed it. Sorted, without duplicates.
 */
export function noRepeatNgramBans(tokens: readonly number[], n: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`noRepeatNgramSize must be a positive integer, got ${n}`);
  const L = tokens.length;
  if (L < n) return []; // no complete n-gram seen yet
  const banned = new Set<number>();
  const start = L - (n - 1); // the prefix the next token would extend
  for (let i = 0; i + n <= L; i++) {
    let match = true;
    for (let j = 0; j < n - 1 && match; j++) match = tokens[i + j] === tokens[start + j];
    if (match) banned.add(tokens[i + n - 1]);
  }
  return [...banned].sort((a, b) => a - b);
}

export function applyNoRepeatNgram(scores: Float64Array, tokens: readonly number[], n: number): Float64Array {
  for (const t of noRepeatNgramBans(tokens, n)) scores[t] = -Infinity;
  return scores;
}

export function applyTemperature(scores: Float64Array, temperature: number): Float64Array {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(`temperature must be a finite number > 0, got ${temperature} (use the greedy strategy for argmax)`);
  }
  if (temperature !== 1) for (let i = 0; i < scores.length; i++) scores[i] /= temperature;
  return scores;
}

/** Keeps the k highest scores; ties with the k-th score are kept too (as HF). */
export function topKFilter(scores: Float64Array, k: number): Float64Array {
  if (!Number.isInteger(k) || k < 1) throw new Error(`topK must be a positive integer, got ${k}`);
  if (k >= scores.length) return scores;
  const threshold = Float64Array.from(scores).sort()[scores.length - k]; // ascending; NaN-free scores assumed
  for (let i = 0; i < scores.length; i++) if (scores[i] < threshold) scores[i] = -Infinity;
  return scores;
}

/**
 * Nucleus filtering (Holtzman et al. 2020): keeps the smallest set of highest-probability tokens whose
 * probability sums to at least p, and always at least the most likely token. Equal scores are taken
 * in index order, so the kept set is deterministic.
 */
export function topPFilter(scores: Float64Array, p: number): Float64Array {
  if (!(p > 0 && p <= 1)) throw new Error(`topP must be in (0, 1], got ${p}`);
  if (p === 1) return scores;
  const probs = softmax(scores);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  let cum = 0;
  let kept = 0;
  while (kept < order.length && (kept === 0 || cum < p)) cum += probs[order[kept++]];
  for (let i = kept; i < order.length; i++) scores[order[i]] = -Infinity;
  return scores;
}

export function logSoftmax(scores: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i] > max) max = scores[i];
  const out = new Float64Array(scores.length);
  if (max === -Infinity) return out.fill(-Infinity);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) sum += Math.exp(scores[i] - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i] - lse;
  return out;
}

export function softmax(scores: ArrayLike<number>): Float64Array {
  const out = logSoftmax(scores);
  for (let i = 0; i < out.length; i++) out[i] = Math.exp(out[i]);
  return out;
}

/** Index of the largest score; the first one on ties. */
export function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

/**
 * Draws from softmax(scores) by inverting the CDF at uniform `u` in (0, 1): the first token whose
 * cumulative probability exceeds u. Filtered tokens (-Infinity) have probability 0 and are never drawn.
 */
export function sampleFromScores(scores: ArrayLike<number>, u: number): number {
  const probs = softmax(scores);
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i];
  const target = u * total; // total is 1 up to rounding; scaling keeps u = 0.9999... inside the support
  let cum = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    cum += probs[i];
    last = i;
    if (cum > target) return i;
  }
  if (last < 0) throw new Error('sampling: every token was filtered out');
  return last;
}

/** The processing options shared by all strategies (applied to logits, or log-probs for beam search). */
export interface PenaltyOptions {
  repetitionPenalty?: number;
  noRepeatNgramSize?: number;
}

/** The sampling warpers, applied after the penalties (HF's order: temperature, top-k, top-p). */
export interface WarpOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
}

/** Repetition penalty, then no-repeat-ngram bans, over the whole sequence (prompt included, as HF). */
export function applyPenalties(scores: Float64Array, tokens: readonly number[], o: PenaltyOptions): Float64Array {
  if (o.repetitionPenalty !== undefined) applyRepetitionPenalty(scores, tokens, o.repetitionPenalty);
  if (o.noRepeatNgramSize) applyNoRepeatNgram(scores, tokens, o.noRepeatNgramSize);
  return scores;
}

export function applyWarpers(scores: Float64Array, o: WarpOptions): Float64Array {
  if (o.temperature !== undefined) applyTemperature(scores, o.temperature);
  if (o.topK !== undefined) topKFilter(scores, o.topK);
  if (o.topP !== undefined) topPFilter(scores, o.topP);
  return scores;
}
