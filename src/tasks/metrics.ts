/**
 * Classification metrics over predicted and gold class indices, computed in float64 from integer
 * counts. Conventions follow scikit-learn so reported numbers compare with published ones.
 */

/** Class indices: a plain array or an Int32Array of argmax outputs. */
export type ClassLabels = ArrayLike<number>;

export interface ClassificationScores {
  accuracy: number;
  /** Binary F1 of class 1 (the positive class of SST-2, CoLA's "acceptable"). */
  f1: number;
  mcc: number;
}

function check(name: string, pred: ClassLabels, gold: ClassLabels): void {
  if (pred.length !== gold.length) {
    throw new Error(`${name}: ${pred.length} predictions but ${gold.length} gold labels; pass one prediction per example`);
  }
  if (pred.length === 0) throw new Error(`${name}: no examples; a metric over an empty set is undefined`);
  for (const [which, xs] of [['pred', pred], ['gold', gold]] as const) {
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i]!;
      if (!(Number.isInteger(v) && v >= 0)) throw new Error(`${name}: ${which}[${i}] = ${v} is not a class index (a non-negative integer)`);
    }
  }
}

/** Fraction of examples whose prediction equals the gold label. */
export function accuracy(pred: ClassLabels, gold: ClassLabels): number {
  check('accuracy', pred, gold);
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === gold[i]) correct++;
  return correct / pred.length;
}

/**
 * Binary F1 of the class `positive`: 2 tp / (2 tp + fp + fn), the harmonic mean of precision and
 * recall. When there are no predicted and no gold positives (tp + fp + fn = 0) the ratio is 0/0;
 * we return 0, as scikit-learn does (it also warns), so a model that never meets the class scores 0.
 * Every other class counts as negative.
 */
export function f1(pred: ClassLabels, gold: ClassLabels, positive = 1): number {
  check('f1', pred, gold);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] === positive;
    const g = gold[i] === positive;
    if (p && g) tp++;
    else if (p) fp++;
    else if (g) fn++;
  }
  const denominator = 2 * tp + fp + fn;
  return denominator === 0 ? 0 : (2 * tp) / denominator;
}

/**
 * Matthews correlation coefficient, for any number of classes (Gorodkin's R_K, scikit-learn's
 * formula). With n examples, c correct, t_k gold and p_k predicted counts of class k:
 *
 *   MCC = (c n - sum_k p_k t_k) / sqrt((n^2 - sum_k p_k^2) (n^2 - sum_k t_k^2))
 *
 * For two classes this is the familiar (tp tn - fp fn) / sqrt(...). It is 0 when the denominator is
 * 0, i.e. when the predictions or the gold labels are all one class (as scikit-learn returns).
 * The counts are integers, exact in float64 up to n ~ 9e7; sqrt(x * x) = x exactly in IEEE
 * arithmetic, so a perfect prediction gives exactly 1 and an inverted binary one exactly -1.
 */
export function matthewsCorrelation(pred: ClassLabels, gold: ClassLabels): number {
  check('matthewsCorrelation', pred, gold);
  const predicted = new Map<number, number>();
  const actual = new Map<number, number>();
  let correct = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i]!;
    const g = gold[i]!;
    predicted.set(p, (predicted.get(p) ?? 0) + 1);
    actual.set(g, (actual.get(g) ?? 0) + 1);
    if (p === g) correct++;
  }
  const n = pred.length;
  let pt = 0;
  let pp = 0;
  let tt = 0;
  for (const [k, pk] of predicted) {
    pt += pk * (actual.get(k) ?? 0);
    pp += pk * pk;
  }
  for (const tk of actual.values()) tt += tk * tk;
  const denominator = Math.sqrt((n * n - pp) * (n * n - tt));
  if (denominator === 0) return 0;
  // clamp: the quotient can leave [-1, 1] by an ulp for large n
  return Math.max(-1, Math.min(1, (correct * n - pt) / denominator));
}

/** Accuracy, binary F1 of class 1 and MCC in one call (what an evaluation logs). */
export function classificationMetrics(pred: ClassLabels, gold: ClassLabels): ClassificationScores {
  return { accuracy: accuracy(pred, gold), f1: f1(pred, gold), mcc: matthewsCorrelation(pred, gold) };
}
