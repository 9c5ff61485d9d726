/** Experiment report: the Markdown table parsed back cell by cell, the HTML page's safety and chart edge cases. */
import { describe, expect, it } from 'vitest';
import {
  formatShare, formatTrainTime, renderHtmlReport, renderMarkdownReport, renderMarkdownTable, type ExperimentReport, type MethodResult,
} from '../src/report/index.js';
import { lineChart, niceTicks } from '../src/report/svg.js';
import { selectionGrid, shade } from '../src/report/selection.js';

const SIGMAS = [0, 0.05, 0.1, 0.2];

function result(method: string, i: number, extra: Partial<MethodResult> = {}): MethodResult {
  return {
    method,
    trainableParams: [124_645_632, 102_144, 294_912, 8_192, 8_192, 294_912, 55_296][i % 7],
    totalParams: 124_647_170,
    metric: 0.9 - 0.01 * i,
    metricName: 'accuracy',
    noise: SIGMAS.map((sigma) => ({ sigma, mean: 0.9 - 0.01 * i - sigma * (0.5 + 0.1 * i), std: 0.004 * (1 + i) * (sigma > 0 ? 1 : 0), draws: 5 })),
    trainSeconds: [41.23, 185, 7500, 12, 0.4, 59.96, 3599.7][i % 7],
    peakMemoryBytes: 512 * 2 ** 20 + i * 12345,
    steps: 1000,
    finalLoss: 0.3 + 0.01 * i,
    lossCurve: [0, 250, 500, 750, 1000].map((step) => ({ step, loss: 0.7 - step * 0.0004 + 0.01 * i })),
    ...extra,
  };
}

const METHODS = ['full', 'bitfit', 'lora', 'grasp', 'stochgrasp', 'rslora', 'ia3'];

function report(results: MethodResult[] = METHODS.map((m, i) => result(m, i)), extra: Partial<ExperimentReport> = {}): ExperimentReport {
  return {
    title: 'SST-2 fine-tuning under weight noise',
    task: 'sst2',
    model: 'roberta-base',
    createdAt: '2025-01-02T03:04:05Z',
    noiseModel: 'multiplicative',
    noiseTargets: 'all Linear weights of the encoder',
    results,
    notes: ['seed 0', 'machine: laptop, Node 22'],
    ...extra,
  };
}

/** Table rows as cell arrays: the header, then the body (the alignment rule dropped). */
function parseTable(md: string): { header: string[]; rows: string[][] } {
  const lines = md.trim().split('\n').filter((l) => l.startsWith('|'));
  const cells = (l: string) => l.split('|').slice(1, -1).map((c) => c.trim());
  expect(lines[1]).toMatch(/^\|(\s*:?-+:?\s*\|)+$/);
  return { header: cells(lines[0]), rows: lines.slice(2).map(cells) };
}

describe('renderMarkdownTable', () => {
  it("adds an 'outside head' column when results know it, and shows a baseline row without heap memory", () => {
    const rows = [
      result('lora', 2, { paramsWithoutHead: 294_912 - 1538 }),
      result('grasp', 3),
      result('bow', 4, { baseline: true, label: 'bag of words', trainableParams: 5001, totalParams: 5001, peakMemoryBytes: 0, noise: [{ sigma: 0, mean: 0.8, std: NaN, draws: 1 }] }),
    ];
    const t = parseTable(renderMarkdownTable(report(rows)));
    expect(t.header).toEqual(['method', 'trainable params', 'outside head', 'accuracy', 'accuracy @ σ=0.1', 'accuracy @ σ=0.2', 'train time', 'peak memory']);
    expect(t.rows[0]![2]).toBe(String(294_912 - 1538));
    expect(t.rows[1]![2]).toBe('-');
    expect(t.rows[2]![4]).toBe('n/a');
    expect(t.rows[2]![7]).toBe('-');
    expect(t.rows[0]![7]).toMatch(/MiB$/);
    const md = renderMarkdownReport(report(rows));
    expect(md).toContain('bow (bag of words): 5001 parameters of its own, no pretrained model');
    expect(() => renderMarkdownTable(report([result('x', 0, { baseline: 'yes' as unknown as boolean })]))).toThrow(/results\[0\]\.baseline = "yes" must be a boolean/);
  });

  it('has one row per method, in order, with parseable cells', () => {
    const r = report();
    const { header, rows } = parseTable(renderMarkdownTable(r));
    expect(header).toEqual(['method', 'trainable params', 'accuracy', 'accuracy @ σ=0.1', 'accuracy @ σ=0.2', 'train time', 'peak memory']);
    expect(rows.map((row) => row[0])).toEqual(METHODS);
    rows.forEach((row, i) => {
      expect(row).toHaveLength(header.length);
      expect(row[1]).toMatch(/^\d+$/);
      expect(Number(row[1])).toBe(r.results[i].trainableParams);
      expect(row[2]).toBe(`${(r.results[i].metric * 100).toFixed(1)}%`);
      const p = r.results[i].noise.find((q) => q.sigma === 0.1)!;
      expect(row[3]).toBe(`${(p.mean * 100).toFixed(1)} ± ${(p.std * 100).toFixed(1)}%`);
      expect(row[3]).toMatch(/^\d+\.\d ± \d+\.\d%$/);
      expect(row[6]).toMatch(/^\d+\.\d MiB$/);
    });
    expect(rows.map((row) => row[5])).toEqual(['41.2 s', '3 min 05 s', '2 h 05 min', '12.0 s', '0.4 s', '1 min 00 s', '1 h 00 min']);
  });

  it('gains peak-memory columns (parameters, gradients, optimizer, activations) when results carry the split; n/a where one does not', () => {
    const split = { parameters: 2 ** 20, gradients: 2 * 2 ** 20, optimizer: 3 * 2 ** 20, activations: 4 * 2 ** 20 };
    const withSplit = result('lisa', 0, { peakMemoryBytes: 10 * 2 ** 20, peakMemory: split });
    const { header, rows } = parseTable(renderMarkdownTable(report([withSplit, result('full', 1)])));
    expect(header.slice(7)).toEqual(['peak: parameters', 'peak: gradients', 'peak: optimizer', 'peak: activations']);
    expect(rows[0].slice(6)).toEqual(['10.0 MiB', '1.0 MiB', '2.0 MiB', '3.0 MiB', '4.0 MiB']);
    expect(rows[1].slice(7)).toEqual(['n/a', 'n/a', 'n/a', 'n/a']);
    expect(() => renderMarkdownTable(report([{ ...withSplit, peakMemoryBytes: 11 * 2 ** 20 }]))).toThrow(/peakMemory = "parts summing to 10485760" must add up to peakMemoryBytes = 11534336/);
  });

  it('formats mcc with three decimals, matches sigmas within 1e-9 and says n/a when absent or NaN', () => {
    const a = result('lora', 0, { metricName: 'mcc', metric: 0.4567, noise: [{ sigma: 0.1 + 1e-12, mean: 0.41, std: 0.02, draws: 3 }] });
    const b = result('bitfit', 1, { metricName: 'mcc', metric: NaN, noise: [{ sigma: 0.2, mean: NaN, std: NaN, draws: 3 }] });
    const { header, rows } = parseTable(renderMarkdownTable(report([a, b])));
    expect(header[2]).toBe('mcc');
    expect(rows[0].slice(2, 5)).toEqual(['0.457', '0.410 ± 0.020', 'n/a']);
    expect(rows[1].slice(2, 5)).toEqual(['n/a', 'n/a', 'n/a']);
  });

  it('shows mean ± std over seeds in the metric column when a result averages several runs', () => {
    const r = report([result('lora', 2, { metric: 0.626, metricStd: 0.01, seeds: 3 }), result('grasp', 3)]);
    const { rows } = parseTable(renderMarkdownTable(r));
    expect(rows[0][2]).toBe('62.6 ± 1.0%');
    expect(rows[1][2]).toBe('87.0%');
    expect(renderMarkdownReport(r)).toMatch(/mean ± std over 3 seeds/);
    expect(() => renderMarkdownTable(report([result('lora', 2, { seeds: 0 })]))).toThrow(/results\[0\]\.seeds = 0 must be a positive integer/);
  });

  it('tells apart two runs of one method by their labels, in every table of both reports; single runs keep the bare method', () => {
    const runs = [
      result('full', 0, { label: 'full fine-tuning' }),
      result('full', 1, { label: 'full fine-tuning, lr 0.0002, 5 epochs' }),
      result('lora', 2, { label: 'LoRA r=8 α=16 (query,value)' }),
      result('full', 3, { label: 'full fine-tuning' }), // the same run again
    ];
    const rep = report(runs);
    const names = ['full (full fine-tuning)', 'full (full fine-tuning, lr 0.0002, 5 epochs)', 'lora', 'full (full fine-tuning) #2'];
    expect(parseTable(renderMarkdownTable(rep)).rows.map((row) => row[0])).toEqual(names);
    const md = renderMarkdownReport(rep);
    const tables = md.split('\n## ').filter((s) => /^(Summary|Metric under weight noise)/.test(s));
    expect(tables).toHaveLength(2);
    for (const t of tables) expect(parseTable(t.slice(t.indexOf('|'))).rows.map((row) => row[0])).toEqual(names);
    const html = renderHtmlReport(rep);
    expect(html).toContain('<td>full (full fine-tuning, lr 0.0002, 5 epochs)</td>'); // the label is in the name: not repeated under it
    expect(html).toContain('<td>lora<span class="label">LoRA r=8 α=16 (query,value)</span></td>');
  });

  it('names generation rows and sample outputs of a repeated method by their labels', () => {
    const gen = (bleu: number, output: string) => ({
      scores: { bleu }, decoding: 'greedy', decodeSeconds: 1, instances: 1, skipped: 0, generatedTokens: 3, samples: [{ input: 'name[X]', output, reference: 'X.' }],
    });
    const rep = report([
      result('full', 0, { label: 'full fine-tuning', generation: gen(0.5, 'X is here.') }),
      result('full', 1, { label: 'full fine-tuning, lr 0.0002', generation: gen(0.6, 'X.') }),
    ]);
    const md = renderMarkdownReport(rep);
    expect(md).toMatch(/\| full \(full fine-tuning\) \| 0\.500 \|/);
    expect(md).toMatch(/\| full \(full fine-tuning, lr 0\.0002\) \| 0\.600 \|/);
    expect(md).toContain('  - full (full fine-tuning, lr 0.0002): X.');
  });

  it('escapes pipes so a label or method cannot add columns', () => {
    const { rows } = parseTable(renderMarkdownTable(report([result('lo|ra', 0)])).replace(/\\\|/g, '¦'));
    expect(rows[0][0]).toBe('lo¦ra');
  });

  it('rejects malformed input naming the field', () => {
    const rs = METHODS.slice(0, 3).map((m, i) => result(m, i));
    rs[2].trainableParams = 1.5;
    expect(() => renderMarkdownTable(report(rs))).toThrow('renderMarkdownTable: results[2].trainableParams = 1.5 must be a non-negative integer');
    expect(() => renderMarkdownTable(report([]))).toThrow(/results .* at least one method/);
    expect(() => renderMarkdownTable(report([result('a', 0), result('b', 1, { metricName: 'f1' })]))).toThrow(
      'results[1].metricName = "f1" must equal results[0].metricName = "accuracy"',
    );
    expect(() => renderHtmlReport(report([result('a', 0, { noise: [{ sigma: -1, mean: 0.5, std: 0, draws: 1 }] })]))).toThrow(
      'renderHtmlReport: results[0].noise[0].sigma = -1 must be a finite number >= 0',
    );
    expect(() => renderMarkdownTable(report(undefined, { noiseModel: 'gaussian' as 'additive' }))).toThrow(/noiseModel = "gaussian"/);
    expect(() => renderMarkdownTable(report([result('a', 0, { trainSeconds: NaN })]))).toThrow(/trainSeconds = NaN/);
  });
});

describe('renderMarkdownReport', () => {
  it('has the settings, summary, full noise curve and notes', () => {
    const md = renderMarkdownReport(report());
    expect(md).toMatch(/^# SST-2 fine-tuning under weight noise\n/);
    expect(md).toContain('- model: roberta-base');
    expect(md).toContain('- seed 0');
    const curve = parseTable(md.split('## Metric under weight noise')[1].split('##')[0]);
    expect(curve.header).toEqual(['method', 'σ=0', 'σ=0.05', 'σ=0.1', 'σ=0.2']);
    expect(curve.rows.map((r) => r[0])).toEqual(METHODS);
    expect(md).not.toMatch(/NaN|undefined/);
    expect(md).not.toContain('## Generation');
  });

  it('adds the generation table and sample outputs when results carry generation scores', () => {
    const gen = (bleu: number, output: string) => ({
      scores: { bleu, nist: 3.5, meteor: 0.3, rougeL: 0.45, cider: 1.25 }, instances: 2, skipped: 1, decodeSeconds: 75, generatedTokens: 40,
      decoding: 'beam 10, length penalty 0.9, no-repeat 4-gram, at most 64 new tokens',
      samples: [{ input: 'name[A], food[B|C]', output, reference: 'A serves B.' }],
    });
    const results = [result('lora', 0, { generation: gen(0.5, 'A <b>serves</b> B.') }), result('grasp', 1, { generation: gen(0.25, '') }), result('full', 2)];
    const md = renderMarkdownReport(report(results));
    const table = parseTable(md.split('## Generation')[1].split('## Sample outputs')[0]);
    expect(table.header).toEqual(['method', 'BLEU', 'NIST', 'METEOR', 'ROUGE-L', 'CIDEr', 'trainable params', 'peak memory', 'train time', 'steps', 'decode time', 'MRs decoded']);
    expect(table.rows.map((r) => r.slice(0, 6))).toEqual([['lora', '0.500', '3.500', '0.300', '0.450', '1.250'], ['grasp', '0.250', '3.500', '0.300', '0.450', '1.250']]);
    expect(table.rows[0][10]).toBe('1 min 15 s');
    expect(md).toContain('(1 more left out');
    const samples = md.split('## Sample outputs')[1].split('## Methods')[0];
    expect(samples).toContain('  - lora: A &lt;b&gt;serves&lt;/b&gt; B.');
    expect(samples).toContain('  - grasp: (empty)');
    expect(samples).toContain('  - reference: A serves B.');
    expect(renderHtmlReport(report(results))).toContain('<h2>Generation</h2>');
    const bad = result('lora', 0, { generation: { ...gen(0.5, 'x'), decodeSeconds: -1 } });
    expect(() => renderMarkdownReport(report([bad]))).toThrow(/results\[0\]\.generation\.decodeSeconds = -1/);
  });
});

describe('renderHtmlReport', () => {
  const count = (s: string, sub: string) => s.split(sub).length - 1;

  it('is one offline page with an SVG per chart', () => {
    const html = renderHtmlReport(report());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(count(html, '<svg')).toBe(3); // noise, parameters, loss
    expect(count(html, '</svg>')).toBe(3);
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/http|<script|<link|@import|url\(/i);
    expect(html).not.toMatch(/NaN|undefined|Infinity/);
    for (const m of METHODS) expect(html).toContain(`<td>${m}`);
    expect(renderHtmlReport(report(METHODS.map((m, i) => result(m, i, { lossCurve: undefined }))))).toSatisfy(
      (h: string) => count(h, '<svg') === 2,
    );
  });

  it('escapes every piece of report text', () => {
    const evil = '<script>alert("x")</script>';
    const html = renderHtmlReport(
      report([result('lora', 0, { label: evil }), result(`<img src=x onerror=1>`, 1)], { title: evil, notes: [evil], noiseTargets: evil }),
    );
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  const edgeCases: [string, ExperimentReport][] = [
    ['a single method', report([result('lora', 2)])],
    ['a single sigma', report(METHODS.map((m, i) => result(m, i, { noise: [{ sigma: 0.1, mean: 0.8, std: 0.01, draws: 3 }] })))],
    ['only sigma 0', report([result('full', 0, { noise: [{ sigma: 0, mean: 0.8, std: 0, draws: 1 }] })])],
    ['std 0 everywhere', report(METHODS.map((m, i) => result(m, i, { noise: SIGMAS.map((sigma) => ({ sigma, mean: 0.7, std: 0, draws: 1 })) })))],
    ['all metric values equal', report(METHODS.map((m, i) => result(m, i, { metric: 0.5, noise: SIGMAS.map((sigma) => ({ sigma, mean: 0.5, std: 0, draws: 2 })) })))],
    ['all metric values 0', report([result('a', 0, { metric: 0, noise: [{ sigma: 0, mean: 0, std: 0, draws: 1 }] })])],
    ['NaN metric and NaN noise means', report([result('full', 0, { metric: NaN }), result('lora', 1, {
      noise: [{ sigma: 0, mean: 0.9, std: NaN, draws: 1 }, { sigma: 0.1, mean: NaN, std: NaN, draws: 5 }, { sigma: 0.2, mean: 0.6, std: 0.1, draws: 5 }],
    })])],
    ['every value NaN', report([result('a', 0, { metric: NaN, finalLoss: NaN, noise: [{ sigma: 0.1, mean: NaN, std: NaN, draws: 0 }],
      lossCurve: [{ step: 0, loss: NaN }] })])],
    ['no noise points, no params, no loss', report([result('a', 0, { noise: [], trainableParams: 0, lossCurve: [] })])],
    ['eight methods (palette wraps)', report([...METHODS, 'extra'].map((m, i) => result(m, i)))],
    ['mcc with negative values', report([result('a', 0, { metricName: 'mcc', metric: -0.1, noise: [{ sigma: 0.2, mean: -0.3, std: 0.2, draws: 4 }] })])],
  ];
  for (const [name, r] of edgeCases) {
    it(`handles ${name} without NaN`, () => {
      const html = renderHtmlReport(r);
      const md = renderMarkdownReport(r);
      expect(html).not.toMatch(/NaN|undefined|Infinity/);
      expect(md).not.toMatch(/NaN|undefined|Infinity/);
      expect(count(html, '<svg')).toBe(count(html, '</svg>'));
    });
  }

  it('says which points it skipped and shows n/a in the table', () => {
    const html = renderHtmlReport(edgeCases[6][1]);
    expect(html).toContain('Not plotted (not measured): lora at σ=0.1');
    expect(html).toMatch(/<td>full[^]*?<td class="num">n\/a<\/td>/);
  });
});

describe('helpers', () => {
  it('picks round ticks and pads empty ranges', () => {
    expect(niceTicks(0, 1, 6).values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.1, 0.3, 6).values.every((v) => String(v).length <= 4)).toBe(true);
    const flat = niceTicks(0.5, 0.5);
    expect(flat.hi).toBeGreaterThan(flat.lo);
    expect(niceTicks(0, 0).hi).toBeGreaterThan(0);
  });

  it('formats durations for humans', () => {
    expect(formatTrainTime(41.23)).toBe('41.2 s');
    expect(formatTrainTime(185)).toBe('3 min 05 s');
  });

  it('formats the trainable share without rounding a partial share up to 100%', () => {
    expect(formatShare(124_645_632, 124_647_170)).toBe('>99.9%');
    expect(formatShare(8_192, 124_647_170)).toBe('0.00657%');
    expect(formatShare(10, 10)).toBe('100%');
  });

  it('breaks lines at skipped points and keeps isolated points visible without markers', () => {
    const points = [0, 1, 2, 3, 4, 5, 6].map((x) => ({ x, y: x === 2 || x === 5 ? NaN : x * x }));
    const svg = lineChart([{ name: 's', points }], { title: 't', xLabel: 'x', yLabel: 'y', markers: false });
    expect(svg.split('<polyline').length - 1).toBe(2); // 0-1 and 3-4; 6 stands alone
    expect(svg.split('<circle').length - 1).toBe(1 + 1); // the isolated point and the legend sample
    expect(svg).not.toContain('NaN');
  });
});

describe('block selection heatmap', () => {
  // 3 blocks, 8 steps: block 0 active steps 0-3 (p .5 .3 .2), block 2 steps 4-7 (p .2 .2 .6)
  const selection = {
    blocks: 3, steps: 8,
    points: [{ step: 0, active: [0], probabilities: [0.5, 0.3, 0.2] }, { step: 4, active: [2], probabilities: [0.2, 0.2, 0.6] }],
  };
  it('bins steps into windows: active share and step-weighted mean probability', () => {
    const g = selectionGrid(selection, 2);
    expect(g.edges).toEqual([0, 4, 8]);
    expect(g.active).toEqual([[1, 0], [0, 0], [0, 1]]);
    expect(g.probability[0]![0]).toBeCloseTo(0.5, 12);
    expect(g.probability[2]![1]).toBeCloseTo(0.6, 12);
    expect(g.overall).toEqual([0.5, 0, 0.5]);
    // windows straddling a switch: steps 2-5 hold 2 steps of each point
    const g4 = selectionGrid({ ...selection, points: [selection.points[0]!, { ...selection.points[1]!, step: 6 }] }, 2);
    expect(g4.active[0]).toEqual([1, 0.5]);
    expect(g4.probability[2]![1]).toBeCloseTo((2 * 0.2 + 2 * 0.6) / 4, 12);
    expect([0, 0.1, 0.3, 0.6, 0.9].map(shade).join('')).toBe('·░▒▓█');
  });
  it('appears in report.md as a text grid and in report.html as an SVG, only for layer-wise results', () => {
    const r = report([result('full', 0), result('grass', 1, { label: 'GRASS γ=1', selection })]);
    const md = renderMarkdownReport(r);
    expect(md).toContain('## Block selection');
    expect(md).toContain('### GRASS γ=1');
    expect(md).toMatch(/^block 0 \|█+·+\|  50%$/m);
    expect(md).toMatch(/^block 1 \|·+\|   0%$/m);
    expect(md).toMatch(/^block 0 \| 50 50 50 50 20 20 20 20$/m);
    expect(md).toMatch(/^block 2 \| 20 20 20 20 60 60 60 60$/m);
    const html = renderHtmlReport(r);
    expect(html).toContain('<h2>Block selection</h2>');
    expect(html).toMatch(/<svg[^>]*aria-label="GRASS γ=1"/);
    expect(html).toContain('block 2, steps 4-4: active 100%, p 0.600');
    expect(renderMarkdownReport(report([result('full', 0)]))).not.toContain('Block selection');
  });
  it('rejects a malformed history, naming the field', () => {
    const bad = report([result('lisa', 0, { selection: { ...selection, points: [{ step: 0, active: [3], probabilities: [] }] } })]);
    expect(() => renderMarkdownReport(bad)).toThrow(/results\[0\]\.selection\.points\[0\]\.active = an array of length 1 must list block positions in 0\.\.2/);
  });
});
