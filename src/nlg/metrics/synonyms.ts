/**
 * WordNet synonym sets for METEOR's synonym stage, built from the WordNet database's text files
 * (given as strings, so this layer needs no file system; `wasmgrad/node`'s `loadWordNet` reads them).
 *
 * As METEOR 1.5's SynonymDictionary: a word's synsets are those it is a lemma of (any part of
 * speech), united with those of its base forms: the bases the exception lists (`*.exc`) give for
 * it, or else the first of WordNet's detachment rules (noun -s, -ses, -xes, ..., verb -ies, -es,
 * -ed, -ing, adjective -er, -est) whose result is a WordNet lemma. Two different words match when
 * their sets share a synset.
 */

/** What METEOR's synonym stage needs: each word's synset ids, base forms included. */
export interface SynonymLookup {
  /** Synset ids of `word` (lowercase) and of its base forms; empty when WordNet does not know it. */
  synsets(word: string): ReadonlySet<string>;
}

export type WordNetPos = 'noun' | 'verb' | 'adj' | 'adv';
export const WORDNET_POS: readonly WordNetPos[] = ['noun', 'verb', 'adj', 'adv'];

/** The WordNet files the dictionary is built from: `index.<pos>` and `<pos>.exc` texts. */
export interface WordNetTexts {
  index: Readonly<Record<WordNetPos, string>>;
  exceptions: Readonly<Record<WordNetPos, string>>;
}

/** WordNet's detachment rules (suffix -> ending), in the order morphy tries them. */
const DETACH: readonly [string, string][] = [
  // nouns
  ['s', ''], ['ses', 's'], ['xes', 'x'], ['zes', 'z'], ['ches', 'ch'], ['shes', 'sh'], ['men', 'man'], ['ies', 'y'],
  // verbs
  ['s', ''], ['ies', 'y'], ['es', 'e'], ['es', ''], ['ed', 'e'], ['ed', ''], ['ing', 'e'], ['ing', ''],
  // adjectives
  ['er', ''], ['est', ''], ['er', 'e'], ['est', 'e'],
];

const EMPTY: ReadonlySet<string> = new Set();

export class WordNetSynonyms implements SynonymLookup {
  private readonly cache = new Map<string, ReadonlySet<string>>();

  /**
   * @param lemmaSynsets each single-word lemma's synset ids (`<pos letter><offset>`)
   * @param bases each inflected form's base forms from the exception lists
   */
  constructor(
    private readonly lemmaSynsets: ReadonlyMap<string, readonly string[]>,
    private readonly bases: ReadonlyMap<string, readonly string[]>,
  ) {}

  /** Parses the WordNet index and exception files. */
  static fromTexts(t: WordNetTexts): WordNetSynonyms {
    const lemmas = new Map<string, string[]>();
    for (const pos of WORDNET_POS) {
      const text = t.index[pos];
      if (typeof text !== 'string' || text.length === 0) throw new Error(`WordNet: index.${pos} is missing or empty; pass the text of the WordNet 3.0 file index.${pos}`);
      const letter = pos === 'adj' ? 'a' : pos[0]!;
      let found = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith(' ') || line.length === 0) continue; // licence header
        const f = line.trim().split(/\s+/);
        const lemma = f[0]!;
        const synsetCount = Number(f[2]);
        const ptrCount = Number(f[3]);
        if (!Number.isInteger(synsetCount) || !Number.isInteger(ptrCount) || f.length !== 6 + ptrCount + synsetCount) {
          throw new Error(`WordNet: index.${pos} line "${line.slice(0, 60)}" is not "lemma pos synset_cnt p_cnt ptrs... sense_cnt tagsense_cnt offsets..."; pass an unmodified WordNet index file`);
        }
        found++;
        if (lemma.includes('_')) continue; // multi-word lemmas never match one token
        const ids = f.slice(f.length - synsetCount).map((o) => letter + o);
        const prev = lemmas.get(lemma);
        if (prev) prev.push(...ids);
        else lemmas.set(lemma, ids);
      }
      if (found === 0) throw new Error(`WordNet: index.${pos} has no entries; pass the text of the WordNet 3.0 file index.${pos}`);
    }
    const bases = new Map<string, string[]>();
    for (const pos of WORDNET_POS) {
      for (const line of (t.exceptions[pos] ?? '').split('\n')) {
        const [form, ...forms] = line.trim().split(/\s+/);
        if (!form || forms.length === 0) continue;
        const prev = bases.get(form);
        if (prev) prev.push(...forms);
        else bases.set(form, forms);
      }
    }
    return new WordNetSynonyms(lemmas, bases);
  }

  /** Number of single-word lemmas known. */
  get size(): number {
    return this.lemmaSynsets.size;
  }

  /** The base form WordNet's detachment rules give (the first that is a lemma), or '' when none is. */
  morph(word: string): string {
    if (word.endsWith('ss') || word.length <= 2) return word;
    for (const [suffix, ending] of DETACH) {
      if (!word.endsWith(suffix)) continue;
      const base = word.slice(0, word.length - suffix.length) + ending;
      if (this.lemmaSynsets.has(base)) return base;
    }
    return '';
  }

  synsets(word: string): ReadonlySet<string> {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const out = new Set<string>(this.lemmaSynsets.get(word) ?? []);
    const bases = this.bases.get(word) ?? [this.morph(word)];
    for (const b of bases) for (const id of this.lemmaSynsets.get(b) ?? []) out.add(id);
    const result = out.size === 0 ? EMPTY : out;
    this.cache.set(word, result);
    return result;
  }
}
