/** Experiment reports: compare fine-tuning methods as a Markdown table/report or an offline HTML page with SVG charts. */
export {
  SIGMA_TOLERANCE, validateReport, type ExperimentReport, type GenerationResult, type MethodResult, type NoisePoint,
} from './types.js';
export {
  formatMeanStd, formatMetric, formatMiB, formatShare, formatTrainTime, generationSamples, generationTable, isPercentMetric, markdownTable, noiseCurveTable,
  renderMarkdownReport, renderMarkdownTable, rowName, rowNames, summaryTable, SUMMARY_SIGMAS, type TableModel,
} from './markdown.js';
export { lossChartSvg, noiseChartSvg, paramsChartSvg, renderHtmlReport } from './html.js';
export { selectionGrid, selectionSvg, selectionText, shade, type SelectionGrid } from './selection.js';
export { forecastSvgs, forecastTable, formatBytes, formatSeriesMetric, rankSweepSvg, rankSweepTable, seriesTable } from './series.js';
