/**
 * `wasmgrad/node`: file-system helpers for Node (checkpoint directories, atomic writes, tokenizer
 * files). Everything else in wasmgrad is portable (browsers, Deno) and works on bytes or on a
 * FileSource (`urlSource`, `mapSource`); `directorySource(dir)` is the file-system one, and this
 * entry's fromPretrained / loadTokenizerFromDirectory / loadAdapterFromDirectory take a path.
 */
export { asDirectorySource, directorySource } from './directory-source.js';
export { readFileBytes, writeFileAtomic, type ReadBytesOptions, type WriteAtomicOptions } from './files.js';
export { fromBaseCheckpoint, fromPretrained, readPretrainedConfig, savePretrained, type FromPretrainedOptions, type PretrainedModel, type SavePretrainedOptions } from './pretrained.js';
export { loadTokenizerFromDirectory, saveTokenizer } from './tokenizer-files.js';
export { loadAdapterFromDirectory, saveAdapter } from './adapter-files.js';
export {
  DEFAULT_DATASETS_DIR, FILE_VALIDATION_FRACTION, loadTask, SENTIMENT_VALIDATION_FRACTION,
  type LoadedTask, type LoadTaskOptions,
} from './tasks.js';
export { BUNDLED_CHECKPOINTS, packageRoot, resolveModelDir } from './paths.js';
export { FileMomentStore } from './moment-file.js';
export { gpt4tsFromGPT2Checkpoint, loadGPT4TS, loadSensorNetwork, saveGPT4TS } from './timeseries-files.js';
export { CORPUS_SOURCES, corpusLicences, listCorpus, type CorpusEntry, type CorpusName, type CorpusSource } from './corpora.js';
export { FileTokenSource, TokenFileWriter, tokenDType, type TokenFileDType } from './token-file.js';
export {
  corpusData, directoryStore, pretrainCommandLine, pretrainToDirectory, type CorpusDataOptions, type DirectoryStoreOptions,
  type PretrainToDirectoryOptions,
} from './pretrain-files.js';
