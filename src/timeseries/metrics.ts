/**
 * Forecast metrics as the long-term (Informer/GPT4TS) and M4 short-term protocols define them.
 * Long-term: MSE and MAE over every forecast value, on standardised data. M4: sMAPE and MASE per
 * series, averaged over series, and OWA relative to Naive2.
 */

function checkPair(name: string, y: ArrayLike<number>, yhat: ArrayLike<number>): void {
  if (y.length !== yhat.length) throw new Error(`${name}: ${y.length} true values but ${yhat.length} forecasts; pass equal lengths`);
  if (y.length === 0) throw new Error(`${name}: no values; pass at least one`);
}

/** mean (y - yhat)^2 */
export function mse(y: ArrayLike<number>, yhat: ArrayLike<number>): number {
  checkPair('mse', y, yhat);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] - yhat[i]) ** 2;
  return s / y.length;
}

/** mean |y - yhat| */
export function mae(y: ArrayLike<number>, yhat: ArrayLike<number>): number {
  checkPair('mae', y, yhat);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += Math.abs(y[i] - yhat[i]);
  return s / y.length;
}

/** sMAPE = 200/N sum |y - yhat| / (|y| + |yhat|), in percent; a step where y = yhat = 0 contributes 0. */
export function smape(y: ArrayLike<number>, yhat: ArrayLike<number>): number {
  checkPair('smape', y, yhat);
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const d = Math.abs(y[i]) + Math.abs(yhat[i]);
    if (d > 0) s += Math.abs(y[i] - yhat[i]) / d;
  }
  return (200 * s) / y.length;
}

/**
 * MASE = mean |y - yhat| / mean_{t >= m} |x_t - x_{t-m}|, the scale being the in-sample error of the
 * seasonal naive forecast with period m (m = 1: the naive forecast). `insample` is the history.
 */
export function mase(insample: ArrayLike<number>, y: ArrayLike<number>, yhat: ArrayLike<number>, m = 1): number {
  checkPair('mase', y, yhat);
  if (!(Number.isInteger(m) && m >= 1)) throw new Error(`mase: period m = ${m} must be a positive integer`);
  if (insample.length <= m) throw new Error(`mase: the history has ${insample.length} steps; the seasonal scale needs more than m = ${m}`);
  let scale = 0;
  for (let t = m; t < insample.length; t++) scale += Math.abs(insample[t] - insample[t - m]);
  scale /= insample.length - m;
  if (scale === 0) throw new Error('mase: the history is constant at lag m, so the scale is 0 and MASE is undefined');
  return mae(y, yhat) / scale;
}

/** The seasonal naive forecast: step h repeats x[n - m + (h mod m)]. */
export function seasonalNaive(insample: ArrayLike<number>, horizon: number, m = 1): Float64Array {
  if (insample.length < m) throw new Error(`seasonalNaive: the history has ${insample.length} steps, fewer than one season m = ${m}`);
  const n = insample.length;
  return Float64Array.from({ length: horizon }, (_, h) => insample[n - m + (h % m)]);
}

/** Autocorrelation at lag k: sum (x_t - mean)(x_{t+k} - mean) / sum (x_t - mean)^2 (M4's definition). */
export function acf(x: ArrayLike<number>, k: number): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += x[i];
  m /= x.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) den += (x[i] - m) ** 2;
  for (let i = 0; i + k < x.length; i++) num += (x[i] - m) * (x[i + k] - m);
  return den === 0 ? 0 : num / den;
}

/**
 * M4's seasonality test: with n >= 3m, the series is seasonal when
 * |acf(m)| > 1.645 sqrt((1 + 2 sum_{k=1}^{m-1} acf(k)^2) / n)  (90% one-sided).
 */
export function isSeasonal(x: ArrayLike<number>, m: number): boolean {
  if (m <= 1 || x.length < 3 * m) return false;
  let s = 0;
  for (let k = 1; k < m; k++) s += acf(x, k) ** 2;
  return Math.abs(acf(x, m)) > 1.645 * Math.sqrt((1 + 2 * s) / x.length);
}

/**
 * Multiplicative seasonal indices of period m (classical decomposition): a centred moving average
 * (2 x m for even m) as the trend, the mean ratio x / trend per position in the cycle, normalised to
 * average 1. index[i] belongs to steps t with t mod m = i.
 */
export function seasonalIndices(x: ArrayLike<number>, m: number): Float64Array {
  const n = x.length;
  const half = Math.floor(m / 2);
  const sums = new Float64Array(m);
  const counts = new Float64Array(m);
  for (let t = half; t < n - half; t++) {
    let tr = 0;
    if (m % 2 === 1) {
      for (let j = -half; j <= half; j++) tr += x[t + j];
      tr /= m;
    } else {
      tr = 0.5 * x[t - half] + 0.5 * x[t + half];
      for (let j = -half + 1; j < half; j++) tr += x[t + j];
      tr /= m;
    }
    sums[t % m] += x[t] / tr;
    counts[t % m] += 1;
  }
  const idx = Float64Array.from(sums, (s, i) => (counts[i] > 0 ? s / counts[i] : 1));
  const avg = idx.reduce((a, b) => a + b, 0) / m;
  return idx.map((v) => v / avg);
}

/**
 * Naive2, M4's benchmark: when {@link isSeasonal} holds, divide the history by the multiplicative
 * seasonal indices, repeat its last value over the horizon and multiply by the indices the future
 * steps fall on; otherwise the plain naive forecast (repeat the last value).
 */
export function naive2(insample: ArrayLike<number>, horizon: number, m = 1): Float64Array {
  const n = insample.length;
  if (n === 0) throw new Error('naive2: the history is empty');
  if (!isSeasonal(insample, m)) return Float64Array.from({ length: horizon }, () => insample[n - 1]);
  const si = seasonalIndices(insample, m);
  const last = insample[n - 1] / si[(n - 1) % m];
  return Float64Array.from({ length: horizon }, (_, h) => last * si[(n + h) % m]);
}

/**
 * OWA = (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2, each term the average over all series of the
 * method's and of Naive2's scores (M4's overall weighted average; 1 = as good as Naive2).
 */
export function owa(s: { smape: number; mase: number }, naive: { smape: number; mase: number }): number {
  if (!(naive.smape > 0 && naive.mase > 0)) throw new Error(`owa: Naive2's sMAPE ${naive.smape} and MASE ${naive.mase} must be > 0`);
  return (s.smape / naive.smape + s.mase / naive.mase) / 2;
}
