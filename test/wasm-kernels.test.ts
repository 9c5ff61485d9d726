/**
 * Every kernel of the WASM backend against the reference backend (float64 mode, inputs rounded to f32),
 * on fast-check-generated shapes and values, for each binary the runtime can run.
 *
 * Tolerances. EPS = 2^-24 is the f32 unit roundoff (half an ulp at 1). The oracle is computed in
 * float64 from the same f32 inputs, so every difference is WASM-side error:
 * - single correctly rounded ops (+ - * /, sqrt, copies, max, compares) must match exactly, since the
 *   float64 result rounded to f32 is the correctly rounded f32 result;
 * - the polynomial functions (assembly/math.ts) get the error their analysis allows, with a margin
 *   over the maxima measured on a dense grid of [-90, 90] (in ulps of the result: exp 0.96, log 1.78,
 *   tanh 1.31, sigmoid 2.04, softplus 2.52; tanh' and sigmoid' 3.5-4.0);
 * - sums of n f32 terms get the classical bound n EPS sum|terms| (f32 accumulation vs float64);
 * - where an f32 intermediate such as x - max or u = c (x + 0.044715 x^3) is rounded before an
 *   exponential, the relative error of the result grows with the magnitude of that argument, and the
 *   tolerance says so explicitly.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend, Buf, UnaryOp } from '../src/backend/kernels.js';
import { BINARY_OPS, UNARY_OPS } from '../src/backend/kernels.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { keySchedule, normal } from '../src/backend/rng.js';
import { contiguousStrides } from '../src/backend/strides.js';
import { createWasmBackendSync, detectFeatures, type WasmBackend } from '../src/backend/wasm/index.js';
import { mulberry32 as mulberry } from './helpers.js';

const EPS = 2 ** -24;
/**
 * Absolute error of one f32 operation whose result underflows (half the denormal spacing, rounded
 * up): fast-check feeds denormals and tiny values, and products of them lose relative precision.
 */
const UF = 2 ** -149;
const RUNS = 25;

/** f32 ulp of v (denormal spacing below the normal range). */
function ulp(v: number): number {
  const a = Math.abs(v);
  if (!(a >= 2 ** -126)) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

const f32 = (xs: ArrayLike<number>): Float32Array => Float32Array.from(xs);

/**
 * Checks |actual - expected| <= allowed(i) elementwise. Non-finite expected values (after rounding to
 * f32) must match exactly, NaN included.
 */
function expectClose(
  what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, allowed: (i: number) => number,
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const e32 = Math.fround(e);
    if (!Number.isFinite(e32)) {
      if (Number.isNaN(e32)) {
        if (!Number.isNaN(a)) expect.fail(`${what}[${i}]: got ${a}, expected NaN`);
      } else if (a !== e32) {
        expect.fail(`${what}[${i}]: got ${a}, expected ${e32}`);
      }
      continue;
    }
    const tol = allowed(i);
    if (!(Math.abs(a - e) <= tol)) {
      expect.fail(`${what}[${i}]: got ${a}, expected ${e} (diff ${Math.abs(a - e)} > allowed ${tol})`);
    }
  }
}

/** Exactly the f32 rounding of the reference's value. */
const exact = (expected: ArrayLike<number>) => (i: number) => Math.abs(Math.fround(expected[i]!) - expected[i]!);

// ---- generators --------------------------------------------------------------------------------------

/** Lengths that exercise the vector body and every tail length: 1, 3, 5, 4k + 1, 4k + 3 and others. */
const lengthArb = fc.oneof(
  fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9),
  fc.integer({ min: 0, max: 40 }).map((k) => 4 * k + 1),
  fc.integer({ min: 0, max: 40 }).map((k) => 4 * k + 3),
  fc.integer({ min: 1, max: 300 }),
);

const floatIn = (lo: number, hi: number) =>
  fc.float({ min: Math.fround(lo), max: Math.fround(hi), noNaN: true, noDefaultInfinity: true });

const arrayOf = (n: number, lo: number, hi: number) =>
  fc.array(floatIn(lo, hi), { minLength: n, maxLength: n }).map(f32);

/** n values, drawn at a random scale so both small and large magnitudes appear. */
const valuesArb = (n: number, maxAbs: number) =>
  fc.constantFrom(1, 10, maxAbs).chain((s) => arrayOf(n, -Math.min(s, maxAbs), Math.min(s, maxAbs)));

// ---- running a kernel on both backends ------------------------------------------------------------------

type Spec = { f: ArrayLike<number> } | { i: ArrayLike<number> } | { zf: number } | { zi: number };
type Bufs<K extends string> = Record<K, Buf>;

/** Allocates the named buffers on `be` (data, or zeroed of a size), runs `fn`, reads every buffer back. */
function runOn<K extends string, R>(
  be: Backend, specs: Record<K, Spec>, fn: (b: Bufs<K>) => R,
): { out: Record<K, Float32Array | Float64Array | Int32Array>; ret: R } {
  const bufs = {} as Bufs<K>;
  for (const k of Object.keys(specs) as K[]) {
    const s = specs[k];
    if ('f' in s) {
      bufs[k] = be.alloc(s.f.length, 'f');
      be.write(bufs[k], s.f);
    } else if ('i' in s) {
      bufs[k] = be.alloc(s.i.length, 'i');
      be.write(bufs[k], s.i);
    } else if ('zf' in s) {
      bufs[k] = be.alloc(s.zf, 'f');
      be.fill(bufs[k], 0);
    } else {
      bufs[k] = be.alloc(s.zi, 'i');
      be.fill(bufs[k], 0);
    }
  }
  const ret = fn(bufs);
  const out = {} as Record<K, Float32Array | Float64Array | Int32Array>;
  for (const k of Object.keys(specs) as K[]) {
    out[k] = be.read(bufs[k]);
    be.free(bufs[k]);
  }
  return { out, ret };
}

// ---- per-op tolerances of the unary functions ------------------------------------------------------------

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const geluU = (x: number) => SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);

/** Input range where the op is defined and interesting. */
const UNARY_RANGE: Record<UnaryOp, [number, number]> = {
  neg: [-1e4, 1e4], abs: [-1e4, 1e4], relu: [-1e4, 1e4], sign: [-1e4, 1e4], square: [-1e4, 1e4],
  recip: [-1e4, 1e4], tanh: [-1e4, 1e4], gelu_tanh: [-1e4, 1e4], gelu_erf: [-1e4, 1e4],
  exp: [-80, 80], sigmoid: [-80, 80], softplus: [-80, 80],
  log: [1e-30, 1e4], sqrt: [0, 1e4],
};

/**
 * Allowed forward error at x (reference value e), in ulps of e unless stated:
 * correctly rounded ops 0.5 (1 with the ulp function's binade edges); polynomial functions their
 * measured maximum with margin (header comment); gelu_tanh additionally rounds u in f32, and the
 * result depends on exp(2u), so its relative error grows by ~|2u| * 2 EPS.
 */
function unaryTol(op: UnaryOp, x: number, e: number): number {
  switch (op) {
    case 'neg': case 'abs': case 'relu': case 'sign': case 'square': case 'recip': case 'sqrt':
      return ulp(e);
    case 'exp': return 2 * ulp(e);
    case 'log': case 'tanh': case 'sigmoid': return 3 * ulp(e);
    case 'softplus': return 4 * ulp(e);
    case 'gelu_tanh': return (4 + 8 * Math.abs(geluU(x))) * ulp(e);
    // x Phi(x): exp(-x^2/2) to ~1 ulp (exact split of x^2), the erfc polynomial to ~4 ulp in f32,
    // two products; results in the denormal range keep an absolute error of a few 2^-149.
    case 'gelu_erf': return 8 * ulp(e) + 16 * 2 ** -149;
    default: throw new Error(op);
  }
}

/**
 * Allowed gradient error (dy * f'(x), reference value e). One more rounding than f' itself for the
 * product with dy. gelu derivatives are sums of two terms of opposite sign near x = -0.75, so they also
 * get an absolute error of a few ulps of the O(1) terms (2^-22 |dy|).
 */
function unaryGradTol(op: UnaryOp, x: number, dy: number, e: number): number {
  switch (op) {
    case 'neg': case 'abs': case 'relu': case 'sign': case 'square': case 'log':
      return ulp(e);
    case 'sqrt': case 'exp': return 3 * ulp(e);
    // computed as -(dy / x) / x (x^2 would underflow for |x| < 1e-19): when dy / x is denormal it
    // carries an absolute error up to UF, which the second division scales by 1 / |x|
    case 'recip': return 3 * ulp(e) + UF / Math.abs(x);
    // In the far tails f'(x) ~ 4 exp(-2|x|) (tanh) or exp(-|x|) (sigmoid) is denormal in f32: it carries an
    // absolute error up to 2^-150, which the product with dy (and tanh's factor 4) scales.
    case 'tanh': case 'sigmoid': return 6 * ulp(e) + 8 * Math.abs(dy) * 2 ** -149;
    case 'softplus': return 4 * ulp(e);
    case 'gelu_tanh': return (8 + 8 * Math.abs(geluU(x))) * ulp(e) + 2 ** -22 * Math.abs(dy) * (1 + Math.abs(x));
    case 'gelu_erf': return 8 * ulp(e) + 2 ** -22 * Math.abs(dy) * (1 + Math.abs(x)) + 16 * 2 ** -149;
    default: throw new Error(op);
  }
}

// ---- the suites -----------------------------------------------------------------------------------------

const features = detectFeatures();
const inRelaxedChild = process.env.WASMGRAD_RELAXED_CHILD === '1';
const VARIANTS = inRelaxedChild ? (['relaxed-simd'] as const) : (['simd', 'scalar', 'relaxed-simd'] as const);

for (const variant of VARIANTS) {
  const runnable = variant !== 'relaxed-simd' || features.relaxed;
  const title = runnable
    ? `wasm kernels (${variant}) vs reference`
    : `wasm kernels (${variant}) vs reference: SKIPPED, this runtime does not validate relaxed SIMD ` +
      '(the child-process test below runs it under --experimental-wasm-relaxed-simd)';
  (runnable ? describe : describe.skip)(title, () => {
    let be: WasmBackend;
    const ref = createReferenceBackend({ dtype: 'float64' });
    beforeAll(() => {
      be = createWasmBackendSync({ variant });
      expect(be.variant).toBe(variant);
    });

    it('allocates, views, reads and writes', () => {
      const a = be.alloc(5, 'f');
      be.write(a, [1, 2, 3, 4, 5]);
      const v = be.view(a, 1, 3);
      be.fill(v, 7);
      expect(Array.from(be.read(a))).toEqual([1, 7, 7, 7, 5]);
      const i = be.alloc(3, 'i');
      be.write(i, [-1, 2, 2147483647]);
      expect(Array.from(be.read(i))).toEqual([-1, 2, 2147483647]);
      const before = be.liveBytes();
      be.free(a);
      be.free(i);
      expect(be.liveBytes()).toBe(before - 32);
      expect(() => be.free(a)).toThrow(/after free/);
      expect(() => be.read(a)).toThrow(/after free/);
      expect(() => be.free(ref.alloc(1, 'f'))).toThrow(/not a buffer of this wasm backend/);
    });

    for (const op of UNARY_OPS) {
      it(`unary ${op} and its gradient`, () => {
        const [lo, hi] = UNARY_RANGE[op];
        fc.assert(
          fc.property(lengthArb.chain((n) => fc.tuple(arrayOf(n, lo, hi), arrayOf(n, -4, 4))), ([xs, dys]) => {
            const n = xs.length;
            const specs = { x: { f: xs }, y: { zf: n }, dy: { f: dys }, dx: { zf: n } };
            const run = (b: Backend) =>
              runOn(b, specs, (t) => {
                b.unary(op, t.x, t.y, n);
                b.unaryGrad(op, t.x, t.y, t.dy, t.dx, n);
              }).out;
            const w = run(be);
            const r = run(ref);
            expectClose(`${op}(x)`, w.y, r.y, (i) => unaryTol(op, xs[i]!, r.y[i]!));
            expectClose(`${op}'(x) dy`, w.dx, r.dx, (i) => unaryGradTol(op, xs[i]!, dys[i]!, r.dx[i]!));
          }),
          { numRuns: RUNS },
        );
      });
    }

    it('unary special values: NaN, +-inf, 0, -0, denormals', () => {
      const xs = f32([NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 1e-45, 3.4e38, -3.4e38, 88.7, -103, 200]);
      const n = xs.length;
      for (const op of UNARY_OPS) {
        const w = runOn(be, { x: { f: xs }, y: { zf: n } }, (t) => be.unary(op, t.x, t.y, n)).out.y;
        const r = runOn(ref, { x: { f: xs }, y: { zf: n } }, (t) => ref.unary(op, t.x, t.y, n)).out.y;
        expectClose(`${op}(special)`, w, r, (i) => unaryTol(op, Number.isFinite(xs[i]!) ? xs[i]! : 0, r[i]!) + 4 * 2 ** -149);
      }
    });

    /** A binary-op case: out shape plus, for each operand, its stored shape and strides. */
    const binaryCaseArb = fc
      .array(fc.constantFrom(1, 2, 3, 4, 5, 7, 9), { minLength: 1, maxLength: 4 })
      .chain((shape: number[]) => {
        const operand = fc
          .tuple(fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }), fc.boolean())
          .map(([bcast, fortran]) => {
            // stored shape: 1 where broadcast; strides over the stored layout (reversed dim order when
            // `fortran`), 0 on broadcast dims
            const stored = shape.map((d, k) => (bcast[k] ? 1 : d));
            const order = stored.map((_, k) => k);
            if (fortran) order.reverse();
            const strides = new Array<number>(shape.length).fill(0);
            let s = 1;
            for (let j = order.length - 1; j >= 0; j--) {
              const k = order[j]!;
              strides[k] = stored[k] === 1 ? 0 : s;
              s *= stored[k]!;
            }
            return { size: s, strides };
          });
        return fc.tuple(fc.constant(shape), operand, operand);
      });

    for (const op of BINARY_OPS) {
      it(`binary ${op} with broadcasting (general strides)`, () => {
        fc.assert(
          fc.property(binaryCaseArb, fc.integer(), ([shape, A, B], seed) => {
            const rnd = mulberry(seed);
            const gen = (n: number) =>
              f32(Array.from({ length: n }, () => binaryValue(op, rnd)));
            const av = gen(A.size);
            const bv = op === 'pow' ? f32(Array.from({ length: B.size }, () => Math.round(rnd() * 8 - 4) + (rnd() < 0.5 ? 0 : 0.5))) : gen(B.size);
            const count = shape.reduce((p, d) => p * d, 1);
            const specs = { a: { f: av }, b: { f: bv }, out: { zf: count } };
            const run = (bk: Backend) =>
              runOn(bk, specs, (t) => bk.binary(op, t.a, A.strides, t.b, B.strides, t.out, shape)).out.out;
            const w = run(be);
            const r = run(ref);
            // pow: the f64 pow of V8 and of the module's libm may differ in the last f64 bit, which can
            // move the f32 rounding by one ulp; every other op is one correctly rounded operation.
            expectClose(`${op}`, w, r, op === 'pow' ? (i) => ulp(r[i]!) : exact(r));
          }),
          { numRuns: RUNS },
        );
      });
    }

    it('binary fast paths: equal contiguous, scalar operand, row and column broadcast', () => {
      fc.assert(
        fc.property(lengthArb, fc.integer({ min: 1, max: 6 }), fc.constantFrom(...BINARY_OPS), fc.integer(), (cols, rows, op, seed) => {
          const rnd = mulberry(seed);
          const gen = (n: number) => f32(Array.from({ length: n }, () => binaryValue(op, rnd)));
          const shape = [rows, cols];
          const cases: [number, number[], number, number[]][] = [
            [rows * cols, [cols, 1], rows * cols, [cols, 1]], // equal contiguous
            [rows * cols, [cols, 1], 1, [0, 0]], // scalar b
            [1, [0, 0], rows * cols, [cols, 1]], // scalar a
            [rows * cols, [cols, 1], cols, [0, 1]], // row broadcast
            [rows * cols, [cols, 1], rows, [1, 0]], // column broadcast
          ];
          for (const [na, sa, nb, sb] of cases) {
            const specs = { a: { f: gen(na) }, b: { f: gen(nb) }, out: { zf: rows * cols } };
            const run = (bk: Backend) => runOn(bk, specs, (t) => bk.binary(op, t.a, sa, t.b, sb, t.out, shape)).out.out;
            const r = run(ref);
            expectClose(`${op} ${sa}/${sb}`, run(be), r, op === 'pow' ? (i) => ulp(r[i]!) : exact(r));
          }
        }),
        { numRuns: RUNS },
      );
    });

    it('binary: out may alias an operand exactly', () => {
      const a = be.alloc(9, 'f');
      be.write(a, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      be.binary('mul', a, [1], a, [1], a, [9]);
      expect(Array.from(be.read(a))).toEqual([1, 4, 9, 16, 25, 36, 49, 64, 81]);
      be.free(a);
    });

    it('fill, axpy, scale, where', () => {
      fc.assert(
        fc.property(
          lengthArb.chain((n) => fc.tuple(valuesArb(n, 1e4), valuesArb(n, 1e4), arrayOf(n, -1, 1))),
          floatIn(-100, 100),
          ([xs, ys, cs], alpha) => {
            const n = xs.length;
            const condF = f32(Array.from(cs, (c) => (c > 0 ? c : 0)));
            const condI = Int32Array.from(cs, (c) => (c > 0 ? 1 : 0));
            const specs = {
              x: { f: xs }, y: { f: ys }, s: { zf: n }, wf: { zf: n }, wi: { zf: n }, cf: { f: condF }, ci: { i: condI },
              fl: { zf: n }, fi: { zi: n },
            };
            const run = (b: Backend) =>
              runOn(b, specs, (t) => {
                b.where(t.cf, t.x, t.y, t.wf, n);
                b.where(t.ci, t.y, t.x, t.wi, n);
                b.axpy(alpha, t.x, t.y, n);
                b.scale(alpha, t.x, t.s, n);
                b.fill(t.fl, alpha);
                b.fill(t.fi, -7);
              }).out;
            const w = run(be);
            const r = run(ref);
            // axpy: the product and the sum round separately (or fuse, in the relaxed build)
            expectClose('axpy', w.y, r.y, (i) => ulp(r.y[i]!) + EPS * Math.abs(alpha * xs[i]!));
            expectClose('scale', w.s, r.s, (i) => ulp(r.s[i]!));
            expectClose('where f32 cond', w.wf, r.wf, exact(r.wf));
            expectClose('where i32 cond', w.wi, r.wi, exact(r.wi));
            expectClose('fill f32', w.fl, r.fl, exact(r.fl));
            expect(Array.from(w.fi)).toEqual(Array.from(r.fi));
          },
        ),
        { numRuns: RUNS },
      );
    });

    it('reduce sum / max over (outer, r, inner) and sumSquares', () => {
      const dims = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.oneof(fc.constantFrom(0, 1, 3, 5), lengthArb), fc.oneof(fc.constantFrom(1, 2, 3, 4, 5), lengthArb));
      fc.assert(
        fc.property(dims.chain(([o, r, i]) => fc.tuple(fc.constant([o, r, i] as const), valuesArb(o * r * i, 1e4))), ([[outer, r, inner], xs]) => {
          const specs = { x: { f: xs }, s: { zf: outer * inner }, m: { zf: outer * inner } };
          const run = (b: Backend) =>
            runOn(b, specs, (t) => {
              b.reduce('sum', t.x, t.s, outer, r, inner);
              if (r > 0) b.reduce('max', t.x, t.m, outer, r, inner);
              return b.sumSquares(t.x, xs.length);
            });
          const w = run(be);
          const rr = run(ref);
          const absSum = (o: number, i: number) => {
            let s = 0;
            for (let j = 0; j < r; j++) s += Math.abs(xs[(o * r + j) * inner + i]!);
            return s;
          };
          expectClose('sum', w.out.s, rr.out.s, (k) => ulp(rr.out.s[k]!) + r * EPS * absSum(Math.floor(k / inner), k % inner));
          if (r > 0) expectClose('max', w.out.m, rr.out.m, exact(rr.out.m));
          // f64 accumulation of exact squares: only f64 roundings, in a different order
          expect(Math.abs(w.ret - rr.ret)).toBeLessThanOrEqual(xs.length * 2 ** -52 * rr.ret);
        }),
        { numRuns: RUNS },
      );
    });

    it('copyStrided: permute, slice with offsets, broadcast expansion, flips, accumulate, int32', () => {
      const caseArb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }).chain((shape) =>
        fc.tuple(
          fc.constant(shape),
          fc.shuffledSubarray(shape.map((_, k) => k), { minLength: shape.length, maxLength: shape.length }),
          fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
          fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
          fc.integer({ min: 0, max: 5 }),
          fc.integer({ min: 0, max: 5 }),
          fc.boolean(),
          fc.boolean(),
          fc.integer(),
        ));
      fc.assert(
        fc.property(caseArb, ([shape, perm, bcast, flip, srcOff, dstOff, accumulate, ints, seed]) => {
          const rnd = mulberry(seed);
          // source: a contiguous tensor of a permuted shape, read through permuted (and possibly
          // flipped or broadcast) strides
          const srcShape = perm.map((k) => (bcast[k] ? 1 : shape[k]!));
          const cs = contiguousStrides(srcShape);
          const srcStrides = new Array<number>(shape.length).fill(0);
          let srcBase = srcOff;
          perm.forEach((k, j) => {
            if (bcast[k]) return;
            if (flip[k]) {
              srcStrides[k] = -cs[j]!;
              srcBase += (shape[k]! - 1) * cs[j]!;
            } else srcStrides[k] = cs[j]!;
          });
          const srcSize = srcOff + srcShape.reduce((p, d) => p * d, 1);
          const dstStrides = contiguousStrides(shape);
          const count = shape.reduce((p, d) => p * d, 1);
          const dstSize = dstOff + count + 3;
          const vals = (n: number) => Array.from({ length: n }, () => (ints ? Math.round(rnd() * 2000 - 1000) : Math.fround(rnd() * 200 - 100)));
          const specs = ints
            ? { s: { i: vals(srcSize) }, d: { i: vals(dstSize) } }
            : { s: { f: vals(srcSize) }, d: { f: vals(dstSize) } };
          const run = (b: Backend) =>
            runOn(b, specs, (t) => b.copyStrided(t.s, srcBase, srcStrides, t.d, dstOff, dstStrides, shape, accumulate)).out.d;
          const r = run(ref);
          expectClose('copyStrided', run(be), r, exact(r));
        }),
        { numRuns: RUNS * 2 },
      );
    });

    const rowsColsArb = fc.tuple(fc.integer({ min: 1, max: 6 }), lengthArb);

    it('softmax, log-softmax and their backward passes', () => {
      fc.assert(
        fc.property(
          rowsColsArb.chain(([rows, cols]) => fc.tuple(fc.constant([rows, cols]), valuesArb(rows * cols, 1e4), arrayOf(rows * cols, -2, 2))),
          ([[rows, cols], xs, dys]) => {
            const n = rows * cols;
            const specs = { x: { f: xs }, y: { zf: n }, ly: { zf: n }, dy: { f: dys }, dx: { zf: n }, ldx: { zf: n } };
            const run = (b: Backend) =>
              runOn(b, specs, (t) => {
                b.softmax(t.x, t.y, rows, cols);
                b.logSoftmax(t.x, t.ly, rows, cols);
              }).out;
            const w = run(be);
            const r = run(ref);
            const rowMax = (i: number) => {
              const base = Math.floor(i / cols) * cols;
              let m = -Infinity;
              for (let j = 0; j < cols; j++) m = Math.max(m, xs[base + j]!);
              return m;
            };
            // x - max rounds in f32 (error EPS |x - max|, which exp turns into a relative error), the
            // exps carry ~2 ulp, and the row sum n EPS relative; arguments below -104 contribute 0.
            const spread = (i: number) => Math.min(Math.abs(xs[i]! - rowMax(i)), 110);
            expectClose('softmax', w.y, r.y, (i) => EPS * (8 + 2 * cols + 2 * spread(i) + 220) * Math.abs(r.y[i]!) + 2 ** -140);
            // out = x - lse: rounding of the subtraction and of lse itself (max + log(sum))
            expectClose('logSoftmax', w.ly, r.ly, (i) => EPS * (4 * Math.abs(xs[i]!) + 4 * Math.abs(rowMax(i)) + 2 * cols + 240));

            // backward passes from the reference's forward outputs (rounded to f32), so both sides
            // differentiate the same y
            const y32 = f32(r.y);
            const ly32 = f32(r.ly);
            const bspecs = { y: { f: y32 }, ly: { f: ly32 }, dy: { f: dys }, dx: { zf: n }, ldx: { zf: n } };
            const brun = (b: Backend) =>
              runOn(b, bspecs, (t) => {
                b.softmaxBackward(t.y, t.dy, t.dx, rows, cols);
                b.logSoftmaxBackward(t.ly, t.dy, t.ldx, rows, cols);
              }).out;
            const wb = brun(be);
            const rb = brun(ref);
            const rowAbs = (i: number, f: (j: number) => number) => {
              const base = Math.floor(i / cols) * cols;
              let s = 0;
              for (let j = 0; j < cols; j++) s += Math.abs(f(base + j));
              return s;
            };
            expectClose('softmaxBackward', wb.dx, rb.dx, (i) =>
              EPS * (4 * Math.abs(y32[i]!) * (Math.abs(dys[i]!) + rowAbs(i, (j) => dys[j]! * y32[j]!)) +
                Math.abs(y32[i]!) * cols * rowAbs(i, (j) => dys[j]! * y32[j]!)) + ulp(rb.dx[i]!));
            expectClose('logSoftmaxBackward', wb.ldx, rb.ldx, (i) =>
              EPS * (4 * Math.abs(dys[i]!) + (4 + cols + 2 * Math.min(Math.abs(ly32[i]!), 110)) * Math.exp(ly32[i]!) * rowAbs(i, (j) => dys[j]!)) + ulp(rb.ldx[i]!));
          },
        ),
        { numRuns: RUNS },
      );
    });

    it('log-softmax and cross-entropy keep their precision at large logits', () => {
      // Rows of logits near +-1e4 (a constant offset plus a small spread): log p is O(1) there, so the
      // error must be a few ulp of log p, not an ulp of the offset (1e-3 at 1e4).
      fc.assert(
        fc.property(
          rowsColsArb.chain(([rows, cols]) =>
            fc.tuple(
              fc.constant([rows, cols]),
              fc.constantFrom(1e3, 1e4, -1e4, 3e4),
              arrayOf(rows * cols, -8, 8),
              fc.array(fc.integer({ min: 0, max: cols - 1 }), { minLength: rows, maxLength: rows }),
              fc.constantFrom(0, 0.1),
            )),
          ([[rows, cols], offset, spread, targets, smoothing]) => {
            const xs = spread.map((v) => Math.fround(offset + v));
            const specs = { x: { f: xs }, ly: { zf: rows * cols }, t: { i: targets }, loss: { zf: rows }, lse: { zf: rows } };
            const run = (b: Backend) =>
              runOn(b, specs, (t) => {
                b.logSoftmax(t.x, t.ly, rows, cols);
                b.crossEntropy(t.x, t.t, t.loss, t.lse, rows, cols, -1, smoothing);
              }).out;
            const w = run(be);
            const r = run(ref);
            const logCols = Math.log(cols);
            expectClose('logSoftmax', w.ly, r.ly, (i) => EPS * (4 * Math.abs(r.ly[i]!) + 4 * logCols + 2 * cols + 16));
            expectClose('loss', w.loss, r.loss, (i) => EPS * (8 * Math.abs(r.loss[i]!) + 8 * logCols + 4 * cols + 32) * (1 + smoothing * cols));
          },
        ),
        { numRuns: RUNS },
      );
    });

    it('cross-entropy forward and backward, with smoothing, ignored and bad targets', () => {
      fc.assert(
        fc.property(
          rowsColsArb.chain(([rows, cols]) =>
            fc.tuple(
              fc.constant([rows, cols]),
              valuesArb(rows * cols, 100),
              fc.array(fc.integer({ min: -1, max: cols - 1 }), { minLength: rows, maxLength: rows }),
              arrayOf(rows, -2, 2),
              fc.constantFrom(0, 0.1),
            )),
          ([[rows, cols], xs, targets, dloss, smoothing]) => {
            const n = rows * cols;
            const specs = { x: { f: xs }, t: { i: targets }, loss: { zf: rows }, lse: { zf: rows }, dl: { f: dloss }, dx: { zf: n } };
            const run = (b: Backend) =>
              runOn(b, specs, (t) => b.crossEntropy(t.x, t.t, t.loss, t.lse, rows, cols, -1, smoothing));
            const w = run(be);
            const r = run(ref);
            expect(w.ret).toBe(r.ret);
            const rowScale = (row: number) => {
              let m = 0;
              for (let j = 0; j < cols; j++) m = Math.max(m, Math.abs(xs[row * cols + j]!));
              return m;
            };
            // lse = max + log(sum exp(x - max)): the max is exact, the log and the sum add a few EPS
            // of |lse| and n EPS; the loss subtracts lse from logits of similar size
            expectClose('lse', w.out.lse, r.out.lse, (i) => EPS * (4 * Math.abs(r.out.lse[i]!) + 2 * cols + 240));
            expectClose('loss', w.out.loss, r.out.loss, (i) => EPS * (8 * (rowScale(i) + Math.abs(r.out.lse[i]!)) + 4 * cols + 480) * (1 + smoothing * cols));

            const lse32 = f32(r.out.lse);
            const bspecs = { x: { f: xs }, t: { i: targets }, lse: { f: lse32 }, dl: { f: dloss }, dx: { zf: n } };
            const brun = (b: Backend) =>
              runOn(b, bspecs, (t) => b.crossEntropyBackward(t.x, t.t, t.lse, t.dl, t.dx, rows, cols, -1, smoothing)).out.dx;
            const rb = brun(ref);
            // p = exp(x - lse) with x - lse rounded in f32, then a product with dloss
            expectClose('crossEntropyBackward', brun(be), rb, (i) => {
              const row = Math.floor(i / cols);
              const arg = Math.min(Math.abs(xs[i]! - lse32[row]!), 110);
              return Math.abs(dloss[row]!) * EPS * ((6 + 2 * arg) * Math.exp(xs[i]! - lse32[row]!) + 8) + ulp(rb[i]!);
            });
          },
        ),
        { numRuns: RUNS },
      );
      // an out-of-range target: the forward reports -1 - row, the backward throws
      const x = be.alloc(6, 'f');
      be.write(x, [1, 2, 3, 4, 5, 6]);
      const t = be.alloc(2, 'i');
      be.write(t, [0, 3]);
      const l = be.alloc(2, 'f');
      const z = be.alloc(2, 'f');
      expect(be.crossEntropy(x, t, l, z, 2, 3, -100, 0)).toBe(-2);
      expect(() => be.crossEntropyBackward(x, t, z, l, x, 2, 3, -100, 0)).toThrow(/out of range/);
      for (const b of [x, t, l, z]) be.free(b);
    });

    it('layer norm forward and backward (with and without gamma/beta)', () => {
      fc.assert(
        fc.property(
          rowsColsArb.chain(([rows, cols]) =>
            fc.tuple(
              fc.constant([rows, cols]),
              arrayOf(rows * cols, -3, 3),
              floatIn(-30, 30),
              arrayOf(cols, 0.5, 2),
              arrayOf(cols, -1, 1),
              arrayOf(rows * cols, -1, 1),
              fc.boolean(),
            )),
          ([[rows, cols], base, shift, gamma, beta, dys, affine]) => {
            const n = rows * cols;
            // an offset mean makes the variance computation meaningful (cancellation if done naively)
            const xs = f32(Array.from(base, (v) => v + shift));
            const specs = {
              x: { f: xs }, g: { f: gamma }, b: { f: beta }, y: { zf: n }, mean: { zf: rows }, rstd: { zf: rows },
            };
            const run = (bk: Backend) =>
              runOn(bk, specs, (t) => bk.layerNorm(t.x, affine ? t.g : null, affine ? t.b : null, t.y, t.mean, t.rstd, rows, cols, 1e-5)).out;
            const w = run(be);
            const r = run(ref);
            const row = (i: number) => Math.floor(i / cols);
            const g = (j: number) => (affine ? gamma[j]! : 1);
            // the mean: a sum of cols f32 terms; the centred sum of squares likewise; everything
            // downstream is a few roundings of values of size |x| rstd
            expectClose('mean', w.mean, r.mean, (k) => EPS * (cols + 2) * (Math.abs(shift) + 3) + ulp(r.mean[k]!));
            expectClose('rstd', w.rstd, r.rstd, (k) => EPS * (2 * cols + 8) * (1 + (Math.abs(shift) + 3) * r.rstd[k]!) * r.rstd[k]!);
            expectClose('y', w.y, r.y, (i) =>
              EPS * (2 * cols + 8) * (Math.abs(g(i % cols)) * (Math.abs(xs[i]!) + Math.abs(r.mean[row(i)]!) + 1) * r.rstd[row(i)]!) + 2 * ulp(r.y[i]!));

            const mean32 = f32(r.mean);
            const rstd32 = f32(r.rstd);
            const bspecs = {
              x: { f: xs }, g: { f: gamma }, mean: { f: mean32 }, rstd: { f: rstd32 }, dy: { f: dys },
              dx: { zf: n }, dg: { zf: cols }, db: { zf: cols },
            };
            const brun = (bk: Backend) =>
              runOn(bk, bspecs, (t) => bk.layerNormBackward(t.x, affine ? t.g : null, t.mean, t.rstd, t.dy, t.dx, t.dg, t.db, rows, cols)).out;
            const wb = brun(be);
            const rb = brun(ref);
            // xhat carries EPS (|x| + |mean|) rstd of rounding; the row means are sums of cols terms
            const xhatErr = (i: number) => EPS * 4 * (Math.abs(xs[i]!) + Math.abs(mean32[row(i)]!)) * rstd32[row(i)]!;
            expectClose('dx', wb.dx, rb.dx, (i) =>
              rstd32[row(i)]! * (EPS * (2 * cols + 16) * 8 + 8 * xhatErr(i) * (cols + 4)) + 2 * ulp(rb.dx[i]!));
            expectClose('dgamma', wb.dg, rb.dg, (j) => {
              let s = 0;
              for (let rr = 0; rr < rows; rr++) s += Math.abs(dys[rr * cols + j]!) * (Math.abs((xs[rr * cols + j]! - mean32[rr]!) * rstd32[rr]!) + xhatErr(rr * cols + j) / EPS * EPS * 2);
              return EPS * (rows + 8) * s + ulp(rb.dg[j]!) + 4 * UF * rows;
            });
            expectClose('dbeta', wb.db, rb.db, (j) => {
              let s = 0;
              for (let rr = 0; rr < rows; rr++) s += Math.abs(dys[rr * cols + j]!);
              return EPS * (rows + 2) * s + 2 * UF * rows;
            });
          },
        ),
        { numRuns: RUNS },
      );
    });

    it('grouped scale/shift forward and backward', () => {
      const caseArb = fc.tuple(fc.integer({ min: 1, max: 6 }), lengthArb, fc.integer({ min: 1, max: 9 })).chain(([rows, D, K]) =>
        fc.tuple(
          fc.constant([rows, D, K]),
          valuesArb(rows * D, 1e4),
          fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: D, maxLength: D }),
          fc.array(fc.oneof(floatIn(0.25, 4), floatIn(-4, -0.25)), { minLength: K, maxLength: K }).map(f32),
          arrayOf(K, -10, 10),
          arrayOf(rows * D, -1, 1),
        ));
      fc.assert(
        fc.property(caseArb, ([[rows, D, K], xs, map, gamma, beta, dys]) => {
          const n = rows * D;
          const specs = {
            x: { f: xs }, map: { i: map }, g: { f: gamma }, b: { f: beta }, y: { zf: n }, s: { zf: 4 * D },
            dy: { f: dys }, dx: { zf: n }, dg: { zf: K }, db: { zf: K },
          };
          const run = (bk: Backend) =>
            runOn(bk, specs, (t) => {
              bk.groupedScaleShift(t.x, t.map, t.g, t.b, t.y, rows, D, K, t.s);
              bk.groupedScaleShiftBackward(t.x, t.map, t.g, t.b, t.dy, t.dx, t.dg, t.db, rows, D, K, t.s);
            }).out;
          const w = run(be);
          const r = run(ref);
          const gi = (i: number) => gamma[map[i % D]!]!;
          const bi = (i: number) => beta[map[i % D]!]!;
          // (x - beta) * (1 / gamma): three roundings, relative to |x| + |beta| (before cancellation)
          expectClose('y', w.y, r.y, (i) => 2 * EPS * (Math.abs(xs[i]!) + Math.abs(bi(i))) / Math.abs(gi(i)) + ulp(r.y[i]!));
          expectClose('dx', w.dx, r.dx, (i) => 2 * ulp(r.dx[i]!));
          const groupSum = (k: number, f: (i: number) => number) => {
            let s = 0;
            for (let i = 0; i < n; i++) if (map[i % D] === k) s += Math.abs(f(i));
            return s;
          };
          // per-dimension sums over rows in f32, folded over the group's dimensions
          // (underflowing products lose up to UF each, scaled by the 1 / gamma^2 applied after the sum)
          const count = (k: number) => groupSum(k, () => 1);
          expectClose('dgamma', w.dg, r.dg, (k) => EPS * (rows + D + 8) * groupSum(k, (i) => dys[i]! * (Math.abs(xs[i]!) + Math.abs(bi(i))) / (gi(i) * gi(i))) + ulp(r.dg[k]!) + 4 * UF * count(k) * 16);
          expectClose('dbeta', w.db, r.db, (k) => EPS * (rows + D + 8) * groupSum(k, (i) => dys[i]! / gi(i)) + ulp(r.db[k]!) + 4 * UF * count(k) * 4);
        }),
        { numRuns: RUNS },
      );
    });

    it('Gaussian sampling: eps bit-identical to the reference, out and backward close', () => {
      const ref32 = createReferenceBackend({ dtype: 'float32' });
      fc.assert(
        fc.property(
          lengthArb,
          fc.integer({ min: 0, max: 0xffffffff }),
          fc.integer({ min: 0, max: 0xffffffff }),
          fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0xfffffff0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })),
          fc.integer(),
          (n, seedLo, seedHi, counter, seed) => {
            const rnd = mulberry(seed);
            const mu = f32(Array.from({ length: n }, () => rnd() * 20 - 10));
            const sigma = f32(Array.from({ length: n }, () => rnd() * 3));
            const dy = f32(Array.from({ length: n }, () => rnd() * 2 - 1));
            const specs = {
              mu: { f: mu }, sigma: { f: sigma }, eps: { zf: n }, out: { zf: n }, dy: { f: dy }, dmu: { zf: n }, ds: { zf: n },
              rn: { zf: n }, ru: { zf: n }, dm: { zf: n },
            };
            const run = (b: Backend) =>
              runOn(b, specs, (t) => {
                b.gaussianSample(t.mu, t.sigma, t.eps, t.out, n, seedLo, seedHi, counter);
                b.gaussianSampleBackward(t.eps, t.dy, t.dmu, t.ds, n);
                b.randn(t.rn, n, seedLo, seedHi, counter);
                b.randu(t.ru, n, seedLo, seedHi, counter);
                b.dropoutMask(t.dm, n, 0.3, seedLo, seedHi, counter);
              }).out;
            const w = run(be);
            const r32 = run(ref32);
            // the float32 reference stores exactly what the contract specifies: bit-identical
            expect(Array.from(w.eps)).toEqual(Array.from(r32.eps));
            expect(Array.from(w.rn)).toEqual(Array.from(r32.rn));
            expect(Array.from(w.ru)).toEqual(Array.from(r32.ru));
            expect(Array.from(w.dm)).toEqual(Array.from(r32.dm));
            // out = mu + sigma eps: one product and one sum in f32 (one rounding each)
            expectClose('out', w.out, r32.out, (i) => EPS * (Math.abs(mu[i]!) + 2 * Math.abs(sigma[i]! * w.eps[i]!)) + ulp(r32.out[i]!));
            expect(Array.from(w.dmu)).toEqual(Array.from(r32.dmu));
            expect(Array.from(w.ds)).toEqual(Array.from(r32.ds));
          },
        ),
        { numRuns: RUNS * 2 },
      );
    });

    it('Gaussian eps equal rng.ts normal() rounded to f32 on odd counters and lengths', () => {
      const [h0, h1] = keySchedule(12345, 678);
      for (const [n, counter] of [[1, 7], [3, 1], [5, 0], [13, 0xfffffffd], [21, 4]] as const) {
        const e = be.alloc(n, 'f');
        be.randn(e, n, 12345, 678, counter);
        const got = be.read(e);
        for (let i = 0; i < n; i++) expect(got[i]).toBe(Math.fround(normal(h0, h1, (counter + i) >>> 0)));
        be.free(e);
      }
    });

    it('gatherRows, scatterAddRows (repeated ids), oneHot', () => {
      fc.assert(
        fc.property(
          fc.tuple(fc.integer({ min: 1, max: 8 }), lengthArb, fc.integer({ min: 1, max: 12 })).chain(([rowsT, dim, n]) =>
            fc.tuple(
              fc.constant([rowsT, dim, n]),
              arrayOf(rowsT * dim, -100, 100),
              fc.array(fc.integer({ min: 0, max: rowsT - 1 }), { minLength: n, maxLength: n }),
              arrayOf(n * dim, -100, 100),
              fc.array(fc.integer({ min: -2, max: rowsT + 1 }), { minLength: n, maxLength: n }),
            )),
          ([[rowsT, dim, n], table, ids, dout, hotIds]) => {
            const specs = {
              table: { f: table }, ids: { i: ids }, out: { zf: n * dim }, dout: { f: dout }, dtable: { f: table },
              hot: { i: hotIds }, oh: { zf: n * rowsT },
            };
            const run = (b: Backend) =>
              runOn(b, specs, (t) => {
                b.gatherRows(t.table, t.ids, t.out, n, dim);
                b.scatterAddRows(t.dout, t.ids, t.dtable, n, dim);
                b.oneHot(t.hot, t.oh, n, rowsT);
              }).out;
            const w = run(be);
            const r = run(ref);
            expectClose('gatherRows', w.out, r.out, exact(r.out));
            expectClose('scatterAddRows', w.dtable, r.dtable, (k) => {
              const row = Math.floor(k / dim);
              let s = Math.abs(table[k]!);
              let c = 0;
              for (let q = 0; q < n; q++) if (ids[q] === row) { s += Math.abs(dout[q * dim + (k % dim)]!); c++; }
              return EPS * c * s; // c sequential f32 additions
            });
            expectClose('oneHot', w.oh, r.oh, exact(r.oh));
          },
        ),
        { numRuns: RUNS },
      );
      const t = be.alloc(6, 'f');
      const ids = be.alloc(1, 'i');
      be.write(ids, [3]);
      const o = be.alloc(2, 'f');
      expect(() => be.gatherRows(t, ids, o, 1, 2)).toThrow(/outside/);
      expect(() => be.scatterAddRows(o, ids, t, 1, 2)).toThrow(/outside/);
      for (const b of [t, ids, o]) be.free(b);
    });

    it('adamw and sgd steps', () => {
      fc.assert(
        fc.property(
          lengthArb.chain((n) => fc.tuple(arrayOf(n, -2, 2), arrayOf(n, -1, 1), arrayOf(n, -0.1, 0.1), arrayOf(n, 0, 0.01), arrayOf(n, -1, 1))),
          fc.integer({ min: 1, max: 1000 }),
          fc.constantFrom(0, 0.01),
          fc.constantFrom(0, 0.9),
          fc.boolean(),
          fc.boolean(),
          ([p, g, m, v, buf], step, wd, momentum, nesterov, first) => {
            const n = p.length;
            const lr = 1e-3;
            const b1 = 0.9;
            const b2 = 0.999;
            const bc1 = 1 - b1 ** step;
            const bc2 = 1 - b2 ** step;
            const specs = { p: { f: p }, g: { f: g }, m: { f: m }, v: { f: v }, p2: { f: p }, buf: { f: buf } };
            const run = (b: Backend) =>
              runOn(b, specs, (t) => {
                b.adamw(t.p, t.g, t.m, t.v, n, lr, b1, b2, 1e-8, wd, bc1, bc2);
                b.sgd(t.p2, t.g, momentum === 0 ? null : t.buf, n, 0.1, momentum, 0.1, wd, nesterov, first);
              }).out;
            const w = run(be);
            const r = run(ref);
            // m, v: two products and a sum; p: the decay and an update of a few roundings each
            expectClose('m', w.m, r.m, (i) => 2 * EPS * (Math.abs(b1 * m[i]!) + Math.abs((1 - b1) * g[i]!)) + ulp(r.m[i]!));
            expectClose('v', w.v, r.v, (i) => 2 * EPS * (Math.abs(b2 * v[i]!) + Math.abs((1 - b2) * g[i]! * g[i]!)) + ulp(r.v[i]!));
            expectClose('p', w.p, r.p, (i) => {
              const upd = (lr * Math.abs(r.m[i]! / bc1)) / (Math.sqrt(r.v[i]! / bc2) + 1e-8);
              // the update divides by sqrt(v) + eps: where v is tiny its relative error is amplified
              // by v / (sqrt(v) (sqrt(v) + eps)) <= 1, times the few-EPS error of v itself
              // the absolute error of the new m (cancellation in b1 m + (1 - b1) g, or underflow to a
              // denormal) passes into the update scaled by lr / bc1 / den (up to 1e5 / bc1 for v = 0)
              const den = Math.sqrt(r.v[i]! / bc2) + 1e-8;
              const mErr = 2 * EPS * (Math.abs(b1 * m[i]!) + Math.abs((1 - b1) * g[i]!)) + 2 * UF;
              return 4 * EPS * Math.abs(p[i]!) + 12 * EPS * upd + ulp(r.p[i]!) + mErr * (lr / bc1) / den;
            });
            expectClose('sgd p', w.p2, r.p2, (i) => 4 * EPS * (Math.abs(p[i]!) + 0.1 * (Math.abs(g[i]!) + 2 * Math.abs(buf[i]!) + Math.abs(p[i]!))) + ulp(r.p2[i]!) + 4 * UF);
            if (momentum !== 0) {
              expectClose('sgd buf', w.buf, r.buf, (i) => 4 * EPS * (Math.abs(buf[i]!) + Math.abs(g[i]!) + Math.abs(p[i]!)) + ulp(r.buf[i]!) + 4 * UF);
            }
          },
        ),
        { numRuns: RUNS },
      );
    });

    it('matmul (when the binary has it) on small shapes', () => {
      if (be.exports.matmul === undefined) return;
      fc.assert(
        fc.property(
          fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 9 }), fc.boolean(), fc.boolean(), fc.integer()),
          ([M, N, K, tA, tB, seed]) => {
            const rnd = mulberry(seed);
            const a = f32(Array.from({ length: M * K }, () => rnd() * 2 - 1));
            const b = f32(Array.from({ length: K * N }, () => rnd() * 2 - 1));
            const specs = { a: { f: a }, b: { f: b }, c: { zf: M * N } };
            const run = (bk: Backend) => runOn(bk, specs, (t) => bk.matmul(t.a, 0, t.b, 0, t.c, 0, M, N, K, tA, tB, 1, 0, 0, 0, false)).out.c;
            const r = run(ref);
            expectClose('matmul', run(be), r, (i) => EPS * (K + 2) * K + ulp(r[i]!));
          },
        ),
        { numRuns: RUNS },
      );
    });
  });
}

// Under Node 20 the relaxed-simd binary runs only with --experimental-wasm-relaxed-simd: the slow
// tier reruns this file in a Node started with it (test/relaxed-simd.slow.test.ts), where
// WASMGRAD_RELAXED_CHILD=1 narrows it to that binary.

// ---- small deterministic helpers ----------------------------------------------------------------------


/** Operands for a binary op: wide ranges, ties for eq / max / min, positive bases for pow. */
function binaryValue(op: string, rnd: () => number): number {
  if (op === 'pow') return Math.fround(rnd() * 10 - (rnd() < 0.2 ? 5 : 0));
  if (op === 'eq' || op === 'gt' || op === 'max' || op === 'min') return Math.round(rnd() * 6 - 3);
  const scale = [1, 100, 1e4][Math.floor(rnd() * 3)]!;
  return Math.fround((rnd() * 2 - 1) * scale);
}
