/**
 * Series classification data from a long-format CSV: a date column, an id column naming the series
 * each row belongs to, a label column (the series' class, any text) and numeric columns. Rows of one
 * id form one series (in file order); every series must have at least `inputLength` rows and one
 * label. Each example is a series' last `inputLength` rows. The split is stratified by class and
 * seeded: per class, a seeded shuffle of its series gives round(testFraction n) test and
 * round(validationFraction n) validation series, the rest train. Values are standardised with the
 * training series' mean and std per channel.
 */
import { tensor } from '../ops/create.js';
import type { Tensor } from '../tensor/tensor.js';
import type { SeriesTable } from './csv.js';
import { seededUniform } from './synthetic.js';

export interface LabelledSeriesOptions {
  /** Column naming each row's series (default 'id'). */
  idColumn?: string;
  /** Column holding the class (default 'label'). */
  labelColumn?: string;
  /** Rows per example, the last ones of each series (default: the shortest series' length). */
  inputLength?: number;
  /** The classes in index order (a trained model's id2label); default: the labels sorted. */
  classes?: readonly string[];
  /** Share of each class's series held out for validation (default 0.1) and test (default 0.2). */
  validationFraction?: number;
  testFraction?: number;
  seed?: number;
}

/** Examples of one split: values [n, L, M] row-major and class indices. */
export class LabelledSet {
  constructor(
    readonly name: string,
    readonly data: Float32Array,
    readonly labels: Int32Array,
    readonly ids: string[],
    readonly inputLength: number,
    readonly channels: number,
  ) {}

  get length(): number {
    return this.labels.length;
  }

  /** x (B, L, M) and int32 labels (B). */
  batch(indices: readonly number[]): { x: Tensor; y: Tensor } {
    const n = this.inputLength * this.channels;
    const xs = new Float32Array(indices.length * n);
    indices.forEach((i, b) => xs.set(this.data.subarray(i * n, (i + 1) * n), b * n));
    return {
      x: tensor(xs, [indices.length, this.inputLength, this.channels]),
      y: tensor(Int32Array.from(indices, (i) => this.labels[i]), [indices.length], { dtype: 'int32' }),
    };
  }
}

export interface LabelledSeriesData {
  classes: string[];
  channels: string[];
  inputLength: number;
  mean: Float64Array;
  std: Float64Array;
  train: LabelledSet;
  val: LabelledSet;
  test: LabelledSet;
}

/** Groups, labels, splits and standardises; errors name the id or line and what to change. */
export function labelledSeriesData(table: SeriesTable, opts: LabelledSeriesOptions = {}): LabelledSeriesData {
  const idCol = opts.idColumn ?? 'id';
  const labelCol = opts.labelColumn ?? 'label';
  const ids = table.text?.[idCol];
  const labels = table.text?.[labelCol];
  if (!ids || !labels) {
    throw new Error(`${table.source}: read the file with textColumns ['${idCol}', '${labelCol}'] (the series id and class columns) to classify its series`);
  }
  const groups = new Map<string, number[]>();
  ids.forEach((id, r) => {
    const g = groups.get(id) ?? [];
    g.push(r);
    groups.set(id, g);
  });
  const seriesLabel = new Map<string, string>();
  for (const [id, rows] of groups) {
    const l = labels[rows[0]];
    const other = rows.find((r) => labels[r] !== l);
    if (other !== undefined) {
      throw new Error(`${table.source}: line ${other + 2}: series '${id}' has label '${labels[other]}' but '${l}' on line ${rows[0] + 2}; a series has one class`);
    }
    seriesLabel.set(id, l);
  }
  const shortest = Math.min(...[...groups.values()].map((g) => g.length));
  const L = opts.inputLength ?? shortest;
  if (!(Number.isInteger(L) && L >= 1)) throw new Error(`series classification: inputLength = ${L} must be a positive integer`);
  for (const [id, rows] of groups) {
    if (rows.length < L) throw new Error(`${table.source}: series '${id}' has ${rows.length} rows, fewer than the input length ${L}; drop it or pass a shorter --input-length`);
  }
  const found = [...new Set(seriesLabel.values())].sort();
  const classes = opts.classes ? [...opts.classes] : found;
  const unknown = found.filter((c) => !classes.includes(c));
  if (unknown.length) throw new Error(`${table.source}: classes ${unknown.join(', ')} are not among the model's (${classes.join(', ')})`);
  if (classes.length < 2) throw new Error(`${table.source}: only one class ('${classes[0]}') in column '${labelCol}'; classification needs at least two`);
  const vf = opts.validationFraction ?? 0.1;
  const tf = opts.testFraction ?? 0.2;
  if (!(vf > 0 && tf > 0 && vf + tf < 1)) throw new Error(`series classification: validation ${vf} and test ${tf} fractions must be > 0 with a sum below 1`);
  const u = seededUniform(opts.seed ?? 0);
  const parts: Record<'train' | 'val' | 'test', string[]> = { train: [], val: [], test: [] };
  for (const c of classes) {
    const members = [...groups.keys()].filter((id) => seriesLabel.get(id) === c);
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(u() * (i + 1));
      [members[i], members[j]] = [members[j], members[i]];
    }
    const nt = Math.round(tf * members.length);
    const nv = Math.round(vf * members.length);
    parts.test.push(...members.slice(0, nt));
    parts.val.push(...members.slice(nt, nt + nv));
    parts.train.push(...members.slice(nt + nv));
  }
  for (const k of ['train', 'val', 'test'] as const) {
    if (parts[k].length === 0) throw new Error(`${table.source}: ${groups.size} series leave the ${k} split empty; add series (at least 10 per class is a sensible minimum)`);
  }
  const M = table.columns.length;
  const lastRows = (id: string) => groups.get(id)!.slice(-L);
  const mean = new Float64Array(M);
  const std = new Float64Array(M);
  for (let c = 0; c < M; c++) {
    let s = 0;
    let n = 0;
    for (const id of parts.train) for (const r of lastRows(id)) { s += table.values[c][r]; n++; }
    const m = s / n;
    let q = 0;
    for (const id of parts.train) for (const r of lastRows(id)) q += (table.values[c][r] - m) ** 2;
    mean[c] = m;
    std[c] = Math.sqrt(q / n) || 1;
  }
  const make = (name: string, members: string[]): LabelledSet => {
    const data = new Float32Array(members.length * L * M);
    members.forEach((id, e) => lastRows(id).forEach((r, t) => {
      for (let c = 0; c < M; c++) data[(e * L + t) * M + c] = (table.values[c][r] - mean[c]) / std[c];
    }));
    return new LabelledSet(name, data, Int32Array.from(members, (id) => classes.indexOf(seriesLabel.get(id)!)), members, L, M);
  };
  return {
    classes, channels: [...table.columns], inputLength: L, mean, std,
    train: make('train', parts.train), val: make('val', parts.val), test: make('test', parts.test),
  };
}
