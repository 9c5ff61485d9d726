/** Formatting shared by the report's tables (Markdown, HTML and the series sections). */
import type { ExperimentReport, MethodResult } from './types.js';

/** Header and cell text of one table; a table with a row per result names it by {@link rowName}. */
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

/** LoRA scalings as the report writes them. */
export const SCALINGS = { rs: 'alpha/sqrt(r)', standard: 'alpha/r' } as const;

/** A result's name before repeats are numbered: its method, told apart from other results of the same method. */
function baseRowName(report: ExperimentReport, r: MethodResult): string {
  const peers = report.results.filter((q) => q.method === r.method);
  if (peers.length === 1) return r.method;
  if (r.lora) {
    // a rank sweep: the rank (and the scaling, when the sweep runs both) is the short name
    const bothScalings = new Set(peers.map((q) => q.lora?.scaling)).size > 1;
    const name = `${r.method} r=${r.lora.r}${bothScalings ? `, ${SCALINGS[r.lora.scaling]}` : ''}`;
    const sameKey = (q: MethodResult) => q.lora?.r === r.lora!.r && (!bothScalings || q.lora.scaling === r.lora!.scaling);
    if (peers.filter(sameKey).length === 1) return name;
  }
  return r.label && r.label !== r.method ? `${r.method} (${r.label})` : r.method;
}

/**
 * Every result's name in the report's tables and series legends, in result order: its method when no
 * other result has that method; otherwise the method with what tells the runs apart (`one-for-all r=8`
 * in a rank sweep, else the label: `full (full fine-tuning, lr 0.0002, 5 epochs)`); a name that still
 * repeats (the same run twice) gets `#2`, `#3`, ...
 */
export function rowNames(report: ExperimentReport): string[] {
  const seen = new Map<string, number>();
  return report.results.map((r) => {
    const name = baseRowName(report, r);
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name} #${n}`;
  });
}

/** One result's name as {@link rowNames} gives it; `r` must be one of `report.results`. */
export function rowName(report: ExperimentReport, r: MethodResult): string {
  const i = report.results.indexOf(r);
  if (i < 0) throw new Error('rowName: the result is not one of report.results; pass an element of that array');
  return rowNames(report)[i]!;
}
