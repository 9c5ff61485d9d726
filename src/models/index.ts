/** Transformer models with Hugging Face parameter names and config.json fields. */
export * from './gpt2/index.js';
export * from './roberta/index.js';
export * from './families.js';
export {
  asSource, fromBaseCheckpoint, fromPretrained, readPretrainedConfig, type FromPretrainedOptions, type PretrainedModel, type SourceLike,
} from './pretrained.js';
