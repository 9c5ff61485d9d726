/**
 * Anomaly-detection scoring as the TimesNet protocol (used by GPT4TS and One-for-All) does it:
 * each step's score is the model's reconstruction error; the threshold is the (100 - ratio)
 * percentile of reference scores, `ratio` being the expected percentage of anomalies (TimesNet's
 * `anomaly_ratio`, e.g. 1 for SMD/SWaT, 0.5 for PSM); steps above it are predicted anomalous; then
 * point adjustment: when any step of a true anomalous segment is detected, the whole segment counts
 * as detected. Precision, recall and F1 are then computed on the adjusted predictions.
 *
 * TimesNet's code takes the reference scores from the training and test sets together; we take
 * whatever the caller passes (validation errors by default in our task), so the threshold never sees
 * the test set. Pass the train + test scores to reproduce the published protocol exactly.
 */

/** The q-th percentile (0..100) with linear interpolation between order statistics (numpy's default). */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new Error('percentile: no values');
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile: q = ${q} must be in [0, 100]`);
  const s = Float64Array.from(values).sort();
  const pos = (q / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (pos - lo) * (s[hi] - s[lo]);
}

/** Threshold at which about `ratio` percent of the reference scores are anomalous: percentile(scores, 100 - ratio). */
export function thresholdByRatio(referenceScores: ArrayLike<number>, ratio: number): number {
  if (!(ratio > 0 && ratio < 100)) throw new Error(`thresholdByRatio: ratio = ${ratio} must be a percentage in (0, 100)`);
  return percentile(referenceScores, 100 - ratio);
}

/** 1 where score > threshold. */
export function detect(scores: ArrayLike<number>, threshold: number): Uint8Array {
  return Uint8Array.from(scores as ArrayLike<number>, (s) => (s > threshold ? 1 : 0));
}

/** Point adjustment: a true segment with at least one detected step becomes detected in full. Returns a copy. */
export function pointAdjust(pred: ArrayLike<number>, gold: ArrayLike<number>): Uint8Array {
  if (pred.length !== gold.length) throw new Error(`pointAdjust: ${pred.length} predictions but ${gold.length} labels`);
  const out = Uint8Array.from(pred as ArrayLike<number>, (p) => (p ? 1 : 0));
  for (let i = 0; i < gold.length;) {
    if (!gold[i]) {
      i++;
      continue;
    }
    let j = i;
    let hit = false;
    for (; j < gold.length && gold[j]; j++) if (out[j]) hit = true;
    if (hit) out.fill(1, i, j);
    i = j;
  }
  return out;
}

export interface DetectionScores {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Binary scores with 1 = anomaly the positive class; 0/0 ratios are 0 (sklearn's zero_division=0). */
export function detectionScores(pred: ArrayLike<number>, gold: ArrayLike<number>): DetectionScores {
  if (pred.length !== gold.length) throw new Error(`detectionScores: ${pred.length} predictions but ${gold.length} labels`);
  if (pred.length === 0) throw new Error('detectionScores: no labels');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] ? 1 : 0;
    const g = gold[i] ? 1 : 0;
    if (p === g) correct++;
    if (p && g) tp++;
    else if (p) fp++;
    else if (g) fn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { accuracy: correct / pred.length, precision, recall, f1 };
}

/** The whole protocol: threshold from reference scores by ratio, detection, point adjustment, scores. */
export function pointAdjustedScores(testScores: ArrayLike<number>, gold: ArrayLike<number>, referenceScores: ArrayLike<number>, ratio: number): DetectionScores & { threshold: number } {
  const threshold = thresholdByRatio(referenceScores, ratio);
  return { threshold, ...detectionScores(pointAdjust(detect(testScores, threshold), gold), gold) };
}
