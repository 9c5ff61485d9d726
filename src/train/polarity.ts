/**
 * Sentiment-knowledge pretraining for masked LMs, after SKEP (Tian et al. 2020, "SKEP: Sentiment
 * Knowledge Enhanced Pre-training for Sentiment Analysis"): a word-polarity lexicon marks sentiment
 * tokens; masking selects them more often than other tokens (sentiment masking), and a small linear
 * head predicts each selected sentiment token's polarity from the encoder's output at its position
 * (word polarity prediction), added to the masked-LM loss. SKEP mines its lexicon from unlabelled
 * text with seed words; here the lexicon is given (e.g. AFINN-165's word valences).
 *
 * Only words that the tokenizer encodes as one token are used (in the four forms `word`, `Word`,
 * ` word`, ` Word`): a multi-token word has no single position whose polarity is the word's.
 */
import { Linear } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import type { Generator } from '../ops/random.js';
import type { Tensor } from '../tensor/tensor.js';

/** Word -> valence (negative < 0 < positive; 0 and non-finite entries are ignored). */
export type PolarityLexicon = Readonly<Record<string, number>>;

/** What encoding needs of a tokenizer (ByteLevelBPETokenizer, or a stand-in in tests). */
export interface PolarityEncoder {
  encode(text: string): number[];
}

/** Class of a polarity target: 0 negative, 1 positive. */
export type Polarity = 0 | 1;

/** Lexicon words as single tokens: token id -> polarity, and how many words found one. */
export interface PolarityTokens {
  polarity: ReadonlyMap<number, Polarity>;
  /** Lexicon words (valence != 0) with at least one single-token form. */
  words: number;
  /** Lexicon words with a valence != 0 (the rest are multi-token in every form). */
  lexiconWords: number;
}

/**
 * Maps the single-token forms of the lexicon's words to their polarity. A token reached by words
 * of both polarities (possible only with a custom lexicon holding e.g. `Good` and `good` with
 * opposite signs) throws, naming both words.
 */
export function polarityTokens(tokenizer: PolarityEncoder, lexicon: PolarityLexicon): PolarityTokens {
  const polarity = new Map<number, Polarity>();
  const from = new Map<number, string>();
  let words = 0;
  let lexiconWords = 0;
  for (const [word, valence] of Object.entries(lexicon)) {
    if (typeof valence !== 'number' || !Number.isFinite(valence) || valence === 0 || word.trim() === '') continue;
    lexiconWords++;
    const p: Polarity = valence > 0 ? 1 : 0;
    const cap = word[0]!.toUpperCase() + word.slice(1);
    let found = false;
    for (const form of new Set([word, cap, ' ' + word, ' ' + cap])) {
      const ids = tokenizer.encode(form);
      if (ids.length !== 1) continue;
      const id = ids[0]!;
      const prev = polarity.get(id);
      if (prev !== undefined && prev !== p) {
        throw new Error(`polarity lexicon: ${JSON.stringify(from.get(id))} and ${JSON.stringify(word)} share token ${id} with opposite polarities; remove one of them`);
      }
      polarity.set(id, p);
      from.set(id, word);
      found = true;
    }
    if (found) words++;
  }
  return { polarity, words, lexiconWords };
}

/**
 * Reads a lexicon from parsed JSON (an object of word -> number); `source` names it in errors.
 * Throws if it is not such an object or holds no word with a non-zero valence.
 */
export function parsePolarityLexicon(json: unknown, source: string): PolarityLexicon {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`polarity lexicon ${source}: expected a JSON object of word -> valence (e.g. {"good": 3, "bad": -3}), got ${Array.isArray(json) ? 'an array' : typeof json}`);
  }
  const out: Record<string, number> = {};
  let nonZero = 0;
  for (const [word, v] of Object.entries(json as Record<string, unknown>)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`polarity lexicon ${source}: the valence of ${JSON.stringify(word)} is ${JSON.stringify(v)}; valences are finite numbers`);
    out[word] = v;
    if (v !== 0) nonZero++;
  }
  if (nonZero === 0) throw new Error(`polarity lexicon ${source}: no word has a non-zero valence; nothing to predict`);
  return out;
}

/** The word-polarity head: a linear map from the encoder's output at a position to 2 logits. */
export class PolarityHead extends Module {
  readonly dense: Linear;

  constructor(dModel: number, generator: Generator) {
    super();
    this.dense = new Linear(dModel, 2, { generator });
  }

  /** (n, dModel) -> (n, 2) logits (negative, positive). */
  forward(h: Tensor): Tensor {
    return this.dense.forward(h);
  }
}
