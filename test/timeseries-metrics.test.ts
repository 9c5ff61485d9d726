/** Forecast and anomaly-detection metrics on hand-made cases whose values are worked out by hand. */
import { describe, expect, it } from 'vitest';
import {
  acf, detect, detectionScores, isSeasonal, mae, mase, mse, naive2, owa, percentile, pointAdjust, pointAdjustedScores,
  seasonalIndices, seasonalNaive, smape, thresholdByRatio,
} from '../src/timeseries/index.js';

describe('forecast metrics', () => {
  it('MSE and MAE', () => {
    expect(mse([1, 2, 3], [1, 2, 5])).toBeCloseTo(4 / 3, 12);
    expect(mae([1, 2, 3], [1, 2, 5])).toBeCloseTo(2 / 3, 12);
    expect(mae([-1, 1], [1, -1])).toBe(2);
    expect(() => mse([1, 2], [1])).toThrow(/2 true values but 1 forecasts/);
  });

  it('sMAPE = 200/N sum |y - yhat| / (|y| + |yhat|); 0/0 steps count 0', () => {
    expect(smape([100, 0], [110, 0])).toBeCloseTo(100 * (10 / 210), 10);
    expect(smape([1], [-1])).toBe(200); // opposite signs: the maximum
    expect(smape([5, 5], [5, 5])).toBe(0);
  });

  it('MASE scales by the in-sample seasonal naive error', () => {
    expect(mase([1, 2, 3, 4, 5], [6, 7], [6, 8])).toBeCloseTo(0.5, 12); // scale 1 at m = 1
    // m = 2: |2-1|, |4-3|, |3-2|, |5-4| -> scale 1; MAE 1.5
    expect(mase([1, 3, 2, 4, 3, 5], [4, 6], [5.5, 7.5], 2)).toBeCloseTo(1.5, 12);
    // the same history at m = 1: |3-1|,|2-3|,|4-2|,|3-4|,|5-3| = 8/5
    expect(mase([1, 3, 2, 4, 3, 5], [4, 6], [5.5, 7.5], 1)).toBeCloseTo(1.5 / 1.6, 12);
    expect(() => mase([1, 3, 1, 3], [1], [2], 2)).toThrow(/scale is 0/);
  });

  it('seasonal naive repeats the last season', () => {
    expect([...seasonalNaive([1, 2, 3, 4], 3, 2)]).toEqual([3, 4, 3]);
    expect([...seasonalNaive([1, 2, 3, 4], 2)]).toEqual([4, 4]);
  });

  it('acf and the M4 seasonality test', () => {
    expect(acf([1, 2, 3, 4], 0)).toBeCloseTo(1, 12);
    // mean 2.5, deviations -1.5 -0.5 0.5 1.5: lag 1 sum = 0.75 - 0.25 + 0.75 = 1.25 over 5
    expect(acf([1, 2, 3, 4], 1)).toBeCloseTo(0.25, 12);
    const s = [0.5, 1, 1.5, 1];
    const seasonal = Array.from({ length: 20 }, (_, t) => 10 * s[t % 4]);
    expect(isSeasonal(seasonal, 4)).toBe(true);
    expect(isSeasonal(seasonal.slice(0, 11), 4)).toBe(false); // fewer than 3 seasons
    expect(isSeasonal(Array.from({ length: 20 }, (_, t) => t), 4)).toBe(false); // a trend, no season
  });

  it('Naive2: deseasonalised naive, reseasonalised; the plain naive forecast without seasonality', () => {
    const s = [0.5, 1, 1.5, 1];
    const seasonal = Array.from({ length: 20 }, (_, t) => 10 * s[t % 4]);
    // The centred 2x4 moving average of this series is 10 everywhere, so the indices are s itself.
    [...seasonalIndices(seasonal, 4)].forEach((v, i) => expect(v).toBeCloseTo(s[i], 12));
    [...naive2(seasonal, 6, 4)].forEach((v, h) => expect(v).toBeCloseTo(10 * s[(20 + h) % 4], 10));
    expect([...naive2([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], 3, 4)]).toEqual([13, 13, 13]);
  });

  it('OWA averages the two ratios to Naive2', () => {
    expect(owa({ smape: 10, mase: 1 }, { smape: 20, mase: 2 })).toBeCloseTo(0.5, 12);
    expect(owa({ smape: 12, mase: 3 }, { smape: 12, mase: 2 })).toBeCloseTo(1.25, 12);
  });
});

describe('anomaly-detection metrics', () => {
  it('percentile interpolates linearly (numpy default)', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4], 100)).toBe(4);
    expect(thresholdByRatio(Array.from({ length: 100 }, (_, i) => i + 1), 1)).toBeCloseTo(99.01, 10);
  });

  it('point adjustment fills each true segment that has a detection, and only those', () => {
    expect([...pointAdjust([0, 1, 0, 0, 0, 0, 1], [1, 1, 1, 0, 1, 1, 0])]).toEqual([1, 1, 1, 0, 0, 0, 1]);
    expect([...pointAdjust([0, 0, 0, 1], [0, 1, 1, 1])]).toEqual([0, 1, 1, 1]);
  });

  it('accuracy, precision, recall, F1 with anomaly the positive class', () => {
    expect(detectionScores([1, 1, 0, 0], [1, 0, 1, 0])).toEqual({ accuracy: 0.5, precision: 0.5, recall: 0.5, f1: 0.5 });
    expect(detectionScores([1, 0, 0, 0], [1, 1, 1, 0])).toEqual({ accuracy: 0.5, precision: 1, recall: 1 / 3, f1: 0.5 });
    expect(detectionScores([0, 0], [0, 0])).toEqual({ accuracy: 1, precision: 0, recall: 0, f1: 0 });
  });

  it('the whole protocol: threshold by ratio from reference scores, detection, point adjustment', () => {
    const reference = Array.from({ length: 100 }, (_, i) => i / 100); // 99th percentile 0.9801
    const scores = [0.1, 0.99, 0.2, 0.3, 0.5, 2.0, 0.1, 0.95];
    const gold = [0, 1, 1, 1, 0, 0, 0, 1];
    expect([...detect(scores, 0.9801)]).toEqual([0, 1, 0, 0, 0, 1, 0, 0]);
    const r = pointAdjustedScores(scores, gold, reference, 1);
    expect(r.threshold).toBeCloseTo(0.9801, 12);
    // adjusted predictions [0,1,1,1,0,1,0,0]: tp 3, fp 1, fn 1
    expect(r.precision).toBeCloseTo(0.75, 12);
    expect(r.recall).toBeCloseTo(0.75, 12);
    expect(r.f1).toBeCloseTo(0.75, 12);
    expect(r.accuracy).toBeCloseTo(6 / 8, 12);
  });
});
