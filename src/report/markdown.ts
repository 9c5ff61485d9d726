/**
 * The report as Markdown, and the table models (header + cell text) that the HTML page renders too, so
 * both formats always show the same numbers formatted the same way.
 */
import { selectionText } from './selection.js';
import { formatMiB, formatTrainTime, isPercentMetric, rowName, rowNames, type TableModel } from './format.js';
import { forecastTable, rankSweepTable, seriesTable } from './series.js';

export { formatMiB, formatTrainTime, isPercentMetric, rowName, rowNames, type TableModel };
import { PEAK_PARTS, SIGMA_TOLERANCE, validateReport, type ExperimentReport, type MethodResult, type NoisePoint } from './types.js';

/**
 * The noise levels the summary table shows whenever any method was measured under noise, so tables of
 * different experiments line up. A report without noise measurements has no noise columns or sections.
 */
export const SUMMARY_SIGMAS = [0.1, 0.2] as const;

// toFixed keeps the sign of tiny negatives ("-0.000"), which reads as a real negative score
function fixed(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** `87.3%` for percent metrics, `0.512` otherwise, `n/a` for NaN. */
export function formatMetric(v: number, metricName: string): string {
  if (!Number.isFinite(v)) return 'n/a';
  return isPercentMetric(metricName) ? `${fixed(v * 100, 1)}%` : fixed(v, 3);
}

/** `85.2 ± 1.3%` or `0.480 ± 0.021`; the mean alone when the std is unknown; `n/a` when the mean is. */
export function formatMeanStd(p: NoisePoint | undefined, metricName: string): string {
  if (!p || !Number.isFinite(p.mean)) return 'n/a';
  if (!Number.isFinite(p.std)) return formatMetric(p.mean, metricName);
  return isPercentMetric(metricName)
    ? `${fixed(p.mean * 100, 1)} ± ${fixed(p.std * 100, 1)}%`
    : `${fixed(p.mean, 3)} ± ${fixed(p.std, 3)}`;
}

/** Trainable share of all parameters with three significant digits; never rounds a partial share up to 100%. */
export function formatShare(trainable: number, total: number): string {
  if (!(total > 0)) return 'n/a';
  const pct = (100 * trainable) / total;
  const s = Number(pct.toPrecision(3));
  return s >= 100 && trainable < total ? '>99.9%' : `${s}%`;
}

/** A sigma as short decimal text: 0.1 rather than 0.10000000000000001. */
export function formatSigma(sigma: number): string {
  return String(Number(sigma.toPrecision(6)));
}

/** The noise point at `sigma` (within SIGMA_TOLERANCE), if the method was measured there. */
export function noiseAt(res: MethodResult, sigma: number): NoisePoint | undefined {
  return res.noise.find((p) => Math.abs(p.sigma - sigma) < SIGMA_TOLERANCE);
}

/** Whether any method was measured under weight noise (else the report leaves noise out entirely). */
export function hasNoise(report: ExperimentReport): boolean {
  return report.results.some((r) => r.noise.length > 0);
}

/** Every sigma any method was measured at, ascending, near-duplicates merged. */
export function allSigmas(report: ExperimentReport): number[] {
  const sorted = report.results.flatMap((r) => r.noise.map((p) => p.sigma)).sort((a, b) => a - b);
  const out: number[] = [];
  for (const s of sorted) if (out.length === 0 || s - out[out.length - 1] >= SIGMA_TOLERANCE) out.push(s);
  return out;
}

/**
 * The summary: one row per result, named by {@link rowName}. Assumes a validated report. When any result has a peak-memory
 * split, four columns follow the peak: its parameters, gradients, optimizer state and activations.
 */
export function summaryTable(report: ExperimentReport): TableModel {
  const base = summaryColumns(report);
  if (!report.results.some((r) => r.peakMemory)) return base;
  return {
    header: [...base.header, ...PEAK_PARTS.map((k) => `peak: ${k}`)],
    align: [...base.align, ...PEAK_PARTS.map(() => 'right' as const)],
    rows: base.rows.map((row, i) => [...row, ...PEAK_PARTS.map((k) => {
      const split = report.results[i].peakMemory;
      return split ? formatMiB(split[k]) : 'n/a';
    })]),
  };
}

function summaryColumns(report: ExperimentReport): TableModel {
  const name = report.results[0].metricName;
  // the method's own cost beside the total: on small models the task head dominates the count
  const own = report.results.some((r) => r.paramsWithoutHead !== undefined);
  const sigmas = hasNoise(report) ? SUMMARY_SIGMAS : [];
  const names = rowNames(report);
  return {
    header: ['method', 'trainable params', ...(own ? ['outside head'] : []), name, ...sigmas.map((s) => `${name} @ σ=${s}`), 'train time', 'peak memory'],
    align: ['left', 'right', ...(own ? ['right' as const] : []), 'right', ...sigmas.map(() => 'right' as const), 'right', 'right'],
    rows: report.results.map((r, i) => [
      names[i]!,
      String(r.trainableParams),
      ...(own ? [r.paramsWithoutHead === undefined ? '-' : String(r.paramsWithoutHead)] : []),
      (r.seeds ?? 1) > 1 ? formatMeanStd({ sigma: 0, mean: r.metric, std: r.metricStd ?? NaN, draws: r.seeds! }, name) : formatMetric(r.metric, name),
      ...sigmas.map((s) => formatMeanStd(noiseAt(r, s), name)),
      formatTrainTime(r.trainSeconds),
      r.baseline ? '-' : formatMiB(r.peakMemoryBytes),
    ]),
  };
}

/** The full noise curve: rows = methods, one column per sigma present in any method. Assumes a validated report. */
export function noiseCurveTable(report: ExperimentReport): TableModel {
  const name = report.results[0].metricName;
  const sigmas = allSigmas(report);
  const names = rowNames(report);
  return {
    header: ['method', ...sigmas.map((s) => `σ=${formatSigma(s)}`)],
    align: ['left', ...sigmas.map(() => 'right' as const)],
    rows: report.results.map((r, i) => [names[i]!, ...sigmas.map((s) => formatMeanStd(noiseAt(r, s), name))]),
  };
}

// A '|' would split the cell and a '<' could open raw HTML in a rendered Markdown page.
function mdCell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function mdInline(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A table model as GitHub-flavoured Markdown lines. */
export function markdownTable(t: TableModel): string {
  const line = (cells: string[]) => `| ${cells.map(mdCell).join(' | ')} |`;
  const rule = `|${t.align.map((a) => (a === 'right' ? '---:' : '---')).join('|')}|`;
  return [line(t.header), rule, ...t.rows.map(line)].join('\n') + '\n';
}

/**
 * The summary table:
 * `| method | trainable params | <metricName> | <metricName> @ σ=0.1 | <metricName> @ σ=0.2 | train time | peak memory |`
 * (the σ columns only when some method was measured under noise),
 * one row per result in input order, named by {@link rowName} (a method run more than once shows what
 * tells its runs apart).
 */
export function renderMarkdownTable(report: ExperimentReport): string {
  validateReport(report, 'renderMarkdownTable');
  return markdownTable(summaryTable(report));
}

/** A sentence on how the noise columns were measured, shared by the Markdown and HTML reports. */
export function noiseDescription(report: ExperimentReport): string {
  const draws = [...new Set(report.results.flatMap((r) => r.noise.map((p) => p.draws)))].sort((a, b) => a - b);
  const over = draws.length === 0 ? '' : ` over ${draws.join(' / ')} noise draw${draws.length === 1 && draws[0] === 1 ? '' : 's'} per sigma`;
  return `${report.noiseModel} weight noise of scale σ on ${report.noiseTargets}; mean ± std of ${report.results[0].metricName}${over}; n/a = not measured.`;
}

/** One line per method: label, share of parameters trained, steps and final loss. */
export function methodLines(report: ExperimentReport): string[] {
  return report.results.map((r) => {
    const loss = r.finalLoss === undefined ? '' : `, final loss ${Number.isFinite(r.finalLoss) ? r.finalLoss.toFixed(4) : 'n/a'}`;
    const label = r.label ? ` (${r.label})` : '';
    if (r.baseline) return `${r.method}${label}: ${r.trainableParams} parameters of its own, no pretrained model${r.steps > 0 ? `, ${r.steps} steps` : ''}`;
    const share = formatShare(r.trainableParams, r.totalParams);
    const own = r.paramsWithoutHead !== undefined ? `, ${r.paramsWithoutHead} of them outside the head` : '';
    const seeds = (r.seeds ?? 1) > 1 ? `, mean ± std over ${r.seeds} seeds (noise: every draw of every seed)` : '';
    const tokens = r.trainTokens !== undefined ? ` (${r.trainTokens} training tokens)` : '';
    return `${r.method}${label}: ${r.trainableParams} of ${r.totalParams} parameters trained (${share})${own}, ${r.steps} steps${tokens}${loss}${seeds}`;
  });
}

/** Display names of the generation metrics (others show as their key). */
const GENERATION_LABELS: Readonly<Record<string, string>> = { bleu: 'BLEU', nist: 'NIST', meteor: 'METEOR', rougeL: 'ROUGE-L', cider: 'CIDEr' };

/**
 * The generation table, when any result carries generation scores: per method the metrics (as the
 * official scorer prints them), trainable parameters, peak memory, train and decode time. Null otherwise.
 */
export function generationTable(report: ExperimentReport): TableModel | null {
  const rows = report.results.filter((r) => r.generation);
  if (rows.length === 0) return null;
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.generation!.scores)))];
  return {
    header: ['method', ...names.map((n) => GENERATION_LABELS[n] ?? n), 'trainable params', 'peak memory', 'train time', 'steps', 'decode time', 'MRs decoded'],
    align: ['left', ...names.map(() => 'right' as const), 'right', 'right', 'right', 'right', 'right', 'right'],
    rows: rows.map((r) => {
      const g = r.generation!;
      return [
        rowName(report, r),
        ...names.map((n) => (n in g.scores ? formatMetric(g.scores[n], n) : 'n/a')),
        String(r.trainableParams),
        formatMiB(r.peakMemoryBytes),
        formatTrainTime(r.trainSeconds),
        String(r.steps),
        formatTrainTime(g.decodeSeconds),
        String(g.instances),
      ];
    }),
  };
}

/** Sample outputs: for each sampled input, one line per method. */
export function generationSamples(report: ExperimentReport): string[] {
  const withGen = report.results.filter((r) => r.generation && r.generation.samples.length > 0);
  if (withGen.length === 0) return [];
  const inputs = withGen[0].generation!.samples;
  const out: string[] = [];
  inputs.forEach((s, i) => {
    out.push(`- input: \`${mdInline(s.input)}\``);
    for (const r of withGen) {
      const o = r.generation!.samples[i];
      if (o && o.input === s.input) out.push(`  - ${mdInline(rowName(report, r))}: ${mdInline(o.output || '(empty)')}`);
    }
    out.push(`  - reference: ${mdInline(s.reference)}`);
  });
  return out;
}

/** The series sections (test metrics and costs, forecast errors of the plotted windows, rank sweep); empty for other tasks. */
function seriesMarkdown(report: ExperimentReport): string[] {
  const out: string[] = [];
  const table = seriesTable(report);
  if (table) out.push('## Test split', '', 'Every task metric on the held-out test split after training, and what each method cost: trainable + optimizer state = the trainable values and their two AdamW moments (12 bytes per float32 parameter; for a layer-wise method such as LISA or GRASS, of what one step trains: the tensors every step trains and its largest active blocks); peak heap = the most WebAssembly heap bytes live at once in training.', '', markdownTable(table));
  const sweep = rankSweepTable(report);
  if (sweep) out.push('## Rank sweep', '', 'The same method at each rank r under alpha/sqrt(r) (rsLoRA, One-for-All\'s) and alpha/r (LoRA\'s); report.html plots it.', '', markdownTable(sweep));
  const forecasts = forecastTable(report);
  if (forecasts) out.push('## Forecasts', '', 'A few test windows (first, middle, last), one channel each: the MSE of each method\'s forecast of that window; report.html plots history, truth and forecasts.', '', markdownTable(forecasts));
  return out;
}

/** Title, settings, the summary table, the full noise curve, per-method details and the notes. */
export function renderMarkdownReport(report: ExperimentReport): string {
  validateReport(report, 'renderMarkdownReport');
  const out = [
    `# ${mdInline(report.title)}`,
    '',
    `- task: ${mdInline(report.task)}`,
    `- model: ${mdInline(report.model)}`,
    `- created: ${mdInline(report.createdAt)}`,
    `- metric: ${mdInline(report.results[0].metricName)} on the validation split`,
    ...(hasNoise(report) ? [`- noise: ${mdInline(noiseDescription(report))}`] : []),
    '',
    '## Summary',
    '',
    markdownTable(summaryTable(report)),
    ...(hasNoise(report) ? ['## Metric under weight noise', '', markdownTable(noiseCurveTable(report))] : []),
  ];
  const gen = generationTable(report);
  if (gen) {
    const g = report.results.find((r) => r.generation)!.generation!;
    out.push(
      '## Generation',
      '',
      `Decoding: ${mdInline(g.decoding)}; ${g.instances} held-out inputs${g.skipped ? ` (${g.skipped} more left out: no room to decode within the model's positions)` : ''}. ` +
        'BLEU, METEOR and ROUGE-L in 0..1 as the official E2E scorer prints them; decode time is outside train time.',
      '',
      markdownTable(gen),
      '## Sample outputs',
      '',
      ...generationSamples(report),
      '',
    );
  }
  out.push(...seriesMarkdown(report));
  const layerwise = report.results.filter((r) => r.selection);
  if (layerwise.length) {
    out.push('## Block selection', '', 'Which blocks a layer-wise method trained over the run, and the probabilities it drew them with (LISA: uniform; GRASS: softmax of the measured gradient norms).', '');
    for (const r of layerwise) out.push(`### ${mdInline(r.label ?? r.method)}`, '', ...selectionText(r.selection!), '');
  }
  out.push('## Methods', '', ...methodLines(report).map((l) => `- ${mdInline(l)}`));
  if (report.notes?.length) out.push('', '## Notes', '', ...report.notes.map((n) => `- ${mdInline(n)}`));
  return out.join('\n') + '\n';
}
