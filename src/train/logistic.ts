/**
 * Binary L2-regularised logistic regression on the host (float64), for linear probes and the
 * bag-of-words baseline: minimises, as scikit-learn's LogisticRegression(C) does,
 *
 *   (1/2)||w||^2 + C * sum_i log(1 + exp(-s_i (w . x_i + b))),   s_i = +1 / -1, b unpenalised,
 *
 * with L-BFGS (a convex smooth problem, so it converges to the unique optimum). Features come as a
 * `Design`: dense rows or sparse binary rows (word presence), both only used through X w and X^T r.
 */

/** The feature matrix X (n x d), accessed only through products. */
export interface Design {
  readonly rows: number;
  readonly cols: number;
  /** out[i] = x_i . w */
  mul(w: Float64Array, out: Float64Array): void;
  /** out[j] = sum_i r[i] x_ij */
  mulT(r: Float64Array, out: Float64Array): void;
}

/** Dense rows (row-major n x d). */
export class DenseDesign implements Design {
  constructor(readonly data: Float64Array, readonly rows: number, readonly cols: number) {
    if (data.length !== rows * cols) throw new Error(`DenseDesign: ${data.length} values for ${rows} x ${cols}`);
  }
  mul(w: Float64Array, out: Float64Array): void {
    const { data, cols } = this;
    for (let i = 0; i < this.rows; i++) {
      let s = 0;
      for (let j = 0, o = i * cols; j < cols; j++) s += data[o + j]! * w[j]!;
      out[i] = s;
    }
  }
  mulT(r: Float64Array, out: Float64Array): void {
    const { data, cols } = this;
    out.fill(0);
    for (let i = 0; i < this.rows; i++) {
      const ri = r[i]!;
      if (ri === 0) continue;
      for (let j = 0, o = i * cols; j < cols; j++) out[j]! += ri * data[o + j]!;
    }
  }
}

/** Binary rows given by the column indices that are 1 (bag of words: the words present). */
export class BinaryDesign implements Design {
  readonly rows: number;
  constructor(readonly active: readonly (readonly number[])[], readonly cols: number) {
    this.rows = active.length;
    for (const row of active) for (const j of row) if (!(Number.isInteger(j) && j >= 0 && j < cols)) throw new Error(`BinaryDesign: column ${j} outside [0, ${cols})`);
  }
  mul(w: Float64Array, out: Float64Array): void {
    for (let i = 0; i < this.rows; i++) {
      let s = 0;
      for (const j of this.active[i]!) s += w[j]!;
      out[i] = s;
    }
  }
  mulT(r: Float64Array, out: Float64Array): void {
    out.fill(0);
    for (let i = 0; i < this.rows; i++) for (const j of this.active[i]!) out[j]! += r[i]!;
  }
}

export interface LogisticOptions {
  /** Inverse regularisation strength (scikit-learn's C; default 1). */
  C?: number;
  /** Iteration cap (default 500). */
  maxIter?: number;
  /** Stop when the gradient's max-norm falls below this (default 1e-6 relative to the starting one). */
  tol?: number;
}

export interface LogisticModel {
  w: Float64Array;
  b: number;
  iterations: number;
}

const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Fits w, b to labels in {0, 1}. */
export function fitLogistic(X: Design, labels: ArrayLike<number>, opts: LogisticOptions = {}): LogisticModel {
  const C = opts.C ?? 1;
  if (!(C > 0)) throw new Error(`fitLogistic: C = ${C} must be > 0`);
  const n = X.rows;
  const d = X.cols;
  if (labels.length !== n) throw new Error(`fitLogistic: ${labels.length} labels for ${n} rows`);
  const s = Float64Array.from({ length: n }, (_, i) => {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new Error(`fitLogistic: label ${y} at ${i} must be 0 or 1`);
    return y === 1 ? 1 : -1;
  });
  const m = d + 1; // parameters: w then b
  const z = new Float64Array(n);
  const r = new Float64Array(n);
  const gw = new Float64Array(d);
  // f and its gradient at theta = (w, b)
  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    const w = theta.subarray(0, d);
    const b = theta[d]!;
    X.mul(w, z);
    let f = 0;
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const margin = s[i]! * (z[i]! + b);
      f += C * softplus(-margin);
      r[i] = -C * s[i]! * sigmoid(-margin);
      gb += r[i]!;
    }
    X.mulT(r, gw);
    for (let j = 0; j < d; j++) {
      f += 0.5 * w[j]! * w[j]!;
      grad[j] = gw[j]! + w[j]!;
    }
    grad[d] = gb;
    return f;
  };
  const theta = new Float64Array(m);
  const iters = lbfgs(evaluate, theta, opts.maxIter ?? 500, opts.tol ?? 1e-6);
  return { w: theta.slice(0, d), b: theta[d]!, iterations: iters };
}

/** Predicted labels (score > 0) of a design under a fitted model. */
export function predictLogistic(X: Design, model: LogisticModel): Int32Array {
  const z = new Float64Array(X.rows);
  X.mul(model.w, z);
  return Int32Array.from(z, (v) => (v + model.b > 0 ? 1 : 0));
}

/** Limited-memory BFGS (history 10) with a backtracking Armijo line search; minimises in place. Returns the iterations used. */
function lbfgs(f: (x: Float64Array, g: Float64Array) => number, x: Float64Array, maxIter: number, tol: number): number {
  const m = x.length;
  const H = 10;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  let g = new Float64Array(m);
  let fx = f(x, g);
  const g0 = Math.max(1e-12, maxAbs(g));
  const dir = new Float64Array(m);
  const xNew = new Float64Array(m);
  let gNew = new Float64Array(m);
  const alpha = new Float64Array(H);
  let it = 0;
  for (; it < maxIter; it++) {
    if (maxAbs(g) <= tol * g0) break;
    // two-loop recursion: dir = -H g
    for (let j = 0; j < m; j++) dir[j] = -g[j]!;
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k]! * dotv(S[k]!, dir);
      axpyv(-alpha[k]!, Y[k]!, dir);
    }
    if (S.length) {
      const last = S.length - 1;
      const gamma = dotv(S[last]!, Y[last]!) / dotv(Y[last]!, Y[last]!);
      for (let j = 0; j < m; j++) dir[j]! *= gamma;
    } else {
      const scale = 1 / Math.max(1, Math.sqrt(dotv(g, g)));
      for (let j = 0; j < m; j++) dir[j]! *= scale;
    }
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k]! * dotv(Y[k]!, dir);
      axpyv(alpha[k]! - beta, S[k]!, dir);
    }
    let slope = dotv(g, dir);
    if (!(slope < 0)) {
      // not a descent direction (numerical trouble): restart from steepest descent
      S.length = Y.length = rho.length = 0;
      for (let j = 0; j < m; j++) dir[j] = -g[j]!;
      slope = dotv(g, dir);
    }
    let step = 1;
    let fNew = NaN;
    for (let ls = 0; ls < 40; ls++) {
      for (let j = 0; j < m; j++) xNew[j] = x[j]! + step * dir[j]!;
      fNew = f(xNew, gNew);
      if (fNew <= fx + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew <= fx)) break; // no progress possible at float64 precision
    const sv = new Float64Array(m);
    const yv = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      sv[j] = xNew[j]! - x[j]!;
      yv[j] = gNew[j]! - g[j]!;
    }
    const sy = dotv(sv, yv);
    if (sy > 1e-12) {
      if (S.length === H) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(sv);
      Y.push(yv);
      rho.push(1 / sy);
    }
    x.set(xNew);
    [g, gNew] = [gNew, g];
    const converged = Math.abs(fx - fNew) <= 1e-12 * Math.max(1, Math.abs(fx));
    fx = fNew;
    if (converged) {
      it++;
      break;
    }
  }
  return it;
}

function dotv(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function axpyv(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += alpha * x[i]!;
}

function maxAbs(a: Float64Array): number {
  let mx = 0;
  for (let i = 0; i < a.length; i++) mx = Math.max(mx, Math.abs(a[i]!));
  return mx;
}
