/**
 * Node-only: classification task data from disk. A task is named (`sentiment`, `sst2`, `cola`, `rte`)
 * or given as a path (a GLUE-style directory or a single .tsv file); either way the result is
 * train and validation examples plus the task's spec.
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { detectGlueFormat, GLUE_DIRECTORIES, GLUE_TASKS, parseGlueTsv, type GlueTask } from '../tasks/glue.js';
import type { TaskKind } from '../models/families.js';
import {
  CAUSAL_TASK_NAMES, CAUSAL_TASKS, isCausalTaskName, isTaskName, TASK_NAMES, TASKS, type ClassificationExample, type TaskName, type TaskSpec,
} from '../tasks/registry.js';
import { SENTIMENT_FIXTURES, SENTIMENT_VALIDATION_FRACTION, sentimentExamplesFromFixtures } from '../tasks/sentiment.js';

export { SENTIMENT_VALIDATION_FRACTION };
import { splitExamples } from '../tasks/split.js';
import { decodeTaskText, TaskFileError } from '../tasks/text.js';
import { readFileBytes } from './files.js';

/** Held out from a lone .tsv file (or a directory without dev.tsv): 10% of each label. */
export const FILE_VALIDATION_FRACTION = 0.1;
/** Used when neither the `datasetsDir` option nor WASMGRAD_DATASETS is set; relative to the working directory. */
export const DEFAULT_DATASETS_DIR = '../shared/datasets';

export interface LoadTaskOptions {
  /**
   * Folder holding `glue/SST-2`, `glue/CoLA`, `glue/RTE` (each with train.tsv and dev.tsv). Default: the
   * WASMGRAD_DATASETS environment variable, else ../shared/datasets; resolved against the working directory.
   */
  datasetsDir?: string;
  /** Layout of a path given instead of a task name, when neither its folder name nor its first row tells. */
  format?: GlueTask;
  /** Seed of the held-out split for data without a dev split (default 0; see splitExamples). */
  splitSeed?: number;
}

export interface LoadedTask {
  /** The task name, or the path as given. */
  name: string;
  /** What the model is trained to do: classify the examples, or continue their text (causal tasks). */
  kind: TaskKind;
  /** Which spec applies (for a path: the detected or given format). */
  task: TaskName;
  spec: TaskSpec;
  train: ClassificationExample[];
  validation: ClassificationExample[];
  /** Where the examples came from and how they were split, for logs and model cards. */
  source: string;
  /** Set when `validation` was held out of one file (no dev split): that file. Its rows are train + validation. */
  heldOutFrom?: string;
}

/**
 * Loads a task by name or path:
 * - `sentiment`: the 3,000 labelled sentences of the installed `sentiment` package (IMDB, Amazon, Yelp),
 *   split 80/20 per label with seed `splitSeed` (see splitExamples).
 * - `sst2`, `cola`, `rte`: `<datasetsDir>/glue/<SST-2|CoLA|RTE>/{train,dev}.tsv`.
 * - a directory: its train.tsv and dev.tsv (without dev.tsv, 10% of train.tsv is held out); the format
 *   comes from `format`, else the directory name (SST-2, CoLA, RTE), else the first row of train.tsv.
 * - a file: read as one TSV, 10% held out; format as for a directory (the parent folder's name).
 * A task name wins over a same-named folder in the working directory; write `./sst2` for the folder.
 */
export async function loadTask(nameOrPath: string, opts: LoadTaskOptions = {}): Promise<LoadedTask> {
  if (opts.format !== undefined && !GLUE_TASKS.includes(opts.format)) {
    throw new Error(`loadTask: format ${JSON.stringify(opts.format)} is not one of ${GLUE_TASKS.join(', ')}`);
  }
  if (isCausalTaskName(nameOrPath)) {
    const from = await loadTask(CAUSAL_TASKS[nameOrPath].from, opts);
    return { ...from, name: nameOrPath, kind: 'causal-lm', source: `${from.source}; ${CAUSAL_TASKS[nameOrPath].description}` };
  }
  if (isTaskName(nameOrPath)) {
    return nameOrPath === 'sentiment' ? loadSentiment(opts) : loadGlue(nameOrPath, opts);
  }
  const path = resolve(nameOrPath);
  const kind = await stat(path).then((s) => (s.isDirectory() ? 'directory' : 'file'), () => null);
  if (kind === null) {
    throw new Error(
      `unknown task ${JSON.stringify(nameOrPath)}: expected one of ${[...TASK_NAMES, ...CAUSAL_TASK_NAMES].join(', ')}, or the path of a .tsv file ` +
        `or of a directory holding train.tsv and dev.tsv (nothing exists at ${path})`,
    );
  }
  return kind === 'directory' ? loadDirectory(nameOrPath, path, opts) : loadFile(nameOrPath, path, opts);
}

/** A task file's text: strict UTF-8, not empty (TaskFileError naming the file and line otherwise). */
async function readText(path: string, expected: string): Promise<string> {
  return decodeTaskText(await readFileBytes(path, { expected }), path);
}

async function loadSentiment(opts: LoadTaskOptions): Promise<LoadedTask> {
  let dir: string;
  try {
    dir = join(dirname(createRequire(import.meta.url).resolve('sentiment/package.json')), 'test', 'fixtures');
  } catch (err) {
    throw new Error('the sentiment task reads the fixtures of the npm package "sentiment", which is not installed: npm install sentiment', { cause: err });
  }
  const all: ClassificationExample[] = [];
  for (const file of SENTIMENT_FIXTURES) {
    const path = join(dir, file);
    const text = await readText(path, 'a sentiment fixture (an array of {"text", "class"} objects)');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new TaskFileError(`${path}: invalid JSON (${(err as Error).message})`, { cause: err });
    }
    if (!Array.isArray(json)) throw new TaskFileError(`${path}: expected an array of {"text", "class"} objects`);
    all.push(...sentimentExamplesFromFixtures(json, path));
  }
  const seed = opts.splitSeed ?? 0;
  const { train, validation } = splitExamples(all, { validationFraction: SENTIMENT_VALIDATION_FRACTION, seed });
  const source = `${SENTIMENT_FIXTURES.map((f) => join(dir, f)).join(', ')} (${all.length} sentences, ${SENTIMENT_VALIDATION_FRACTION * 100}% of each label held out, seed ${seed})`;
  return { name: 'sentiment', kind: 'sequence-classification', task: 'sentiment', spec: TASKS.sentiment, train, validation, source };
}

async function loadGlue(task: GlueTask, opts: LoadTaskOptions): Promise<LoadedTask> {
  const fromEnv = process.env.WASMGRAD_DATASETS;
  const given = opts.datasetsDir ?? fromEnv ?? DEFAULT_DATASETS_DIR;
  const origin = opts.datasetsDir !== undefined ? 'the datasets option' : fromEnv !== undefined ? 'WASMGRAD_DATASETS' : 'the default';
  const dir = join(resolve(given), 'glue', GLUE_DIRECTORIES[task]);
  const read = async (split: 'train' | 'dev') => {
    const path = join(dir, `${split}.tsv`);
    try {
      return parseGlueTsv(task, await readText(path, `the GLUE ${GLUE_DIRECTORIES[task]} ${split} split`), path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      throw new Error(
        `${task}: ${(err as Error).message}. The datasets folder is ${resolve(given)} (from ${origin}); ` +
          `point at the folder that holds glue/${GLUE_DIRECTORIES[task]}/train.tsv with --datasets <dir> or WASMGRAD_DATASETS=<dir>`,
        { cause: err },
      );
    }
  };
  const train = await read('train');
  const validation = await read('dev');
  return { name: task, kind: 'sequence-classification', task, spec: TASKS[task], train, validation, source: `${join(dir, 'train.tsv')}, ${join(dir, 'dev.tsv')}` };
}

/** A GLUE task from a folder name: SST-2 -> sst2, CoLA -> cola, RTE -> rte. */
function formatFromName(name: string): GlueTask | null {
  const normalized = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return GLUE_TASKS.find((t) => t === normalized) ?? null;
}

function formatOf(opts: LoadTaskOptions, folder: string, text: string, path: string): GlueTask {
  const format = opts.format ?? formatFromName(basename(folder)) ?? detectGlueFormat(text);
  if (format === null) {
    throw new TaskFileError(
      `cannot tell the layout of ${path}: the folder is not named SST-2, CoLA or RTE and the first row matches none of them; ` +
        `name the folder SST-2, CoLA or RTE, or pass the format (--format ${GLUE_TASKS.join('|')}; sst2 = label<TAB>sentence rows)`,
    );
  }
  return format;
}

function heldOut(name: string, task: GlueTask, examples: ClassificationExample[], path: string, opts: LoadTaskOptions): LoadedTask {
  const seed = opts.splitSeed ?? 0;
  let split: ReturnType<typeof splitExamples>;
  try {
    split = splitExamples(examples, { validationFraction: FILE_VALIDATION_FRACTION, seed });
  } catch (err) {
    // Too few examples to hold any out: a problem of this file, said in its terms.
    throw new TaskFileError(
      `${path}: ${examples.length} example${examples.length === 1 ? '' : 's'} cannot be split ${100 - FILE_VALIDATION_FRACTION * 100}/${FILE_VALIDATION_FRACTION * 100} ` +
        `into training and validation (${(err as Error).message.replace(/^splitExamples: /, '')}); add examples, or put the validation rows in a dev.tsv next to a train.tsv`,
      { cause: err },
    );
  }
  const { train, validation } = split;
  const source = `${path} (${FILE_VALIDATION_FRACTION * 100}% of each label held out, seed ${seed})`;
  return { name, kind: 'sequence-classification', task, spec: TASKS[task], train, validation, source, heldOutFrom: path };
}

async function loadFile(name: string, path: string, opts: LoadTaskOptions): Promise<LoadedTask> {
  const text = await readText(path, 'classification examples as TSV');
  const task = formatOf(opts, dirname(path), text, path);
  return heldOut(name, task, parseGlueTsv(task, text, path), path, opts);
}

async function loadDirectory(name: string, dir: string, opts: LoadTaskOptions): Promise<LoadedTask> {
  const trainPath = join(dir, 'train.tsv');
  const devPath = join(dir, 'dev.tsv');
  const trainText = await readText(trainPath, 'the training split (a directory task needs train.tsv, and dev.tsv for validation)');
  const task = formatOf(opts, dir, trainText, trainPath);
  const train = parseGlueTsv(task, trainText, trainPath);
  const devText = await readText(devPath, 'the validation split').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (devText === null) return heldOut(name, task, train, trainPath, opts);
  const validation = parseGlueTsv(task, devText, devPath);
  return { name, kind: 'sequence-classification', task, spec: TASKS[task], train, validation, source: `${trainPath}, ${devPath}` };
}
