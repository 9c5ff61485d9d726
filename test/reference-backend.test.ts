/**
 * The reference backend is the oracle for every other backend, so its own kernels are checked here
 * against hand-computed values and direct formulas written independently of the kernels.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Backend, Buf } from '../src/backend/kernels.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';

const B64 = createReferenceBackend({ dtype: 'float64' });
const B32 = createReferenceBackend({ dtype: 'float32' });

function floats(be: Backend, data: readonly number[]): Buf {
  const b = be.alloc(data.length, 'f');
  be.write(b, data);
  return b;
}
function ints(be: Backend, data: readonly number[]): Buf {
  const b = be.alloc(data.length, 'i');
  be.write(b, data);
  return b;
}
function values(be: Backend, b: Buf): number[] {
  return Array.from(be.read(b));
}
/** Elementwise |a - e| <= tol * max(1, |e|); NaN must match NaN. */
function expectClose(actual: readonly number[], expected: readonly number[], tol = 1e-14): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(a, `element ${i}`).toBeNaN();
      continue;
    }
    if (!Number.isFinite(e)) {
      expect(a, `element ${i}`).toBe(e);
      continue;
    }
    expect(Math.abs(a - e), `element ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e)));
  }
}

describe('storage', () => {
  it('reports its identity and dtype', () => {
    expect(B32.name).toBe('reference');
    expect(B32.variant).toBe('ts');
    expect(B32.dtype).toBe('float32');
    expect(B64.dtype).toBe('float64');
    expect(createReferenceBackend().dtype).toBe('float32');
  });

  it('reads back the typed array of the dtype, rounding float32 at the store', () => {
    const a = floats(B32, [0.1, 1 / 3]);
    const r = B32.read(a);
    expect(r).toBeInstanceOf(Float32Array);
    expect(Array.from(r)).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
    const b = floats(B64, [0.1, 1 / 3]);
    expect(B64.read(b)).toBeInstanceOf(Float64Array);
    expect(values(B64, b)).toEqual([0.1, 1 / 3]);
    expect(B64.read(ints(B64, [1, -2]))).toBeInstanceOf(Int32Array);
  });

  it('read returns a copy', () => {
    const a = floats(B64, [1, 2]);
    const r = B64.read(a);
    r[0] = 99;
    expect(values(B64, a)).toEqual([1, 2]);
  });

  it('tracks live bytes per dtype and kind', () => {
    for (const [be, fb] of [[B32, 4], [B64, 8]] as const) {
      const before = be.liveBytes();
      const f = be.alloc(10, 'f');
      expect(be.liveBytes()).toBe(before + 10 * fb);
      const i = be.alloc(3, 'i');
      expect(be.liveBytes()).toBe(before + 10 * fb + 12);
      const v = be.view(f, 2, 5); // views hold no storage of their own
      expect(be.liveBytes()).toBe(before + 10 * fb + 12);
      expect(v.size).toBe(5);
      be.free(f);
      expect(be.liveBytes()).toBe(before + 12);
      be.free(i);
      expect(be.liveBytes()).toBe(before);
      be.free(be.alloc(0, 'f'));
      expect(be.liveBytes()).toBe(before);
    }
  });

  it('validates alloc sizes and kinds', () => {
    expect(() => B32.alloc(-1, 'f')).toThrow(/non-negative integer/);
    expect(() => B32.alloc(1.5, 'f')).toThrow(/non-negative integer/);
    expect(() => B32.alloc(Number.NaN, 'f')).toThrow(/non-negative integer/);
    expect(() => B32.alloc(2, 'x' as 'f')).toThrow(/kind/);
  });

  it('views share storage without copying, and nest', () => {
    const a = floats(B64, [0, 1, 2, 3, 4, 5]);
    const v = B64.view(a, 1, 4);
    expect(values(B64, v)).toEqual([1, 2, 3, 4]);
    const w = B64.view(v, 2, 2);
    B64.write(w, [30, 40]);
    expect(values(B64, a)).toEqual([0, 1, 2, 30, 40, 5]);
    B64.fill(v, 7);
    expect(values(B64, a)).toEqual([0, 7, 7, 7, 7, 5]);
    expect(() => B64.view(a, 4, 3)).toThrow(/outside/);
    expect(() => B64.view(a, -1, 1)).toThrow(/non-negative integer/);
    expect(() => B64.free(v)).toThrow(/views must not be freed/);
  });

  it('rejects use after free, double free and foreign handles', () => {
    const a = floats(B64, [1, 2, 3]);
    const v = B64.view(a, 0, 2);
    const out = B64.alloc(3, 'f');
    B64.free(a);
    expect(() => B64.read(a)).toThrow(/after free/);
    expect(() => B64.write(a, [1, 2, 3])).toThrow(/after free/);
    expect(() => B64.read(v)).toThrow(/after free/);
    expect(() => B64.unary('exp', a, out, 3)).toThrow(/x is used after free/);
    expect(() => B64.free(a)).toThrow(/after free/);
    expect(() => B64.read({ size: 1, kind: 'f' })).toThrow(/not a reference-backend buffer/);
  });

  it('checks write lengths, buffer kinds and sizes', () => {
    const a = B64.alloc(3, 'f');
    expect(() => B64.write(a, [1, 2])).toThrow(/2 values into a buffer of 3/);
    const i = ints(B64, [1, 2, 3]);
    expect(() => B64.unary('exp', i, a, 3)).toThrow(/x must be a float buffer/);
    expect(() => B64.unary('exp', a, a, 4)).toThrow(/x has 3 elements, the kernel needs 4/);
    expect(() => B64.unary('exp', a, a, -1)).toThrow(/n must be a non-negative integer/);
  });
});

describe('elementwise kernels', () => {
  it('fill writes floats and ints', () => {
    const a = B32.alloc(3, 'f');
    B32.fill(a, 0.1);
    expect(values(B32, a)).toEqual([Math.fround(0.1), Math.fround(0.1), Math.fround(0.1)]);
    const i = B32.alloc(2, 'i');
    B32.fill(i, -7);
    expect(values(B32, i)).toEqual([-7, -7]);
  });

  it('unary writes only the first n elements and may alias its input', () => {
    const x = floats(B64, [0, 1, 2, 3]);
    B64.unary('square', x, x, 3);
    expect(values(B64, x)).toEqual([0, 1, 4, 3]);
  });

  it('axpy accumulates, scale writes, both allow aliasing', () => {
    const x = floats(B64, [1, 2, 3]);
    const y = floats(B64, [10, 20, 30]);
    B64.axpy(0.5, x, y, 3);
    expect(values(B64, y)).toEqual([10.5, 21, 31.5]);
    B64.axpy(2, y, y, 2);
    expect(values(B64, y)).toEqual([31.5, 63, 31.5]);
    B64.scale(-2, x, x, 3);
    expect(values(B64, x)).toEqual([-2, -4, -6]);
  });

  it('where picks by nonzero float or int condition', () => {
    const a = floats(B64, [1, 2, 3, 4]);
    const b = floats(B64, [-1, -2, -3, -4]);
    const out = B64.alloc(4, 'f');
    B64.where(floats(B64, [1, 0, 0.5, -0]), a, b, out, 4);
    expect(values(B64, out)).toEqual([1, -2, 3, -4]);
    B64.where(ints(B64, [0, 3, 0, -1]), a, b, a, 4);
    expect(values(B64, a)).toEqual([-1, 2, -3, 4]);
  });

  it('binary ops on equal shapes', () => {
    const a = floats(B64, [1, 2, 3, -4, Number.NaN, 2]);
    const b = floats(B64, [4, 2, 1, 0.5, 1, 3]);
    const out = B64.alloc(6, 'f');
    const run = (op: Parameters<Backend['binary']>[0]) => {
      B64.binary(op, a, [1], b, [1], out, [6]);
      return values(B64, out);
    };
    expectClose(run('add'), [5, 4, 4, -3.5, NaN, 5]);
    expectClose(run('sub'), [-3, 0, 2, -4.5, NaN, -1]);
    expectClose(run('mul'), [4, 4, 3, -2, NaN, 6]);
    expectClose(run('div'), [0.25, 1, 3, -8, NaN, 2 / 3]);
    expectClose(run('pow'), [1, 4, 3, Math.pow(-4, 0.5), NaN, 8]);
    expectClose(run('max'), [4, 2, 3, 0.5, NaN, 3]);
    expectClose(run('min'), [1, 2, 1, -4, NaN, 2]);
    expect(run('eq')).toEqual([0, 1, 0, 0, 0, 0]);
    expect(run('gt')).toEqual([0, 0, 1, 0, 0, 0]);
    // NaN in the second operand propagates through max/min too.
    B64.binary('max', b, [1], a, [1], out, [6]);
    expect(values(B64, out)[4]).toBeNaN();
    B64.binary('min', b, [1], a, [1], out, [6]);
    expect(values(B64, out)[4]).toBeNaN();
  });

  it('binary broadcasts rows, columns, scalars and permuted operands', () => {
    const a = floats(B64, [1, 2, 3, 4, 5, 6]); // (2, 3)
    const out = B64.alloc(6, 'f');
    B64.binary('sub', a, [3, 1], floats(B64, [10, 20, 30]), [0, 1], out, [2, 3]);
    expect(values(B64, out)).toEqual([-9, -18, -27, -6, -15, -24]);
    B64.binary('mul', a, [3, 1], floats(B64, [10, 100]), [1, 0], out, [2, 3]);
    expect(values(B64, out)).toEqual([10, 20, 30, 400, 500, 600]);
    B64.binary('div', floats(B64, [6]), [0, 0], a, [3, 1], out, [2, 3]);
    expect(values(B64, out)).toEqual([6, 3, 2, 1.5, 6 / 5, 1]);
    // a read as its (3, 2) transpose: out[i][j] = a[j][i] + 0
    B64.binary('add', a, [1, 3], floats(B64, [0]), [0, 0], out, [3, 2]);
    expect(values(B64, out)).toEqual([1, 4, 2, 5, 3, 6]);
    // rank 0: one element
    const s = B64.alloc(1, 'f');
    B64.binary('pow', floats(B64, [2]), [], floats(B64, [10]), [], s, []);
    expect(values(B64, s)).toEqual([1024]);
    // an empty shape writes nothing
    B64.fill(out, 9);
    B64.binary('add', a, [3, 0, 1], a, [3, 0, 1], out, [2, 0, 3]);
    expect(values(B64, out)).toEqual([9, 9, 9, 9, 9, 9]);
  });

  it('binary rejects strides that leave the operand', () => {
    const a = floats(B64, [1, 2, 3]);
    const out = B64.alloc(6, 'f');
    expect(() => B64.binary('add', a, [3, 1], a, [0, 1], out, [2, 3])).toThrow(/outside its 3 elements/);
    expect(() => B64.binary('add', a, [1], a, [0, 1], out, [2, 3])).toThrow(/strides for rank/);
    expect(() => B64.binary('add', a, Array(9).fill(0), a, Array(9).fill(0), out, Array(9).fill(1))).toThrow(/MAX_RANK/);
  });

  it('binary broadcasting matches a per-element index computation (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        (shape, bcA, bcB) => {
          const rank = shape.length;
          // Each operand is stored contiguously at its own (possibly broadcast) shape.
          const shapeOf = (bc: boolean[]) => shape.map((s, d) => (bc[d] ? 1 : s));
          const stridesOf = (bc: boolean[]) => {
            const sh = shapeOf(bc);
            const st = new Array<number>(rank).fill(0);
            let acc = 1;
            for (let d = rank - 1; d >= 0; d--) {
              st[d] = bc[d] ? 0 : acc;
              acc *= sh[d]!;
            }
            return { st, size: acc };
          };
          const A = stridesOf(bcA);
          const Bs = stridesOf(bcB);
          const aData = Array.from({ length: A.size }, (_, i) => i + 1);
          const bData = Array.from({ length: Bs.size }, (_, i) => 0.5 * i - 3);
          const total = shape.reduce((p, s) => p * s, 1);
          const out = B64.alloc(total, 'f');
          B64.binary('sub', floats(B64, aData), A.st, floats(B64, bData), Bs.st, out, shape);
          const got = values(B64, out);
          for (let flat = 0; flat < total; flat++) {
            let rem = flat;
            let pa = 0;
            let pb = 0;
            for (let d = rank - 1; d >= 0; d--) {
              const idx = rem % shape[d]!;
              rem = Math.floor(rem / shape[d]!);
              pa += idx * A.st[d]!;
              pb += idx * Bs.st[d]!;
            }
            expect(got[flat]).toBe(aData[pa]! - bData[pb]!);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('reductions', () => {
  // x viewed as (outer 2, r 3, inner 2)
  const xData = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

  it('sums and maxes over the middle axis', () => {
    const x = floats(B64, xData);
    const out = B64.alloc(4, 'f');
    B64.reduce('sum', x, out, 2, 3, 2);
    expect(values(B64, out)).toEqual([1 + 3 + 5, 2 + 4 + 6, 7 + 9 + 11, 8 + 10 + 12]);
    B64.reduce('max', x, out, 2, 3, 2);
    expect(values(B64, out)).toEqual([5, 6, 11, 12]);
    const row = B64.alloc(1, 'f');
    B64.reduce('sum', x, row, 1, 12, 1);
    expect(values(B64, row)).toEqual([78]);
    const all = B64.alloc(12, 'f');
    B64.reduce('max', x, all, 12, 1, 1);
    expect(values(B64, all)).toEqual(xData);
  });

  it('max propagates NaN wherever it is, and handles -inf', () => {
    const out = B64.alloc(1, 'f');
    for (const data of [[Number.NaN, 1, 2], [1, Number.NaN, 2], [1, 2, Number.NaN]]) {
      B64.reduce('max', floats(B64, data), out, 1, 3, 1);
      expect(values(B64, out)[0]).toBeNaN();
    }
    B64.reduce('max', floats(B64, [-Infinity, -Infinity]), out, 1, 2, 1);
    expect(values(B64, out)).toEqual([-Infinity]);
  });

  it('sum over an empty axis is 0; max over one throws', () => {
    const out = floats(B64, [5, 5, 5]);
    B64.reduce('sum', B64.alloc(0, 'f'), out, 3, 0, 1);
    expect(values(B64, out)).toEqual([0, 0, 0]);
    expect(() => B64.reduce('max', B64.alloc(0, 'f'), out, 3, 0, 1)).toThrow(/empty axis/);
  });

  it('sumSquares accumulates in float64', () => {
    expect(B64.sumSquares(floats(B64, [1, -2, 3, 100]), 3)).toBe(14);
    const n = 100000;
    const x = B32.alloc(n, 'f');
    B32.fill(x, 0.1);
    const v = Math.fround(0.1);
    const exact = n * v * v; // v * v is exact in float64 (24-bit factors) and n * v * v is one rounding
    // A sequential float64 sum of n terms is within n * 2^-53 relative; float32 accumulation would be
    // off by ~1e-3 relative here.
    expect(Math.abs(B32.sumSquares(x, n) - exact)).toBeLessThanOrEqual(n * 2 ** -53 * exact);
  });
});

describe('copyStrided', () => {
  it('transposes, slices with offsets and copies int32 exactly', () => {
    const src = floats(B64, [1, 2, 3, 4, 5, 6]); // (2, 3)
    const dst = B64.alloc(6, 'f');
    B64.copyStrided(src, 0, [1, 3], dst, 0, [2, 1], [3, 2], false);
    expect(values(B64, dst)).toEqual([1, 4, 2, 5, 3, 6]);
    // src[:, 1:3] into dst at offset 1 with row stride 3
    B64.fill(dst, 0);
    B64.copyStrided(src, 1, [3, 1], dst, 1, [3, 1], [2, 2], false);
    expect(values(B64, dst)).toEqual([0, 2, 3, 0, 5, 6]);
    const isrc = ints(B64, [2147483647, -2147483648, 5]);
    const idst = B64.alloc(3, 'i');
    B64.copyStrided(isrc, 0, [1], idst, 2, [-1], [3], false); // reversed
    expect(values(B64, idst)).toEqual([2147483647, -2147483648, 5].reverse());
  });

  it('accumulates, including into repeated destinations (broadcast backward)', () => {
    const src = floats(B64, [1, 2, 3, 4, 5, 6]); // (2, 3)
    const dst = floats(B64, [100, 200, 300]);
    B64.copyStrided(src, 0, [3, 1], dst, 0, [0, 1], [2, 3], true);
    expect(values(B64, dst)).toEqual([105, 207, 309]);
    const total = floats(B64, [0]);
    B64.copyStrided(src, 0, [3, 1], total, 0, [0, 0], [2, 3], true);
    expect(values(B64, total)).toEqual([21]);
  });

  it('checks bounds and kinds', () => {
    const src = floats(B64, [1, 2, 3]);
    const dst = B64.alloc(3, 'f');
    expect(() => B64.copyStrided(src, 1, [1], dst, 0, [1], [3], false)).toThrow(/src access/);
    expect(() => B64.copyStrided(src, 0, [1], dst, 0, [2], [3], false)).toThrow(/dst access/);
    expect(() => B64.copyStrided(src, 0, [1], B64.alloc(3, 'i'), 0, [1], [3], false)).toThrow(/same kind/);
  });
});

describe('matmul', () => {
  /** op(X)[r][c] for X stored (rows, cols) or transposed. */
  const at = (x: number[], base: number, trans: boolean, rows: number, cols: number, r: number, c: number) =>
    trans ? x[base + c * rows + r]! : x[base + r * cols + c]!;

  it('matches a direct triple sum for every flag combination (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          M: fc.integer({ min: 0, max: 4 }),
          N: fc.integer({ min: 0, max: 4 }),
          K: fc.integer({ min: 0, max: 4 }),
          batch: fc.integer({ min: 1, max: 3 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          broadcastA: fc.boolean(),
          broadcastB: fc.boolean(),
          accumulate: fc.boolean(),
          offset: fc.integer({ min: 0, max: 3 }),
          seed: fc.integer(),
        }),
        (p) => {
          const { M, N, K, batch, transA, transB, accumulate, offset } = p;
          const strideA = p.broadcastA ? 0 : M * K + 1; // a gap between matrices, so stride matters
          const strideB = p.broadcastB ? 0 : K * N;
          const strideC = M * N + 2;
          let s = p.seed;
          const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 16) / 65536 - 0.5;
          const aData = Array.from({ length: offset + (batch - 1) * strideA + M * K }, rnd);
          const bData = Array.from({ length: offset + (batch - 1) * strideB + K * N }, rnd);
          const cData = Array.from({ length: offset + (batch - 1) * strideC + M * N }, rnd);
          const c = floats(B64, cData);
          B64.matmul(
            floats(B64, aData), offset, floats(B64, bData), offset, c, offset,
            M, N, K, transA, transB, batch, strideA, strideB, strideC, accumulate,
          );
          const got = values(B64, c);
          const expected = cData.slice();
          for (let t = 0; t < batch; t++) {
            for (let i = 0; i < M; i++) {
              for (let j = 0; j < N; j++) {
                let sum = 0;
                for (let k = 0; k < K; k++) {
                  sum += at(aData, offset + t * strideA, transA, M, K, i, k) * at(bData, offset + t * strideB, transB, K, N, k, j);
                }
                const ci = offset + t * strideC + i * N + j;
                expected[ci] = accumulate ? cData[ci]! + sum : sum;
              }
            }
          }
          expectClose(got, expected, 1e-14);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('multiplies a known 2x3 by 3x2 and handles K = 0', () => {
    const a = floats(B64, [1, 2, 3, 4, 5, 6]);
    const b = floats(B64, [7, 8, 9, 10, 11, 12]);
    const c = B64.alloc(4, 'f');
    B64.matmul(a, 0, b, 0, c, 0, 2, 2, 3, false, false, 1, 0, 0, 0, false);
    expect(values(B64, c)).toEqual([58, 64, 139, 154]);
    B64.matmul(a, 0, b, 0, c, 0, 2, 2, 0, false, false, 1, 0, 0, 0, true);
    expect(values(B64, c)).toEqual([58, 64, 139, 154]);
    B64.matmul(a, 0, b, 0, c, 0, 2, 2, 0, false, false, 1, 0, 0, 0, false);
    expect(values(B64, c)).toEqual([0, 0, 0, 0]);
  });

  it('rounds once per element in float32 mode', () => {
    // 1 + 2^-24 + 2^-24: per-step float32 rounding would give exactly 1; one rounding gives 1 + 2^-23.
    const a = floats(B32, [1, 1, 1]);
    const e = 2 ** -24;
    const b = floats(B32, [1, e, e]);
    const c = B32.alloc(1, 'f');
    B32.matmul(a, 0, b, 0, c, 0, 1, 1, 3, false, false, 1, 0, 0, 0, false);
    expect(values(B32, c)).toEqual([1 + 2 ** -23]);
  });

  it('checks operand extents', () => {
    const a = floats(B64, [1, 2, 3, 4]);
    const c = B64.alloc(4, 'f');
    expect(() => B64.matmul(a, 0, a, 0, c, 0, 2, 2, 2, false, false, 2, 4, 0, 0, false)).toThrow(/a has 4 elements, the kernel needs 8/);
  });
});

describe('row kernels', () => {
  it('softmax of known rows, stable for large logits', () => {
    const x = floats(B64, [1, 2, 3, 1000, 1000, 1000, -1000, 0, 0]);
    const out = B64.alloc(9, 'f');
    B64.softmax(x, out, 3, 3);
    expectClose(values(B64, out), [
      0.09003057317038046, 0.24472847105479767, 0.6652409557748219,
      1 / 3, 1 / 3, 1 / 3,
      0, 0.5, 0.5,
    ]);
  });

  it('logSoftmax of known rows', () => {
    const out = B64.alloc(4, 'f');
    B64.logSoftmax(floats(B64, [0, 0, 1, 1 + Math.log(3)]), out, 2, 2);
    expectClose(values(B64, out), [-Math.LN2, -Math.LN2, -Math.log(4), Math.log(3) - Math.log(4)]);
    // At logits near 1000, out = x - lse is a difference of numbers whose ulp is 2^-43 ~ 1.1e-13, so
    // no implementation of the documented formula is closer than that: the bound is 2 such ulp.
    B64.logSoftmax(floats(B64, [1000, 1000, -1000, 1000 + Math.log(3)]), out, 2, 2);
    expectClose(values(B64, out), [-Math.LN2, -Math.LN2, -2000 - Math.log(3), 0], 2 * 2 ** -43);
  });

  it('softmax and logSoftmax backward of a hand example', () => {
    const y = floats(B64, [0.25, 0.75]);
    const dy = floats(B64, [1, 3]);
    const dx = B64.alloc(2, 'f');
    B64.softmaxBackward(y, dy, dx, 1, 2);
    // sum dy*y = 2.5: dx = [0.25 * (1 - 2.5), 0.75 * (3 - 2.5)]
    expectClose(values(B64, dx), [-0.375, 0.375]);
    B64.logSoftmaxBackward(floats(B64, [Math.log(0.25), Math.log(0.75)]), dy, dx, 1, 2);
    // sum dy = 4: dx = dy - p * 4
    expectClose(values(B64, dx), [0, 0]);
  });

  describe('cross-entropy', () => {
    const cols = 4;
    const logits = [0.5, -1, 2, 0.1, 3, 0, -2, 1, -0.3, 0.7, 0.2, -1.5];
    /** The textbook formula, computed without any shift (fine for these small logits). */
    const direct = (row: number, t: number, s: number) => {
      const xs = logits.slice(row * cols, row * cols + cols);
      const lse = Math.log(xs.reduce((a, v) => a + Math.exp(v), 0));
      const logp = xs.map((v) => v - lse);
      return { lse, loss: -((1 - s) * logp[t]! + (s / cols) * logp.reduce((a, v) => a + v, 0)), p: logp.map(Math.exp) };
    };

    it('losses, lse and count with an ignored row and label smoothing', () => {
      const s = 0.1;
      const loss = B64.alloc(3, 'f');
      const lse = B64.alloc(3, 'f');
      const count = B64.crossEntropy(floats(B64, logits), ints(B64, [2, -100, 0]), loss, lse, 3, cols, -100, s);
      expect(count).toBe(2);
      expectClose(values(B64, loss), [direct(0, 2, s).loss, 0, direct(2, 0, s).loss]);
      expectClose([values(B64, lse)[0]!, values(B64, lse)[2]!], [direct(0, 2, s).lse, direct(2, 0, s).lse]);

      const dlogits = B64.alloc(12, 'f');
      B64.crossEntropyBackward(floats(B64, logits), ints(B64, [2, -100, 0]), lse, floats(B64, [2, 5, -1]), dlogits, 3, cols, -100, s);
      const expected: number[] = [];
      for (const [row, t, g] of [[0, 2, 2], [1, -1, 5], [2, 0, -1]] as const) {
        if (t < 0) expected.push(0, 0, 0, 0);
        else direct(row, t, s).p.forEach((p, c) => expected.push(g * (p - (c === t ? 1 - s : 0) - s / cols)));
      }
      expectClose(values(B64, dlogits), expected);
    });

    it('without smoothing the loss is -log p[target]; an in-range ignoreIndex is honoured', () => {
      const loss = B64.alloc(3, 'f');
      const lse = B64.alloc(3, 'f');
      const count = B64.crossEntropy(floats(B64, logits), ints(B64, [1, 0, 3]), loss, lse, 3, cols, 0, 0);
      expect(count).toBe(2);
      expectClose(values(B64, loss), [direct(0, 1, 0).loss, 0, direct(2, 3, 0).loss]);
      expectClose([values(B64, loss)[0]!], [-Math.log(direct(0, 1, 0).p[1]!)]);
    });

    it('reports the first out-of-range target as -1 - row', () => {
      const loss = B64.alloc(3, 'f');
      const lse = B64.alloc(3, 'f');
      const x = floats(B64, logits);
      expect(B64.crossEntropy(x, ints(B64, [1, 4, -5]), loss, lse, 3, cols, -100, 0)).toBe(-2);
      expect(B64.crossEntropy(x, ints(B64, [-1, 4, 0]), loss, lse, 3, cols, -100, 0)).toBe(-1);
      expect(B64.crossEntropy(x, ints(B64, [0, 1, 7]), loss, lse, 3, cols, 7, 0)).toBe(2);
    });

    it('is stable for huge logits', () => {
      const loss = B64.alloc(1, 'f');
      const lse = B64.alloc(1, 'f');
      B64.crossEntropy(floats(B64, [1000, 1000]), ints(B64, [0]), loss, lse, 1, 2, -100, 0);
      // loss = lse - 1000 with lse rounded at magnitude 1000 (ulp 2^-43): bound of 2 such ulp.
      expectClose(values(B64, loss), [Math.LN2], 2 * 2 ** -43);
      expectClose(values(B64, lse), [1000 + Math.LN2]);
    });
  });

  describe('layer norm', () => {
    const x = [1, 2, 3, 2, 4, 6];
    const r0 = Math.sqrt(1.5); // 1 / sqrt(var = 2/3)
    const r1 = Math.sqrt(3 / 8); // 1 / sqrt(var = 8/3)

    it('a 2x3 example by hand, with and without gamma/beta', () => {
      const y = B64.alloc(6, 'f');
      const mean = B64.alloc(2, 'f');
      const rstd = B64.alloc(2, 'f');
      B64.layerNorm(floats(B64, x), floats(B64, [1, 2, 3]), floats(B64, [0.5, 0, -0.5]), y, mean, rstd, 2, 3, 0);
      expectClose(values(B64, mean), [2, 4]);
      expectClose(values(B64, rstd), [r0, r1]);
      // Both rows normalise to xhat = [-sqrt(1.5), 0, sqrt(1.5)].
      expectClose(values(B64, y), [-r0 + 0.5, 0, 3 * r0 - 0.5, -r0 + 0.5, 0, 3 * r0 - 0.5]);
      B64.layerNorm(floats(B64, x), null, null, y, mean, rstd, 2, 3, 1e-5);
      const e0 = 1 / Math.sqrt(2 / 3 + 1e-5);
      const e1 = 1 / Math.sqrt(8 / 3 + 1e-5);
      expectClose(values(B64, rstd), [e0, e1]);
      expectClose(values(B64, y), [-e0, 0, e0, -2 * e1, 0, 2 * e1]);
      B64.layerNorm(floats(B64, x), null, floats(B64, [1, 1, 1]), y, mean, rstd, 2, 3, 0);
      expectClose(values(B64, y), [1 - r0, 1, 1 + r0, 1 - r0, 1, 1 + r0]);
    });

    it('backward with a uniform upstream gradient by hand', () => {
      const y = B64.alloc(6, 'f');
      const mean = B64.alloc(2, 'f');
      const rstd = B64.alloc(2, 'f');
      B64.layerNorm(floats(B64, x), null, null, y, mean, rstd, 2, 3, 0);
      const dx = B64.alloc(6, 'f');
      const dgamma = B64.alloc(3, 'f');
      const dbeta = B64.alloc(3, 'f');
      B64.layerNormBackward(floats(B64, x), null, mean, rstd, floats(B64, [1, 1, 1, 1, 1, 1]), dx, dgamma, dbeta, 2, 3);
      // Shifting all inputs of a row does not change its output: dx = 0.
      expectClose(values(B64, dx), [0, 0, 0, 0, 0, 0]);
      expectClose(values(B64, dgamma), [-2 * r0, 0, 2 * r0]);
      expectClose(values(B64, dbeta), [2, 2, 2]);
      // null outputs are skipped
      B64.layerNormBackward(floats(B64, x), floats(B64, [1, 2, 3]), mean, rstd, floats(B64, [1, 0, 0, 0, 0, 0]), dx, null, null, 2, 3);
      // row 0: dxhat = [1, 0, 0], xhat = [-r0, 0, r0]: dx = r0 * (dxhat - 1/3 - xhat * (-r0 / 3))
      expectClose(values(B64, dx).slice(0, 3), [r0 * (1 - 1 / 3 - 0.5), r0 * (-1 / 3), r0 * (-1 / 3 + 0.5)]);
    });
  });

  describe('grouped scale/shift', () => {
    // D = 4 dims in K = 2 groups: dims 0, 2 in group 0 (gamma 2, beta 1), dims 1, 3 in group 1 (gamma 4, beta -1).
    const x = [3, 3, 5, 7, 1, -1, 0, 1];
    const setup = () => ({
      x: floats(B64, x), map: ints(B64, [0, 1, 0, 1]), gamma: floats(B64, [2, 4]), beta: floats(B64, [1, -1]),
      scratch: B64.alloc(16, 'f'),
    });

    it('forward on a tiny map', () => {
      const s = setup();
      const y = B64.alloc(8, 'f');
      B64.groupedScaleShift(s.x, s.map, s.gamma, s.beta, y, 2, 4, 2, s.scratch);
      expect(values(B64, y)).toEqual([1, 1, 2, 2, 0, 0, -0.5, 0.5]);
    });

    it('backward on a tiny map', () => {
      const s = setup();
      const dx = B64.alloc(8, 'f');
      const dgamma = B64.alloc(2, 'f');
      const dbeta = B64.alloc(2, 'f');
      B64.groupedScaleShiftBackward(s.x, s.map, s.gamma, s.beta, floats(B64, [1, 1, 1, 1, 1, 1, 1, 1]), dx, dgamma, dbeta, 2, 4, 2, s.scratch);
      expect(values(B64, dx)).toEqual([0.5, 0.25, 0.5, 0.25, 0.5, 0.25, 0.5, 0.25]);
      // group 0: -sum (x - 1) / 4 over x = 3, 5, 1, 0; group 1: -sum (x + 1) / 16 over x = 3, 7, -1, 1
      expect(values(B64, dgamma)).toEqual([-5 / 4, -14 / 16]);
      expect(values(B64, dbeta)).toEqual([-4 / 2, -4 / 4]);
    });

    it('rejects a group id outside [0, K)', () => {
      const s = setup();
      expect(() => B64.groupedScaleShift(s.x, ints(B64, [0, 2, 0, 1]), s.gamma, s.beta, B64.alloc(8, 'f'), 2, 4, 2, s.scratch))
        .toThrow(/groupMap\[1\] = 2/);
    });
  });
});

describe('indexing kernels', () => {
  it('gathers rows and scatter-adds repeated ids', () => {
    const table = floats(B64, [0, 1, 10, 11, 20, 21]); // (3, 2)
    const ids = ints(B64, [2, 0, 2]);
    const out = B64.alloc(6, 'f');
    B64.gatherRows(table, ids, out, 3, 2);
    expect(values(B64, out)).toEqual([20, 21, 0, 1, 20, 21]);
    const dtable = floats(B64, [1, 1, 1, 1, 1, 1]);
    B64.scatterAddRows(floats(B64, [1, 2, 3, 4, 5, 6]), ids, dtable, 3, 2);
    expect(values(B64, dtable)).toEqual([4, 5, 1, 1, 7, 9]);
    expect(() => B64.gatherRows(table, ints(B64, [3]), out, 1, 2)).toThrow(/ids\[0\] = 3/);
    expect(() => B64.scatterAddRows(out, ints(B64, [-1]), dtable, 1, 2)).toThrow(/ids\[0\] = -1/);
  });

  it('one-hot gives zero rows for out-of-range ids', () => {
    const out = floats(B64, Array(12).fill(7));
    B64.oneHot(ints(B64, [2, -1, 0, 3]), out, 4, 3);
    expect(values(B64, out)).toEqual([0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  });
});

describe('optimizers', () => {
  it('AdamW: two steps against a hand-unrolled computation', () => {
    const lr = 0.1;
    const b1 = 0.9;
    const b2 = 0.999;
    const eps = 1e-8;
    const wd = 0.01;
    const p = floats(B64, [1, -2]);
    const m = floats(B64, [0, 0]);
    const v = floats(B64, [0, 0]);
    B64.adamw(p, floats(B64, [0.5, -1]), m, v, 2, lr, b1, b2, eps, wd, 1 - b1, 1 - b2);
    // Step 1, element 0: decay 1 -> 0.999; m = 0.05, v = 0.00025; m/bc1 = 0.5, sqrt(v/bc2) = 0.5.
    // Element 1: decay -2 -> -1.998; m = -0.1, v = 0.001; m/bc1 = -1, sqrt(v/bc2) = 1.
    const p1 = [0.999 - (0.1 * 0.5) / (0.5 + eps), -1.998 - (0.1 * -1) / (1 + eps)];
    expectClose(values(B64, p), p1);
    expectClose(values(B64, m), [0.05, -0.1]);
    expectClose(values(B64, v), [0.00025, 0.001]);
    B64.adamw(p, floats(B64, [0.1, 0.3]), m, v, 2, lr, b1, b2, eps, wd, 1 - b1 ** 2, 1 - b2 ** 2);
    // Step 2: m = 0.9 m + 0.1 g, v = 0.999 v + 0.001 g^2, bc1 = 0.19, bc2 = 0.001999.
    const m2 = [0.9 * 0.05 + 0.1 * 0.1, 0.9 * -0.1 + 0.1 * 0.3];
    const v2 = [0.999 * 0.00025 + 0.001 * 0.01, 0.999 * 0.001 + 0.001 * 0.09];
    const p2 = [0, 1].map((i) => {
      const decayed = p1[i]! * (1 - lr * wd);
      return decayed - (lr * (m2[i]! / 0.19)) / (Math.sqrt(v2[i]! / 0.001999) + eps);
    });
    expectClose(values(B64, m), m2);
    expectClose(values(B64, v), v2);
    expectClose(values(B64, p), p2, 1e-13);
  });

  it('SGD without momentum: p -= lr (g + wd p), buf may be null', () => {
    const p = floats(B64, [1, -2]);
    B64.sgd(p, floats(B64, [0.5, 0.25]), null, 2, 0.1, 0, 0, 0.1, false, true);
    expectClose(values(B64, p), [1 - 0.1 * (0.5 + 0.1), -2 - 0.1 * (0.25 - 0.2)]);
    expect(() => B64.sgd(p, p, null, 2, 0.1, 0.9, 0, 0, false, true)).toThrow(/momentum buffer/);
  });

  it('SGD with momentum, dampening and weight decay: three steps by hand, plain and Nesterov', () => {
    const lr = 0.1;
    const mu = 0.9;
    const damp = 0.1;
    const wd = 0.01;
    const grads = [0.5, -1, 0.25];
    for (const nesterov of [false, true]) {
      const p = floats(B64, [2]);
      const buf = floats(B64, [123]); // garbage: the first step must overwrite it
      grads.forEach((g, t) => B64.sgd(p, floats(B64, [g]), buf, 1, lr, mu, damp, wd, nesterov, t === 0));
      // Step 1: g' = 0.5 + 0.02 = 0.52; buf = 0.52 (no dampening on the first step).
      const b1 = 0.52;
      const p1 = 2 - lr * (nesterov ? 0.52 + mu * b1 : b1);
      // Step 2: g' = -1 + 0.01 p1; buf = 0.9 buf + 0.9 g'.
      const g2 = -1 + wd * p1;
      const b2 = mu * b1 + (1 - damp) * g2;
      const p2 = p1 - lr * (nesterov ? g2 + mu * b2 : b2);
      const g3 = 0.25 + wd * p2;
      const b3 = mu * b2 + (1 - damp) * g3;
      const p3 = p2 - lr * (nesterov ? g3 + mu * b3 : b3);
      expectClose(values(B64, p), [p3]);
      expectClose(values(B64, buf), [b3]);
    }
  });
});

describe('float32 mode', () => {
  it('runs the same kernels and rounds once at the store', () => {
    const x = floats(B32, [0.1, -2, 3]);
    const out = B32.alloc(3, 'f');
    B32.unary('exp', x, out, 3);
    const xs = values(B32, x);
    expect(values(B32, out)).toEqual(xs.map((v) => Math.fround(Math.exp(v))));
    const sm = B32.alloc(3, 'f');
    B32.softmax(x, sm, 1, 3);
    const e = xs.map((v) => Math.exp(v - 3));
    const s = e.reduce((a, v) => a + v, 0);
    expectClose(values(B32, sm), e.map((v) => Math.fround(v / s)), 0);
  });
});
