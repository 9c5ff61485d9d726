/**
 * The series tasks beyond long-term forecasting, on hand-made data with stand-in models whose
 * outputs are known: anomaly scores, threshold and point-adjusted F1; masked imputation loss and
 * metrics; the sMAPE loss and sMAPE/MASE/OWA against Naive2; classification accuracy; and the errors
 * bad inputs get (missing label or id columns, labels that are not 0/1, too-short series); One-for-All's
 * trainable count at every rank of the sweep under both scalings.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { applyAdapter, loraScaling, presetFor } from '../src/adapters/index.js';
import { parseMethodSpec } from '../src/cli/compare.js';
import { gpt4tsFromGPT2Checkpoint } from '../src/node/index.js';
import { AnomalyTask } from '../src/tasks/anomaly.js';
import { ShortForecastTask, smapeLoss } from '../src/tasks/forecast-short.js';
import { ImputeTask } from '../src/tasks/impute.js';
import { SeriesClassificationTask } from '../src/tasks/series-classification.js';
import type { TaskModel } from '../src/tasks/task.js';
import {
  fillMasked, forecastData, labelledSeriesData, naive2, parseSeriesCsv, randomMask, reconstructionData, smape, type SeriesTable,
} from '../src/timeseries/index.js';

/** A stand-in model: `f` maps the input values [B*L*M] (and shape) to the output values and shape. */
class Stub extends W.Module {
  constructor(readonly f: (x: Float32Array, shape: readonly number[]) => { v: ArrayLike<number>; shape: number[] }) {
    super();
  }

  forward(x: W.Tensor): { logits: W.Tensor } {
    const { v, shape } = this.f(Float32Array.from(x.toArray()), x.shape);
    return { logits: W.tensor(Float32Array.from(v), shape) };
  }
}
const asModel = (m: Stub) => m as unknown as TaskModel;

function table(columns: Record<string, number[]>, text?: Record<string, string[]>): SeriesTable {
  const names = Object.keys(columns);
  const rows = columns[names[0]].length;
  return {
    source: 'hand.csv', dates: Array.from({ length: rows }, (_, i) => `d${i}`), columns: names,
    values: names.map((n) => Float64Array.from(columns[n])), ...(text ? { text } : {}),
  };
}

describe('anomaly detection: scores, threshold from validation, point-adjusted F1', () => {
  // train rows 0-3 (mean 0, std 1: standardised = raw), val 4-7, test 8-11; windows of 2.
  const t = table({ v: [-1, 1, -1, 1, 0, 0, 0, 3, 2, 0, 0, 1.6], label: [0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1] });
  const split = { train: [0, 4], val: [4, 8], test: [8, 12] } as { train: [number, number]; val: [number, number]; test: [number, number] };
  const data = reconstructionData(t, { inputLength: 2, split, labelColumn: 'label' });
  const zero = asModel(new Stub((x, s) => ({ v: new Float32Array(x.length), shape: [...s] })));

  it('the label column is kept aside; val and test windows do not overlap', () => {
    expect(data.channels).toEqual(['v']);
    expect([data.mean[0], data.std[0]]).toEqual([0, 1]);
    expect(Array.from(data.train.starts)).toEqual([0, 1, 2]);
    expect(Array.from(data.test.starts)).toEqual([0, 2]);
    expect(Array.from(data.test.labels!)).toEqual([0, 1, 1, 1]);
  });

  it('scores are squared errors; threshold = 75th percentile of validation scores at ratio 25; F1 after point adjustment', () => {
    const task = new AnomalyTask({ name: 'hand', data, ratio: 25 });
    // val scores [0, 0, 0, 9]: percentile 75 = 0 + 0.25 * 9 = 2.25.
    // test scores [4, 0, 0, 2.56] -> flagged [1, 0, 0, 1]; the segment rows 1-3 has a hit -> [1, 1, 1, 1]
    // tp 3, fp 1, fn 0: precision 0.75, recall 1, F1 6/7.
    const e = task.evaluate(zero, task.testBatches());
    expect(e.threshold).toBeCloseTo(2.25, 6);
    expect(e.precision).toBeCloseTo(0.75, 6);
    expect(e.recall).toBe(1);
    expect(e.f1).toBeCloseTo(6 / 7, 6);
    expect(e.mse).toBeCloseTo((4 + 2.56) / 4, 5);
    // Validation against its own threshold: score 9 > 2.25 flags row 3, the only anomaly.
    const v = task.evaluate(zero, task.validationBatches());
    expect([v.precision, v.recall]).toEqual([1, 1]);
  });

  it('bad input: a missing label column, labels other than 0/1, a split shorter than one window, no labels', () => {
    expect(() => reconstructionData(t, { inputLength: 2, split, labelColumn: 'anomaly' })).toThrow(/no label column 'anomaly' \(columns: v, label\)/);
    const bad = table({ v: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], label: [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0] });
    expect(() => reconstructionData(bad, { inputLength: 2, split, labelColumn: 'label' })).toThrow(/line 7, column 'label': label 2 is not 0 or 1/);
    expect(() => reconstructionData(t, { inputLength: 5, split, labelColumn: 'label' })).toThrow(/the train split has rows \[0, 4\) but needs at least one window of 5 rows/);
    expect(() => new AnomalyTask({ name: 'x', data: reconstructionData(t, { inputLength: 2, split }) })).toThrow(/needs 0\/1 labels .*--label-column/);
    expect(() => new AnomalyTask({ name: 'x', data, ratio: 0 })).toThrow(/anomaly ratio 0 must be a percentage/);
    const early = table({ v: [-1, 1, -1, 1, 0, 0, 0, 3, 2, 0, 0, 1.6], label: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    expect(() => new AnomalyTask({ name: 'x', data: reconstructionData(early, { inputLength: 2, split, labelColumn: 'label' }) }))
      .toThrow(/the test split \(rows 8..11\) has no labelled anomaly, so F1 would be 0 whatever the model/);
  });
});

describe('imputation: masks, fill, masked MSE/MAE', () => {
  it('randomMask is seeded and hides about `ratio` of the values; fillMasked puts the observed mean of the window and channel', () => {
    const a = randomMask(10_000, 0.25, 1, 7);
    expect(Array.from(a)).toEqual(Array.from(randomMask(10_000, 0.25, 1, 7)));
    expect(Array.from(a)).not.toEqual(Array.from(randomMask(10_000, 0.25, 1, 8)));
    const share = a.reduce((n, v) => n + v, 0) / a.length;
    expect(Math.abs(share - 0.25)).toBeLessThan(0.02);
    // one window of 3 steps x 2 channels: channel 0 [1, 5, 3], channel 1 [2, 4, 9]
    const v = Float32Array.from([1, 2, 5, 4, 3, 9]);
    const filled = fillMasked(v, Uint8Array.from([0, 1, 1, 1, 0, 1]), 3, 2);
    expect(Array.from(filled)).toEqual([1, 0, 2, 0, 3, 0]); // channel 0 hides 5 -> mean(1, 3); channel 1 hides all -> 0
    expect(() => randomMask(4, 1, 0, 0)).toThrow(/ratio 1 must be in \(0, 1\)/);
  });

  it('loss and metrics count the hidden values only', () => {
    const rows = 40;
    const t = table({ a: Array.from({ length: rows }, (_, i) => Math.sin(i)), b: Array.from({ length: rows }, (_, i) => Math.cos(i / 3)) });
    const data = reconstructionData(t, { inputLength: 4, split: 'ratio' });
    const task = new ImputeTask({ name: 'hand', data, maskRatio: 0.5, seed: 3 });
    // A model that returns its input: correct on observed values, the fill value on hidden ones.
    const echo = asModel(new Stub((x, s) => ({ v: x, shape: [...s] })));
    const [b] = task.validationBatches();
    const { truth, mask, input } = task.masked(b);
    let se = 0;
    let ae = 0;
    let n = 0;
    mask.forEach((m, i) => {
      if (m) {
        se += (input[i] - truth[i]) ** 2;
        ae += Math.abs(input[i] - truth[i]);
        n++;
      }
    });
    expect(n).toBeGreaterThan(0);
    W.tidy(() => expect(task.loss(echo, b).item()).toBeCloseTo(se / n, 5));
    const e = task.evaluate(echo, [b]);
    expect(e.mse).toBeCloseTo(se / n, 5);
    expect(e.mae).toBeCloseTo(ae / n, 5);
    expect(e.masked).toBe(n);
    // Validation masks are fixed: the same batch evaluates the same.
    expect(task.evaluate(echo, [b]).mse).toBe(e.mse);
  });
});

describe('short-term forecasting: sMAPE loss, sMAPE/MASE/OWA against Naive2', () => {
  it('smapeLoss = 200 mean |y - p| / (|y| + |p|), 0 where both are 0', () => {
    W.tidy(() => {
      const l = smapeLoss(W.tensor([2, 2, 0], [1, 3, 1]), W.tensor([1, 2, 0], [1, 3, 1]));
      expect(l.item()).toBeCloseTo((200 * (1 / 3)) / 3, 4);
    });
  });

  it('a model repeating the last value is Naive2 on non-seasonal data (season 1): OWA 1; a perfect one scores 0', () => {
    const rows = 200;
    const t = table({ OT: Array.from({ length: rows }, (_, i) => 10 + Math.sin(i / 4) + 0.01 * i) });
    const data = forecastData(t, { inputLength: 8, horizon: 4, split: 'ratio', standardise: false });
    expect([data.mean[0], data.std[0]]).toEqual([0, 1]);
    const task = new ShortForecastTask({ name: 'hand', data, season: 1 });
    const last = asModel(new Stub((x, s) => {
      const [B, L] = s;
      return { v: Float32Array.from({ length: B * 4 }, (_, i) => x[Math.floor(i / 4) * L + L - 1]), shape: [B, 4, 1] };
    }));
    const e = task.evaluate(last, task.testBatches());
    expect(e.owa).toBeCloseTo(1, 6);
    expect(e.smape).toBeCloseTo(e.naive2Smape, 6);
    // By hand for the first window: history rows [t0 - 8, t0), truth the next 4.
    const { x, y } = data.test.window(0);
    const hist = Array.from(x);
    expect(Array.from(naive2(hist, 4, 1))).toEqual(Array(4).fill(hist[7]));
    expect(smape(Array.from(y), Array(4).fill(hist[7]))).toBeGreaterThan(0);
    const truth = asModel(new Stub((_x, s) => ({ v: task.data.test.batch(Array.from({ length: s[0] }, (_, i) => i)).y.toArray(), shape: [s[0], 4, 1] })));
    const perfect = task.evaluate(truth, [{ set: data.test, indices: Array.from({ length: Math.min(5, data.test.length) }, (_, i) => i), step: -1 }]);
    expect(perfect.smape).toBe(0);
    expect(perfect.owa).toBe(0);
    expect(() => new ShortForecastTask({ name: 'x', data, season: 8 })).toThrow(/season 8 must be shorter than the input length 8/);
  });
});

describe('series classification data and accuracy', () => {
  /** `perClass` series of 6 rows per class, value = class index + row / 10. */
  function csv(perClass: number, classes = ['down', 'up']): string {
    const lines = ['date,id,label,v'];
    classes.forEach((c, k) => {
      for (let s = 0; s < perClass; s++) for (let r = 0; r < 6; r++) lines.push(`t${r},${c}${s},${c},${k + r / 10}`);
    });
    return lines.join('\n') + '\n';
  }

  it('groups rows by id, keeps the last inputLength rows, splits by class; accuracy of a stand-in model', () => {
    const t = parseSeriesCsv(csv(10), { textColumns: ['id', 'label'] });
    const d = labelledSeriesData(t, { inputLength: 4 });
    expect(d.classes).toEqual(['down', 'up']);
    expect([d.train.length, d.val.length, d.test.length]).toEqual([14, 2, 4]);
    const task = new SeriesClassificationTask({ name: 'hand', data: d });
    // Standardised values are below 0 for 'down' and above for 'up': the sign of the first value decides.
    const sign = asModel(new Stub((x, s) => ({ v: Array.from({ length: s[0] }, (_, b) => (x[b * 4] > 0 ? [0, 1] : [1, 0])).flat(), shape: [s[0], 2] })));
    expect(task.evaluate(sign, task.testBatches()).accuracy).toBe(1);
    const always0 = asModel(new Stub((_x, s) => ({ v: Array.from({ length: s[0] }, () => [1, 0]).flat(), shape: [s[0], 2] })));
    const e = task.evaluate(always0, task.testBatches());
    expect(e.accuracy).toBe(0.5);
    expect(e.loss).toBeCloseTo(0.5 * Math.log(1 + Math.E) + 0.5 * Math.log(1 + Math.exp(-1)), 5);
  });

  it('bad input: missing id column, two labels in one series, too-short series, one class', () => {
    expect(() => parseSeriesCsv(csv(10), { textColumns: ['series', 'label'] })).toThrow(/no 'series' column \(columns: date, id, label, v\)/);
    const t = parseSeriesCsv(csv(10), { textColumns: ['id', 'label'] });
    expect(() => labelledSeriesData(t, { inputLength: 7 })).toThrow(/series 'down0' has 6 rows, fewer than the input length 7/);
    const mixed = csv(10).replace('t5,down0,down,', 't5,down0,up,');
    expect(() => labelledSeriesData(parseSeriesCsv(mixed, { textColumns: ['id', 'label'] }))).toThrow(/line 7: series 'down0' has label 'up' but 'down' on line 2/);
    expect(() => labelledSeriesData(parseSeriesCsv(csv(10, ['only']), { textColumns: ['id', 'label'] }))).toThrow(/only one class \('only'\)/);
    expect(() => labelledSeriesData(parseSeriesCsv(csv(1), { textColumns: ['id', 'label'] }))).toThrow(/leave the (val|test) split empty/);
  });
});

describe('One-for-All rank sweep: r in {2, ..., 64} under alpha/r and alpha/sqrt(r)', () => {
  it('`one-for-all:r=R,scaling=standard|rs` trains r (positions + d) + r (N d + H) at every rank, scaled as asked', async () => {
    const model = await gpt4tsFromGPT2Checkpoint(join(import.meta.dirname, '..', 'examples', 'checkpoints', 'tiny-gpt2'), { input_length: 336, horizon: 96 });
    const N = model.config.numPatches; // 42
    for (const scaling of ['standard', 'rs'] as const) {
      for (const r of [2, 4, 8, 16, 32, 64]) {
        const spec = parseMethodSpec(`one-for-all:r=${r},scaling=${scaling}`);
        const adapted = applyAdapter(model, { ...presetFor(spec.method), ...spec.adapter } as never);
        expect(adapted.trainableParameters().reduce((n, t) => n + t.size, 0)).toBe(r * (64 + 128) + r * (N * 128 + 96));
        const c = adapted.config as { use_rslora: boolean; r: number; lora_alpha: number };
        expect(loraScaling(c)).toBeCloseTo(scaling === 'rs' ? 16 / Math.sqrt(r) : 16 / r, 10);
        adapted.remove();
      }
    }
    expect(() => parseMethodSpec('one-for-all:scaling=cubic')).toThrow(/scaling=cubic is not known; use standard \(alpha\/r\) or rs/);
    expect(() => parseMethodSpec('grasp:scaling=standard')).toThrow(/scaling applies to LoRA methods/);
    model.dispose();
  }, 120_000);
});
