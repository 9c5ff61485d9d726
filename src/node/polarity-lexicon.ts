/**
 * Word-polarity lexicons for sentiment-knowledge pretraining (src/train/polarity.ts), by name or
 * path: `afinn` is AFINN-165 (Nielsen 2011; 3,382 English words rated -5..+5) as shipped in the
 * `sentiment` npm package; anything else is read as a JSON file of word -> valence.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { parsePolarityLexicon, type PolarityLexicon } from '../train/polarity.js';

/** Built-in lexicons: where they come from and their licence, for the checkpoint README. */
export const POLARITY_LEXICONS = {
  afinn: {
    package: 'sentiment',
    file: 'languages/en/labels.json',
    licence: 'AFINN-165 word valences (F. Å. Nielsen, 2011) as packaged in the `sentiment` npm package (MIT); the AFINN project distributes its word lists under Apache 2.0 (AFINN-111 under ODbL 1.0)',
  },
} as const;

/** The lexicon `nameOrPath` names, and its licence line if built in. */
export function loadPolarityLexicon(nameOrPath: string): { lexicon: PolarityLexicon; licence?: string } {
  const builtIn = (POLARITY_LEXICONS as Record<string, (typeof POLARITY_LEXICONS)['afinn']>)[nameOrPath];
  let path: string;
  if (builtIn) {
    try {
      path = join(dirname(createRequire(import.meta.url).resolve(`${builtIn.package}/package.json`)), builtIn.file);
    } catch (err) {
      throw new Error(`polarity lexicon ${nameOrPath} comes with the npm package "${builtIn.package}", which is not installed: npm install ${builtIn.package}`, { cause: err });
    }
  } else {
    path = resolve(nameOrPath);
    if (!existsSync(path)) {
      throw new Error(`polarity lexicon ${nameOrPath}: not a built-in lexicon (${Object.keys(POLARITY_LEXICONS).join(', ')}) and no file exists at ${path}; give a JSON file of word -> valence`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`polarity lexicon ${nameOrPath}: ${path} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  return { lexicon: parsePolarityLexicon(json, path), ...(builtIn ? { licence: builtIn.licence } : {}) };
}
