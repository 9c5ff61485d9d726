/**
 * Every backward kernel of the reference backend against central finite differences of its forward
 * kernel, in float64. For a scalar L(x) = sum(dy * f(x)), the analytic gradient from the backward
 * kernel must match (L(x + h e_i) - L(x - h e_i)) / 2h.
 *
 * Tolerance: relative 1e-6 of the numeric derivative, plus a floor for the float64 rounding of L
 * itself, which the difference quotient amplifies by 1/h: with rounding errors up to 2^-53 ~ 1.1e-16
 * relative to the magnitudes the forward works with (its "noise scale", by default sum |dy * f|),
 * about ten roundings per element give |dL| <= 1e-15 * scale, hence a floor of 1e-9 * max(1, scale)
 * with h = 1e-6. The truncation error, O(h^2 f'''), is far smaller.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UNARY_OPS, type Buf, type UnaryOp } from '../src/backend/kernels.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';

const B = createReferenceBackend({ dtype: 'float64' });
const H = 1e-6;
const RTOL = 1e-6;
const FD_RUNS = { numRuns: 40 };

function floats(data: readonly number[]): Buf {
  const b = B.alloc(data.length, 'f');
  B.write(b, data);
  return b;
}
function ints(data: readonly number[]): Buf {
  const b = B.alloc(data.length, 'i');
  B.write(b, data);
  return b;
}
function values(b: Buf): number[] {
  return Array.from(B.read(b));
}

/** Checks `analytic` = dL/dx at x, for L returning [value, noise scale of its rounding]. */
function expectGradient(
  label: string, L: (x: number[]) => [number, number], x: readonly number[], analytic: readonly number[],
): void {
  expect(analytic.length).toBe(x.length);
  const scale = Math.max(1, L(x.slice())[1]);
  for (let i = 0; i < x.length; i++) {
    const xp = x.slice();
    const xm = x.slice();
    xp[i] = x[i]! + H;
    xm[i] = x[i]! - H;
    const numeric = (L(xp)[0] - L(xm)[0]) / (2 * H);
    const err = Math.abs(analytic[i]! - numeric);
    const tol = RTOL * Math.abs(numeric) + 1e-9 * scale;
    expect(err, `${label}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`).toBeLessThanOrEqual(tol);
  }
}

/** sum(dy * y) and sum |dy * y|. */
function dot(dy: readonly number[], y: readonly number[]): [number, number] {
  let s = 0;
  let a = 0;
  for (let i = 0; i < dy.length; i++) {
    s += dy[i]! * y[i]!;
    a += Math.abs(dy[i]! * y[i]!);
  }
  return [s, a];
}

/**
 * Uniform reals in [min, max]. (fc.double is uniform over float bit patterns, so almost all of its
 * values would be tiny, leaving the interesting part of each range untested.)
 */
const value = (min: number, max: number) =>
  fc.integer({ min: 0, max: 2 ** 30 }).map((k) => min + ((max - min) * k) / 2 ** 30);
/** A (rows, cols) matrix of values in [min, max]. */
const matrix = (rows: number, cols: number, min: number, max: number) =>
  fc.array(value(min, max), { minLength: rows * cols, maxLength: rows * cols });
const dims = fc.record({ rows: fc.integer({ min: 1, max: 3 }), cols: fc.integer({ min: 1, max: 5 }) });

/** Points for each op where a central difference with step H is valid (no kink or pole within H). */
function domain(op: UnaryOp): fc.Arbitrary<number> {
  const awayFromZero = (lo: number, hi: number) =>
    fc.tuple(value(lo, hi), fc.boolean()).map(([v, neg]) => (neg ? -v : v));
  switch (op) {
    case 'log':
    case 'sqrt':
      return value(0.05, 8);
    case 'recip':
      return awayFromZero(0.05, 8);
    case 'relu':
    case 'abs':
    case 'sign':
      return awayFromZero(1e-3, 8);
    default:
      return value(-8, 8);
  }
}

describe('unaryGrad is the derivative of unary', () => {
  const f = (op: UnaryOp, x: number): number => {
    const out = B.alloc(1, 'f');
    B.unary(op, floats([x]), out, 1);
    return values(out)[0]!;
  };
  for (const op of UNARY_OPS) {
    it(op, () => {
      fc.assert(
        fc.property(domain(op), value(-2, 2), (x, dy) => {
          const xb = floats([x]);
          const y = B.alloc(1, 'f');
          B.unary(op, xb, y, 1);
          const dx = B.alloc(1, 'f');
          B.unaryGrad(op, xb, y, floats([dy]), dx, 1);
          expectGradient(op, ([v]) => dot([dy], [f(op, v!)]), [x], values(dx));
        }),
        { numRuns: 200 },
      );
    });
  }

  it('takes the documented values at kinks', () => {
    const x = floats([0, 0, 0]);
    const dx = B.alloc(3, 'f');
    const dy = floats([1, 1, 1]);
    for (const op of ['relu', 'abs', 'sign'] as const) {
      B.unaryGrad(op, x, x, dy, dx, 3);
      expect(values(dx)).toEqual([0, 0, 0]);
    }
    B.unaryGrad('sqrt', x, x, dy, dx, 1);
    expect(values(dx)[0]).toBe(Infinity);
  });
});

describe('row kernels', () => {
  it('softmaxBackward', () => {
    fc.assert(
      fc.property(dims.chain((d) => fc.tuple(fc.constant(d), matrix(d.rows, d.cols, -5, 5), matrix(d.rows, d.cols, -2, 2))),
        ([{ rows, cols }, x, dy]) => {
          const forward = (xs: number[]) => {
            const y = B.alloc(rows * cols, 'f');
            B.softmax(floats(xs), y, rows, cols);
            return values(y);
          };
          const dx = B.alloc(rows * cols, 'f');
          B.softmaxBackward(floats(forward(x)), floats(dy), dx, rows, cols);
          expectGradient('dx', (xs) => dot(dy, forward(xs)), x, values(dx));
        }),
      FD_RUNS,
    );
  });

  it('logSoftmaxBackward', () => {
    fc.assert(
      fc.property(dims.chain((d) => fc.tuple(fc.constant(d), matrix(d.rows, d.cols, -5, 5), matrix(d.rows, d.cols, -2, 2))),
        ([{ rows, cols }, x, dy]) => {
          const forward = (xs: number[]) => {
            const y = B.alloc(rows * cols, 'f');
            B.logSoftmax(floats(xs), y, rows, cols);
            return values(y);
          };
          const dx = B.alloc(rows * cols, 'f');
          B.logSoftmaxBackward(floats(forward(x)), floats(dy), dx, rows, cols);
          expectGradient('dx', (xs) => dot(dy, forward(xs)), x, values(dx));
        }),
      FD_RUNS,
    );
  });

  it('crossEntropyBackward, with label smoothing and an ignored row', () => {
    const ignore = -100;
    const arb = fc.record({ rows: fc.integer({ min: 2, max: 4 }), cols: fc.integer({ min: 2, max: 5 }) }).chain((d) =>
      fc.record({
        d: fc.constant(d),
        x: matrix(d.rows, d.cols, -5, 5),
        targets: fc.array(fc.integer({ min: 0, max: d.cols - 1 }), { minLength: d.rows, maxLength: d.rows }),
        ignored: fc.integer({ min: 0, max: d.rows - 1 }),
        dloss: matrix(d.rows, 1, -2, 2),
        smoothing: fc.constantFrom(0, 0.1, 0.25),
      }));
    fc.assert(
      fc.property(arb, ({ d: { rows, cols }, x, targets, ignored, dloss, smoothing }) => {
        const t = targets.slice();
        t[ignored] = ignore;
        const forward = (xs: number[]) => {
          const loss = B.alloc(rows, 'f');
          const lse = B.alloc(rows, 'f');
          expect(B.crossEntropy(floats(xs), ints(t), loss, lse, rows, cols, ignore, smoothing)).toBe(rows - 1);
          return { loss: values(loss), lse };
        };
        const dlogits = B.alloc(rows * cols, 'f');
        B.crossEntropyBackward(floats(x), ints(t), forward(x).lse, floats(dloss), dlogits, rows, cols, ignore, smoothing);
        const g = values(dlogits);
        expect(g.slice(ignored * cols, ignored * cols + cols)).toEqual(new Array(cols).fill(0));
        // loss = lse - x[t] (plus smoothing terms) cancels: its rounding is relative to |lse| + max |x|.
        const L = (xs: number[]): [number, number] => {
          const f = forward(xs);
          const lse = values(f.lse);
          let noise = 0;
          for (let r = 0; r < rows; r++) {
            const maxAbs = Math.max(...xs.slice(r * cols, r * cols + cols).map(Math.abs));
            noise += Math.abs(dloss[r]!) * (Math.abs(lse[r]!) + maxAbs);
          }
          return [dot(dloss, f.loss)[0], noise];
        };
        expectGradient('dlogits', L, x, g);
      }),
      FD_RUNS,
    );
  });
});

describe('layerNormBackward', () => {
  const arb = fc.record({ rows: fc.integer({ min: 1, max: 3 }), cols: fc.integer({ min: 2, max: 5 }) }).chain((d) =>
    fc.record({
      d: fc.constant(d),
      x: matrix(d.rows, d.cols, -3, 3),
      gamma: matrix(1, d.cols, -2, 2),
      beta: matrix(1, d.cols, -1, 1),
      dy: matrix(d.rows, d.cols, -2, 2),
      affine: fc.boolean(),
    }));
  const eps = 1e-5;

  it('dx, dgamma and dbeta (with and without gamma/beta)', () => {
    fc.assert(
      fc.property(arb, ({ d: { rows, cols }, x, gamma, beta, dy, affine }) => {
        const forward = (xs: number[], gs: number[], bs: number[]) => {
          const y = B.alloc(rows * cols, 'f');
          const mean = B.alloc(rows, 'f');
          const rstd = B.alloc(rows, 'f');
          B.layerNorm(floats(xs), affine ? floats(gs) : null, affine ? floats(bs) : null, y, mean, rstd, rows, cols, eps);
          return { y: values(y), mean, rstd };
        };
        /**
         * sum(dy * y), with the noise scale of layer norm: x - mean cancels, so y's rounding error is
         * relative to (|x| + |mean|) * rstd * |gamma|, not to |y|.
         */
        const L = (xs: number[], gs: number[], bs: number[]): [number, number] => {
          const f = forward(xs, gs, bs);
          const m = values(f.mean);
          const r = values(f.rstd);
          let noise = 0;
          for (let i = 0; i < rows * cols; i++) {
            const j = i % cols;
            const row = Math.floor(i / cols);
            const g = affine ? Math.abs(gs[j]!) : 1;
            noise += Math.abs(dy[i]!) * ((Math.abs(xs[i]!) + Math.abs(m[row]!)) * r[row]! * g + (affine ? Math.abs(bs[j]!) : 0));
          }
          return [dot(dy, f.y)[0], noise];
        };
        const { mean, rstd } = forward(x, gamma, beta);
        const dx = B.alloc(rows * cols, 'f');
        const dgamma = B.alloc(cols, 'f');
        const dbeta = B.alloc(cols, 'f');
        B.layerNormBackward(floats(x), affine ? floats(gamma) : null, mean, rstd, floats(dy), dx, dgamma, dbeta, rows, cols);
        expectGradient('dx', (xs) => L(xs, gamma, beta), x, values(dx));
        if (affine) {
          expectGradient('dgamma', (gs) => L(x, gs, beta), gamma, values(dgamma));
          expectGradient('dbeta', (bs) => L(x, gamma, bs), beta, values(dbeta));
        } else {
          // Without gamma/beta the parameter gradients are those an all-ones gamma, zero beta would get.
          const withOnes = B.alloc(cols, 'f');
          const xhatSum = B.alloc(cols, 'f');
          B.fill(withOnes, 1);
          B.layerNormBackward(floats(x), withOnes, mean, rstd, floats(dy), B.alloc(rows * cols, 'f'), xhatSum, null, rows, cols);
          expect(values(dgamma)).toEqual(values(xhatSum));
        }
      }),
      FD_RUNS,
    );
  });
});

describe('groupedScaleShiftBackward', () => {
  const arb = fc.record({ rows: fc.integer({ min: 1, max: 3 }), D: fc.integer({ min: 1, max: 6 }), K: fc.integer({ min: 1, max: 3 }) }).chain((d) =>
    fc.record({
      d: fc.constant(d),
      x: matrix(d.rows, d.D, -3, 3),
      map: fc.array(fc.integer({ min: 0, max: d.K - 1 }), { minLength: d.D, maxLength: d.D }),
      // gamma bounded away from 0, either sign
      gamma: fc.array(fc.tuple(value(0.5, 2), fc.boolean()).map(([v, n]) => (n ? -v : v)), { minLength: d.K, maxLength: d.K }),
      beta: matrix(1, d.K, -1, 1),
      dy: matrix(d.rows, d.D, -2, 2),
    }));

  it('dx, dgamma and dbeta', () => {
    fc.assert(
      fc.property(arb, ({ d: { rows, D, K }, x, map, gamma, beta, dy }) => {
        const scratch = B.alloc(4 * D, 'f');
        const forward = (xs: number[], gs: number[], bs: number[]) => {
          const y = B.alloc(rows * D, 'f');
          B.groupedScaleShift(floats(xs), ints(map), floats(gs), floats(bs), y, rows, D, K, scratch);
          return values(y);
        };
        const dx = B.alloc(rows * D, 'f');
        const dgamma = B.alloc(K, 'f');
        const dbeta = B.alloc(K, 'f');
        B.groupedScaleShiftBackward(floats(x), ints(map), floats(gamma), floats(beta), floats(dy), dx, dgamma, dbeta, rows, D, K, scratch);
        expectGradient('dx', (xs) => dot(dy, forward(xs, gamma, beta)), x, values(dx));
        expectGradient('dgamma', (gs) => dot(dy, forward(x, gs, beta)), gamma, values(dgamma));
        expectGradient('dbeta', (bs) => dot(dy, forward(x, gamma, bs)), beta, values(dbeta));
      }),
      FD_RUNS,
    );
  });
});

describe('gaussianSampleBackward', () => {
  it('dmu and dsigma for a fixed seed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }).chain((n) =>
          fc.record({ mu: matrix(1, n, -2, 2), sigma: matrix(1, n, 0.1, 2), dy: matrix(1, n, -2, 2) })),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 1000 }),
        ({ mu, sigma, dy }, seed, counter) => {
          const n = mu.length;
          const forward = (ms: number[], ss: number[]) => {
            const eps = B.alloc(n, 'f');
            const out = B.alloc(n, 'f');
            B.gaussianSample(floats(ms), floats(ss), eps, out, n, seed, 7, counter);
            return { out: values(out), eps };
          };
          const dmu = B.alloc(n, 'f');
          const dsigma = B.alloc(n, 'f');
          B.gaussianSampleBackward(forward(mu, sigma).eps, floats(dy), dmu, dsigma, n);
          expectGradient('dmu', (ms) => dot(dy, forward(ms, sigma).out), mu, values(dmu));
          expectGradient('dsigma', (ss) => dot(dy, forward(mu, ss).out), sigma, values(dsigma));
        },
      ),
      FD_RUNS,
    );
  });
});
