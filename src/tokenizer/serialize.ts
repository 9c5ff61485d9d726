/**
 * ByteLevelBPETokenizer -> file contents, in the formats load.ts reads back: Hugging Face
 * `vocab.json` + `merges.txt` (what GPT2Tokenizer/RobertaTokenizer load) and `tokenizer.json` (what the
 * `tokenizers` library and fast tokenizers load).
 */
import type { ByteLevelBPETokenizer } from './tokenizer.js';

/** token -> id object in id order, added tokens included (HF's vocab.json holds them too). */
export function vocabObject(tok: ByteLevelBPETokenizer): Record<string, number> {
  const out: Record<string, number> = {};
  for (let id = 0; id < tok.vocabSize; id++) {
    const t = tok.idToToken(id);
    if (t !== undefined) out[t] = id;
  }
  return out;
}

export function toVocabJson(tok: ByteLevelBPETokenizer): string {
  return JSON.stringify(vocabObject(tok));
}

export function toMergesTxt(tok: ByteLevelBPETokenizer): string {
  // byte-level tokens never contain a space (it is "Ġ"), so "left right" is unambiguous
  return ['#version: 0.2', ...tok.merges.map(([a, b]) => `${a} ${b}`)].join('\n') + '\n';
}

/** A `tokenizer.json` object (merges as pairs, the current Hugging Face encoding). */
export function toTokenizerJson(tok: ByteLevelBPETokenizer): object {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: tok.addPrefixSpace, trim_offsets: true, use_regex: true };
  const model: Record<string, unknown> = { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null };
  Object.assign(model, { end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: tok.model.ignoreMerges });
  const modelVocab: Record<string, number> = {};
  for (const [t, id] of tok.model.vocab) modelVocab[t] = id;
  const unk = tok.model.unkId >= 0 ? tok.idToToken(tok.model.unkId) : undefined;
  model.unk_token = unk ?? null;
  model.vocab = modelVocab;
  model.merges = tok.merges.map(([a, b]) => [a, b]);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: tok.addedTokens.map((t) => ({
      id: t.id,
      content: t.content,
      single_word: false,
      lstrip: t.lstrip ?? false,
      rstrip: t.rstrip ?? false,
      normalized: false,
      special: t.special ?? true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: { ...byteLevel },
    model,
  };
}
