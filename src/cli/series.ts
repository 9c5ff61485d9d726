/**
 * What `finetune --task forecast` needs before training: read the CSV named by `--data`, split,
 * standardise and window it (forecastData) with the flags' geometry, build the {@link ForecastTask},
 * and say how to load the model: a checkpoint of a family that serves forecasting as it is (a saved
 * GPT4TS), or one built on a base checkpoint (the family table's `fromBase`: a GPT4TS from a GPT-2 LM).
 * Flag errors name the flag and what is allowed.
 */
import { basename } from 'node:path';
import { familiesBuiltOn, FAMILIES, familyForModelType, tasksOf, type Family, type FamilyModel } from '../models/families.js';
import { readFileBytes } from '../node/files.js';
import { fromBaseCheckpoint, fromPretrained, readPretrainedConfig } from '../node/pretrained.js';
import { resolveModelDir } from '../node/paths.js';
import { Generator } from '../ops/random.js';
import { ForecastTask } from '../tasks/forecast.js';
import type { Task, TaskModel } from '../tasks/task.js';
import type { FinetuneConfig } from '../train/finetune-config.js';
import { runFinetune } from '../train/finetune.js';
import { ProgressBar } from '../train/progress.js';
import { LinearForecaster } from '../timeseries/baseline.js';
import { parseSeriesCsv } from '../timeseries/csv.js';
import { forecastData, type ForecastData, type ForecastDataOptions } from '../timeseries/dataset.js';

/** Task names read from a series CSV (`--task forecast --data file.csv`). */
export const SERIES_TASKS = ['forecast'] as const;
export type SeriesTaskName = (typeof SERIES_TASKS)[number];

export function isSeriesTask(name: string): name is SeriesTaskName {
  return (SERIES_TASKS as readonly string[]).includes(name);
}

/** The command-line flags of a series task. */
export interface SeriesOptions {
  /** `--data`: an ETT-style CSV (a date column and numeric columns). */
  data?: string;
  /** `--horizon` (default 96). */
  horizon?: number;
  /** `--input-length` (default 336). */
  inputLength?: number;
  /** `--features`: M (every column in and out) or S (the target column only); default M. */
  features?: string;
  /** `--target` (default OT): the column S forecasts. */
  target?: string;
  /** `--train-fraction` in (0, 1]: few-shot on the first fraction of the training windows (default 1). */
  trainFraction?: number;
  /** `--split`: ett-hour, ett-minute, ratio; default ett-hour for files named ETTh*, ett-minute for ETTm*, else ratio. */
  split?: string;
  /** `--gpt-layers`: backbone blocks kept when building from a GPT-2 checkpoint (default min(6, n_layer)). */
  gptLayers?: number;
}

const SPLITS = ['ett-hour', 'ett-minute', 'ratio'] as const;

/** Checks every series flag; errors name the flag and what it allows. */
export function checkSeriesOptions(o: SeriesOptions): Required<Pick<SeriesOptions, 'data'>> & ForecastDataOptions {
  const errs: string[] = [];
  const posInt = (flag: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) errs.push(`${flag} ${v} must be a positive integer`);
  };
  if (!o.data) errs.push('--data <csv> is required for a forecasting task: a CSV with a date column and numeric columns (e.g. ETTh1.csv)');
  posInt('--horizon', o.horizon);
  posInt('--input-length', o.inputLength);
  posInt('--gpt-layers', o.gptLayers);
  if (o.features !== undefined && o.features !== 'M' && o.features !== 'S') {
    errs.push(`--features ${JSON.stringify(o.features)} is not allowed; use M (every column in and out) or S (the --target column only)`);
  }
  if (o.trainFraction !== undefined && !(o.trainFraction > 0 && o.trainFraction <= 1)) {
    errs.push(`--train-fraction ${o.trainFraction} must be in (0, 1] (0.1 keeps the first 10% of the training windows)`);
  }
  if (o.split !== undefined && !(SPLITS as readonly string[]).includes(o.split)) {
    errs.push(`--split ${JSON.stringify(o.split)} is not allowed; use ${SPLITS.join(', ')}`);
  }
  if (errs.length) throw new Error(errs.join('; '));
  const name = basename(o.data!);
  const split = (o.split as ForecastDataOptions['split']) ?? (/^ETTh/i.test(name) ? 'ett-hour' : /^ETTm/i.test(name) ? 'ett-minute' : 'ratio');
  return {
    data: o.data!, inputLength: o.inputLength ?? 336, horizon: o.horizon ?? 96, features: (o.features as 'M' | 'S' | undefined) ?? 'M',
    target: o.target ?? 'OT', trainFraction: o.trainFraction ?? 1, split,
  };
}

/** Reads and windows the CSV; a missing --target column is reported with the flag. */
export async function readForecastData(o: Required<Pick<SeriesOptions, 'data'>> & ForecastDataOptions): Promise<ForecastData> {
  const text = new TextDecoder().decode(await readFileBytes(o.data, { expected: 'the series CSV (--data)' }));
  const table = parseSeriesCsv(text, { source: o.data });
  if (o.features === 'S' && !table.columns.includes(o.target ?? 'OT')) {
    throw new Error(`--target ${JSON.stringify(o.target)}: ${o.data} has no such column; columns: ${table.columns.join(', ')}`);
  }
  return forecastData(table, o);
}

export interface PreparedSeriesRun {
  dir: string;
  /** The family of the model trained (gpt4ts), which may differ from the checkpoint's (gpt2). */
  family: Family;
  task: ForecastTask;
  data: ForecastData;
  /** A fresh model: the checkpoint as it is, or built on it (fresh input/output layers seeded by `seed`). */
  loadModel: () => Promise<FamilyModel>;
}

/** Checks the checkpoint x forecasting pair and builds the task; throws naming what fits. */
export async function prepareSeriesRun(modelArg: string, taskName: SeriesTaskName, o: SeriesOptions & { seed?: number }): Promise<PreparedSeriesRun> {
  checkSeriesOptions(o); // flag errors first, before any file is read
  const dir = resolveModelDir(modelArg);
  const raw = await readPretrainedConfig(dir);
  const checkpointFamily = familyForModelType(raw.model_type, dir);
  const kind = 'forecast' as const;
  let family: Family;
  let loadModel: () => Promise<FamilyModel>;
  let flags = o;
  if (tasksOf(checkpointFamily).includes(kind)) {
    // A trained forecaster: its geometry is fixed; flags that are given must agree with it.
    family = checkpointFamily;
    const c = FAMILIES[family].parseConfig(raw).toJSON() as { input_length?: number; horizon?: number };
    const clash = ([['--input-length', 'input_length', o.inputLength], ['--horizon', 'horizon', o.horizon]] as const)
      .filter(([, k, v]) => v !== undefined && c[k] !== v).map(([flag, k, v]) => `${flag} ${v} (the checkpoint's ${k} is ${String(c[k])})`);
    if (clash.length) throw new Error(`${dir} is a trained ${family} model: ${clash.join('; ')}; pass the checkpoint's values or start from its base checkpoint`);
    flags = { ...o, inputLength: c.input_length, horizon: c.horizon };
    loadModel = () => fromPretrained(dir);
  } else {
    const built = familiesBuiltOn(checkpointFamily, kind);
    if (built.length === 0) {
      throw new Error(`--task ${taskName} needs a model that forecasts: a ${checkpointFamily} model (${dir}) does not, and no family is built on ${checkpointFamily} checkpoints to do it; use a GPT-2 checkpoint (e.g. tiny-gpt2) or a saved forecaster`);
    }
    family = built[0];
    const fields: Record<string, unknown> = { input_length: o.inputLength ?? 336, horizon: o.horizon ?? 96 };
    if (o.gptLayers !== undefined) fields.gpt_layers = o.gptLayers;
    loadModel = () => fromBaseCheckpoint(dir, family, fields, { generator: new Generator(o.seed ?? 0) });
  }
  const checked = checkSeriesOptions(flags);
  const data = await readForecastData(checked);
  const task = new ForecastTask({ name: basename(checked.data), data });
  return { dir, family, task, data, loadModel };
}

/**
 * The linear baseline on the same data with the same loop and config (every parameter trains):
 * its test MSE/MAE and size, for the report row next to the method's.
 */
export async function trainBaseline(s: PreparedSeriesRun, config: FinetuneConfig, write: (t: string) => void, tty?: boolean): Promise<Record<string, unknown>> {
  const { inputLength, horizon } = s.data.options;
  const linear = new LinearForecaster({ input_length: inputLength, horizon });
  let bar: ProgressBar | null = null;
  try {
    write('linear baseline (one Linear from the input window to the horizon, shared by the channels):\n');
    const r = await runFinetune({
      model: linear as unknown as TaskModel, task: s.task as unknown as Task, method: 'full', config,
      onStep: (step, total, loss, lr, tokens) => {
        bar ??= new ProgressBar({ total, start: step - 1, write, tty: tty ?? process.stderr.isTTY === true });
        bar.update({ step, loss, lr, tokensPerStep: tokens });
      },
      log: (m) => (bar ? bar.log(m) : write(m + '\n')),
    });
    (bar as ProgressBar | null)?.finish();
    const test = s.task.evaluate(linear as unknown as TaskModel, s.task.testBatches());
    write(`linear baseline test: ${s.task.describe(test)}\n`);
    const out = { ...r.final.metrics, test: test.metrics, params: r.adapted.parameterCounts().trainable, steps: r.steps, train_seconds: r.trainSeconds };
    r.adapted.remove();
    return out;
  } finally {
    linear.dispose();
  }
}
