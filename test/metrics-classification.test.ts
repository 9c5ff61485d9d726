/**
 * Classification metrics: hand-computed cases (the numbers below were worked out from the confusion
 * matrices in the comments) and properties that hold for any predictions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accuracy, classificationMetrics, f1, matthewsCorrelation } from '../src/tasks/metrics.js';

describe('hand-computed', () => {
  // gold 1 1 1 0 0 0 0 1, pred 1 0 1 0 1 0 0 1: tp 3, fn 1, fp 1, tn 3
  const gold = [1, 1, 1, 0, 0, 0, 0, 1];
  const pred = [1, 0, 1, 0, 1, 0, 0, 1];

  it('binary: accuracy 6/8, F1 = 2*3/(6+1+1) = 0.75, MCC = (9-1)/sqrt(4*4*4*4) = 0.5', () => {
    expect(accuracy(pred, gold)).toBe(0.75);
    expect(f1(pred, gold)).toBe(0.75);
    expect(matthewsCorrelation(pred, gold)).toBe(0.5);
    expect(classificationMetrics(Int32Array.from(pred), Int32Array.from(gold))).toEqual({ accuracy: 0.75, f1: 0.75, mcc: 0.5 });
  });

  it('binary, unbalanced: tp 1, fp 2, fn 0, tn 3 -> F1 0.5, MCC 3/sqrt(3*1*5*3) = 1/sqrt(5)', () => {
    const g = [1, 0, 0, 0, 0, 0];
    const p = [1, 1, 1, 0, 0, 0];
    expect(f1(p, g)).toBe(0.5);
    // (tp tn - fp fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)) = 3 / sqrt(3 * 1 * 5 * 3)
    expect(matthewsCorrelation(p, g)).toBeCloseTo(3 / Math.sqrt(45), 15);
    expect(f1(p, g, 0)).toBeCloseTo((2 * 3) / (2 * 3 + 0 + 2), 15); // class 0: tp 3, fp 0, fn 2
  });

  it('multiclass MCC by the general formula', () => {
    // gold 0 0 1 1 2 2, pred 0 1 1 1 2 0: c = 4, n = 6, t = (2,2,2), p = (2,3,1)
    // (4*6 - (4+6+2)) / sqrt((36 - (4+9+1)) * (36 - 12)) = 12 / sqrt(22 * 24)
    expect(matthewsCorrelation([0, 1, 1, 1, 2, 0], [0, 0, 1, 1, 2, 2])).toBeCloseTo(12 / Math.sqrt(22 * 24), 15);
  });

  it('degenerate cases: constant predictions give MCC 0; no positives anywhere gives F1 0', () => {
    expect(matthewsCorrelation([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0);
    expect(matthewsCorrelation([0, 1, 1, 0], [1, 1, 1, 1])).toBe(0);
    expect(f1([0, 0, 0], [0, 0, 0])).toBe(0);
    expect(f1([0, 0, 0], [1, 1, 0])).toBe(0);
  });

  it('rejects mismatched lengths, empty input and non-indices, naming the metric', () => {
    expect(() => accuracy([1, 0], [1])).toThrow('accuracy: 2 predictions but 1 gold labels; pass one prediction per example');
    expect(() => f1([], [])).toThrow('f1: no examples');
    expect(() => matthewsCorrelation([0, 0.5], [0, 1])).toThrow('matthewsCorrelation: pred[1] = 0.5 is not a class index');
    expect(() => classificationMetrics([0, 1], [0, -1])).toThrow('gold[1] = -1 is not a class index');
  });
});

const labelPairs = (classes: number) =>
  fc.integer({ min: 1, max: 60 }).chain((n) =>
    fc.tuple(fc.array(fc.nat(classes - 1), { minLength: n, maxLength: n }), fc.array(fc.nat(classes - 1), { minLength: n, maxLength: n })),
  );

describe('properties', () => {
  it('MCC is in [-1, 1]; accuracy is the mean of equals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }).chain(labelPairs), ([pred, gold]) => {
        const mcc = matthewsCorrelation(pred, gold);
        expect(mcc).toBeGreaterThanOrEqual(-1);
        expect(mcc).toBeLessThanOrEqual(1);
        expect(accuracy(pred, gold)).toBe(pred.filter((p, i) => p === gold[i]).length / pred.length);
      }),
    );
  });

  it('a perfect prediction has MCC exactly 1 (two or more classes present); an inverted binary one exactly -1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }).chain(labelPairs), ([, gold]) => {
        if (new Set(gold).size < 2) return;
        expect(matthewsCorrelation(gold, gold)).toBe(1);
      }),
    );
    fc.assert(
      fc.property(labelPairs(2), ([, gold]) => {
        if (new Set(gold).size < 2) return;
        expect(matthewsCorrelation(gold.map((g) => 1 - g), gold)).toBe(-1);
      }),
    );
  });

  it('MCC is symmetric in pred and gold; binary MCC flips sign when one side is inverted', () => {
    fc.assert(
      fc.property(labelPairs(2), ([pred, gold]) => {
        expect(matthewsCorrelation(pred, gold)).toBeCloseTo(matthewsCorrelation(gold, pred), 12);
        expect(matthewsCorrelation(pred.map((p) => 1 - p), gold)).toBeCloseTo(-matthewsCorrelation(pred, gold), 12);
      }),
    );
  });

  it('F1: symmetric in pred and gold, in [0, 1], 1 exactly when perfect on a present positive class', () => {
    fc.assert(
      fc.property(labelPairs(2), ([pred, gold]) => {
        const score = f1(pred, gold);
        expect(f1(gold, pred)).toBe(score); // swapping swaps fp and fn, and 2tp/(2tp+fp+fn) is symmetric
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
        expect(f1(gold, gold)).toBe(gold.includes(1) ? 1 : 0);
        // F1 is the harmonic mean of precision and recall whenever both are defined
        const tp = pred.filter((p, i) => p === 1 && gold[i] === 1).length;
        const predicted = pred.filter((p) => p === 1).length;
        const actual = gold.filter((g) => g === 1).length;
        if (tp > 0) expect(score).toBeCloseTo((2 * (tp / predicted) * (tp / actual)) / (tp / predicted + tp / actual), 12);
        else expect(score).toBe(0);
      }),
    );
  });
});
