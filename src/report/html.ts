/**
 * The report as one self-contained HTML page: inline CSS and inline SVG charts, no scripts and no external
 * resources, so it can be mailed, archived or opened offline and still look the same.
 * Tables reuse the Markdown report's table models; every piece of report text is escaped.
 */
import {
  formatShare, generationTable, formatSigma, hasNoise, isPercentMetric, methodLines, noiseCurveTable, noiseDescription, rowName, rowNames, summaryTable, type TableModel,
} from './markdown.js';
import { selectionSvg } from './selection.js';
import { forecastSvgs, rankSweepSvg, rankSweepTable, seriesTable } from './series.js';
import { escapeXml, lineChart, logBarChart, type LineSeries } from './svg.js';
import { validateReport, type ExperimentReport, type MethodResult } from './types.js';

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;background:#fafafa;margin:0}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 12px}h2{font-size:1.2em;margin:28px 0 8px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}dt{color:#666}dd{margin:0}
table{border-collapse:collapse;background:#fff;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:4px 10px}th{background:#f0f0f0;text-align:left}
td.num,th.num{text-align:right}.label{display:block;color:#666;font-size:.85em}
figure{margin:12px 0}svg{max-width:100%;height:auto;border:1px solid #e4e4e4}
.note{color:#666;font-size:.9em}
`;

/** Legend and axis name of a result: its label if given, else its method. */
function displayName(r: MethodResult): string {
  return r.label ?? r.method;
}

/** Per result, its label where its row name does not already show it (the line under the name in the method column). */
function extraLabels(report: ExperimentReport, results: readonly MethodResult[] = report.results): (string | undefined)[] {
  const names = rowNames(report);
  return results.map((r) => (r.label && !names[report.results.indexOf(r)]!.includes(r.label) ? r.label : undefined));
}

function htmlTable(t: TableModel, labels?: (string | undefined)[]): string {
  const cls = (j: number) => (t.align[j] === 'right' ? ' class="num"' : '');
  const head = t.header.map((h, j) => `<th${cls(j)}>${escapeXml(h)}</th>`).join('');
  const body = t.rows.map((row, i) => {
    const cells = row.map((c, j) => {
      // the method column names the label too, which is what the chart legends show
      const extra = j === 0 && labels?.[i] ? `<span class="label">${escapeXml(labels[i]!)}</span>` : '';
      return `<td${cls(j)}>${escapeXml(c)}${extra}</td>`;
    });
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table><thead><tr>${head}</tr></thead><tbody>${body.join('\n')}</tbody></table>`;
}

function noiseChart(report: ExperimentReport): string {
  const name = report.results[0].metricName;
  const scale = isPercentMetric(name) ? 100 : 1;
  const series: LineSeries[] = report.results.map((r, i) => ({
    name: displayName(r),
    style: i,
    points: [...r.noise].sort((a, b) => a.sigma - b.sigma).map((p) => ({ x: p.sigma, y: p.mean * scale, err: p.std * scale })),
  }));
  return lineChart(series, {
    title: `${name} under ${report.noiseModel} weight noise (mean ± std)`,
    xLabel: 'noise σ',
    yLabel: scale === 100 ? `${name} (%)` : name,
    xMin: 0,
    dodge: true,
  });
}

function paramsChart(report: ExperimentReport): string {
  const bars = report.results.map((r) => {
    const share = r.totalParams > 0 ? ` (${formatShare(r.trainableParams, r.totalParams)})` : '';
    return { name: displayName(r), value: r.trainableParams, text: `${r.trainableParams}${share}` };
  });
  return logBarChart(bars, { title: 'Trainable parameters per method', xLabel: 'trainable parameters (log10 scale)' });
}

/** Undefined when no result carries a loss curve. */
function lossChart(report: ExperimentReport): string | undefined {
  const series: LineSeries[] = [];
  report.results.forEach((r, i) => {
    if (r.lossCurve?.length) series.push({ name: displayName(r), style: i, points: r.lossCurve.map((p) => ({ x: p.step, y: p.loss })) });
  });
  if (series.length === 0) return undefined;
  // a marker per logged step turns a long curve into a smear; short curves keep them to show where data is
  const markers = Math.max(...series.map((s) => s.points.length)) <= 40;
  return lineChart(series, { title: 'Training loss', xLabel: 'step', yLabel: 'loss', markers });
}

/** Metric vs noise sigma per method, with ± std error bars, as a standalone SVG document. */
export function noiseChartSvg(report: ExperimentReport): string {
  validateReport(report, 'noiseChartSvg');
  return noiseChart(report);
}

/** Trainable parameters per method on a log10 axis, as a standalone SVG document. */
export function paramsChartSvg(report: ExperimentReport): string {
  validateReport(report, 'paramsChartSvg');
  return paramsChart(report);
}

/** Training loss vs step per method as a standalone SVG document; undefined if no result has a loss curve. */
export function lossChartSvg(report: ExperimentReport): string | undefined {
  validateReport(report, 'lossChartSvg');
  return lossChart(report);
}

/** What the noise chart could not draw, so a missing point is never mistaken for a drawing bug. */
function skippedNoise(report: ExperimentReport): string[] {
  const out: string[] = [];
  for (const r of report.results) {
    if (r.noise.length === 0) out.push(`${displayName(r)}: no noise measurements`);
    for (const p of r.noise) if (!Number.isFinite(p.mean)) out.push(`${displayName(r)} at σ=${formatSigma(p.sigma)}`);
  }
  return out;
}

/** The generation table and sample outputs, when the results carry them. */
function generationHtml(report: ExperimentReport): string[] {
  const table = generationTable(report);
  if (!table) return [];
  const e = escapeXml;
  const withGen = report.results.filter((r) => r.generation);
  const g = withGen[0].generation!;
  const samples = g.samples.map((s, i) => {
    const lines = withGen.map((r) => `<li>${e(rowName(report, r))}: ${e(r.generation!.samples[i]?.output || '(empty)')}</li>`).join('');
    return `<li><code>${e(s.input)}</code><ul>${lines}<li>reference: ${e(s.reference)}</li></ul></li>`;
  });
  return [
    '<h2>Generation</h2>',
    `<p class="note">Decoding: ${e(g.decoding)}; ${g.instances} held-out inputs. Decode time is outside train time.</p>`,
    htmlTable(table, extraLabels(report, withGen)),
    samples.length ? `<h3>Sample outputs</h3><ul>${samples.join('')}</ul>` : '',
  ];
}

/** The block heatmaps of the layer-wise results. */
function selectionHtml(report: ExperimentReport): string[] {
  const layerwise = report.results.filter((r) => r.selection);
  if (!layerwise.length) return [];
  return [
    '<h2>Block selection</h2>',
    '<p class="note">Which blocks a layer-wise method trained over the run, and the probabilities it drew them with (LISA: uniform; GRASS: softmax of the measured gradient norms).</p>',
    ...layerwise.map((r) => `<figure>${selectionSvg(r.selection!, r.label ?? r.method)}</figure>`),
  ];
}

/** The series sections: test metrics and costs, the rank-sweep plot and table, the forecast plots. */
function seriesHtml(report: ExperimentReport): string[] {
  const out: string[] = [];
  const table = seriesTable(report);
  if (table) {
    out.push('<h2>Test split</h2>', '<p class="note">Every task metric on the held-out test split after training; trainable + optimizer state = the trainable values and their two AdamW moments (12 bytes per float32 parameter; for a layer-wise method such as LISA or GRASS, of what one step trains: the tensors every step trains and its largest active blocks); peak heap = the most WebAssembly heap bytes live at once in training.</p>', htmlTable(table));
  }
  const sweep = rankSweepSvg(report);
  if (sweep) out.push('<h2>Rank sweep</h2>', `<figure>${sweep}</figure>`, htmlTable(rankSweepTable(report)!));
  const plots = forecastSvgs(report);
  if (plots.length) {
    out.push('<h2>Forecasts</h2>', '<p class="note">Test windows (first, middle, last), one channel: the end of the input window, the truth and each method\'s forecast, in the values the task scores.</p>', ...plots.map((svg) => `<figure>${svg}</figure>`));
  }
  return out;
}

/** The whole report as one offline HTML page: settings, summary table, charts, noise curve table and notes. */
export function renderHtmlReport(report: ExperimentReport): string {
  validateReport(report, 'renderHtmlReport');
  const e = escapeXml;
  const labels = extraLabels(report);
  const skipped = skippedNoise(report);
  const loss = lossChart(report);
  const settings: [string, string][] = [
    ['task', report.task],
    ['model', report.model],
    ['created', report.createdAt],
    ['metric', `${report.results[0].metricName} on the validation split`],
    ...(hasNoise(report) ? [['noise', noiseDescription(report)] as [string, string]] : []),
  ];
  const body = [
    `<h1>${e(report.title)}</h1>`,
    `<dl>${settings.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`).join('')}</dl>`,
    '<h2>Summary</h2>',
    htmlTable(summaryTable(report), labels),
    // No method measured under noise (series tasks by default, generation tasks): no noise section at all.
    ...(hasNoise(report) ? [
      '<h2>Metric under weight noise</h2>',
      `<figure>${noiseChart(report)}</figure>`,
      skipped.length ? `<p class="note">Not plotted (not measured): ${e(skipped.join('; '))}.</p>` : '',
      htmlTable(noiseCurveTable(report), labels),
    ] : []),
    ...generationHtml(report),
    '<h2>Trainable parameters</h2>',
    `<figure>${paramsChart(report)}</figure>`,
    loss ? `<h2>Training loss</h2><figure>${loss}</figure>` : '',
    ...seriesHtml(report),
    ...selectionHtml(report),
    '<h2>Methods</h2>',
    `<ul>${methodLines(report).map((l) => `<li>${e(l)}</li>`).join('')}</ul>`,
    report.notes?.length ? `<h2>Notes</h2><ul>${report.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>` : '',
  ];
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(report.title)}</title><style>${CSS}</style></head>`,
    `<body><main>\n${body.filter(Boolean).join('\n')}\n</main></body></html>`,
    '',
  ].join('\n');
}
