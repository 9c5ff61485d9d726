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
  const held = heldOutNames(docs.map((d) => d.name), opts);
  const byName = (a: TextDocument, b: TextDocument) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    validation: docs.filter((d) => held.has(d.name)).sort(byName),
    train: docs.filter((d) => !held.has(d.name)).sort(byName),
  };
}

/** The names splitDocuments holds out for validation (the same rule, from names alone, so texts can be read later). */
export function heldOutNames(names: readonly string[], opts: SplitOptions = {}): Set<string> {
  const fraction = opts.validationFraction ?? 0.05;
  if (!(fraction > 0 && fraction < 1)) throw new Error(`splitDocuments: validationFraction ${fraction} must be in (0, 1)`);
  if (names.length < 2) throw new Error(`splitDocuments: need at least 2 documents to hold one out, got ${names.length}`);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new Error(`splitDocuments: document name ${JSON.stringify(n)} appears twice; names must be unique`);
    seen.add(n);
  }
  const seed = opts.seed ?? 0;
  const ranked = names.map((n) => ({ n, h: hashName(n, seed) }));
  ranked.sort((a, b) => a.h - b.h || (a.n < b.n ? -1 : 1));
  const nVal = Math.min(names.length - 1, Math.max(1, Math.round(fraction * names.length)));
  return new Set(ranked.slice(0, nVal).map((r) => r.n));
}

/** Paragraphs shorter than this (after normalising) are never treated as duplicates ("Thank you."). */
export const DEDUP_MIN_CHARS = 32;

/**
 * Exact deduplication by paragraph across a stream of documents: the first occurrence of a
 * paragraph (compared after lowercasing and collapsing whitespace) is kept, later copies are
 * dropped. Mailing-list footers, repeated boilerplate and texts shipped twice thus appear once, and
 * since deduplication runs before the train/validation split is read, no held-out paragraph also
 * appears in training. Keeps a 53-bit hash per distinct paragraph, not the text.
 */
export class ParagraphDeduper {
  private readonly seen = new Set<number>();
  /** Paragraphs and characters dropped so far. */
  droppedParagraphs = 0;
  droppedChars = 0;
  keptParagraphs = 0;

  /** The document's text without paragraphs seen before (paragraphs are separated by blank lines). */
  filter(text: string): string {
    const kept: string[] = [];
    for (const para of text.split(/\n[ \t]*\n/)) {
      const norm = para.toLowerCase().replace(/\s+/g, ' ').trim();
      if (norm === '') continue;
      if (norm.length >= DEDUP_MIN_CHARS) {
        const key = hash53(norm);
        if (this.seen.has(key)) {
          this.droppedParagraphs++;
          this.droppedChars += para.length;
          continue;
        }
        this.seen.add(key);
      }
      this.keptParagraphs++;
      kept.push(para.trim());
    }
    return kept.join('\n\n');
  }
}

/** Two independent FNV-1a passes, mixed, combined into one exactly representable 53-bit integer. */
function hash53(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x85ebca6b) ^ (b >>> 15);
  }
  return fmix32(a >>> 0) * 2 ** 21 + (fmix32(b >>> 0) & 0x1fffff);
}
