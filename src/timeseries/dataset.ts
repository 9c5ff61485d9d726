/**
 * Forecasting windows from a {@link SeriesTable}: the train/val/test split, standardisation with the
 * training split's statistics, and sliding windows (input `inputLength` steps, target the next
 * `horizon` steps), in multivariate (M: every column in, every column out) or univariate (S: the
 * target column only) mode.
 *
 * Split, as the Informer code (and GPT4TS, One-for-All after it) does it for ETT hourly data: 12/4/4
 * months of 30 days, so train = rows [0, 8640), val = [8640, 11520), test = [11520, 14400); rows after
 * 14400 are unused. The val and test slices start `inputLength` rows earlier (8640 - L and
 * 11520 - L), so their first window's input lies in the previous split and its first target is the
 * split's first row: every target step of the split is forecast. Other files split 70/10/20 by row
 * count with the same overlap (Informer's custom-dataset rule). The mean and standard deviation
 * (population, ddof 0, as sklearn's StandardScaler) come from the training rows only.
 */
import { tensor } from '../ops/create.js';
import type { Tensor } from '../tensor/tensor.js';
import type { SeriesTable } from './csv.js';

/** Row borders [start, end) of each split before the input-length overlap is applied. */
export interface SplitRows {
  train: [number, number];
  val: [number, number];
  test: [number, number];
}

/** 12/4/4 months of 30 days at one row per `rowsPerHour` (ETTh: 1, ETTm: 4). */
export function ettSplit(rowsPerHour = 1): SplitRows {
  const month = 30 * 24 * rowsPerHour;
  return { train: [0, 12 * month], val: [12 * month, 16 * month], test: [16 * month, 20 * month] };
}

/** Informer's custom split: 70% train, 20% test (rounded down), the rest val. */
export function ratioSplit(rows: number): SplitRows {
  const train = Math.floor(rows * 0.7);
  const test = Math.floor(rows * 0.2);
  return { train: [0, train], val: [train, rows - test], test: [rows - test, rows] };
}

export interface ForecastDataOptions {
  /** Input window length (default 336). */
  inputLength?: number;
  /** Forecast length (default 96; the papers use 96, 192, 336, 720). */
  horizon?: number;
  /** 'M': all columns in and out; 'S': the target column only (default 'M'). */
  features?: 'M' | 'S';
  /** Target column for 'S' (default 'OT'). */
  target?: string;
  /** 'ett-hour' (12/4/4 months), 'ett-minute' (the same at 15 minutes), 'ratio' (70/10/20) or explicit rows. Default 'ett-hour'. */
  split?: 'ett-hour' | 'ett-minute' | 'ratio' | SplitRows;
  /** Fraction of training windows kept (few-shot; GPT4TS's `percent / 100`). Default 1. */
  trainFraction?: number;
  /**
   * Standardise with the training split's mean and std (default true). Short-term forecasting with
   * scale-free metrics (sMAPE, MASE) keeps the file's units: false (mean 0, std 1 are recorded).
   */
  standardise?: boolean;
}

export type ResolvedForecastData = Required<Omit<ForecastDataOptions, 'split'>> & { split: SplitRows };

/** One split's standardised rows and the windows over them. */
export class WindowSet {
  /** Number of windows: rows - inputLength - horizon + 1. */
  readonly length: number;

  /**
   * @param data   standardised values, row-major [rows, channels]
   * @param firstRow the table row of data's row 0 (for reporting)
   */
  constructor(
    readonly name: string,
    readonly data: Float32Array,
    readonly rows: number,
    readonly channels: number,
    readonly inputLength: number,
    readonly horizon: number,
    readonly firstRow: number,
  ) {
    this.length = rows - inputLength - horizon + 1;
  }

  /** Window i: input rows [i, i + L), target rows [i + L, i + L + H); each [steps * channels], row-major. */
  window(i: number): { x: Float32Array; y: Float32Array } {
    if (!(Number.isInteger(i) && i >= 0 && i < this.length)) {
      throw new Error(`WindowSet(${this.name}).window: index ${i} is outside [0, ${this.length})`);
    }
    const M = this.channels;
    const x = this.data.subarray(i * M, (i + this.inputLength) * M);
    const y = this.data.subarray((i + this.inputLength) * M, (i + this.inputLength + this.horizon) * M);
    return { x, y };
  }

  /** Stacks windows into x (B, L, M) and y (B, H, M) tensors on the current backend. */
  batch(indices: readonly number[]): { x: Tensor; y: Tensor } {
    const M = this.channels;
    const L = this.inputLength;
    const H = this.horizon;
    const xs = new Float32Array(indices.length * L * M);
    const ys = new Float32Array(indices.length * H * M);
    indices.forEach((idx, b) => {
      const { x, y } = this.window(idx);
      xs.set(x, b * L * M);
      ys.set(y, b * H * M);
    });
    return { x: tensor(xs, [indices.length, L, M]), y: tensor(ys, [indices.length, H, M]) };
  }
}

export interface ForecastData {
  options: ResolvedForecastData;
  /** Names of the channels, in window order. */
  channels: string[];
  /** Training-split statistics per channel (std 1 where a column is constant). */
  mean: Float64Array;
  std: Float64Array;
  train: WindowSet;
  val: WindowSet;
  test: WindowSet;
}

export function resolveForecastOptions(o: ForecastDataOptions, rows: number): ResolvedForecastData {
  const inputLength = o.inputLength ?? 336;
  const horizon = o.horizon ?? 96;
  const features = o.features ?? 'M';
  const trainFraction = o.trainFraction ?? 1;
  const errs: string[] = [];
  if (!Number.isInteger(inputLength) || inputLength < 1) errs.push(`inputLength = ${inputLength} must be a positive integer`);
  if (!Number.isInteger(horizon) || horizon < 1) errs.push(`horizon = ${horizon} must be a positive integer`);
  if (features !== 'M' && features !== 'S') errs.push(`features = '${String(features)}' must be 'M' (all columns) or 'S' (the target only)`);
  if (!(trainFraction > 0 && trainFraction <= 1)) errs.push(`trainFraction = ${trainFraction} must be in (0, 1]`);
  if (errs.length) throw new Error(`forecast data: ${errs.join('; ')}`);
  const s = o.split ?? 'ett-hour';
  const split = s === 'ett-hour' ? ettSplit(1) : s === 'ett-minute' ? ettSplit(4) : s === 'ratio' ? ratioSplit(rows) : s;
  return { inputLength, horizon, features, target: o.target ?? 'OT', trainFraction, split, standardise: o.standardise ?? true };
}

/** Splits, standardises and windows a table. Throws when a split is too short for one window. */
export function forecastData(table: SeriesTable, opts: ForecastDataOptions = {}): ForecastData {
  const rows = table.dates.length;
  const o = resolveForecastOptions(opts, rows);
  const L = o.inputLength;
  let cols = table.columns.map((_, i) => i);
  if (o.features === 'S') {
    const t = table.columns.indexOf(o.target);
    if (t < 0) throw new Error(`${table.source}: no target column '${o.target}' (columns: ${table.columns.join(', ')}); pass the target's name`);
    cols = [t];
  }
  const M = cols.length;
  const [trainStart, trainEnd0] = o.split.train;
  const need = L + o.horizon;
  // Few-shot as GPT4TS: keep the first fraction of the training windows.
  const trainEnd = o.trainFraction < 1 ? Math.floor((trainEnd0 - trainStart - L) * o.trainFraction) + L + trainStart : trainEnd0;
  const ranges: [string, number, number][] = [
    ['train', trainStart, trainEnd],
    ['val', o.split.val[0] - L, o.split.val[1]],
    ['test', o.split.test[0] - L, o.split.test[1]],
  ];
  for (const [name, a, b] of ranges) {
    if (name === 'train' && o.trainFraction < 1 && a >= 0 && b - a < need && trainEnd0 - a >= need) {
      // Few-shot keeps (train rows - L) x fraction + L rows: too few for one window of a long horizon.
      const least = Math.ceil(((need - L) / (trainEnd0 - trainStart - L)) * 1000) / 1000;
      throw new Error(
        `${table.source}: trainFraction = ${o.trainFraction} keeps training rows [${a}, ${b}), fewer than inputLength + horizon = ${need} (one window); ` +
          `use a fraction of at least ${least} for this input and horizon, or a shorter horizon`,
      );
    }
    if (a < 0 || b > rows || b - a < need) {
      throw new Error(
        `${table.source}: the ${name} split needs rows [${a}, ${b}) with at least inputLength + horizon = ${need} rows, ` +
          `but the file has ${rows} data rows; use a longer file, a shorter input/horizon, or split: 'ratio'`,
      );
    }
  }
  const { mean, std } = o.standardise ? channelStats(table.values, cols, trainStart, trainEnd0) : { mean: new Float64Array(M), std: new Float64Array(M).fill(1) };
  const make = ([name, a, b]: [string, number, number]): WindowSet => {
    const data = new Float32Array((b - a) * M);
    for (let t = a; t < b; t++) cols.forEach((c, j) => (data[(t - a) * M + j] = (table.values[c][t] - mean[j]) / std[j]));
    return new WindowSet(name, data, b - a, M, L, o.horizon, a);
  };
  return {
    options: o, channels: cols.map((c) => table.columns[c]), mean, std,
    train: make(ranges[0]), val: make(ranges[1]), test: make(ranges[2]),
  };
}

/**
 * Per-channel mean and (population) standard deviation of rows [t0, t1) of the columns `cols`: the
 * training split's statistics every split is standardised with (a constant channel gets std 1).
 */
export function channelStats(values: readonly ArrayLike<number>[], cols: readonly number[], t0: number, t1: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(cols.length);
  const std = new Float64Array(cols.length);
  cols.forEach((c, j) => {
    const v = values[c]!;
    let sum = 0;
    for (let t = t0; t < t1; t++) sum += v[t]!;
    const m = sum / (t1 - t0);
    let q = 0;
    for (let t = t0; t < t1; t++) q += (v[t]! - m) ** 2;
    const sd = Math.sqrt(q / (t1 - t0));
    mean[j] = m;
    std[j] = sd > 0 ? sd : 1;
  });
  return { mean, std };
}
