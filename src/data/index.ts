/** Dataset pieces for language-model training: documents, splits and deduplication, text cleaning, token blocks, MLM masking. */
export { DEDUP_MIN_CHARS, hashName, heldOutNames, ParagraphDeduper, splitDocuments, type CorpusSplit, type SplitOptions, type TextDocument } from './corpus.js';
export { brownToText, emailBody } from './text-sources.js';
export {
  ArrayTokenSource, BlockSampler, permutation, TokenBlocks, tokenCounts, tokenStream, type BlockLayout, type SamplerCursor, type TokenSource,
} from './blocks.js';
export { causalLmLabels, IGNORE_INDEX, maskTokens, type MlmExample, type MlmMaskingOptions } from './mlm.js';
