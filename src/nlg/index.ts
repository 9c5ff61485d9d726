/** Data-to-text generation: the E2E NLG format, MR prompts, splits by MR, and the challenge's metrics. */
export { parseCsv, CsvError, type CsvRecord } from './csv.js';
export { decodeUtf8 } from './utf8.js';
export { readE2E, type E2EInstance, type E2EReadOptions } from './e2e.js';
export { e2ePrompt, E2E_PROMPT_SEPARATOR, parseMR, type MrSlot } from './mr.js';
export { splitByMR, type MrSplit, type MrSplitOptions } from './split.js';
export { parseHypothesisLines, parseReferenceGroups } from './references.js';
export * from './metrics/index.js';
