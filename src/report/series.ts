/**
 * The series parts of a report: the comparison table of test metrics and costs (trainable
 * parameters, trainable + optimizer-state bytes, peak heap, time), the forecast plots (history,
 * truth and each method's prediction for a few test windows) and the rank sweep (metric against r
 * under alpha/r and alpha/sqrt(r)). Tables feed report.md and report.html alike; plots are inline SVG.
 */
import { formatMiB, formatTrainTime, isPercentMetric, rowName, rowNames, SCALINGS, type TableModel } from './format.js';
import { lineChart, type LineSeries } from './svg.js';
import type { ExperimentReport, MethodResult } from './types.js';

/** Percent metrics as `64.5%`; errors (MSE, sMAPE, ...) with four significant decimals below 10, two above. */
export function formatSeriesMetric(v: number, name: string): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (isPercentMetric(name) || ['precision', 'recall'].includes(name)) return `${(100 * v).toFixed(1)}%`;
  return Math.abs(v) < 10 ? v.toFixed(4) : v.toFixed(2);
}

/** `312.0 KiB` below one MiB, else `12.5 MiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'n/a';
  return bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(1)} KiB` : formatMiB(bytes);
}

/** The metric names of the test columns, in the first result's order, then any others. */
function testNames(report: ExperimentReport): string[] {
  return [...new Set(report.results.flatMap((r) => Object.keys(r.testMetrics ?? {})))];
}

/**
 * One row per method with its test metrics and what it cost; null when no result has test metrics.
 * The baseline rows (no pretrained model) show their own heap peak too: they train with the same loop.
 * A layer-wise method's row says what one step trains beside its whole count, and its state bytes
 * are those of one step (labelled so).
 */
export function seriesTable(report: ExperimentReport): TableModel | null {
  if (!report.results.some((r) => r.testMetrics)) return null;
  const names = testNames(report);
  const rowNamesOf = rowNames(report);
  return {
    header: ['method', ...names.map((n) => `test ${n}`), 'trainable params', 'trainable + optimizer state', 'peak heap', 'train time'],
    align: ['left', ...names.map(() => 'right' as const), 'right', 'right', 'right', 'right'],
    rows: report.results.map((r, i) => [
      rowNamesOf[i]!,
      ...names.map((n) => (r.testMetrics && n in r.testMetrics ? formatSeriesMetric(r.testMetrics[n], n) : 'n/a')),
      r.stepTrainable ? `${r.trainableParams} (per step: ${r.stepTrainable.params}, ${r.stepTrainable.blocks} of ${r.stepTrainable.of} blocks)` : String(r.trainableParams),
      r.stateBytes === undefined ? 'n/a' : `${formatBytes(r.stateBytes)}${r.stepTrainable ? ' per step' : ''}`,
      r.peakMemoryBytes > 0 ? formatMiB(r.peakMemoryBytes) : '-',
      formatTrainTime(r.trainSeconds),
    ]),
  };
}

/** A test window plotted with every method that forecast it: the window's samples by result. */
interface ForecastPlot {
  window: number;
  channel: string;
  history: number[];
  truth: number[];
  predictions: { result: MethodResult; index: number; prediction: number[] }[];
}

/** The windows the results forecast, each with every method's prediction of it (same window and channel). */
export function forecastPlots(report: ExperimentReport): ForecastPlot[] {
  const plots = new Map<string, ForecastPlot>();
  report.results.forEach((r, index) => {
    for (const f of r.forecasts ?? []) {
      const key = `${f.window}\u0000${f.channel}`;
      const p = plots.get(key) ?? { window: f.window, channel: f.channel, history: f.history, truth: f.truth, predictions: [] };
      p.predictions.push({ result: r, index, prediction: f.prediction });
      plots.set(key, p);
    }
  });
  return [...plots.values()];
}

const mse = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / Math.max(1, a.length);

/** Per plotted window: each method's MSE on that window's channel (the plots' numbers, for report.md). */
export function forecastTable(report: ExperimentReport): TableModel | null {
  const plots = forecastPlots(report);
  if (plots.length === 0) return null;
  const methods = report.results.filter((r) => r.forecasts?.length);
  return {
    header: ['test window', 'channel', 'steps', ...methods.map((r) => `${rowName(report, r)} MSE`)],
    align: ['right', 'left', 'right', ...methods.map(() => 'right' as const)],
    rows: plots.map((p) => [
      String(p.window), p.channel, String(p.truth.length),
      ...methods.map((r) => {
        const q = p.predictions.find((x) => x.result === r);
        return q ? mse(q.prediction, p.truth).toFixed(4) : 'n/a';
      }),
    ]),
  };
}

/**
 * One SVG per plotted window: the last steps of the input (at most twice the horizon, so the
 * forecast stays readable), the truth after it and each method's forecast, against the step
 * (0 = the last input step).
 */
export function forecastSvgs(report: ExperimentReport): string[] {
  return forecastPlots(report).map((p) => {
    const H = p.truth.length;
    const shown = Math.min(p.history.length, Math.max(2 * H, 48));
    const hist = p.history.slice(p.history.length - shown);
    const series: LineSeries[] = [
      { name: 'history', style: 6, points: hist.map((y, i) => ({ x: i - shown + 1, y })) },
      // continue the truth from the last input step so the two lines join
      { name: 'truth', style: 13, points: [{ x: 0, y: hist[hist.length - 1] }, ...p.truth.map((y, h) => ({ x: h + 1, y }))] },
      ...p.predictions.map((q) => ({ name: rowName(report, q.result), style: q.index % 6, points: q.prediction.map((y, h) => ({ x: h + 1, y })) })),
    ];
    return lineChart(series, {
      title: `test window ${p.window}, ${p.channel}: the last ${shown} input steps, then ${H} forecast`,
      xLabel: 'step (0 = last input step)', yLabel: p.channel, markers: false, width: 760, height: 320,
    });
  });
}

/** The value a sweep plots: the test metric where the results have one, else the validation metric. */
function sweepValue(r: MethodResult, name: string): number {
  return r.testMetrics && name in r.testMetrics ? r.testMetrics[name] : r.metric;
}

/**
 * The rank sweep: LoRA-style results by scaling, ordered by r; null unless some scaling was run at
 * two or more ranks. Only results of one method are set side by side: the first LoRA-style result's
 * (`one-for-all` and `one-for-all (alpha/r)` count as one; a `lora` row next to them is left out).
 */
export function rankSweep(report: ExperimentReport): { ranks: number[]; by: Map<'rs' | 'standard', Map<number, MethodResult>>; metric: string; onTest: boolean } | null {
  const family = (r: MethodResult) => r.method.replace(/ \(alpha\/r\)$/, '');
  const first = report.results.find((r) => r.lora);
  const lora = first ? report.results.filter((r) => r.lora && family(r) === family(first)) : [];
  if (lora.length < 2) return null;
  const metric = report.results[0].metricName;
  const by = new Map<'rs' | 'standard', Map<number, MethodResult>>();
  for (const r of lora) {
    const m = by.get(r.lora!.scaling) ?? new Map<number, MethodResult>();
    if (!m.has(r.lora!.r)) m.set(r.lora!.r, r);
    by.set(r.lora!.scaling, m);
  }
  if (![...by.values()].some((m) => m.size >= 2)) return null;
  const ranks = [...new Set(lora.map((r) => r.lora!.r))].sort((a, b) => a - b);
  return { ranks, by, metric, onTest: lora.every((r) => r.testMetrics && metric in r.testMetrics) };
}

/** The sweep as a table: r, trainable parameters, then the metric under each scaling run. */
export function rankSweepTable(report: ExperimentReport): TableModel | null {
  const s = rankSweep(report);
  if (!s) return null;
  const scalings = (['rs', 'standard'] as const).filter((k) => s.by.has(k));
  return {
    header: ['r', 'trainable params', ...scalings.map((k) => `${s.onTest ? 'test ' : ''}${s.metric}, ${SCALINGS[k]}`)],
    align: ['right', 'right', ...scalings.map(() => 'right' as const)],
    rows: s.ranks.map((r) => {
      const any = scalings.map((k) => s.by.get(k)!.get(r)).find(Boolean);
      return [
        String(r), any ? String(any.trainableParams) : 'n/a',
        ...scalings.map((k) => {
          const res = s.by.get(k)!.get(r);
          return res ? formatSeriesMetric(sweepValue(res, s.metric), s.metric) : 'n/a';
        }),
      ];
    }),
  };
}

/** The sweep as an SVG line chart: the metric against log2 r, one line per scaling. */
export function rankSweepSvg(report: ExperimentReport): string | null {
  const s = rankSweep(report);
  if (!s) return null;
  const series: LineSeries[] = (['rs', 'standard'] as const).filter((k) => s.by.has(k)).map((k, i) => ({
    name: SCALINGS[k], style: i,
    points: [...s.by.get(k)!.entries()].sort((a, b) => a[0] - b[0]).map(([r, res]) => ({ x: Math.log2(r), y: sweepValue(res, s.metric) })),
  }));
  return lineChart(series, {
    title: `rank sweep: ${s.onTest ? 'test ' : 'validation '}${s.metric} against r (${s.ranks.join(', ')})`,
    xLabel: 'log2 r', yLabel: s.metric, width: 640, height: 320,
  });
}
