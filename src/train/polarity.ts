/**
 * Sentiment-knowledge pretraining for masked LMs, after SKEP (Tian et al. 2020, "SKEP: Sentiment
 * Knowledge Enhanced Pre-training for Sentiment Analysis"): a word-polarity lexicon marks sentiment
 * tokens; masking selects them more often than other tokens (sentiment masking), and a small linear
 * head predicts each selected sentiment token's polarity from the encoder's output at its position
 * (word polarity prediction), added to the masked-LM loss. SKEP mines its lexicon from unlabelled
 * text with seed words; here the lexicon is given (e.g. AFINN-165's word valences).
 *
 * Words are found in the token stream whatever number of tokens they take (PolarityMatcher), and
 * every token of a matched word is a sentiment token. With a negation scope, a lexicon word that
 * follows a negator (`not`, `never`, `don't`...) within that many words of the same clause takes the
 * opposite polarity: `not good` is negative, as the sentence means, where SKEP's context-free labels
 * call it positive.
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
  /** Set where a negator's form ends (negation on): the word flips the lexicon words after it. */
  negator?: boolean;
  word?: string;
}

/**
 * English negators for negation-aware polarity labels: `not` and the `n't` contractions (with and
 * without the apostrophe, as reviews spell them), and the negative words that reverse what follows
 * (`never`, `no`, `nothing`, `without`...). A lexicon word in this list (AFINN rates `no` -1) is a
 * negator, not a polarity target, when negation is on.
 */
export const NEGATORS: readonly string[] = [
  'not', 'no', 'never', 'nothing', 'nobody', 'none', 'neither', 'nor', 'nowhere', 'without', 'hardly', 'barely', 'cannot',
  ...['can', 'do', 'does', 'did', 'is', 'are', 'was', 'were', 'wo', 'would', 'could', 'should', 'has', 'have', 'had', 'ai', 'must', 'need']
    .flatMap((w) => [`${w}n't`, `${w}nt`]),
];

/** Options of PolarityMatcher. */
export interface PolarityMatcherOptions {
  /**
   * Negation scope in words (default 0: off): a lexicon word starting within this many words after a
   * negator, with no clause punctuation (. , ; : ! ?) between them, takes the opposite polarity.
   */
  negationScope?: number;
  /** The negators (default NEGATORS); matched as lexicon words are, in the same four forms. */
  negators?: readonly string[];
}

/** Characters that end a clause, and with it a negator's scope. */
const CLAUSE_END = /[.,;:!?]/;

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
  /** Negation scope in words (0: negation off). */
  readonly negationScope: number;
  /** Negators matching finds (0 with negation off). */
  readonly negators: number;
  /** Lexicon words left out of `words` because they are negators (negation on). */
  readonly lexiconNegators: number;
  private readonly root: TrieNode = { next: new Map() };
  private readonly startsWord: (id: number) => boolean;
  private readonly endsWord: (id: number) => boolean;
  /** The token holds a letter or digit and is no contraction's tail (it starts a word where it starts at a boundary). */
  private readonly wordy: (id: number) => boolean;
  private readonly endsClause: (id: number) => boolean;

  /** A token sequence reached by words of opposite polarity (e.g. a custom lexicon's `Good` and `good`) throws, naming both. */
  constructor(tokenizer: PolarityEncoder, lexicon: PolarityLexicon, opts: PolarityMatcherOptions = {}) {
    const scope = opts.negationScope ?? 0;
    if (!(Number.isInteger(scope) && scope >= 0)) throw new Error(`PolarityMatcher: negationScope = ${scope} must be a non-negative integer (words after a negator; 0 turns negation off)`);
    this.negationScope = scope;
    const cache = new Map<number, string>();
    const text = (id: number) => {
      let t = cache.get(id);
      if (t === undefined) cache.set(id, (t = tokenizer.idToToken(id) ?? ''));
      return t;
    };
    // a token continues the word before it if it begins with a word character (not `Ġ`, punctuation or a byte)
    this.startsWord = (id) => !WORD_CHAR.test(text(id).charAt(0));
    this.endsWord = (id) => !WORD_CHAR.test(text(id).slice(-1));
    // a contraction's tail (`'s`, `'t`, `'ll`) is part of the word before it, not a word of the scope
    this.wordy = (id) => {
      const t = text(id);
      return WORD_CHAR.test(t) && !t.startsWith("'");
    };
    this.endsClause = (id) => CLAUSE_END.test(text(id));
    const forms = (word: string, visit: (node: TrieNode, ids: number[], form: string) => void) => {
      const cap = word[0]!.toUpperCase() + word.slice(1);
      for (const form of new Set([word, cap, ' ' + word, ' ' + cap])) {
        const ids = tokenizer.encode(form);
        if (ids.length === 0) continue;
        let node = this.root;
        for (const id of ids) {
          let n = node.next.get(id);
          if (!n) node.next.set(id, (n = { next: new Map() }));
          node = n;
        }
        visit(node, ids, form);
      }
    };
    const negators = scope > 0 ? (opts.negators ?? NEGATORS).filter((w) => w.trim() !== '') : [];
    const isNegator = new Set(negators.map((w) => w.toLowerCase()));
    this.words = this.lexiconWords = this.singleTokenWords = this.negators = this.lexiconNegators = 0;
    for (const [word, valence] of Object.entries(lexicon)) {
      if (typeof valence !== 'number' || !Number.isFinite(valence) || valence === 0 || word.trim() === '') continue;
      this.lexiconWords++;
      if (isNegator.has(word.toLowerCase())) {
        this.lexiconNegators++; // a negator, not a target (negation on)
        continue;
      }
      const p: Polarity = valence > 0 ? 1 : 0;
      let lengths = 0;
      let oneToken = false;
      forms(word, (node, ids, form) => {
        if (node.polarity !== undefined && node.polarity !== p) {
          throw new Error(`polarity lexicon: ${JSON.stringify(node.word)} and ${JSON.stringify(word)} encode to the same tokens with opposite polarities; remove one of them`);
        }
        node.polarity = p;
        node.word = word;
        lengths++;
        if (form === ' ' + word && ids.length === 1) oneToken = true;
      });
      if (lengths > 0) {
        this.words++;
        if (oneToken) this.singleTokenWords++;
      }
    }
    for (const word of negators) {
      let found = false;
      forms(word, (node) => {
        // a negator is not a polarity target: it flips what follows it
        node.polarity = undefined;
        node.negator = true;
        node.word = word;
        found = true;
      });
      if (found) this.negators++;
    }
  }

  /**
   * Polarity of each position of `ids` (NO_POLARITY outside lexicon words); with a negation scope, a
   * lexicon word within the scope of a negator has the opposite of its lexicon polarity.
   */
  label(ids: ArrayLike<number>): Int8Array {
    const out = new Int8Array(ids.length).fill(NO_POLARITY);
    const negation = this.negationScope > 0;
    let word = 0; // words started so far (a word starts at a boundary token holding a letter or digit)
    let negatedThrough = -1; // the last word that a negator's scope reaches
    let i = 0;
    while (i < ids.length) {
      const id = ids[i]!;
      // a word starts at i only if the token before it ends a word (or there is none) or i's token opens one
      const boundary = i === 0 || this.endsWord(ids[i - 1]!) || this.startsWord(id);
      if (negation) {
        if (this.endsClause(id)) negatedThrough = -1;
        if (boundary && this.wordy(id)) word++;
      }
      let end = -1;
      let match: TrieNode | undefined;
      if (boundary) {
        let node: TrieNode | undefined = this.root;
        for (let j = i; j < ids.length; j++) {
          node = node.next.get(ids[j]!);
          if (!node) break;
          if ((node.polarity !== undefined || node.negator) && (j + 1 === ids.length || this.startsWord(ids[j + 1]!))) {
            end = j + 1;
            match = node;
          }
        }
      }
      if (end < 0) {
        i++;
        continue;
      }
      if (match!.negator) {
        negatedThrough = word + this.negationScope;
      } else {
        const p = match!.polarity!;
        out.fill(word <= negatedThrough ? 1 - p : p, i, end);
      }
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
