/**
 * Scalar math of the reference backend: erf/erfc against high-precision values, and the unary ops
 * and their derivatives at hand-checked points, including the extremes where naive formulas fail.
 * Reference values were computed with 50-digit arithmetic and rounded to float64.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UnaryOp } from '../src/backend/kernels.js';
import { createReferenceBackend, erf, erfc } from '../src/backend/reference/index.js';

const B = createReferenceBackend({ dtype: 'float64' });

function relErr(got: number, want: number): number {
  return want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);
}

describe('erf', () => {
  it('matches the known values to 1e-14', () => {
    const known: [number, number][] = [
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [-3, -0.9999779095030014],
      [1e-10, 1.1283791670955126e-10],
    ];
    for (const [x, want] of known) expect(relErr(erf(x), want), `erf(${x})`).toBeLessThanOrEqual(1e-14);
  });

  it('is accurate to a few ulp across every branch', () => {
    const table: [number, number][] = [
      [0.1, 0.1124629160182849], [0.25, 0.27632639016823696], [0.75, 0.7111556336535151],
      [0.999, 0.8422852702064969], [1.5, 0.9661051464753108], [2.5, 0.999593047982555],
      [3.5, 0.9999992569016276], [5, 0.9999999999984626], [8, 1], [12, 1],
    ];
    for (const [x, want] of table) {
      expect(relErr(erf(x), want), `erf(${x})`).toBeLessThanOrEqual(2e-15);
      expect(erf(-x), `erf(-${x})`).toBe(-erf(x));
    }
    expect(erf(0)).toBe(0);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(Number.NaN)).toBeNaN();
  });

  it('erfc keeps its relative precision in the far tail', () => {
    const table: [number, number][] = [
      [0.1, 0.887537083981715], [0.75, 0.28884436634648486], [1.5, 0.033894853524689274],
      [2.5, 0.0004069520174449589], [3.5, 7.430983723414128e-7], [5, 1.537459794428035e-12],
      [8, 1.1224297172982926e-29], [10, 2.088487583762545e-45], [15, 7.212994172451207e-100],
      [26, 5.663192408856143e-296],
    ];
    // 1e-14: below x = 1 erfc is 1 - erf, which costs up to a factor 1 / erfc(1) ~ 6 in relative error.
    for (const [x, want] of table) expect(relErr(erfc(x), want), `erfc(${x})`).toBeLessThanOrEqual(1e-14);
    expect(erfc(30)).toBe(0);
    expect(erfc(-30)).toBe(2);
    expect(erfc(Number.NaN)).toBeNaN();
  });

  it('erf + erfc = 1 and erf is odd (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }).map((k) => (6 * k) / 2 ** 30), (x) => {
        expect(Math.abs(erf(x) + erfc(x) - 1)).toBeLessThanOrEqual(4e-16);
        expect(erf(-x)).toBe(-erf(x));
        expect(Math.abs(erf(x))).toBeLessThanOrEqual(1);
      }),
      { numRuns: 2000 },
    );
  });
});

function unary(op: UnaryOp, xs: number[]): number[] {
  const x = B.alloc(xs.length, 'f');
  B.write(x, xs);
  const out = B.alloc(xs.length, 'f');
  B.unary(op, x, out, xs.length);
  return Array.from(B.read(out));
}
function grad(op: UnaryOp, xs: number[]): number[] {
  const x = B.alloc(xs.length, 'f');
  B.write(x, xs);
  const y = B.alloc(xs.length, 'f');
  B.unary(op, x, y, xs.length);
  const dy = B.alloc(xs.length, 'f');
  B.fill(dy, 1);
  const dx = B.alloc(xs.length, 'f');
  B.unaryGrad(op, x, y, dy, dx, xs.length);
  return Array.from(B.read(dx));
}
function expectRel(got: number[], want: number[], tol: number): void {
  got.forEach((g, i) => expect(relErr(g, want[i]!), `element ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(tol));
}

describe('unary ops at hand-checked points', () => {
  it('elementary ops', () => {
    expect(unary('neg', [1, -2, 0])).toEqual([-1, 2, -0]);
    expectRel(unary('exp', [0, 1, -1]), [1, Math.E, 1 / Math.E], 1e-15);
    expectRel(unary('log', [1, Math.E, 0.5]), [0, 1, -Math.LN2], 1e-15);
    expect(unary('log', [0, -1])).toEqual([-Infinity, NaN]);
    expect(unary('sqrt', [4, 0, 2])).toEqual([2, 0, Math.SQRT2]);
    expect(unary('abs', [-3, 3, -0])).toEqual([3, 3, 0]);
    expect(unary('square', [-3, 0.5])).toEqual([9, 0.25]);
    expect(unary('recip', [4, -0.5, 0])).toEqual([0.25, -2, Infinity]);
    expect(unary('sign', [-3, 0, 2.5])).toEqual([-1, 0, 1]);
    expect(unary('relu', [-2, 0, 3])).toEqual([0, 0, 3]);
    expect(unary('relu', [Number.NaN])[0]).toBeNaN();
    expectRel(unary('tanh', [0.5, -0.5, 50]), [0.46211715726000974, -0.46211715726000974, 1], 1e-15);
  });

  it('sigmoid and softplus are stable at the extremes', () => {
    expectRel(unary('sigmoid', [0, 1000, -1000, -40]), [0.5, 1, 0, 4.248354255291589e-18], 1e-15);
    expectRel(unary('softplus', [0, 1000, -1000, -30]), [Math.LN2, 1000, 0, 9.357622968839737e-14], 1e-15);
  });

  it('GELU variants', () => {
    expectRel(unary('gelu_erf', [1, -1, 3, -5, -10]),
      [0.8413447460685429, -0.15865525393145705, 2.99595030590511, -1.4332578593959695e-6, -7.619853024160526e-23], 1e-14);
    expectRel(unary('gelu_tanh', [1, -1, -4, 0.5]),
      [0.8411919906082767, -0.1588080093917233, -7.024594819237268e-5, 0.34571400982514394], 1e-14);
    expect(unary('gelu_erf', [0, -40])).toEqual([0, -0]);
  });
});

describe('unary derivatives at hand-checked points', () => {
  it('values at 0 and the documented kinks', () => {
    for (const [op, want] of [
      ['sigmoid', 0.25], ['tanh', 1], ['gelu_erf', 0.5], ['gelu_tanh', 0.5], ['softplus', 0.5],
      ['relu', 0], ['abs', 0], ['sign', 0], ['neg', -1], ['exp', 1], ['square', 0], ['sqrt', Infinity],
    ] as const) {
      expect(grad(op, [0]), op).toEqual([want]);
    }
    expect(grad('log', [0.25, 2])).toEqual([4, 0.5]);
    expect(grad('recip', [2, -0.5])).toEqual([-0.25, -4]);
    expect(grad('abs', [-2, 3])).toEqual([-1, 1]);
    expect(grad('relu', [-2, 3])).toEqual([0, 1]);
    expect(grad('sqrt', [4])).toEqual([0.25]);
  });

  it('GELU derivatives', () => {
    expectRel(grad('gelu_erf', [1, -1, -4]), [1.0833154705876864, -0.0833154705876863, -0.0005036496612264215], 1e-14);
    expectRel(grad('gelu_tanh', [1, -1, -4, 0.5]),
      [1.0829640838457826, -0.08296408384578255, -0.0003351231971226708, 0.8673699035346423], 1e-13);
  });

  it('stay finite and tiny where the naive forms give NaN or lose everything', () => {
    expect(grad('sigmoid', [800, -800])).toEqual([0, 0]);
    expect(grad('tanh', [400, -400])).toEqual([0, 0]);
    // sigmoid'(30) = e^-30 / (1 + e^-30)^2; s (1 - s) would give 0 here (1 - s rounds to 0 below 2^-53).
    expectRel(grad('sigmoid', [40]), [4.248354255291589e-18], 1e-14);
    expectRel(grad('softplus', [-40]), [4.248354255291589e-18], 1e-15);
  });
});
