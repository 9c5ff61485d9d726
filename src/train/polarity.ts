/**
 * Sentiment-knowledge pretraining for masked LMs, after SKEP (Tian et al. 2020, "SKEP: Sentiment
 * Knowledge Enhanced Pre-training for Sentiment Analysis"): a word-polarity lexicon marks sentiment
 * tokens; masking selects them more often than other tokens (sentiment masking), and a small linear
 * head predicts each selected sentiment token's polarity from the encoder's output at its position
 * (word polarity prediction), added to the masked-LM loss. SKEP mines its lexicon from unlabelled
 * text with seed words; here the lexicon is given (e.g. AFINN-165's word valences).
 *
 * Words are found in the token stream whatever number of tokens they take (PolarityMatcher), and
 * every token of a matched word is a sentiment token.
 */

/** Word -> valence (negative < 0 < positive; 0 and non-finite entries are ignored). */
export type PolarityLexicon = Readonly<Record<string, number>>;

/** What matching needs of a tokenizer (ByteLevelBPETokenizer, or a stand-in in tests). */
export interface PolarityEncoder {
  encode(text: string): number[];
  /** The token's string (byte-level BPE spells a leading space as `Ġ`); word boundaries are read from it. */
  idToToken(id: number): string | undefined;
}

/** Class of a polarity target: 0 negative, 1 positive. */
export type Polarity = 0 | 1;

/** Per-position polarity labels: 0 negative, 1 positive, -1 not part of a lexicon word. */
export const NO_POLARITY = -1;

interface TrieNode {
  next: Map<number, TrieNode>;
  /** Set where a lexicon form ends. */
  polarity?: Polarity;
  word?: string;
}

/**
 * Characters that make a token continue a word: ASCII letters and digits. (Byte-level BPE spells a
 * space and a newline as the letters `Ġ` and `Ċ`, so Unicode letter classes would not do; a word
 * with other letters (é) is cut there, which only loses a match.)
 */
const WORD_CHAR = /[A-Za-z0-9]/;

/**
 * Finds the lexicon's words in token sequences. Each word is encoded in four forms (`word`, `Word`,
 * ` word`, ` Word`: at the start of a line or document, and after a space), whatever number of
 * tokens each takes, and matched as a whole word: the longest form starting at a position wins, and
 * a match that another word character continues (`bad` in `badge`) or that starts inside a word is
 * not one. Every token of a matched word gets the word's polarity.
 */
export class PolarityMatcher {
  /** Lexicon words (valence != 0) with at least one form that matching can find. */
  readonly words: number;
  /** Lexicon words with a valence != 0. */
  readonly lexiconWords: number;
  /** Of `words`, those that are one token after a space (` word`). */
  readonly singleTokenWords: number;
  private readonly root: TrieNode = { next: new Map() };
  private readonly startsWord: (id: number) => boolean;
  private readonly endsWord: (id: number) => boolean;

  /** A token sequence reached by words of opposite polarity (e.g. a custom lexicon's `Good` and `good`) throws, naming both. */
  constructor(tokenizer: PolarityEncoder, lexicon: PolarityLexicon) {
    const cache = new Map<number, string>();
    const text = (id: number) => {
      let t = cache.get(id);
      if (t === undefined) cache.set(id, (t = tokenizer.idToToken(id) ?? ''));
      return t;
    };
    // a token continues the word before it if it begins with a word character (not `Ġ`, punctuation or a byte)
    this.startsWord = (id) => !WORD_CHAR.test(text(id).charAt(0));
    this.endsWord = (id) => !WORD_CHAR.test(text(id).slice(-1));
    this.words = this.lexiconWords = this.singleTokenWords = 0;
    for (const [word, valence] of Object.entries(lexicon)) {
      if (typeof valence !== 'number' || !Number.isFinite(valence) || valence === 0 || word.trim() === '') continue;
      this.lexiconWords++;
      const p: Polarity = valence > 0 ? 1 : 0;
      const cap = word[0]!.toUpperCase() + word.slice(1);
      let lengths = 0;
      let oneToken = false;
      for (const form of new Set([word, cap, ' ' + word, ' ' + cap])) {
        const ids = tokenizer.encode(form);
        if (ids.length === 0) continue;
        let node = this.root;
        for (const id of ids) {
          let n = node.next.get(id);
          if (!n) node.next.set(id, (n = { next: new Map() }));
          node = n;
        }
        if (node.polarity !== undefined && node.polarity !== p) {
          throw new Error(`polarity lexicon: ${JSON.stringify(node.word)} and ${JSON.stringify(word)} encode to the same tokens with opposite polarities; remove one of them`);
        }
        node.polarity = p;
        node.word = word;
        lengths++;
        if (form === ' ' + word && ids.length === 1) oneToken = true;
      }
      if (lengths > 0) {
        this.words++;
        if (oneToken) this.singleTokenWords++;
      }
    }
  }

  /** Polarity of each position of `ids` (NO_POLARITY outside lexicon words). */
  label(ids: ArrayLike<number>): Int8Array {
    const out = new Int8Array(ids.length).fill(NO_POLARITY);
    let i = 0;
    while (i < ids.length) {
      // a word starts at i only if the token before it ends a word (or there is none) or i's token opens one
      const boundary = i === 0 || this.endsWord(ids[i - 1]!) || this.startsWord(ids[i]!);
      let end = -1;
      let polarity: Polarity | undefined;
      if (boundary) {
        let node: TrieNode | undefined = this.root;
        for (let j = i; j < ids.length; j++) {
          node = node.next.get(ids[j]!);
          if (!node) break;
          if (node.polarity !== undefined && (j + 1 === ids.length || this.startsWord(ids[j + 1]!))) {
            end = j + 1;
            polarity = node.polarity;
          }
        }
      }
      if (end < 0) {
        i++;
        continue;
      }
      out.fill(polarity!, i, end);
      i = end;
    }
    return out;
  }
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
