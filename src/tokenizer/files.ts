/**
 * Tokenizers from any {@link FileSource} (a URL, files in memory, a directory through
 * `wasmgrad/node`). Reading picks the richest format present: tokenizer.json keeps added-token
 * options that vocab.json cannot express.
 */
import { readText, type FileSource } from '../io/source.js';
import { parseJsonFile } from './json.js';
import { fromGpt2EncoderFiles, fromTokenizerJson, fromVocabAndMerges, type VocabMergesOptions } from './load.js';
import type { ByteLevelBPETokenizer } from './tokenizer.js';

export type TokenizerFileLayout = 'tokenizer.json' | 'vocab.json+merges.txt' | 'encoder.json+vocab.bpe';

export interface LoadTokenizerOptions extends Pick<VocabMergesOptions, 'specialTokens' | 'addPrefixSpace'> {
  /** Force one layout instead of the first found in the order tokenizer.json, vocab.json, encoder.json. */
  prefer?: TokenizerFileLayout;
}

/** Loads a tokenizer from `source`; errors name the files (with their locations) that were looked for. */
export async function loadTokenizer(source: FileSource, opts: LoadTokenizerOptions = {}): Promise<ByteLevelBPETokenizer> {
  const order: TokenizerFileLayout[] = opts.prefer ? [opts.prefer] : ['tokenizer.json', 'vocab.json+merges.txt', 'encoder.json+vocab.bpe'];
  const vmOpts = { specialTokens: opts.specialTokens, addPrefixSpace: opts.addPrefixSpace };
  for (const layout of order) {
    const [first, second] = layout.split('+') as [string, string | undefined];
    const a = await readText(source, first);
    if (a === null) continue;
    if (second === undefined) {
      const path = source.locate(first);
      const json = parseJsonFile(a, path) as Record<string, unknown>;
      // tokenizer.json carries its own add_prefix_space; an explicit option wins
      const pre = json.pre_tokenizer;
      if (opts.addPrefixSpace !== undefined && typeof pre === 'object' && pre !== null) {
        json.pre_tokenizer = { ...pre, add_prefix_space: opts.addPrefixSpace };
      }
      return fromTokenizerJson(json, { file: path });
    }
    const b = await readText(source, second);
    if (b === null) throw new Error(`${source.locate(first)} is present but ${source.locate(second)} is missing; both are needed`);
    const files = { vocabFile: source.locate(first), mergesFile: source.locate(second) };
    return layout === 'encoder.json+vocab.bpe' ? fromGpt2EncoderFiles(a, b, { ...vmOpts, ...files }) : fromVocabAndMerges(a, b, { ...vmOpts, ...files });
  }
  throw new Error(`no tokenizer in ${source.describe}: expected ${order.map((l) => l.replace('+', ' + ')).join(', or ')}`);
}
