/**
 * `wasmgrad forecast --model <dir> --data <csv>`: the next `horizon` steps of every channel after the
 * end of the file (or after row `--end`), from a forecaster saved by `wasmgrad finetune --task
 * forecast` (its `model/` folder: config.json, model.safetensors, scaler.json), written as CSV.
 * Inputs are standardised with the training split's statistics (scaler.json) and forecasts are
 * written in the file's units.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { taskOf } from '../models/families.js';
import { tensor } from '../ops/create.js';
import { readFileBytes, writeFileAtomic } from '../node/files.js';
import { fromPretrained } from '../node/pretrained.js';
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import { parseSeriesCsv } from '../timeseries/csv.js';
import { parseScaler, standardiseTable, type SeriesScaler } from '../timeseries/scaler.js';
import { ensureBackend } from './backend.js';

export interface ForecastCliOptions {
  /** A finetune output directory (its `model/` is used) or a forecaster checkpoint directory. */
  model: string;
  data: string;
  /** Where to write the CSV (default forecast.csv). */
  out?: string;
  /** Forecast after this many data rows (default: all of them); the truth is written too where the file has it. */
  end?: number;
  write?: (text: string) => void;
}

/** Dates after `last` at the file's step (when its last two dates parse and differ), else +1, +2, ... */
function futureDates(dates: readonly string[], end: number, horizon: number): string[] {
  const parse = (d: string | undefined) => (d === undefined ? NaN : Date.parse(/^\d{4}-\d\d-\d\d \d/.test(d) ? d.replace(' ', 'T') + 'Z' : d));
  const a = parse(dates[end - 2]);
  const b = parse(dates[end - 1]);
  if (!(Number.isFinite(a) && Number.isFinite(b) && b > a)) return Array.from({ length: horizon }, (_, h) => `+${h + 1}`);
  const iso = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(dates[end - 1]);
  return Array.from({ length: horizon }, (_, h) => {
    const t = new Date(b + (h + 1) * (b - a)).toISOString();
    return iso ? t.slice(0, 19).replace('T', ' ') : t;
  });
}

export async function runForecastCli(o: ForecastCliOptions): Promise<{ out: string; rows: number }> {
  const write = o.write ?? ((t: string) => void process.stderr.write(t));
  await ensureBackend();
  let dir = resolve(o.model);
  if (!existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'model', 'config.json'))) dir = join(dir, 'model');
  const model = await fromPretrained(dir);
  try {
    const c = model.config.toJSON() as { input_length?: number; horizon?: number; series_task?: string };
    const task = taskOf(model);
    const trainedFor = c.series_task ?? (task === 'series-classification' ? 'classify-series' : task);
    if (task !== 'forecast' || trainedFor === 'impute' || trainedFor === 'anomaly') {
      const what = trainedFor === 'impute' || trainedFor === 'anomaly'
        ? `a ${model.family} model fine-tuned for --task ${trainedFor}: it reconstructs its input window (horizon = input length) instead of forecasting the steps after it`
        : trainedFor === 'classify-series' ? `a ${model.family} classifier (--task classify-series): it outputs one class per series, not future steps` : `a ${model.family} model for ${task}, which does not forecast`;
      throw new Error(`--model ${o.model}: ${dir} holds ${what}; score it with wasmgrad eval --task ${trainedFor === task ? task : trainedFor} --model ${dir}, or pass the output of wasmgrad finetune --task forecast`);
    }
    const L = c.input_length!;
    const H = c.horizon!;
    const table = parseSeriesCsv(new TextDecoder().decode(await readFileBytes(o.data, { expected: 'the series CSV (--data)' })), { source: o.data });
    const scalerPath = join(dir, 'scaler.json');
    // Without scaler.json every column goes in as it is (GPT4TS normalises each window itself).
    const scaler: SeriesScaler = existsSync(scalerPath)
      ? parseScaler(new TextDecoder().decode(await readFileBytes(scalerPath)), scalerPath)
      : { channels: table.columns, mean: table.columns.map(() => 0), std: table.columns.map(() => 1), features: 'M', target: 'OT' };
    const rows = table.dates.length;
    const end = o.end ?? rows;
    if (!(Number.isInteger(end) && end >= L && end <= rows)) {
      throw new Error(`--end ${end}: the forecast needs the ${L} rows before it (the model's input length) and at most the file's ${rows} data rows; use a value in [${L}, ${rows}]`);
    }
    const M = scaler.channels.length;
    const data = standardiseTable(table, scaler);
    const pred = tidy(() => noGrad(() => {
      model.eval();
      return Float32Array.from(model.forward(tensor(data.subarray((end - L) * M, end * M), [1, L, M])).logits.toArray()); // (1, H, M)
    }));
    const truthSteps = Math.min(H, rows - end);
    const dates = truthSteps > 0 ? table.dates.slice(end, end + H).concat(futureDates(table.dates, rows, H - truthSteps)) : futureDates(table.dates, end, H);
    const header = ['date', ...scaler.channels, ...(truthSteps > 0 ? scaler.channels.map((ch) => `${ch}_true`) : [])];
    const lines = [header.join(',')];
    const col = (name: string) => table.values[table.columns.indexOf(name)];
    for (let h = 0; h < H; h++) {
      const cells = [dates[h], ...scaler.channels.map((_, j) => String(pred[h * M + j] * scaler.std[j] + scaler.mean[j]))];
      if (truthSteps > 0) cells.push(...scaler.channels.map((ch) => (h < truthSteps ? String(col(ch)[end + h]) : '')));
      lines.push(cells.join(','));
    }
    const out = resolve(o.out ?? 'forecast.csv');
    await writeFileAtomic(out, lines.join('\n') + '\n');
    write(`forecast of ${scaler.channels.join(', ')} for ${H} steps after row ${end} of ${o.data} (input rows ${end - L + 1}..${end}): wrote ${out}\n`);
    return { out, rows: H };
  } finally {
    model.dispose();
  }
}
