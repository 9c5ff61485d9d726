/**
 * The GPT-2 pieces the time-series model reuses, imported in this one file so that a move of the
 * GPT-2 code changes one set of paths.
 */
export { PreLNBlock } from '../models/gpt2/block.js';
export { attentionBlockMask, attentionMask } from '../nn/attention.js';
export { Dropout, Embedding, LayerNorm, Linear } from '../nn/layers.js';
export { Module, ModuleList, type PreparedState, type StateValue } from '../nn/module.js';
export { GPT2Config, GPT2_DEFAULTS, type GPT2ConfigData } from '../models/gpt2/config.js';
export { GPT2LMHeadModel } from '../models/gpt2/model.js';
