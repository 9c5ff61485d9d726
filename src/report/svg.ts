/**
 * A small SVG chart kit for the report: nice round ticks, a line chart with error bars and a legend, and a
 * horizontal bar chart on a log10 axis. Output is plain SVG text with no scripts, fonts or external
 * references, so it works inline in an offline HTML page or saved as a standalone `.svg` file.
 *
 * Every coordinate goes through `num()`, which throws on NaN: a chart with a NaN coordinate silently draws
 * nothing, so callers must filter unmeasured values (and say so) before plotting.
 */

/**
 * Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), yellow left out since it
 * vanishes on white. Series beyond the seventh reuse them with dashed lines.
 */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;

const DASHES = [undefined, '6 3', '2 3', '8 3 2 3'];

/** Colour (and, past the palette, dash pattern) of series `i`. */
export function seriesStyle(i: number): { color: string; dash?: string } {
  return { color: PALETTE[i % PALETTE.length], dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length] };
}

/** Escapes text for XML/HTML text nodes and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A coordinate with two decimals; throws on non-finite input rather than writing "NaN" into the SVG. */
export function num(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`svg: coordinate ${v} is not finite; filter unmeasured values before plotting`);
  return String(Math.round(v * 100) / 100);
}

/** Widens an empty range (all values equal) so scales never divide by zero. */
export function padRange(lo: number, hi: number): [number, number] {
  if (hi - lo > 1e-9 * Math.max(Math.abs(lo), Math.abs(hi))) return [lo, hi];
  const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
  return [lo - d, hi + d];
}

// Heckbert's "nice numbers": 1, 2 or 5 times a power of ten
function niceNum(x: number, round: boolean): number {
  const e = Math.floor(Math.log10(x));
  const f = x / 10 ** e;
  const nf = round ? (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) : f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nf * 10 ** e;
}

/** Axis bounds widened to round numbers, and the round tick values between them. */
export interface Ticks {
  lo: number;
  hi: number;
  step: number;
  values: number[];
}

/** About `target` ticks at multiples of 1, 2 or 5 x 10^k covering [lo, hi] (padded if empty). */
export function niceTicks(lo: number, hi: number, target = 5): Ticks {
  const [a, b] = padRange(lo, hi);
  const step = niceNum(niceNum(b - a, false) / Math.max(1, target - 1), true);
  const first = Math.floor(a / step + 1e-9);
  const last = Math.ceil(b / step - 1e-9);
  const values: number[] = [];
  // decimal text of the multiples avoids 0.30000000000000004 as a tick
  for (let i = first; i <= last && values.length < 100; i++) values.push(Number((i * step).toPrecision(12)));
  return { lo: values[0], hi: values[values.length - 1], step, values };
}

/** A tick label with just enough decimals for the step, never "-0". */
export function formatTick(v: number, step: number): string {
  const decimals = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  const s = v.toFixed(Math.min(decimals, 12));
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** 1, 10, 100, 1k, 10k, 1M, 1B: labels for a log10 axis of counts. */
export function compactCount(v: number): string {
  for (const [base, suffix] of [[1e9, 'B'], [1e6, 'M'], [1e3, 'k']] as const) {
    if (v >= base) return `${Number((v / base).toPrecision(3))}${suffix}`;
  }
  return String(Number(v.toPrecision(3)));
}

const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif';
const CHAR_W = 6.6; // rough width of a 12px character, enough to reserve room for labels

function open(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
    ` role="img" font-family="${FONT}" font-size="12"><title>${escapeXml(title)}</title>` +
    `<rect width="${width}" height="${height}" fill="#fff"/>` +
    `<text x="${num(width / 2)}" y="20" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(title)}</text>`
  );
}

function clip(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** Legend rows at (x, y): a line sample in the series style, then the name (full name in a tooltip). */
function legend(series: LineSeries[], x: number, y: number, maxChars: number): string {
  return series
    .map(({ name, style }, i) => {
      const { color, dash } = seriesStyle(style ?? i);
      const ly = y + i * 18;
      const d = dash ? ` stroke-dasharray="${dash}"` : '';
      return (
        `<g><title>${escapeXml(name)}</title>` +
        `<line x1="${num(x)}" y1="${num(ly)}" x2="${num(x + 22)}" y2="${num(ly)}" stroke="${color}" stroke-width="2.5"${d}/>` +
        `<circle cx="${num(x + 11)}" cy="${num(ly)}" r="3" fill="${color}"/>` +
        `<text x="${num(x + 28)}" y="${num(ly + 4)}">${escapeXml(clip(name, maxChars))}</text></g>`
      );
    })
    .join('');
}

/** One point of a line series; `err` draws a ± error bar when finite and > 0. */
export interface LinePoint {
  x: number;
  y: number;
  err?: number;
}

export interface LineSeries {
  name: string;
  /** Index into the series styles (default: position in the array), to keep a method's colour across charts. */
  style?: number;
  /** Points with a non-finite x or y are skipped and break the line there. */
  points: LinePoint[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** The x axis includes this value (e.g. sigma 0) and, unless the data does, does not extend below it. */
  xMin?: number;
  /** Shift series sideways by a few pixels so error bars at the same x do not hide each other. */
  dodge?: boolean;
  /** Draw a marker at every point (default true); isolated points always get one so they stay visible. */
  markers?: boolean;
}

const finitePoint = (p: LinePoint) => Number.isFinite(p.x) && Number.isFinite(p.y);
const hasErr = (p: LinePoint) => p.err !== undefined && Number.isFinite(p.err) && p.err > 0;

/** A line chart with markers, optional error bars, axes with nice ticks and a legend on the right. */
export function lineChart(series: LineSeries[], opts: LineChartOptions): string {
  const width = opts.width ?? 720;
  const height = opts.height ?? 360;
  const maxChars = 32;
  const longest = Math.min(maxChars, Math.max(4, ...series.map((s) => s.name.length)));
  const m = { left: 64, right: 28 + 28 + longest * CHAR_W, top: 36, bottom: 46 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;

  const pts = series.flatMap((s) => s.points.filter(finitePoint));
  const xs = pts.map((p) => p.x);
  const ys = pts.flatMap((p) => (hasErr(p) ? [p.y - p.err!, p.y + p.err!] : [p.y]));
  const dataMin = pts.length ? Math.min(...xs) : 0;
  let [x0, x1] = padRange(opts.xMin === undefined ? dataMin : Math.min(dataMin, opts.xMin), pts.length ? Math.max(...xs) : 1);
  // padding a single sigma of 0 must not invent negative sigmas
  if (opts.xMin !== undefined && dataMin >= opts.xMin) x0 = Math.max(x0, opts.xMin);
  const xt = niceTicks(x0, x1, 6);
  const yt = pts.length ? niceTicks(Math.min(...ys), Math.max(...ys), 6) : niceTicks(0, 1, 6);
  const sx = (v: number) => m.left + ((v - xt.lo) / (xt.hi - xt.lo)) * pw;
  const sy = (v: number) => m.top + ph - ((v - yt.lo) / (yt.hi - yt.lo)) * ph;

  const parts = [open(width, height, opts.title)];
  parts.push(axes(xt, yt, sx, sy, m.left, m.top, pw, ph, (v) => formatTick(v, xt.step), (v) => formatTick(v, yt.step)));
  parts.push(axisLabels(opts.xLabel, opts.yLabel, m.left + pw / 2, height - 8, 16, m.top + ph / 2));
  if (!pts.length) {
    parts.push(`<text x="${num(m.left + pw / 2)}" y="${num(m.top + ph / 2)}" text-anchor="middle" fill="#666">no finite values to plot</text>`);
  }
  series.forEach((s, i) => {
    const { color, dash } = seriesStyle(s.style ?? i);
    const dx = opts.dodge ? (i - (series.length - 1) / 2) * Math.min(4, 24 / Math.max(1, series.length)) : 0;
    const d = dash ? ` stroke-dasharray="${dash}"` : '';
    // a skipped (non-finite) point ends the current segment: the line never bridges a gap
    const segments: LinePoint[][] = [[]];
    for (const p of s.points) {
      if (finitePoint(p)) segments[segments.length - 1].push(p);
      else if (segments[segments.length - 1].length) segments.push([]);
    }
    const g = [`<g stroke="${color}" fill="${color}"><title>${escapeXml(s.name)}</title>`];
    for (const seg of segments.filter((q) => q.length > 1)) {
      const coords = seg.map((p) => `${num(sx(p.x) + dx)},${num(sy(p.y))}`).join(' ');
      g.push(`<polyline points="${coords}" fill="none" stroke-width="2"${d}/>`);
    }
    const marked = opts.markers === false ? segments.filter((q) => q.length === 1).flat() : s.points.filter(finitePoint);
    for (const p of marked) {
      const cx = sx(p.x) + dx;
      if (hasErr(p)) {
        const [ya, yb] = [sy(p.y - p.err!), sy(p.y + p.err!)];
        g.push(
          `<path d="M${num(cx)} ${num(ya)}V${num(yb)}M${num(cx - 3)} ${num(ya)}h6M${num(cx - 3)} ${num(yb)}h6" fill="none" stroke-width="1.2"/>`,
        );
      }
      g.push(`<circle cx="${num(cx)}" cy="${num(sy(p.y))}" r="3"/>`);
    }
    parts.push(g.join('') + '</g>');
  });
  parts.push(legend(series, width - m.right + 20, m.top + 8, maxChars));
  return parts.join('') + '</svg>';
}

type Scale = (v: number) => number;

/** Frame, grid lines and tick labels of a plot area. */
function axes(xt: Ticks, yt: Ticks, sx: Scale, sy: Scale, left: number, top: number, pw: number, ph: number,
  fx: (v: number) => string, fy: (v: number) => string): string {
  const out = ['<g stroke="#ddd" stroke-width="1">'];
  for (const v of yt.values) out.push(`<line x1="${num(left)}" x2="${num(left + pw)}" y1="${num(sy(v))}" y2="${num(sy(v))}"/>`);
  for (const v of xt.values) out.push(`<line y1="${num(top)}" y2="${num(top + ph)}" x1="${num(sx(v))}" x2="${num(sx(v))}"/>`);
  out.push(`</g><rect x="${num(left)}" y="${num(top)}" width="${num(pw)}" height="${num(ph)}" fill="none" stroke="#444"/>`);
  out.push('<g fill="#333">');
  for (const v of yt.values) out.push(`<text x="${num(left - 6)}" y="${num(sy(v) + 4)}" text-anchor="end">${escapeXml(fy(v))}</text>`);
  for (const v of xt.values) out.push(`<text x="${num(sx(v))}" y="${num(top + ph + 16)}" text-anchor="middle">${escapeXml(fx(v))}</text>`);
  return out.join('') + '</g>';
}

function axisLabels(xLabel: string, yLabel: string, xx: number, xy: number, yx: number, yy: number): string {
  return (
    `<text x="${num(xx)}" y="${num(xy)}" text-anchor="middle">${escapeXml(xLabel)}</text>` +
    (yLabel ? `<text transform="translate(${num(yx)} ${num(yy)}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>` : '')
  );
}

/** One bar: `value` sets its length (<= 0 or non-finite draws no bar), `text` is printed after it. */
export interface BarDatum {
  name: string;
  value: number;
  text: string;
}

/** Horizontal bars on a log10 axis (for counts spanning decades), one row per datum, in input order. */
export function logBarChart(bars: BarDatum[], opts: { title: string; xLabel: string; width?: number }): string {
  const width = opts.width ?? 720;
  const row = 26;
  const maxChars = 28;
  const longestName = Math.min(maxChars, Math.max(4, ...bars.map((b) => b.name.length)));
  const longestText = Math.max(4, ...bars.map((b) => b.text.length));
  const m = { left: 16 + longestName * CHAR_W, right: 16 + longestText * CHAR_W, top: 36, bottom: 46 };
  const height = m.top + m.bottom + row * Math.max(1, bars.length);
  const pw = Math.max(120, width - m.left - m.right);
  const ph = height - m.top - m.bottom;

  const positive = bars.map((b) => b.value).filter((v) => Number.isFinite(v) && v > 0);
  // start one decade below the smallest value so even the smallest bar has a visible length
  const lo = positive.length ? Math.ceil(Math.log10(Math.min(...positive))) - 1 : 0;
  const hi = positive.length ? Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive)))) : 1;
  const every = Math.ceil((hi - lo) / 8);
  const decades: number[] = [];
  for (let e = lo; e <= hi; e += every) decades.push(e);
  const sx = (v: number) => m.left + ((Math.log10(v) - lo) / (hi - lo)) * pw;

  const parts = [open(m.left + pw + m.right, height, opts.title), '<g stroke="#ddd">'];
  for (const e of decades) parts.push(`<line x1="${num(sx(10 ** e))}" x2="${num(sx(10 ** e))}" y1="${m.top}" y2="${num(m.top + ph)}"/>`);
  parts.push(`</g><g fill="#333">`);
  for (const e of decades) {
    parts.push(`<text x="${num(sx(10 ** e))}" y="${num(m.top + ph + 16)}" text-anchor="middle">${escapeXml(compactCount(10 ** e))}</text>`);
  }
  parts.push('</g>');
  bars.forEach((b, i) => {
    const y = m.top + i * row;
    const { color } = seriesStyle(i);
    const drawn = Number.isFinite(b.value) && b.value > 0;
    const end = drawn ? sx(b.value) : m.left;
    parts.push(`<g><title>${escapeXml(`${b.name}: ${b.text}`)}</title>`);
    parts.push(`<text x="${num(m.left - 8)}" y="${num(y + row / 2 + 4)}" text-anchor="end">${escapeXml(clip(b.name, maxChars))}</text>`);
    if (drawn) parts.push(`<rect x="${num(m.left)}" y="${num(y + 4)}" width="${num(end - m.left)}" height="${row - 8}" fill="${color}"/>`);
    parts.push(`<text x="${num(end + 6)}" y="${num(y + row / 2 + 4)}">${escapeXml(b.text)}</text></g>`);
  });
  parts.push(`<line x1="${num(m.left)}" x2="${num(m.left)}" y1="${m.top}" y2="${num(m.top + ph)}" stroke="#444"/>`);
  parts.push(axisLabels(opts.xLabel, '', m.left + pw / 2, height - 8, 0, 0));
  return parts.join('') + '</svg>';
}
