/** Dataset pieces for language-model training: documents and splits, token blocks, MLM masking. */
export { hashName, splitDocuments, type CorpusSplit, type SplitOptions, type TextDocument } from './corpus.js';
export { BlockSampler, permutation, TokenBlocks, tokenStream, type BlockLayout, type SamplerCursor } from './blocks.js';
export { causalLmLabels, IGNORE_INDEX, maskTokens, type MlmExample, type MlmMaskingOptions } from './mlm.js';
