/**
 * The standardisation a forecaster was trained with, saved next to its checkpoint (`scaler.json`) so
 * that forecasting a new file uses the training split's statistics and the same channels in the same
 * order: per channel (x - mean) / std in, y * std + mean out.
 */
import type { SeriesTable } from './csv.js';
import type { ForecastData } from './dataset.js';

export interface SeriesScaler {
  /** Column names, in the model's channel order. */
  channels: string[];
  mean: number[];
  std: number[];
  /** How the channels were chosen (M: every column; S: the target only). */
  features: 'M' | 'S';
  target: string;
}

/** The scaler of a training run's data. */
export function scalerOf(d: ForecastData): SeriesScaler {
  return { channels: [...d.channels], mean: [...d.mean], std: [...d.std], features: d.options.features, target: d.options.target };
}

/** Parses scaler.json text; errors name the file and the field. */
export function parseScaler(text: string, source = 'scaler.json'): SeriesScaler {
  let raw: Partial<SeriesScaler>;
  try {
    raw = JSON.parse(text) as Partial<SeriesScaler>;
  } catch (err) {
    throw new Error(`${source}: invalid JSON (${(err as Error).message}); re-save the model with wasmgrad finetune`);
  }
  const n = Array.isArray(raw.channels) ? raw.channels.length : -1;
  const numbers = (v: unknown) => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (n < 1 || !raw.channels!.every((c) => typeof c === 'string')) throw new Error(`${source}: "channels" must be a non-empty list of column names`);
  if (!numbers(raw.mean) || !numbers(raw.std) || raw.std!.some((s) => s <= 0)) {
    throw new Error(`${source}: "mean" and "std" must be lists of ${n} finite numbers (std > 0), one per channel`);
  }
  return { channels: raw.channels!, mean: raw.mean!, std: raw.std!, features: raw.features === 'S' ? 'S' : 'M', target: String(raw.target ?? 'OT') };
}

/** The scaler's channels of `table`, standardised, row-major [rows, channels]; a missing column is named. */
export function standardiseTable(table: SeriesTable, s: SeriesScaler): Float32Array {
  const cols = s.channels.map((c) => {
    const i = table.columns.indexOf(c);
    if (i < 0) throw new Error(`${table.source}: no column '${c}', which the model was trained on (channels: ${s.channels.join(', ')}; the file has: ${table.columns.join(', ')})`);
    return table.values[i];
  });
  const rows = table.dates.length;
  const M = cols.length;
  const out = new Float32Array(rows * M);
  for (let t = 0; t < rows; t++) for (let j = 0; j < M; j++) out[t * M + j] = (cols[j][t] - s.mean[j]) / s.std[j];
  return out;
}
