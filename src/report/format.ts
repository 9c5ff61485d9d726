/** Formatting shared by the report's tables (Markdown, HTML and the series sections). */

/** Header and cell text of one table; the first column holds the `method` field verbatim. */
export interface TableModel {
  header: string[];
  /** Per column: numbers are right-aligned so their digits line up. */
  align: ('left' | 'right')[];
  rows: string[][];
}

/** Metrics that live in 0..1 and read best as percentages; others (mcc can be negative) stay plain numbers. */
export function isPercentMetric(metricName: string): boolean {
  return ['accuracy', 'acc', 'f1'].includes(metricName.toLowerCase());
}

/** `0.4 s`, `41.2 s`, `3 min 05 s`, `2 h 07 min`. */
export function formatTrainTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'n/a';
  const pad2 = (n: number) => String(n).padStart(2, '0');
  if (Math.round(seconds * 10) / 10 < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad2(s % 60)} s`;
  const m = Math.round(seconds / 60);
  return `${Math.floor(m / 60)} h ${pad2(m % 60)} min`;
}

/** Bytes as MiB with one decimal: `12.5 MiB`. */
export function formatMiB(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : 'n/a';
}
