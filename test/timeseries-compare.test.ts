/**
 * `wasmgrad compare` on series tasks: several methods and the linear baseline in one report (test
 * metrics, trainable parameters, trainable + optimizer-state bytes, peak heap, time), the forecast
 * plots and the rank sweep (`--sweep r=... --sweep scaling=standard,rs`), One-for-All's alpha/r
 * variant labelled as such; and the series report parts on hand-made results.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { expandSweeps, parseMethodSpec, runCompare } from '../src/cli/compare.js';
import { methodName, describeConfig, presetFor } from '../src/adapters/registry.js';
import { adapterFiles, applyAdapter, loadAdapter, type AdaptedModel } from '../src/adapters/index.js';
import { trainingState } from '../src/experiments/compare.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import * as W from '../src/index.js';
import { makeModel } from './adapters-models.js';
import type { AdapterConfig } from '../src/adapters/types.js';
import { forecastSvgs, forecastTable, rankSweepSvg, rankSweepTable, seriesTable } from '../src/report/series.js';
import { renderHtmlReport, renderMarkdownReport, validateReport, type ExperimentReport, type MethodResult } from '../src/report/index.js';
import { patchCount, seasonalSeries } from '../src/timeseries/index.js';
import { seriesCsv, tempDirs } from './helpers.js';

const tmp = tempDirs();
const TINY = join(import.meta.dirname, '..', 'examples', 'checkpoints', 'tiny-gpt2'); // 64 positions, d 128, 2 blocks

function writeCsv(rows = 600): string {
  const path = join(tmp('series'), 'sensors.csv');
  writeFileSync(path, seriesCsv(seasonalSeries({ length: rows, channels: 2, seed: 5, noise: 0.1, periods: [24] })));
  return path;
}

/** runCompare with stdout (where the table goes) silenced. */
async function compare(o: Parameters<typeof runCompare>[0]): Promise<ExperimentReport> {
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return await runCompare(o);
  } finally {
    spy.mockRestore();
  }
}

describe('--sweep and the One-for-All labels', () => {
  it('expandSweeps crosses every method with every sweep; a swept key replaces the spec\'s own', () => {
    expect(expandSweeps(['one-for-all'], ['r=2,4', 'scaling=standard,rs'])).toEqual([
      'one-for-all:r=2,scaling=standard', 'one-for-all:r=2,scaling=rs', 'one-for-all:r=4,scaling=standard', 'one-for-all:r=4,scaling=rs',
    ]);
    expect(expandSweeps(['lora:r=8,lora_alpha=16', 'gpt4ts'], ['r=2'])).toEqual(['lora:lora_alpha=16,r=2', 'gpt4ts:r=2']);
    expect(expandSweeps(['grasp'], [])).toEqual(['grasp']);
    expect(() => expandSweeps(['lora'], ['r'])).toThrow(/--sweep "r": expected key=value,value/);
    expect(() => expandSweeps(['lora'], ['r=2', 'r=4'])).toThrow(/--sweep r is given twice/);
  });

  it('One-for-All under alpha/r is "one-for-all (alpha/r)", not lora; its legend names the scaling', () => {
    const config = (spec: string) => ({
      peft_type: 'LORA', r: 16, lora_alpha: 16, target_modules: ['gpt2.wpe', 'out_layer'], use_rslora: true, init_lora_weights: 'gaussian', ...parseMethodSpec(spec).adapter,
    }) as AdapterConfig;
    expect(methodName(config('one-for-all:scaling=standard'))).toBe('one-for-all (alpha/r)');
    expect(methodName(config('one-for-all:scaling=rs'))).toBe('one-for-all');
    expect(methodName({ peft_type: 'LORA', r: 8, lora_alpha: 16, use_rslora: false } as AdapterConfig)).toBe('lora');
    expect(describeConfig(config('one-for-all:r=8,scaling=standard'))).toMatch(/^One-for-All \(alpha\/r\) r=8 α=16/);
    expect(describeConfig(config('one-for-all:r=8'))).toMatch(/^One-for-All \(alpha\/sqrt\(r\)\) r=8/);
  });

  it('an adapted model and its reloaded adapter files name the method as the reports do', () => {
    W.withBackend(createReferenceBackend(), () => {
      for (const [spec, name] of [['one-for-all:scaling=standard', 'one-for-all (alpha/r)'], ['one-for-all', 'one-for-all'], ['lora', 'lora'], ['rslora', 'rslora']] as const) {
        const { method, adapter } = parseMethodSpec(spec);
        const adapted = applyAdapter(makeModel('gpt2'), { ...presetFor(method), ...adapter } as AdapterConfig);
        expect(adapted.method, spec).toBe(name);
        const files = adapterFiles(adapted);
        const reloaded = loadAdapter(makeModel('gpt2'), new TextDecoder().decode(files.get('adapter_config.json')!), files.get('adapter_model.safetensors')!);
        expect(reloaded.method, spec).toBe(name);
      }
    });
  });
});

describe('trainable + optimizer state of what one step trains', () => {
  it('LISA and GRASS count the always-trained tensors and their largest blocks; other methods every trainable tensor', () => {
    W.withBackend(createReferenceBackend(), () => {
      const sizes = (a: AdaptedModel) => a.namedTrainable().map(([k, t]) => [k, t.size] as const);
      const block = (k: string) => /(?:^|\.)h\.(\d+)\./.exec(k)?.[1];
      for (const [peft, frozen] of [['LISA', 'drop'], ['GRASS', 'drop'], ['LISA', 'keep']] as const) {
        const adapted = applyAdapter(makeModel('gpt2'), { peft_type: peft, frozen_state: frozen } as AdapterConfig);
        const all = sizes(adapted);
        const perBlock = new Map<string, number>();
        let always = 0;
        for (const [k, n] of all) {
          const b = block(k);
          if (b === undefined) always += n;
          else perBlock.set(b, (perBlock.get(b) ?? 0) + n);
        }
        expect(perBlock.size).toBe(2); // the tiny model's two blocks; gamma defaults to 1 of them
        const step = always + Math.max(...perBlock.values());
        const total = all.reduce((n, [, x]) => n + x, 0);
        expect(trainingState(adapted)).toEqual({
          stateBytes: 4 * step + 8 * (frozen === 'keep' ? total : step), stepTrainable: { params: step, blocks: 1, of: 2 },
        });
        expect(step).toBeLessThan(total);
      }
      const lora = applyAdapter(makeModel('gpt2'), { ...presetFor('lora') } as AdapterConfig);
      expect(trainingState(lora)).toEqual({ stateBytes: 12 * lora.parameterCounts().trainable });
    });
  });
});

describe('wasmgrad compare on series tasks', () => {
  it('forecast: a rank sweep under both scalings and the linear baseline in one report, with forecast and sweep plots', async () => {
    const csv = writeCsv();
    const out = tmp('compare-forecast');
    const L = 48;
    const H = 12;
    const specs = expandSweeps(['one-for-all'], ['r=2,4', 'scaling=standard,rs']);
    const lines: string[] = [];
    const report = await compare({
      model: TINY, task: 'forecast', out, methods: specs.map(parseMethodSpec), epochs: 1, batchSize: 32, lr: 1e-3,
      series: { data: csv, inputLength: L, horizon: H }, write: (t) => void lines.push(t), tty: false,
    });
    // each run's test line names the run as its files do, so the four one-for-all runs are told apart
    const testLines = lines.join('').split('\n').filter((l) => / test mse \d/.test(l)).map((l) => l.split(':')[0]);
    expect(testLines).toEqual(['one-for-all-r2-use_rslorafalse', 'one-for-all-r2-use_rsloratrue', 'one-for-all-r4-use_rslorafalse', 'one-for-all-r4-use_rsloratrue']);
    const N = patchCount(L, 16, 8);
    expect(report.results.map((r) => r.method)).toEqual(['one-for-all (alpha/r)', 'one-for-all', 'one-for-all (alpha/r)', 'one-for-all', 'linear']);
    const [a, b, c, d, linear] = report.results;
    for (const [res, r] of [[a, 2], [b, 2], [c, 4], [d, 4]] as const) {
      expect(res.lora).toMatchObject({ r, alpha: 16, scaling: res === a || res === c ? 'standard' : 'rs' });
      expect(res.trainableParams).toBe(r * (64 + 128) + r * (N * 128 + H));
      expect(res.stateBytes).toBe(12 * res.trainableParams);
      expect(res.peakMemoryBytes).toBeGreaterThan(0);
      for (const k of ['mse', 'mae']) expect(res.testMetrics![k]).toBeGreaterThan(0);
    }
    // alpha/r and alpha/sqrt(r) are different runs: at r = 4 the update's scale differs by a factor 2.
    expect(c.testMetrics!.mse).not.toBe(d.testMetrics!.mse);
    expect(linear).toMatchObject({ baseline: true, trainableParams: L * H + H, stateBytes: 12 * (L * H + H) });
    expect(linear.testMetrics!.mse).toBeGreaterThan(0);
    // Three test windows (first, middle, last) of the last channel, with history, truth and prediction.
    expect(a.forecasts!.map((f) => f.channel)).toEqual(['OT', 'OT', 'OT']);
    expect(a.forecasts![0].window).toBe(0);
    for (const f of a.forecasts!) expect([f.history.length, f.truth.length, f.prediction.length]).toEqual([L, H, H]);
    expect(linear.forecasts!.map((f) => f.window)).toEqual(a.forecasts!.map((f) => f.window));

    const files = readdirSync(out).sort();
    expect(files).toContain('one-for-all-r2-use_rsloratrue.metrics.jsonl');
    expect(files).toContain('one-for-all-r2-use_rslorafalse.metrics.jsonl');
    expect(readdirSync(join(out, 'adapters'))).toHaveLength(4);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/## Test split[\s\S]*\| method \| test mse \| test mae \| trainable params \| trainable \+ optimizer state \| peak heap \| train time \|/);
    expect(md).toMatch(/\| linear \| \d\.\d{4} \| \d\.\d{4} \| 588 \| 6\.9 KiB \|/);
    expect(md).toMatch(/## Rank sweep[\s\S]*\| r \| trainable params \| test mse, alpha\/sqrt\(r\) \| test mse, alpha\/r \|/);
    expect(md).toMatch(/## Forecasts[\s\S]*\| test window \| channel \| steps \|/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/<h2>Rank sweep<\/h2>\s*<figure><svg/);
    expect((html.match(/test window \d+, OT: the last 48 input steps, then 12 forecast/g) ?? []).length).toBeGreaterThanOrEqual(3);
    const saved = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ExperimentReport;
    expect(saved.results[0].forecasts![0].prediction).toEqual(a.forecasts![0].prediction); // the plots' data, kept
  }, 600_000);

  it('impute with gpt4ts: every test metric, the baseline as the floor; classify-series has no baseline row', async () => {
    const csv = writeCsv(500);
    const out = tmp('compare-impute');
    const lines: string[] = [];
    const report = await compare({
      model: TINY, task: 'impute', out, methods: ['gpt4ts'].map(parseMethodSpec), epochs: 1, batchSize: 32,
      series: { data: csv, inputLength: 32 }, write: (t) => void lines.push(t), tty: false,
    });
    expect(report.results.map((r) => r.method)).toEqual(['gpt4ts', 'linear']);
    for (const r of report.results) expect(Object.keys(r.testMetrics!)).toEqual(['mse', 'mae']);
    expect(report.results[0].forecasts).toBeUndefined(); // reconstruction is not plotted as a forecast
    expect(lines.join('')).toMatch(/gpt4ts: test mse \d/);
    const cls: string[] = [];
    const classify = await compare({
      model: TINY, task: 'classify-series', out: tmp('compare-cls'), methods: ['gpt4ts'].map(parseMethodSpec), epochs: 1, batchSize: 16,
      series: {}, write: (t) => void cls.push(t), tty: false,
    });
    expect(classify.results.map((r) => r.method)).toEqual(['gpt4ts']);
    expect(Object.keys(classify.results[0].testMetrics!)).toEqual(['accuracy']);
    expect(cls.join('')).toMatch(/no linear baseline row: it maps a window to steps and does not classify/);
  }, 300_000);
});

describe('series report parts on hand-made results', () => {
  const base = (over: Partial<MethodResult>): MethodResult => ({
    method: 'one-for-all', trainableParams: 10, totalParams: 100, metric: 0.5, metricName: 'mse', noise: [],
    trainSeconds: 1, peakMemoryBytes: 2 ** 20, steps: 3, ...over,
  });
  const report = (results: MethodResult[]): ExperimentReport => ({
    title: 't', task: 'forecast', model: 'm', createdAt: '2026-01-01T00:00:00Z', noiseModel: 'multiplicative', noiseTargets: 'x', results,
  });

  it('forecastTable gives each method\'s MSE on the plotted window; the SVG joins truth to the history', () => {
    const f = (prediction: number[]) => [{ window: 7, channel: 'OT', history: [0, 1, 2], truth: [3, 4], prediction }];
    const rep = report([base({ forecasts: f([3, 6]) }), base({ method: 'linear', baseline: true, forecasts: f([2, 4]) })]);
    validateReport(rep);
    expect(forecastTable(rep)!.rows).toEqual([['7', 'OT', '2', '2.0000', '0.5000']]); // (0 + 4) / 2 and (1 + 0) / 2
    const [svg] = forecastSvgs(rep);
    expect(svg).toMatch(/test window 7, OT: the last 3 input steps, then 2 forecast/);
    expect(() => validateReport(report([base({ forecasts: f([1]) })]))).toThrow(/results\[0\]\.forecasts\[0\]\.prediction .* must have as many steps as truth \(2\)/);
  });

  it('rank sweep: one row per r, a column per scaling; none with a single rank; test metric preferred', () => {
    const at = (r: number, scaling: 'rs' | 'standard', mse: number) => base({ trainableParams: 10 * r, lora: { r, alpha: 16, scaling }, testMetrics: { mse, mae: 1 } });
    const rep = report([at(2, 'rs', 0.3), at(2, 'standard', 0.4), at(8, 'rs', 0.2), at(8, 'standard', 0.25)]);
    expect(rankSweepTable(rep)).toEqual({
      header: ['r', 'trainable params', 'test mse, alpha/sqrt(r)', 'test mse, alpha/r'], align: ['right', 'right', 'right', 'right'],
      rows: [['2', '20', '0.3000', '0.4000'], ['8', '80', '0.2000', '0.2500']],
    });
    expect(rankSweepSvg(rep)).toMatch(/rank sweep: test mse against r \(2, 8\)/);
    expect(rankSweepTable(report([at(2, 'rs', 0.3), at(2, 'standard', 0.4)]))).toBeNull();
    // another LoRA method in the same report is not mixed into the sweep
    const other = { ...at(32, 'standard', 0.9), method: 'lora' };
    expect(rankSweepTable(report([at(2, 'rs', 0.3), { ...at(8, 'standard', 0.2), method: 'one-for-all (alpha/r)' }, at(8, 'rs', 0.25), other]))!.rows.map((r) => r[0])).toEqual(['2', '8']);
    // a method run at several ranks (and here under both scalings) is told apart
    expect(seriesTable(rep)!.rows.map((r) => r[0])).toEqual(['one-for-all r=2, alpha/sqrt(r)', 'one-for-all r=2, alpha/r', 'one-for-all r=8, alpha/sqrt(r)', 'one-for-all r=8, alpha/r']);
    const oneScaling = report([at(2, 'rs', 0.3), at(8, 'rs', 0.2)]);
    expect(seriesTable(oneScaling)!.rows.map((r) => r[0])).toEqual(['one-for-all r=2', 'one-for-all r=8']);
    expect(renderMarkdownReport(rep)).toMatch(/## Rank sweep/);
  });

  it('a layer-wise row says what one step trains, and its state bytes are one step\'s', () => {
    const rep = report([
      base({ method: 'lisa', trainableParams: 1000, totalParams: 1000, stateBytes: 12 * 400, stepTrainable: { params: 400, blocks: 1, of: 4 }, testMetrics: { mse: 0.3 } }),
      base({ method: 'full', trainableParams: 1000, totalParams: 1000, stateBytes: 12 * 1000, testMetrics: { mse: 0.2 } }),
    ]);
    validateReport(rep);
    const rows = seriesTable(rep)!.rows;
    expect(rows[0].slice(2, 4)).toEqual(['1000 (per step: 400, 1 of 4 blocks)', '4.7 KiB per step']);
    expect(rows[1].slice(2, 4)).toEqual(['1000', '11.7 KiB']);
    expect(() => validateReport(report([base({ stepTrainable: { params: 11, blocks: 1, of: 2 } })]))).toThrow(/stepTrainable\.params/);
  });

  it('without noise measurements (--draws 0) the reports leave weight noise out; with them they show it', () => {
    const clean = report([base({ testMetrics: { mse: 0.3, mae: 0.4 } }), base({ method: 'linear', baseline: true, testMetrics: { mse: 0.5, mae: 0.6 } })]);
    for (const text of [renderMarkdownReport(clean), renderHtmlReport(clean)]) {
      expect(text).not.toMatch(/weight noise|σ|No noise measurements/);
      expect(text).toMatch(/Test split/);
    }
    const md = renderMarkdownReport(clean);
    expect(md.split('\n').find((l) => l.startsWith('| method'))).toBe('| method | trainable params | mse | train time | peak memory |');
    const noisy = report([base({ noise: [{ sigma: 0.1, mean: 0.6, std: 0.01, draws: 2 }] }), base({ method: 'linear', baseline: true })]);
    for (const text of [renderMarkdownReport(noisy), renderHtmlReport(noisy)]) expect(text).toMatch(/Metric under weight noise[^]*σ=0\.1/);
    expect(renderMarkdownReport(noisy)).toMatch(/\| mse @ σ=0\.1 \| mse @ σ=0\.2 \|/);
  });
});
