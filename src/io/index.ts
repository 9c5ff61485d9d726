/** Checkpoint I/O on plain bytes (portable: no file system here; see src/node for files). */
export {
  DEFAULT_MAX_HEADER_BYTES,
  inFile,
  parseSafetensors,
  safetensorsToTensors,
  SafetensorsError,
  serializeSafetensors,
  tensorsToSafetensors,
  type ParsedSafetensors,
  type ParseOptions,
  type SafetensorsDType,
  type SafetensorsFloatDType,
  type SafetensorsIntDType,
  type SafetensorsEntry,
  type SafetensorsInput,
  type SerializeOptions,
  type TensorLoadOptions,
} from './safetensors.js';
export { bf16ToFloat, decodeHalfLE, f16ToFloat, floatToF16Bits } from './dtype.js';
export { mapSource, readRequired, urlSource, type FileSource, type UrlSourceOptions } from './source.js';
