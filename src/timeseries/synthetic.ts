/**
 * Generated series for tests and examples: sums of seasonal sine waves with a slow trend and
 * Gaussian noise, seeded, and point anomalies (spikes) injected at known positions.
 */
import type { SeriesTable } from './csv.js';

/** mulberry32: a small seeded uniform stream on [0, 1). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

export interface SeasonalOptions {
  /** Time steps (rows). */
  length: number;
  /** Numeric columns; the last is named 'OT' as in ETT, the others 'x0', 'x1', ... (default 1). */
  channels?: number;
  /** Seasonal periods in steps (default [24, 168]: daily and weekly at hourly sampling). */
  periods?: number[];
  /** Standard deviation of the added noise, relative to the seasonal amplitude 1 (default 0.1). */
  noise?: number;
  /** Linear trend over the whole series (default 0.5). */
  trend?: number;
  seed?: number;
}

/**
 * channel c, step t: sum_k a_{c,k} sin(2 pi t / p_k + phi_{c,k}) + trend * t / length + noise * N(0, 1),
 * with amplitudes in [0.5, 1.5) and phases drawn per channel from the seed. Dates are hourly from 2016-07-01.
 */
export function seasonalSeries(o: SeasonalOptions): SeriesTable {
  const M = o.channels ?? 1;
  const periods = o.periods ?? [24, 168];
  if (!(Number.isInteger(o.length) && o.length > 0)) throw new Error(`seasonalSeries: length = ${o.length} must be a positive integer`);
  if (!(Number.isInteger(M) && M > 0)) throw new Error(`seasonalSeries: channels = ${M} must be a positive integer`);
  const u = seededUniform(o.seed ?? 0);
  const n = normal(u);
  const noise = o.noise ?? 0.1;
  const trend = o.trend ?? 0.5;
  const values = Array.from({ length: M }, () => {
    const amp = periods.map(() => 0.5 + u());
    const phase = periods.map(() => 2 * Math.PI * u());
    const v = new Float64Array(o.length);
    for (let t = 0; t < o.length; t++) {
      let s = (trend * t) / o.length;
      periods.forEach((p, k) => (s += amp[k] * Math.sin((2 * Math.PI * t) / p + phase[k])));
      v[t] = s + noise * n();
    }
    return v;
  });
  const start = Date.UTC(2016, 6, 1);
  const dates = Array.from({ length: o.length }, (_, t) => new Date(start + t * 3600_000).toISOString().slice(0, 19).replace('T', ' '));
  const columns = Array.from({ length: M }, (_, c) => (c === M - 1 ? 'OT' : `x${c}`));
  return { source: 'seasonalSeries', dates, columns, values };
}

export interface SpikeOptions {
  /** Number of anomalous segments. */
  count: number;
  /** Spike size in units of the series' standard deviation (default 6). */
  magnitude?: number;
  /** Steps per segment (default 1: point anomalies). */
  width?: number;
  /** Only inject at steps >= from (default 0), e.g. to keep a clean training part. */
  from?: number;
  seed?: number;
}

/**
 * Adds `count` spikes of +-magnitude * std to a copy of `values` at random non-overlapping
 * segments; returns the series and the 0/1 labels per step.
 */
export function injectSpikes(values: ArrayLike<number>, o: SpikeOptions): { values: Float64Array; labels: Uint8Array } {
  const out = Float64Array.from(values);
  const labels = new Uint8Array(out.length);
  const width = o.width ?? 1;
  const from = o.from ?? 0;
  let m = 0;
  for (const v of out) m += v;
  m /= out.length;
  let q = 0;
  for (const v of out) q += (v - m) ** 2;
  const sd = Math.sqrt(q / out.length) || 1;
  const u = seededUniform(o.seed ?? 1);
  const room = out.length - from - width;
  if (room < o.count * (width + 1)) throw new Error(`injectSpikes: ${o.count} segments of width ${width} do not fit in ${out.length - from} steps`);
  let placed = 0;
  for (let tries = 0; placed < o.count; tries++) {
    if (tries > 100 * o.count) throw new Error(`injectSpikes: could not place ${o.count} separated segments; use fewer or narrower spikes`);
    const s = from + Math.floor(u() * room);
    let free = true;
    for (let t = Math.max(0, s - 1); t < Math.min(out.length, s + width + 1); t++) if (labels[t]) free = false;
    if (!free) continue;
    const sign = u() < 0.5 ? -1 : 1;
    for (let t = s; t < s + width; t++) {
      out[t] += sign * (o.magnitude ?? 6) * sd;
      labels[t] = 1;
    }
    placed++;
  }
  return { values: out, labels };
}

export interface PeriodClassesOptions {
  /** Series per class (default 40). */
  perClass?: number;
  /** Steps per series (default 64). */
  length?: number;
  /** Classes by name and period in steps (default slow 24, medium 12, fast 6). */
  classes?: Record<string, number>;
  /** Standard deviation of the added noise, relative to amplitude 1 (default 0.3). */
  noise?: number;
  seed?: number;
}

/**
 * Labelled series in long format (id and label text columns, one numeric column `v`): each series
 * is a sine of its class's period with a random phase, amplitude in [0.5, 1.5), offset in [-1, 1)
 * and Gaussian noise, seeded. The class is only in the period: offset and amplitude do not tell it.
 */
export function periodClasses(o: PeriodClassesOptions = {}): SeriesTable {
  const perClass = o.perClass ?? 40;
  const length = o.length ?? 64;
  const classes = o.classes ?? { slow: 24, medium: 12, fast: 6 };
  const noise = o.noise ?? 0.3;
  if (!(Number.isInteger(perClass) && perClass >= 1)) throw new Error(`periodClasses: perClass = ${perClass} must be a positive integer`);
  if (!(Number.isInteger(length) && length >= 2)) throw new Error(`periodClasses: length = ${length} must be an integer >= 2`);
  const u = seededUniform(o.seed ?? 0);
  const n = normal(u);
  const dates: string[] = [];
  const ids: string[] = [];
  const labels: string[] = [];
  const v: number[] = [];
  for (const [name, period] of Object.entries(classes)) {
    if (!(period > 0)) throw new Error(`periodClasses: class ${name} has period ${period}; periods must be > 0`);
    for (let s = 0; s < perClass; s++) {
      const phase = 2 * Math.PI * u();
      const amp = 0.5 + u();
      const offset = 2 * u() - 1;
      for (let t = 0; t < length; t++) {
        dates.push(`t${t}`);
        ids.push(`${name}-${s}`);
        labels.push(name);
        v.push(offset + amp * Math.sin((2 * Math.PI * t) / period + phase) + noise * n());
      }
    }
  }
  return {
    source: `generated: ${Object.entries(classes).map(([k, p]) => `${k} (period ${p})`).join(', ')}, ${perClass} series each of ${length} steps`,
    dates, columns: ['v'], values: [Float64Array.from(v)], text: { id: ids, label: labels },
  };
}
