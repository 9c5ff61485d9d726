/**
 * GLUE classification files (SST-2, CoLA, RTE) as examples. The readers work on text, so they run
 * anywhere; reading the files is the caller's job (src/node/tasks.ts in Node).
 *
 * Layouts read (the first row decides, and every row must then have the same number of fields):
 * - SST-2: `label<TAB>sentence` without header, or the original GLUE `sentence<TAB>label` with header.
 * - CoLA: `sentence<TAB>label` without header, or the original GLUE `source<TAB>label<TAB>mark<TAB>sentence`.
 * - RTE: a header naming `sentence1`, `sentence2` and `label` (any order, other columns such as `idx` or
 *   `index` ignored); labels 0/1 or the original `entailment` / `not_entailment`.
 * A header is a first row whose fields are all identifiers and include `label`. Quoting: see tsv.ts.
 */
import { TASKS, type ClassificationExample, type TaskSpec } from './registry.js';
import { TaskFileError } from './text.js';
import { tsvRows } from './tsv.js';

export type GlueTask = 'sst2' | 'cola' | 'rte';

export const GLUE_TASKS: readonly GlueTask[] = ['sst2', 'cola', 'rte'];

/** Folder of each task in the GLUE download (`glue/SST-2/train.tsv`, ...). */
export const GLUE_DIRECTORIES: { readonly [T in GlueTask]: string } = { sst2: 'SST-2', cola: 'CoLA', rte: 'RTE' };

/** Where the text, the optional second text and the label sit in a row. */
interface Columns {
  count: number;
  /** Column names, for messages. */
  names: readonly string[];
  text: number;
  pair?: number;
  label: number;
}

/** The header names each task needs: its text column(s); `label` is always needed. */
const HEADER_TEXT: { readonly [T in GlueTask]: readonly string[] } = {
  sst2: ['sentence'],
  cola: ['sentence'],
  rte: ['sentence1', 'sentence2'],
};

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isHeader(fields: readonly string[]): boolean {
  return fields.every((f) => IDENTIFIER.test(f)) && fields.some((f) => f.toLowerCase() === 'label');
}

function headerColumns(task: GlueTask, fields: readonly string[], where: string): Columns {
  const names = fields.map((f) => f.toLowerCase());
  const needed = [...HEADER_TEXT[task], 'label'];
  const missing = needed.filter((n) => !names.includes(n));
  if (missing.length > 0) {
    throw new TaskFileError(`${where}: the header (${fields.join(', ')}) has no ${missing.join(' or ')} column; ${task} needs ${needed.join(', ')}`);
  }
  const [text, pair] = HEADER_TEXT[task].map((n) => names.indexOf(n));
  return { count: fields.length, names: fields, text: text!, pair, label: names.indexOf('label') };
}

function headerlessColumns(task: GlueTask, fields: readonly string[], where: string): Columns {
  if (task === 'sst2') return { count: 2, names: ['label', 'sentence'], label: 0, text: 1 };
  if (task === 'cola') {
    if (fields.length === 2) return { count: 2, names: ['sentence', 'label'], text: 0, label: 1 };
    if (fields.length === 4) return { count: 4, names: ['source', 'label', 'mark', 'sentence'], label: 1, text: 3 };
    throw new TaskFileError(`${where}: expected 2 tab-separated fields (sentence, label) or 4 (source, label, mark, sentence), found ${fields.length}`);
  }
  throw new TaskFileError(`${where}: expected a header naming the columns sentence1, sentence2 and label, found ${JSON.stringify(fields.join('\t'))}`);
}

/** A label written as its index or its name (`1`, `not_entailment`). */
function parseLabel(raw: string, spec: TaskSpec, where: string): number {
  const s = raw.trim();
  if (/^[0-9]+$/.test(s) && Number(s) < spec.numLabels) return Number(s);
  const named = spec.labelNames.indexOf(s);
  if (named >= 0) return named;
  const indices = spec.numLabels === 2 ? '0 or 1' : `an integer in [0, ${spec.numLabels})`;
  throw new TaskFileError(`${where}: label ${JSON.stringify(raw)} is not ${indices} (nor a label name: ${spec.labelNames.join(', ')})`);
}

/**
 * Parses one GLUE split. `file` names the source in errors, which read
 * `sst2 train.tsv line 17: label "x" is not 0 or 1 (...)` (line numbers are 1-based).
 */
export function parseGlueTsv(task: GlueTask, text: string, file = `${task}.tsv`): ClassificationExample[] {
  const spec = TASKS[task];
  const at = (line: number) => `${task} ${file} line ${line}`;
  const rows = tsvRows(text);
  if (rows.length === 0) throw new TaskFileError(`${task} ${file}: no examples (the file is empty)`);
  const first = rows[0]!;
  const header = isHeader(first.fields);
  const cols = header ? headerColumns(task, first.fields, at(first.line)) : headerlessColumns(task, first.fields, at(first.line));
  const out: ClassificationExample[] = [];
  for (const { line, fields } of header ? rows.slice(1) : rows) {
    if (fields.length !== cols.count) {
      throw new TaskFileError(`${at(line)}: expected ${cols.count} tab-separated fields (${cols.names.join(', ')}), found ${fields.length}`);
    }
    const textAt = (column: number) => {
      const value = fields[column]!;
      if (value.trim() === '') throw new TaskFileError(`${at(line)}: the ${cols.names[column]} field is empty`);
      return value;
    };
    const example: ClassificationExample = { text: textAt(cols.text), label: parseLabel(fields[cols.label]!, spec, at(line)) };
    if (cols.pair !== undefined) example.textPair = textAt(cols.pair);
    out.push(example);
  }
  if (out.length === 0) throw new TaskFileError(`${task} ${file}: no examples after the header`);
  return out;
}

/**
 * Guesses which GLUE layout `text` has from its first row, for files whose task is not named:
 * a header with sentence1 and sentence2 is RTE, another header with sentence and label is SST-2
 * (original layout), four fields are CoLA (original), two fields are SST-2 when the label comes first
 * and CoLA when it comes last. Null when nothing matches.
 */
export function detectGlueFormat(text: string): GlueTask | null {
  const first = tsvRows(text)[0];
  if (!first) return null;
  const f = first.fields;
  const isLabel = (s: string | undefined) => s === '0' || s === '1';
  if (isHeader(f)) {
    const names = f.map((n) => n.toLowerCase());
    if (names.includes('sentence1') && names.includes('sentence2')) return 'rte';
    return names.includes('sentence') ? 'sst2' : null;
  }
  if (f.length === 4 && isLabel(f[1])) return 'cola';
  if (f.length === 2 && isLabel(f[0])) return 'sst2';
  if (f.length === 2 && isLabel(f[1])) return 'cola';
  return null;
}
