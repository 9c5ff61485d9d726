/** Byte-level BPE tokenizers (GPT-2 / RoBERTa): loading, encoding, decoding and training. */
export { BYTE_TO_UNICODE, byteAlphabet, toByteLevel, unicodeToByte, utf8Bytes } from './bytes.js';
export { AddedTokenMatcher, GPT2_SPLIT_PATTERN, pretokenize, type AddedToken } from './pretokenize.js';
export { BpeModel, type BpeModelOptions } from './bpe.js';
export { ByteLevelBPETokenizer, type ByteLevelBPEOptions, type Gpt2LayoutOptions } from './tokenizer.js';
export {
  finishLayout,
  truncatePair,
  type EncodedInput,
  type LayoutOptions,
  type PairLayoutOptions,
  type PaddingOptions,
  type TruncationStrategy,
} from './layout.js';
export {
  KNOWN_SPECIAL_TOKENS,
  fromGpt2EncoderFiles,
  fromTokenizerJson,
  fromVocabAndMerges,
  parseMerges,
  parseVocab,
  type ParsedMerges,
  type VocabMergesOptions,
} from './load.js';
export { jsonErrorOffset, parseJsonFile } from './json.js';
export { toMergesTxt, toTokenizerJson, toVocabJson, vocabObject } from './serialize.js';
export { trainByteLevelBPE, type TrainOptions, type TrainProgress } from './train.js';
export { loadTokenizer, type LoadTokenizerOptions, type TokenizerFileLayout } from './files.js';
