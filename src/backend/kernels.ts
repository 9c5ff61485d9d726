/**
 * The kernel contract every backend implements.
 *
 * A backend owns storage ({@link Buf} handles) and runs kernels on it. The pure-TypeScript reference
 * backend is the oracle; the WebAssembly backend runs the same contract on pointers into one
 * `WebAssembly.Memory`. Kernels never allocate tensor storage and never copy their inputs: the
 * caller (the op layer) allocates every output and passes it in.
 *
 * Conventions for every kernel:
 * - All tensors are dense row-major; sizes are element counts, never bytes.
 * - Float buffers hold f32 (WASM) or f32/f64 (reference); index buffers (`kind: 'i'`) hold int32.
 * - Elementwise kernels (`unary`, `unaryGrad`, `binary` with equal shapes, `where`, `scale`,
 *   `axpy`) allow `out` to alias an input exactly (same buffer, same offset). No other aliasing is allowed.
 * - Kernels that say "writes" overwrite their outputs; kernels that say "accumulates" add into them.
 */
import type { MemoryBreakdown, MemoryCategory } from './memory.js';

/** Opaque storage handle. `size` is the element count; `kind` is 'f' (float) or 'i' (int32). */
export interface Buf {
  readonly size: number;
  readonly kind: 'f' | 'i';
}

export const UNARY_OPS = [
  'neg', 'exp', 'log', 'sqrt', 'abs', 'tanh', 'sigmoid', 'relu',
  'gelu_tanh', 'gelu_erf', 'softplus', 'square', 'recip', 'sign',
] as const;
/**
 * Unary elementwise functions.
 * - gelu_tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (HF `gelu_new`)
 * - gelu_erf:  0.5 x (1 + erf(x / sqrt(2)))                        (exact GELU)
 * - softplus:  log(1 + exp(x)), computed stably as max(x, 0) + log1p(exp(-|x|))
 * - sign: -1, 0 or 1; recip: 1 / x; square: x * x
 */
export type UnaryOp = (typeof UNARY_OPS)[number];

export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'eq', 'gt'] as const;
/** Binary elementwise functions. eq and gt produce 1 or 0. pow is Math.pow semantics. */
export type BinaryOp = (typeof BINARY_OPS)[number];

export type ReduceOp = 'sum' | 'max';

/** Up to this many dimensions are passed to strided kernels (after the caller coalesces dims). */
export const MAX_RANK = 8;

export interface Kernels {
  /** Writes `value` to every element of `out`. */
  fill(out: Buf, value: number): void;

  /** Writes out[i] = f(x[i]) for i < n. */
  unary(op: UnaryOp, x: Buf, out: Buf, n: number): void;

  /**
   * Writes the input gradient of a unary op: dx[i] = dy[i] * f'(x[i]).
   * `y` is the forward output f(x) (kernels may use x or y, whichever is cheaper; both are valid).
   * sign's and relu's derivative at 0 is 0; abs'(0) = 0.
   */
  unaryGrad(op: UnaryOp, x: Buf, y: Buf, dy: Buf, dx: Buf, n: number): void;

  /**
   * Broadcast binary op over `shape` (rank <= MAX_RANK):
   * out[idx] = a[sum(idx[d] * aStrides[d])] op b[sum(idx[d] * bStrides[d])] (pass views for offsets),
   * with `out` contiguous of shape `shape`. A broadcast dim has stride 0.
   * Backends take fast paths for equal contiguous shapes, a scalar operand and a broadcast row.
   */
  binary(
    op: BinaryOp, a: Buf, aStrides: readonly number[], b: Buf, bStrides: readonly number[],
    out: Buf, shape: readonly number[],
  ): void;

  /** y[i] = alpha * x[i] + y[i] for i < n (accumulates; used for gradient accumulation). */
  axpy(alpha: number, x: Buf, y: Buf, n: number): void;

  /** Writes out[i] = alpha * x[i] for i < n. */
  scale(alpha: number, x: Buf, out: Buf, n: number): void;

  /** Writes out[i] = cond[i] != 0 ? a[i] : b[i] for i < n (all same length). */
  where(cond: Buf, a: Buf, b: Buf, out: Buf, n: number): void;

  /**
   * x viewed as (outer, r, inner): writes out[o * inner + i] = op_{j<r} x[(o * r + j) * inner + i].
   * r may be 0 only for 'sum' (gives 0).
   */
  reduce(op: ReduceOp, x: Buf, out: Buf, outer: number, r: number, inner: number): void;

  /** Returns sum_i x[i]^2 for i < n, accumulated in float64. */
  sumSquares(x: Buf, n: number): number;

  /**
   * Strided copy over `shape` (rank <= MAX_RANK):
   * dst[dstOffset + sum(idx*dstStrides)] (= or +=) src[srcOffset + sum(idx*srcStrides)].
   * Used for permute, slice, slice backward, concat, stack and broadcast expansion.
   * Destination positions must not repeat (no zero dst strides) unless accumulate is set and that is intended.
   * Also used on int32 buffers (src and dst both kind 'i') with accumulate = false: values are copied exactly.
   */
  copyStrided(
    src: Buf, srcOffset: number, srcStrides: readonly number[],
    dst: Buf, dstOffset: number, dstStrides: readonly number[],
    shape: readonly number[], accumulate: boolean,
  ): void;

  /**
   * Matrix multiply, batched: for each batch index t < batch,
   * C_t (=, or += when accumulate) op(A_t) @ op(B_t), where
   * op(A_t) is (M, K): A_t stored (M, K) row-major, or (K, M) when transA;
   * op(B_t) is (K, N): B_t stored (K, N), or (N, K) when transB;
   * C_t stored (M, N). A_t starts at aOffset + t * strideA (elements); likewise B and C.
   * A stride of 0 broadcasts an operand over the batch. K may be 0 (C = 0 or unchanged).
   */
  matmul(
    a: Buf, aOffset: number, b: Buf, bOffset: number, c: Buf, cOffset: number,
    M: number, N: number, K: number, transA: boolean, transB: boolean,
    batch: number, strideA: number, strideB: number, strideC: number, accumulate: boolean,
  ): void;

  /** Row softmax over the last dim: x, out are (rows, cols). */
  softmax(x: Buf, out: Buf, rows: number, cols: number): void;
  /** dx = y * (dy - sum_j dy_j y_j) per row, where y = softmax(x). */
  softmaxBackward(y: Buf, dy: Buf, dx: Buf, rows: number, cols: number): void;
  /**
   * Attention weights from raw scores, without a materialised mask. x and out are (B, H, Tq, Tk)
   * with B = batch, H = heads, Tq = queryLen, Tk = keyLen; per row, out = softmax_j(s_j) with
   * s_j = scale * x_j where key j is allowed and -1e9 where it is blocked. Key j is blocked for query
   * i of batch b when keep[b, j] == 0 (keep (B, Tk), float or int32; null = no padding) or when
   * `causal` and j > (Tk - Tq) + i (the first Tk - Tq keys are cached ones every query sees).
   * Equal, bit for bit, to scaling, replacing blocked scores and a softmax done separately; a row
   * with every key blocked comes out uniform.
   */
  attentionSoftmax(
    x: Buf, keep: Buf | null, out: Buf, batch: number, heads: number, queryLen: number, keyLen: number,
    scale: number, causal: boolean,
  ): void;
  /** dx = scale * y * (dy - sum_j dy_j y_j) at allowed keys, 0 at blocked ones (arguments as attentionSoftmax). */
  attentionSoftmaxBackward(
    y: Buf, dy: Buf, dx: Buf, keep: Buf | null, batch: number, heads: number, queryLen: number, keyLen: number,
    scale: number, causal: boolean,
  ): void;
  /** Row log-softmax: out = x - logsumexp(x). */
  logSoftmax(x: Buf, out: Buf, rows: number, cols: number): void;
  /** dx = dy - exp(y) * sum_j dy_j per row, where y = logSoftmax(x). */
  logSoftmaxBackward(y: Buf, dy: Buf, dx: Buf, rows: number, cols: number): void;

  /**
   * Cross-entropy per row from logits (rows, cols) and int32 targets (rows).
   * Writes loss[r] = -((1 - s) * logp[r, t] + (s / cols) * sum_c logp[r, c]) with s = smoothing,
   * and lse[r] = logsumexp(logits[r]); rows whose target equals ignoreIndex get loss 0.
   * Returns the number of non-ignored rows. Targets outside [0, cols) that are not ignoreIndex
   * are an error: the kernel returns -1 - r for the first bad row r (and its outputs are unspecified).
   */
  crossEntropy(
    logits: Buf, targets: Buf, loss: Buf, lse: Buf, rows: number, cols: number,
    ignoreIndex: number, smoothing: number,
  ): number;
  /**
   * Writes dlogits[r, c] = dloss[r] * (softmax[r, c] - (1 - s) * [c == t] - s / cols),
   * 0 for ignored rows. `lse` is from the forward.
   */
  crossEntropyBackward(
    logits: Buf, targets: Buf, lse: Buf, dloss: Buf, dlogits: Buf, rows: number, cols: number,
    ignoreIndex: number, smoothing: number,
  ): void;

  /**
   * Layer norm over the last dim of x (rows, cols):
   * mean[r], rstd[r] = 1 / sqrt(var[r] + eps) (biased variance), y = (x - mean) * rstd * gamma + beta.
   * gamma and beta are (cols); either may be null (then 1 and 0).
   */
  layerNorm(
    x: Buf, gamma: Buf | null, beta: Buf | null, y: Buf, mean: Buf, rstd: Buf,
    rows: number, cols: number, eps: number,
  ): void;
  /**
   * Writes dx (rows, cols); writes dgamma and dbeta (cols) when they are not null.
   * xhat = (x - mean) * rstd; dxhat = dy * gamma;
   * dx = rstd * (dxhat - mean_j(dxhat) - xhat * mean_j(dxhat * xhat));
   * dgamma = sum_r dy * xhat; dbeta = sum_r dy.
   */
  layerNormBackward(
    x: Buf, gamma: Buf | null, mean: Buf, rstd: Buf, dy: Buf,
    dx: Buf, dgamma: Buf | null, dbeta: Buf | null, rows: number, cols: number,
  ): void;

  /**
   * Grouped scale/shift: x and y are (rows, D); groupMap is int32 (D) with values in [0, K);
   * gamma, beta are (K). Writes y[r, i] = (x[r, i] - beta[g(i)]) / gamma[g(i)].
   * `scratch` is a float buffer of at least 2 * D elements the kernel may overwrite.
   */
  groupedScaleShift(
    x: Buf, groupMap: Buf, gamma: Buf, beta: Buf, y: Buf, rows: number, D: number, K: number,
    scratch: Buf,
  ): void;
  /**
   * Writes dx[r, i] = dy[r, i] / gamma[g(i)];
   * dgamma[k] = -sum_{r, i: g(i)=k} dy[r, i] * (x[r, i] - beta[k]) / gamma[k]^2;
   * dbeta[k] = -sum_{r, i: g(i)=k} dy[r, i] / gamma[k].
   * `scratch` is a float buffer of at least 4 * D elements the kernel may overwrite.
   */
  groupedScaleShiftBackward(
    x: Buf, groupMap: Buf, gamma: Buf, beta: Buf, dy: Buf, dx: Buf, dgamma: Buf, dbeta: Buf,
    rows: number, D: number, K: number, scratch: Buf,
  ): void;

  /**
   * Gaussian reparameterized sampling: writes eps[i] = normal(seed, counter + i) (see rng.ts,
   * bit-identical across backends) and out[i] = mu[i] + sigma[i] * eps[i], i < n.
   * seed is a uint32 pair (seedLo, seedHi); counter a non-negative integer < 2^32.
   */
  gaussianSample(
    mu: Buf, sigma: Buf, eps: Buf, out: Buf, n: number, seedLo: number, seedHi: number, counter: number,
  ): void;
  /** Writes dmu[i] = dy[i] and dsigma[i] = dy[i] * eps[i]. */
  gaussianSampleBackward(eps: Buf, dy: Buf, dmu: Buf, dsigma: Buf, n: number): void;
  /** Writes out[i] = normal(seed, counter + i) (the same stream gaussianSample uses). */
  randn(out: Buf, n: number, seedLo: number, seedHi: number, counter: number): void;
  /** Writes out[i] = uniform(seed, counter + i) in (0, 1) (see rng.ts). */
  randu(out: Buf, n: number, seedLo: number, seedHi: number, counter: number): void;
  /** Writes mask[i] = keep ? 1 / (1 - p) : 0, keep iff uniform(seed, counter + i) >= p. */
  dropoutMask(out: Buf, n: number, p: number, seedLo: number, seedHi: number, counter: number): void;

  /** Writes out[r, :] = table[ids[r], :] for r < n; table is (rows, dim). Ids must be in range (checked by the caller). */
  gatherRows(table: Buf, ids: Buf, out: Buf, n: number, dim: number): void;
  /** Accumulates dtable[ids[r], :] += dout[r, :] for r < n (repeated ids add up). */
  scatterAddRows(dout: Buf, ids: Buf, dtable: Buf, n: number, dim: number): void;
  /** Writes out (n, classes) = one-hot of int32 ids (n); ids outside [0, classes) give a zero row. */
  oneHot(ids: Buf, out: Buf, n: number, classes: number): void;

  /**
   * AdamW step (decoupled weight decay, bias-corrected), for i < n:
   * p -= lr * wd * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
   * p -= lr * (m / bc1) / (sqrt(v / bc2) + eps), where bc1 = 1 - b1^t, bc2 = 1 - b2^t.
   */
  adamw(
    p: Buf, g: Buf, m: Buf, v: Buf, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, bc1: number, bc2: number,
  ): void;
  /**
   * SGD step with optional momentum (PyTorch semantics), for i < n:
   * g' = g + wd * p; if momentum: buf = momentum * buf + (1 - dampening) * g' (buf = g' on first step,
   * signalled by firstStep), g' = nesterov ? g' + momentum * buf : buf; p -= lr * g'.
   * `buf` may be null when momentum is 0.
   */
  sgd(
    p: Buf, g: Buf, buf: Buf | null, n: number, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: boolean, firstStep: boolean,
  ): void;
}

/** Storage management a backend adds to its kernels. */
export interface Backend extends Kernels {
  /** 'reference' or 'wasm'. */
  readonly name: string;
  /** Precision of float buffers. */
  readonly dtype: 'float32' | 'float64';
  /** Which binary the backend runs, e.g. 'simd', 'relaxed-simd', 'scalar', 'ts'. */
  readonly variant: string;
  /** Allocates an uninitialised buffer of `size` elements. */
  alloc(size: number, kind: 'f' | 'i'): Buf;
  /** Returns a buffer's storage to the backend. Views made with `view` must not be freed. */
  free(buf: Buf): void;
  /** A window of `size` elements starting at `offset` into `buf`, without a copy. Never freed. */
  view(buf: Buf, offset: number, size: number): Buf;
  /** Copies the buffer out (Float32Array / Float64Array for floats, Int32Array for ints). */
  read(buf: Buf): Float32Array | Float64Array | Int32Array;
  /** Copies `data` into the buffer (lengths must match). */
  write(buf: Buf, data: ArrayLike<number>): void;
  /** Bytes currently held by live (not freed) buffers. */
  liveBytes(): number;
  /** The most bytes live at once since creation or the last {@link resetPeak} (training-memory reports). */
  peakBytes(): number;
  /** Starts a new peak measurement from the bytes live now. */
  resetPeak(): void;
  /** The bytes live per category (parameters, gradients, optimizer, activations) at the instant of the last peak (memory.ts). */
  peakBreakdown(): MemoryBreakdown;
  /** Sets the category later allocations count under; returns the previous one (restore it in a finally). */
  setMemoryCategory(category: MemoryCategory): MemoryCategory;
  /** Counts a live (non-view) buffer under `category` from now on (a parameter created before training). */
  tagMemory(buf: Buf, category: MemoryCategory): void;
}
