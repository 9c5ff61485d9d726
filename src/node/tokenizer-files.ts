/**
 * Node-only: tokenizers from and to directories. Reading picks the richest format present
 * (tokenizer.json keeps added-token options that vocab.json cannot express); saving writes all
 * three Hugging Face files so any loader can use the directory, each atomically.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  fromGpt2EncoderFiles,
  fromTokenizerJson,
  fromVocabAndMerges,
  type VocabMergesOptions,
} from '../tokenizer/load.js';
import { parseJsonFile } from '../tokenizer/json.js';
import { toMergesTxt, toTokenizerJson, toVocabJson } from '../tokenizer/serialize.js';
import type { ByteLevelBPETokenizer } from '../tokenizer/tokenizer.js';
import { writeFileAtomic } from './files.js';

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export type TokenizerFileLayout = 'tokenizer.json' | 'vocab.json+merges.txt' | 'encoder.json+vocab.bpe';

export interface LoadTokenizerOptions extends Pick<VocabMergesOptions, 'specialTokens' | 'addPrefixSpace'> {
  /** Force one layout instead of the first found in the order tokenizer.json, vocab.json, encoder.json. */
  prefer?: TokenizerFileLayout;
}

/** Loads a tokenizer from `dir`; errors name the files (with their paths) that were looked for. */
export async function loadTokenizerFromDirectory(dir: string, opts: LoadTokenizerOptions = {}): Promise<ByteLevelBPETokenizer> {
  const order: TokenizerFileLayout[] = opts.prefer ? [opts.prefer] : ['tokenizer.json', 'vocab.json+merges.txt', 'encoder.json+vocab.bpe'];
  const vmOpts = { specialTokens: opts.specialTokens, addPrefixSpace: opts.addPrefixSpace };
  for (const layout of order) {
    const [first, second] = layout.split('+') as [string, string | undefined];
    const a = await readText(join(dir, first));
    if (a === null) continue;
    if (second === undefined) {
      const path = join(dir, first);
      const json = parseJsonFile(a, path) as Record<string, unknown>;
      // tokenizer.json carries its own add_prefix_space; an explicit option wins
      const pre = json.pre_tokenizer;
      if (opts.addPrefixSpace !== undefined && typeof pre === 'object' && pre !== null) {
        json.pre_tokenizer = { ...pre, add_prefix_space: opts.addPrefixSpace };
      }
      return fromTokenizerJson(json, { file: path });
    }
    const b = await readText(join(dir, second));
    if (b === null) throw new Error(`${join(dir, first)} is present but ${join(dir, second)} is missing; both are needed`);
    const files = { vocabFile: join(dir, first), mergesFile: join(dir, second) };
    return layout === 'encoder.json+vocab.bpe' ? fromGpt2EncoderFiles(a, b, { ...vmOpts, ...files }) : fromVocabAndMerges(a, b, { ...vmOpts, ...files });
  }
  throw new Error(`no tokenizer in ${dir}: expected ${order.map((l) => l.replace('+', ' + ')).join(', or ')}`);
}

/** Writes vocab.json, merges.txt and tokenizer.json into `dir` (created if needed). */
export async function saveTokenizer(tokenizer: ByteLevelBPETokenizer, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'vocab.json'), toVocabJson(tokenizer));
  await writeFileAtomic(join(dir, 'merges.txt'), toMergesTxt(tokenizer));
  await writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(toTokenizerJson(tokenizer)));
}
