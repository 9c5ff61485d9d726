/**
 * Scalar math of the reference backend: erf/erfc to near float64 precision and every unary op with
 * its derivative. Everything here is float64; rounding to float32 happens only at the store.
 */
import type { UnaryOp } from '../kernels.js';

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2 / sqrt(pi)
const INV_SQRT_PI = 0.5641895835477563; // 1 / sqrt(pi)
const INV_SQRT_2PI = 0.3989422804014327; // 1 / sqrt(2 pi)
const SQRT_2_OVER_PI = 0.7978845608028654; // sqrt(2 / pi)
const GELU_C = 0.044715;

/**
 * Branches by |x|: the Maclaurin series below SERIES_LIMIT, a positive-term series up to CF_LIMIT,
 * and Laplace's continued fraction for erfc from there on.
 */
const SERIES_LIMIT = 0.5;
const CF_LIMIT = 1;

/**
 * exp(-x^2) without the error of rounding x^2 first: for x near 5 that rounding alone would be a
 * relative error of ~25 ulp in the result. x = hi + lo with hi having 24 significant bits, so hi^2
 * is exact and x^2 = hi^2 + lo (x + hi) with a tiny, accurately computed correction.
 */
function expNegSquare(x: number): number {
  const hi = Math.fround(x);
  const lo = x - hi;
  return Math.exp(-hi * hi) * Math.exp(-lo * (x + hi));
}

/** erf for |x| < SERIES_LIMIT: Maclaurin series; terms fall by > 4x each, so cancellation is mild. */
function erfSmall(x: number): number {
  const x2 = x * x;
  let power = x; // (-1)^n x^(2n+1) / n!
  let sum = x;
  for (let n = 1; n < 40; n++) {
    power *= -x2 / n;
    const term = power / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

/**
 * erf for SERIES_LIMIT <= x < CF_LIMIT: erf(x) = 2/sqrt(pi) exp(-x^2) sum_n x (2x^2)^n / (2n+1)!!.
 * All terms are positive, so unlike the Maclaurin series nothing cancels at larger x.
 */
function erfMid(x: number): number {
  const x2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (term <= 1e-17 * sum) break;
  }
  return TWO_OVER_SQRT_PI * expNegSquare(x) * sum;
}

/**
 * erfc for x >= CF_LIMIT from Laplace's continued fraction
 *   erfc(x) = exp(-x^2) / sqrt(pi) * 1 / (x + (1/2) / (x + (2/2) / (x + (3/2) / (x + ...)))),
 * evaluated backward from a fixed depth: unlike forward (Lentz) evaluation, whose rounding errors
 * accumulate over the iterations, the backward recurrence is stable and lands within a few ulp. The
 * fraction converges faster as x grows; depth 300 / x^2 + 12 reaches float64 precision for x >= 1.
 */
function erfcLarge(x: number): number {
  if (x > 27.3) return 0; // erfc(27.3) < 2^-1074: underflows
  const depth = Math.ceil(300 / (x * x)) + 12;
  let t = x;
  for (let k = depth; k >= 1; k--) t = x + k / 2 / t;
  return (INV_SQRT_PI * expNegSquare(x)) / t;
}

/** The error function; relative error under 1e-15 everywhere (measured: < 7e-16). */
export function erf(x: number): number {
  if (x === 0) return x; // keeps the sign of zero, as C's erf does
  const ax = Math.abs(x);
  if (ax < SERIES_LIMIT) return erfSmall(x);
  const r = ax < CF_LIMIT ? erfMid(ax) : 1 - erfcLarge(ax);
  return x < 0 ? -r : r;
}

/**
 * The complementary error function 1 - erf(x), with relative precision kept for large positive x
 * (a few ulp from x = 1 on; below that it is 1 - erf, at most ~4e-15 relative).
 */
export function erfc(x: number): number {
  if (x !== x) return x;
  if (x < SERIES_LIMIT) return 1 - erf(x);
  if (x < CF_LIMIT) return 1 - erfMid(x);
  return erfcLarge(x);
}

/** Logistic function, evaluated so exp never overflows: for x < 0 it uses e^x / (1 + e^x). */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** sigmoid'(x) = e^-|x| / (1 + e^-|x|)^2: the form s (1 - s) loses all precision for large x. */
function sigmoidGrad(x: number): number {
  const t = Math.exp(-Math.abs(x));
  return t / ((1 + t) * (1 + t));
}

/** tanh'(x) = sech^2 x = 4 e^-2|x| / (1 + e^-2|x|)^2, accurate where 1 - tanh^2 would cancel to 0. */
function tanhGrad(x: number): number {
  const t = Math.exp(-2 * Math.abs(x));
  return (4 * t) / ((1 + t) * (1 + t));
}

/**
 * gelu_tanh(x) = 0.5 x (1 + tanh u), u = sqrt(2/pi) (x + 0.044715 x^3). Since 1 + tanh u = 2 sigmoid(2u),
 * the sigmoid form is used: it keeps relative precision for negative x where 1 + tanh u cancels.
 */
function geluTanh(x: number): number {
  const u = SQRT_2_OVER_PI * (x + GELU_C * x * x * x);
  return x * sigmoid(2 * u);
}

/** d/dx of gelu_tanh: 0.5 (1 + tanh u) + 0.5 x sech^2(u) u'(x). */
function geluTanhGrad(x: number): number {
  const u = SQRT_2_OVER_PI * (x + GELU_C * x * x * x);
  const du = SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
  return sigmoid(2 * u) + 0.5 * x * tanhGrad(u) * du;
}

/** Standard normal CDF Phi(x) = 0.5 erfc(-x / sqrt 2), via erfc so the left tail keeps precision. */
function normalCdf(x: number): number {
  return 0.5 * erfc(-x * Math.SQRT1_2);
}

/** Exact GELU x Phi(x). */
function geluErf(x: number): number {
  return x * normalCdf(x);
}

/** d/dx x Phi(x) = Phi(x) + x phi(x). */
function geluErfGrad(x: number): number {
  return normalCdf(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, no cancellation. */
function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** The forward function of a unary op. */
export function unaryFn(op: UnaryOp): (x: number) => number {
  switch (op) {
    case 'neg': return (x) => -x;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'sqrt': return Math.sqrt;
    case 'abs': return Math.abs;
    case 'tanh': return Math.tanh;
    case 'sigmoid': return sigmoid;
    // relu(NaN) must stay NaN: x > 0 is false for NaN, so NaN is passed through explicitly.
    case 'relu': return (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0);
    case 'gelu_tanh': return geluTanh;
    case 'gelu_erf': return geluErf;
    case 'softplus': return softplus;
    case 'square': return (x) => x * x;
    case 'recip': return (x) => 1 / x;
    case 'sign': return Math.sign;
    default: throw new RangeError(`reference backend: unknown unary op '${String(op)}'`);
  }
}

/**
 * The derivative f'(x) of a unary op. The contract lets kernels use x or y = f(x); the oracle always
 * uses x, in float64, so a float32-rounded y never enters the reference gradient.
 * Kinks take the documented choice: relu'(0) = abs'(0) = sign'(x) = 0.
 */
export function unaryDerivative(op: UnaryOp): (x: number) => number {
  switch (op) {
    case 'neg': return () => -1;
    case 'exp': return Math.exp;
    case 'log': return (x) => 1 / x;
    case 'sqrt': return (x) => 0.5 / Math.sqrt(x); // +inf at 0
    case 'abs': return (x) => (x > 0 ? 1 : x < 0 ? -1 : 0);
    case 'tanh': return tanhGrad;
    case 'sigmoid': return sigmoidGrad;
    case 'relu': return (x) => (x > 0 ? 1 : 0);
    case 'gelu_tanh': return geluTanhGrad;
    case 'gelu_erf': return geluErfGrad;
    case 'softplus': return sigmoid;
    case 'square': return (x) => 2 * x;
    case 'recip': return (x) => -1 / (x * x);
    case 'sign': return () => 0;
    default: throw new RangeError(`reference backend: unknown unary op '${String(op)}'`);
  }
}
