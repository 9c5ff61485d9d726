/**
 * Windows for reconstruction tasks (imputation, anomaly detection): each window of `inputLength`
 * rows is both the input and the target. The train/val/test split is that of forecasting
 * (dataset.ts: 12/4/4 months for ETT files, else 70/10/20 by rows), without the input-length overlap:
 * training windows slide by `trainStride` (default 1); validation and test windows are
 * non-overlapping (stride = inputLength), so every scored row is scored once, as the TimesNet
 * protocol does; rows after the last whole window of a split are not scored. Standardised with the
 * training rows' mean and std (population) per channel. An optional label column (0/1 per row,
 * anomaly labels) is kept aside and is never an input channel.
 */
import { tensor } from '../ops/create.js';
import type { Tensor } from '../tensor/tensor.js';
import type { SeriesTable } from './csv.js';
import { channelStats, ettSplit, ratioSplit, type SplitRows } from './dataset.js';

export interface ReconstructionDataOptions {
  /** Window length (default 96). */
  inputLength?: number;
  /** 'ett-hour', 'ett-minute', 'ratio' (70/10/20, the default) or explicit rows. */
  split?: 'ett-hour' | 'ett-minute' | 'ratio' | SplitRows;
  /** Name of a 0/1 label column (anomaly labels); it is left out of the channels. */
  labelColumn?: string;
  /** Step between training windows (default 1). */
  trainStride?: number;
  /** Fraction of training windows kept, the first ones (few-shot; default 1). */
  trainFraction?: number;
}

/** One split's standardised rows, its windows' first rows, and its labels when the table has them. */
export class ReconstructionSet {
  /**
   * @param data   standardised values, row-major [rows, channels]
   * @param starts first row (in data) of each window
   * @param labels 0/1 per row, or null
   * @param firstRow the table row of data's row 0 (for reporting)
   */
  constructor(
    readonly name: string,
    readonly data: Float32Array,
    readonly rows: number,
    readonly channels: number,
    readonly inputLength: number,
    readonly starts: Int32Array,
    readonly labels: Uint8Array | null,
    readonly firstRow: number,
  ) {}

  get length(): number {
    return this.starts.length;
  }

  /** Window i's values, [inputLength * channels] row-major (a view). */
  window(i: number): Float32Array {
    if (!(Number.isInteger(i) && i >= 0 && i < this.starts.length)) {
      throw new Error(`ReconstructionSet(${this.name}).window: index ${i} is outside [0, ${this.starts.length})`);
    }
    const M = this.channels;
    return this.data.subarray(this.starts[i] * M, (this.starts[i] + this.inputLength) * M);
  }

  /** The windows' values stacked, [B * L * M]. */
  values(indices: readonly number[]): Float32Array {
    const n = this.inputLength * this.channels;
    const out = new Float32Array(indices.length * n);
    indices.forEach((idx, b) => out.set(this.window(idx), b * n));
    return out;
  }

  /** x (B, L, M) on the current backend. */
  batch(indices: readonly number[]): Tensor {
    return tensor(this.values(indices), [indices.length, this.inputLength, this.channels]);
  }
}

export interface ReconstructionData {
  options: Required<Omit<ReconstructionDataOptions, 'split' | 'labelColumn'>> & { split: SplitRows; labelColumn: string | null };
  channels: string[];
  mean: Float64Array;
  std: Float64Array;
  train: ReconstructionSet;
  val: ReconstructionSet;
  test: ReconstructionSet;
}

/** Splits, standardises and windows a table for reconstruction; throws naming what is too short or malformed. */
export function reconstructionData(table: SeriesTable, opts: ReconstructionDataOptions = {}): ReconstructionData {
  const rows = table.dates.length;
  const L = opts.inputLength ?? 96;
  const trainStride = opts.trainStride ?? 1;
  const trainFraction = opts.trainFraction ?? 1;
  const errs: string[] = [];
  if (!Number.isInteger(L) || L < 1) errs.push(`inputLength = ${L} must be a positive integer`);
  if (!Number.isInteger(trainStride) || trainStride < 1) errs.push(`trainStride = ${trainStride} must be a positive integer`);
  if (!(trainFraction > 0 && trainFraction <= 1)) errs.push(`trainFraction = ${trainFraction} must be in (0, 1]`);
  if (errs.length) throw new Error(`reconstruction data: ${errs.join('; ')}`);
  const s = opts.split ?? 'ratio';
  const split = s === 'ett-hour' ? ettSplit(1) : s === 'ett-minute' ? ettSplit(4) : s === 'ratio' ? ratioSplit(rows) : s;
  let labels: Float64Array | null = null;
  let cols = table.columns.map((_, i) => i);
  if (opts.labelColumn !== undefined) {
    const li = table.columns.indexOf(opts.labelColumn);
    if (li < 0) {
      throw new Error(`${table.source}: no label column '${opts.labelColumn}' (columns: ${table.columns.join(', ')}); name the 0/1 anomaly column with the label-column option`);
    }
    labels = table.values[li];
    labels.forEach((v, r) => {
      if (v !== 0 && v !== 1) throw new Error(`${table.source}: line ${r + 2}, column '${opts.labelColumn}': label ${v} is not 0 or 1`);
    });
    cols = cols.filter((c) => c !== li);
    if (cols.length === 0) throw new Error(`${table.source}: no numeric column besides the label '${opts.labelColumn}'; add the series' columns`);
  }
  const M = cols.length;
  const ranges: [string, number, number][] = [['train', ...split.train], ['val', ...split.val], ['test', ...split.test]];
  for (const [name, a, b] of ranges) {
    if (a < 0 || b > rows || b - a < L) {
      throw new Error(
        `${table.source}: the ${name} split has rows [${a}, ${b}) but needs at least one window of ${L} rows (the file has ${rows} data rows); ` +
          'use a longer file or a shorter --input-length',
      );
    }
  }
  const [t0, t1] = split.train;
  const { mean, std } = channelStats(table.values, cols, t0, t1);
  const make = ([name, a, b]: [string, number, number], stride: number, fraction: number): ReconstructionSet => {
    const data = new Float32Array((b - a) * M);
    for (let t = a; t < b; t++) cols.forEach((c, j) => (data[(t - a) * M + j] = (table.values[c][t] - mean[j]) / std[j]));
    const count = Math.floor((b - a - L) / stride) + 1;
    const keep = Math.max(1, Math.floor(count * fraction));
    const starts = Int32Array.from({ length: keep }, (_, i) => i * stride);
    return new ReconstructionSet(name, data, b - a, M, L, starts, labels ? Uint8Array.from(labels.subarray(a, b)) : null, a);
  };
  return {
    options: { inputLength: L, trainStride, trainFraction, split, labelColumn: opts.labelColumn ?? null },
    channels: cols.map((c) => table.columns[c]), mean, std,
    train: make(ranges[0], trainStride, trainFraction), val: make(ranges[1], L, 1), test: make(ranges[2], L, 1),
  };
}
