/**
 * Text corpora as lists of documents, and a deterministic train/validation split by document.
 * Reading files is the caller's job (src/cli); everything here works on strings, so it runs anywhere.
 */
import { fmix32 } from '../backend/rng.js';

export interface TextDocument {
  /** Stable identifier (a file name): the split is decided from it, not from the order of reading. */
  name: string;
  text: string;
}

export interface SplitOptions {
  /** Fraction of documents held out for validation (default 0.05). */
  validationFraction?: number;
  /** Changes which documents are held out (default 0). */
  seed?: number;
}

export interface CorpusSplit {
  train: TextDocument[];
  validation: TextDocument[];
}

/** FNV-1a over UTF-16 code units, then fmix32 with the seed: a well-mixed 32-bit hash of a name. */
export function hashName(name: string, seed = 0): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return fmix32((h ^ fmix32(seed >>> 0)) >>> 0);
}

/**
 * Splits by whole documents, so no validation text leaks into training through a shared document.
 * Documents are ranked by a seeded hash of their name and the lowest `round(fraction * n)` (at least
 * one, and never all) are held out: the same names give the same split whatever the reading order.
 * Both lists keep the documents sorted by name.
 */
export function splitDocuments(docs: readonly TextDocument[], opts: SplitOptions = {}): CorpusSplit {
  const fraction = opts.validationFraction ?? 0.05;
  if (!(fraction > 0 && fraction < 1)) throw new Error(`splitDocuments: validationFraction ${fraction} must be in (0, 1)`);
  if (docs.length < 2) throw new Error(`splitDocuments: need at least 2 documents to hold one out, got ${docs.length}`);
  const names = new Set<string>();
  for (const d of docs) {
    if (names.has(d.name)) throw new Error(`splitDocuments: document name ${JSON.stringify(d.name)} appears twice; names must be unique`);
    names.add(d.name);
  }
  const seed = opts.seed ?? 0;
  const ranked = docs.map((d) => ({ d, h: hashName(d.name, seed) }));
  ranked.sort((a, b) => a.h - b.h || (a.d.name < b.d.name ? -1 : 1));
  const nVal = Math.min(docs.length - 1, Math.max(1, Math.round(fraction * docs.length)));
  const byName = (a: TextDocument, b: TextDocument) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    validation: ranked.slice(0, nVal).map((r) => r.d).sort(byName),
    train: ranked.slice(nVal).map((r) => r.d).sort(byName),
  };
}
