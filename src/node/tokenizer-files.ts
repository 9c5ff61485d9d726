/**
 * Node-only: tokenizers from and to directories. Reading is the portable loadTokenizer over the
 * directory; saving writes all three Hugging Face files so any loader can use the directory, each
 * atomically.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileSource } from '../io/source.js';
import { loadTokenizer, type LoadTokenizerOptions } from '../tokenizer/files.js';
import { toMergesTxt, toTokenizerJson, toVocabJson } from '../tokenizer/serialize.js';
import type { ByteLevelBPETokenizer } from '../tokenizer/tokenizer.js';
import { asDirectorySource } from './directory-source.js';
import { writeFileAtomic } from './files.js';

export type { LoadTokenizerOptions, TokenizerFileLayout } from '../tokenizer/files.js';

/** Loads a tokenizer from `dir` (or any source); errors name the files (with their paths) that were looked for. */
export async function loadTokenizerFromDirectory(dir: string | FileSource, opts: LoadTokenizerOptions = {}): Promise<ByteLevelBPETokenizer> {
  return loadTokenizer(asDirectorySource(dir), opts);
}

/** Writes vocab.json, merges.txt and tokenizer.json into `dir` (created if needed). */
export async function saveTokenizer(tokenizer: ByteLevelBPETokenizer, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'vocab.json'), toVocabJson(tokenizer));
  await writeFileAtomic(join(dir, 'merges.txt'), toMergesTxt(tokenizer));
  await writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(toTokenizerJson(tokenizer)));
}
