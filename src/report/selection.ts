/**
 * The block heatmap of a layer-wise run (LISA, GRASS): for each block and each window of steps, the
 * share of the window's steps the block trained and the mean probability it was drawn with. As text
 * (a fenced grid for report.md) and as an inline SVG (report.html).
 */
import type { SelectionHistory } from '../train/finetune.js';
import { escapeXml, num } from './svg.js';

/** Per block and window: active share (0..1) and mean draw probability (NaN when unknown). */
export interface SelectionGrid {
  /** First step of each window, and one past the last window's last step. */
  edges: number[];
  active: number[][];
  probability: number[][];
  /** Share of all steps each block trained. */
  overall: number[];
}

/** Bins the history into at most `windows` windows of whole steps (points hold until the next one). */
export function selectionGrid(h: SelectionHistory, windows = 20): SelectionGrid {
  const w = Math.max(1, Math.min(windows, h.steps));
  const edges = Array.from({ length: w + 1 }, (_, k) => Math.floor((k * h.steps) / w));
  const active = Array.from({ length: h.blocks }, () => new Array<number>(w).fill(0));
  const probability = Array.from({ length: h.blocks }, () => new Array<number>(w).fill(0));
  const known = new Array<number>(w).fill(0);
  const overall = new Array<number>(h.blocks).fill(0);
  const first = h.points[0]?.step ?? h.steps;
  h.points.forEach((p, i) => {
    const end = h.points[i + 1]?.step ?? h.steps;
    for (let k = 0; k < w; k++) {
      const steps = Math.max(0, Math.min(end, edges[k + 1]!) - Math.max(p.step, edges[k]!));
      if (steps === 0) continue;
      for (const b of p.active) active[b]![k] += steps;
      if (p.probabilities.length === h.blocks) {
        known[k] += steps;
        p.probabilities.forEach((x, b) => (probability[b]![k] += x * steps));
      }
    }
    for (const b of p.active) overall[b] += end - p.step;
  });
  for (let b = 0; b < h.blocks; b++) {
    for (let k = 0; k < w; k++) {
      const len = edges[k + 1]! - edges[k]!;
      active[b]![k] /= len;
      probability[b]![k] = known[k]! > 0 ? probability[b]![k]! / known[k]! : NaN;
    }
    overall[b] /= Math.max(1, h.steps - Math.min(first, h.steps));
  }
  return { edges, active, probability, overall };
}

const SHADES = ['·', '░', '▒', '▓', '█'];
/** One character for an active share: · none, ░ < 25%, ▒ < 50%, ▓ < 75%, █ from 75%. */
export function shade(share: number): string {
  if (share <= 0) return SHADES[0]!;
  return SHADES[Math.min(4, 1 + Math.floor(share * 4))]!;
}

/** The text heatmap: one row per block (active share per window, then overall), and the draw probabilities x100. */
export function selectionText(h: SelectionHistory, windows = 20): string[] {
  const g = selectionGrid(h, windows);
  const w = g.edges.length - 1;
  const width = String(h.blocks - 1).length;
  const lines = [
    '```',
    `active share per window of ~${Math.round(h.steps / w)} steps (· none, ░ <25%, ▒ <50%, ▓ <75%, █ >=75%), then share of all steps`,
    ...g.active.map((row, b) => `block ${String(b).padStart(width)} |${row.map(shade).join('')}| ${(100 * g.overall[b]!).toFixed(0).padStart(3)}%`),
  ];
  if (g.probability.some((row) => row.some((x) => Number.isFinite(x)))) {
    lines.push('draw probability x100 per window');
    lines.push(...g.probability.map((row, b) => `block ${String(b).padStart(width)} |${row.map((x) => (Number.isFinite(x) ? Math.round(100 * x).toString() : '-').padStart(3)).join('')}`));
  }
  lines.push('```');
  return lines;
}

/**
 * The SVG heatmap: blocks as rows, windows of steps as columns. Cell colour: the mean draw
 * probability (darker = likelier; the active share when probabilities are unknown); a dark bar at
 * the cell's foot: the share of the window's steps the block trained.
 */
export function selectionSvg(h: SelectionHistory, title: string, windows = 30): string {
  const g = selectionGrid(h, windows);
  const w = g.edges.length - 1;
  const cell = Math.max(8, Math.min(24, Math.floor(560 / w)));
  const rowH = 18;
  const left = 64;
  const top = 28;
  const width = left + w * cell + 80;
  const height = top + h.blocks * rowH + 36;
  const e = escapeXml;
  const usesP = g.probability.some((row) => row.some((x) => Number.isFinite(x)));
  const top1 = usesP ? Math.max(...g.probability.flat().filter(Number.isFinite)) : 1;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${e(title)}">`,
    `<title>${e(title)}</title>`,
    `<text x="${left}" y="16" font-size="12" font-family="sans-serif">${e(title)}</text>`,
  ];
  for (let b = 0; b < h.blocks; b++) {
    const y = top + b * rowH;
    parts.push(`<text x="${left - 6}" y="${num(y + rowH * 0.7)}" font-size="11" text-anchor="end" font-family="sans-serif">block ${b}</text>`);
    for (let k = 0; k < w; k++) {
      const x = left + k * cell;
      const p = g.probability[b]![k]!;
      const a = g.active[b]![k]!;
      const level = usesP && Number.isFinite(p) ? p / (top1 || 1) : a;
      parts.push(
        `<rect x="${num(x)}" y="${num(y)}" width="${num(cell - 1)}" height="${num(rowH - 2)}" fill="#0072B2" fill-opacity="${num(0.08 + 0.8 * level)}">` +
          `<title>block ${b}, steps ${g.edges[k]}-${g.edges[k + 1]! - 1}: active ${(100 * a).toFixed(0)}%${Number.isFinite(p) ? `, p ${p.toFixed(3)}` : ''}</title></rect>`,
      );
      if (a > 0) parts.push(`<rect x="${num(x)}" y="${num(y + rowH - 5)}" width="${num((cell - 1) * a)}" height="3" fill="#000"/>`);
    }
    parts.push(`<text x="${num(left + w * cell + 6)}" y="${num(y + rowH * 0.7)}" font-size="11" font-family="sans-serif">${(100 * g.overall[b]!).toFixed(0)}% active</text>`);
  }
  const yAxis = top + h.blocks * rowH + 14;
  parts.push(`<text x="${left}" y="${yAxis}" font-size="11" font-family="sans-serif">step 0</text>`);
  parts.push(`<text x="${num(left + w * cell)}" y="${yAxis}" font-size="11" text-anchor="end" font-family="sans-serif">step ${h.steps}</text>`);
  parts.push(
    `<text x="${left}" y="${yAxis + 14}" font-size="10" font-family="sans-serif">${usesP ? 'shade: draw probability (darkest = ' + top1.toFixed(2) + ')' : 'shade: share of steps active'}; black bar: share of the window's steps the block trained</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}
