/**
 * Every op in the OPS table: gradients equal central finite differences in float64 (reference
 * backend), and every WASM binary's values and gradients equal the reference's. The CASES table is
 * typed by OpName, so adding an op without a test here does not compile.
 */
import { describe, expect, it } from 'vitest';
import type { OpName } from '../src/ops/table.js';
import { OPS } from '../src/ops/table.js';
import { UNARY_OPS, type UnaryOp } from '../src/backend/kernels.js';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { broadcastPairArb, dimArb, shapeArb, valuesArb } from '../src/testing/arbitraries.js';
import { checkOp, f32round, fc, FD_RUNS, wasmBackends } from './helpers.js';

const vals = (n: number, o: Parameters<typeof valuesArb>[1] = {}) => valuesArb(n, o).map(f32round);
const inp = (shape: number[], data: Float64Array) => ({ shape, data });
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

// Domains keep finite differences away from kinks and poles.
const UNARY_DOMAIN: { [K in UnaryOp]: Parameters<typeof valuesArb>[1] } = {
  neg: {}, exp: {}, tanh: {}, sigmoid: {}, softplus: {}, square: {}, gelu_tanh: {}, gelu_erf: {},
  log: { positive: true, awayFromZero: 0.1 },
  sqrt: { positive: true, awayFromZero: 0.1 },
  recip: { awayFromZero: 0.3 },
  abs: { awayFromZero: 0.01 },
  relu: { awayFromZero: 0.01 },
  sign: { awayFromZero: 0.01 },
};

/** Same order as d, values 1/16 apart: no ties or near-ties (FD steps are 1e-6), exact in float32. */
function spread(d: Float64Array): Float64Array {
  const order = Array.from(d.keys()).sort((a, b) => d[a] - d[b] || a - b);
  const out = new Float64Array(d.length);
  order.forEach((idx, rank) => (out[idx] = (rank - d.length / 2) * 0.0625));
  return out;
}

const CASES: { [K in OpName]: () => void } = {
  unary() {
    for (const op of UNARY_OPS) {
      fc.assert(
        fc.property(shapeArb({ maxRank: 3, maxSize: 64 }).chain((s) => vals(size(s), UNARY_DOMAIN[op]).map((d) => inp(s, d))), (x) => {
          checkOp((t) => W.apply(W.unaryOp, [t], { op }), [x], { wasm: { atol: 1e-5, rtol: 2e-5 } });
        }),
        { numRuns: 4 },
      );
    }
  },
  binary() {
    const ops: [string, (a: W.Tensor, b: W.Tensor) => W.Tensor, Parameters<typeof valuesArb>[1]][] = [
      ['add', W.add, {}], ['sub', W.sub, {}], ['mul', W.mul, {}],
      ['div', W.div, { awayFromZero: 0.5 }], ['pow', W.pow, { positive: true, awayFromZero: 0.2 }],
      ['max', W.maximum, {}], ['min', W.minimum, {}],
    ];
    // max/min are not differentiable at ties: put a on odd eighths and b on quarters so they never meet.
    const apart = (name: string, v: Float64Array, odd: boolean) =>
      name === 'max' || name === 'min' ? v.map((x) => Math.round(x * 4) / 4 + (odd ? 0.125 : 0)) : v;
    for (const [name, f, dom] of ops) {
      fc.assert(
        fc.property(
          broadcastPairArb({ maxRank: 3, maxSize: 48 }).chain(([sa, sb]) =>
            fc.tuple(vals(size(sa), dom), vals(size(sb), dom)).map(([a, b]) => [inp(sa, apart(name, a, true)), inp(sb, apart(name, b, false))])),
          ([a, b]) => checkOp(f, [a, b], { wasm: { atol: 1e-5, rtol: 1e-5 } }),
        ),
        FD_RUNS,
      );
    }
  },
  matmul() {
    const arb = fc
      .record({ M: dimArb(9), N: dimArb(9), K: dimArb(9), tA: fc.boolean(), tB: fc.boolean(), batch: fc.constantFrom('none', 'both', 'a', 'b', 'bcast') })
      .chain((p) => {
        const bA = p.batch === 'both' || p.batch === 'a' ? [2] : p.batch === 'bcast' ? [2, 1] : [];
        const bB = p.batch === 'both' || p.batch === 'b' ? [2] : p.batch === 'bcast' ? [3] : [];
        const sa = [...bA, ...(p.tA ? [p.K, p.M] : [p.M, p.K])];
        const sb = [...bB, ...(p.tB ? [p.N, p.K] : [p.K, p.N])];
        return fc.tuple(fc.constant(p), vals(size(sa)), vals(size(sb))).map(([q, a, b]) => ({ q, a: inp(sa, a), b: inp(sb, b) }));
      });
    fc.assert(
      fc.property(arb, ({ q, a, b }) =>
        checkOp((x, y) => W.matmul(x, y, { transA: q.tA, transB: q.tB }), [a, b], { wasm: { atol: 1e-4, rtol: 1e-4 } })),
      FD_RUNS,
    );
  },
  sum() {
    fc.assert(
      fc.property(shapeArb({ minRank: 1, maxRank: 4, maxSize: 60 }).chain((s) =>
        fc.tuple(vals(size(s)), fc.subarray(s.map((_, i) => i)), fc.boolean()).map(([d, axes, keep]) => ({ x: inp(s, d), axes, keep }))),
      ({ x, axes, keep }) => checkOp((t) => W.sum(t, axes, keep), [x], { wasm: { atol: 1e-5, rtol: 1e-5 } })),
      FD_RUNS,
    );
  },
  max() {
    fc.assert(
      fc.property(shapeArb({ minRank: 1, maxRank: 3, maxSize: 60 }).chain((s) =>
        // Distinct values: with ties the max is not differentiable (finite differences see a kink).
        fc.tuple(vals(size(s)), fc.subarray(s.map((_, i) => i), { minLength: 1 }), fc.boolean())
          .map(([d, axes, keep]) => ({ x: inp(s, spread(d)), axes, keep }))),
      ({ x, axes, keep }) => checkOp((t) => W.max(t, axes, keep), [x])),
      FD_RUNS,
    );
  },
  reshape() {
    fc.assert(fc.property(shapeArb({ minRank: 1, maxRank: 3, maxSize: 60 }).chain((s) => vals(size(s)).map((d) => inp(s, d))),
      (x) => checkOp((t) => W.reshape(t, [-1]).mul(2).reshape(x.shape), [x])), FD_RUNS);
  },
  broadcastTo() {
    fc.assert(fc.property(broadcastPairArb({ maxRank: 3, maxSize: 48 }).chain(([sa, sb]) => {
      const out = sa.map((d, i) => Math.max(d, sb[i - (sa.length - sb.length)] ?? 1));
      return vals(size(sa)).map((d) => ({ x: inp(sa, d), out }));
    }), ({ x, out }) => checkOp((t) => W.broadcastTo(t, out), [x])), FD_RUNS);
  },
  permute() {
    fc.assert(fc.property(shapeArb({ minRank: 2, maxRank: 4, maxSize: 60 }).chain((s) =>
      fc.tuple(vals(size(s)), fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length }))
        .map(([d, perm]) => ({ x: inp(s, d), perm }))),
    ({ x, perm }) => checkOp((t) => W.permute(t, perm), [x])), FD_RUNS);
  },
  slice() {
    fc.assert(fc.property(shapeArb({ minRank: 1, maxRank: 3, maxSize: 60 }).chain((s) =>
      fc.tuple(vals(size(s)), fc.tuple(...s.map((n) => fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 1, max: n }))))
      ).map(([d, r]) => ({ x: inp(s, d), starts: r.map(([a]) => a), ends: r.map(([a, len], i) => Math.min(a + len, s[i])) }))),
    ({ x, starts, ends }) => checkOp((t) => W.slice(t, starts, ends), [x])), FD_RUNS);
  },
  concat() {
    fc.assert(fc.property(shapeArb({ minRank: 1, maxRank: 3, maxSize: 40 }).chain((s) =>
      fc.tuple(fc.integer({ min: 0, max: s.length - 1 }), fc.integer({ min: 1, max: 4 })).chain(([axis, n2]) => {
        const s2 = s.map((d, i) => (i === axis ? n2 : d));
        return fc.tuple(vals(size(s)), vals(size(s2))).map(([a, b]) => ({ a: inp(s, a), b: inp(s2, b), axis }));
      })),
    ({ a, b, axis }) => checkOp((x, y) => W.concat([x, y, x], axis), [a, b])), FD_RUNS);
  },
  where() {
    fc.assert(fc.property(shapeArb({ minRank: 1, maxRank: 3, maxSize: 48 }).chain((s) =>
      fc.tuple(fc.array(fc.constantFrom(0, 1), { minLength: size(s), maxLength: size(s) }), vals(size(s)), vals(size(s)))
        .map(([c, a, b]) => ({ c: { shape: s, data: c, requiresGrad: false }, a: inp(s, a), b: inp(s, b) }))),
    ({ c, a, b }) => checkOp((cc, x, y) => W.where(cc, x, y), [c, a, b])), FD_RUNS);
  },
  embedding() {
    fc.assert(fc.property(fc.tuple(dimArb(7), dimArb(9), dimArb(9)).chain(([V, D, n]) =>
      fc.tuple(vals(V * D), fc.array(fc.integer({ min: 0, max: V - 1 }), { minLength: n, maxLength: n }))
        .map(([t, ids]) => ({ t: inp([V, D], t), ids: { shape: [n], data: ids, dtype: 'int32' as const } }))),
    ({ t, ids }) => checkOp((tab, i) => W.embedding(tab, i), [t, ids])), FD_RUNS);
    // a padding row: same values, no gradient to that row (ids hit it about a third of the time)
    fc.assert(fc.property(fc.tuple(dimArb(7), dimArb(9), dimArb(9)).chain(([V, D, n]) =>
      fc.tuple(vals(V * D), fc.array(fc.integer({ min: 0, max: V - 1 }), { minLength: n, maxLength: n }), fc.integer({ min: 0, max: V - 1 }))
        .map(([t, ids, pad]) => ({ t: inp([V, D], t), ids: { shape: [n], data: ids.map((v, i) => (i % 3 === 0 ? pad : v)), dtype: 'int32' as const }, pad }))),
    ({ t, ids, pad }) => {
      // PyTorch's padding_idx is not the true gradient (finite differences see the row): it is the
      // plain embedding's gradient with that row cleared, on every backend.
      const D = t.shape[1];
      for (const be of [createReferenceBackend(), ...wasmBackends()]) {
        W.withBackend(be, () => W.tidy(() => {
          const grads = [null, pad].map((p) => {
            const tab = W.tensor(t.data, t.shape);
            tab.requiresGrad = true;
            const y = W.embedding(tab, W.tensor(ids.data, ids.shape, { dtype: 'int32' }), { paddingIdx: p });
            W.sum(W.mul(y, W.tensor(Array.from({ length: y.size }, (_, i) => (i % 7) - 3), y.shape))).backward();
            return Array.from(tab.grad!.toArray());
          });
          const want = grads[0]!.map((g, i) => (Math.floor(i / D) === pad ? 0 : g));
          expect(grads[1]).toEqual(want);
        }));
      }
    }), FD_RUNS);
  },
  softmax() {
    fc.assert(fc.property(shapeArb({ minRank: 1, maxRank: 3, maxSize: 60 }).chain((s) =>
      fc.tuple(vals(size(s)), fc.integer({ min: -s.length, max: s.length - 1 })).map(([d, axis]) => ({ x: inp(s, d), axis }))),
    ({ x, axis }) => checkOp((t) => W.softmax(t, axis), [x])), FD_RUNS);
  },
  attentionSoftmax() {
    // Padding masks as int32 or float (some rows fully blocked), causal or not, with cached keys (Tk > Tq).
    const arb = fc.tuple(dimArb(3), dimArb(3), dimArb(5), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.constantFrom('none', 'int', 'float'), fc.constantFrom(1, 0.35))
      .chain(([B, H, Tq, past, causal, kind, scale]) => {
        const Tk = Tq + past;
        return fc.tuple(vals(B * H * Tq * Tk, { scale: 3 }), fc.array(fc.constantFrom(0, 1, 1), { minLength: B * Tk, maxLength: B * Tk }))
          .map(([x, k]) => ({ x: inp([B, H, Tq, Tk], x), k, shapeK: [B, Tk], causal, kind, scale }));
      });
    fc.assert(fc.property(arb, ({ x, k, shapeK, causal, kind, scale }) => {
      const opts = (keep: W.Tensor | null) => ({ keep, causal, scale });
      if (kind === 'none') return checkOp((t) => W.attentionSoftmax(t, opts(null)), [x]);
      const keep = kind === 'int' ? { shape: shapeK, data: k, dtype: 'int32' as const } : { shape: shapeK, data: k, requiresGrad: false };
      checkOp((t, m) => W.attentionSoftmax(t, opts(m)), [x, keep]);
    }), FD_RUNS);
  },
  logSoftmax() {
    fc.assert(fc.property(shapeArb({ minRank: 1, maxRank: 3, maxSize: 60 }).chain((s) =>
      fc.tuple(vals(size(s)), fc.integer({ min: -s.length, max: s.length - 1 })).map(([d, axis]) => ({ x: inp(s, d), axis }))),
    ({ x, axis }) => checkOp((t) => W.logSoftmax(t, axis), [x])), FD_RUNS);
  },
  crossEntropy() {
    fc.assert(fc.property(fc.tuple(dimArb(9), dimArb(9), fc.constantFrom(0, 0.1), fc.constantFrom('mean', 'sum', 'none') as fc.Arbitrary<'mean' | 'sum' | 'none'>).chain(([N, C, ls, red]) =>
      fc.tuple(vals(N * C, { scale: 5 }), fc.array(fc.integer({ min: -1, max: C - 1 }), { minLength: N, maxLength: N }))
        .map(([x, t]) => ({ x: inp([N, C], x), t: { shape: [N], data: t.map((v, i) => (i === 0 && v < 0 ? 0 : v)), dtype: 'int32' as const }, ls, red }))),
    ({ x, t, ls, red }) => checkOp((l, tt) => W.crossEntropy(l, tt, { ignoreIndex: -1, labelSmoothing: ls, reduction: red }), [x, t])), FD_RUNS);
    // Class weights, and the PyTorch/ONNX layout (N, C, d) with classes on axis 1.
    fc.assert(fc.property(fc.tuple(dimArb(4), dimArb(5), dimArb(4), fc.constantFrom(0, 0.2), fc.constantFrom('mean', 'sum', 'none') as fc.Arbitrary<'mean' | 'sum' | 'none'>).chain(([N, C, D, ls, red]) =>
      fc.tuple(vals(N * C * D, { scale: 5 }), fc.array(fc.integer({ min: -1, max: C - 1 }), { minLength: N * D, maxLength: N * D }), vals(C, { positive: true, awayFromZero: 0.1 }))
        .map(([x, t, w]) => ({ x: inp([N, C, D], x), t: { shape: [N, D], data: t.map((v, i) => (i === 0 && v < 0 ? 0 : v)), dtype: 'int32' as const }, w, ls, red }))),
    ({ x, t, w, ls, red }) => checkOp((l, tt) =>
      W.crossEntropy(l, tt, { ignoreIndex: -1, labelSmoothing: ls, reduction: red, classAxis: 1, weight: W.tensor(w, [w.length], { backend: l.backend }) }), [x, t],
    { wasm: { atol: 1e-5, rtol: 1e-4 } })), FD_RUNS);
  },
  lmHeadCrossEntropy() {
    // Chunks of 1..N rows (one chunk, several, a ragged last one), ignored rows, smoothing.
    fc.assert(fc.property(fc.tuple(dimArb(7), dimArb(5), dimArb(6), fc.constantFrom(0, 0.1), fc.constantFrom('mean', 'sum', 'none') as fc.Arbitrary<'mean' | 'sum' | 'none'>).chain(([N, C, V, ls, red]) =>
      fc.tuple(vals(N * C, { scale: 2 }), vals(V * C, { scale: 2 }), fc.array(fc.integer({ min: -1, max: V - 1 }), { minLength: N, maxLength: N }), fc.integer({ min: 1, max: N }))
        .map(([h, w, t, chunk]) => ({ h: inp([N, C], h), w: inp([V, C], w), t: { shape: [N], data: t.map((v, i) => (i === 0 && v < 0 ? 0 : v)), dtype: 'int32' as const }, ls, red, chunk }))),
    ({ h, w, t, ls, red, chunk }) => checkOp((hh, ww, tt) =>
      W.lmHeadCrossEntropy(hh, ww, tt, { ignoreIndex: -1, labelSmoothing: ls, reduction: red, chunkRows: chunk }), [h, w, t],
    { wasm: { atol: 1e-5, rtol: 1e-4 } })), FD_RUNS);
  },
  erf() {
    // Scale 2 puts values on both sides of the series/CDF switch at |x| = 0.5 and near saturation.
    fc.assert(fc.property(shapeArb({ maxRank: 3, maxSize: 64 }).chain((s) => vals(size(s), { scale: 2 }).map((d) => inp(s, d))),
      (x) => checkOp((t) => W.erf(t), [x], { wasm: { atol: 1e-6, rtol: 1e-5 } })), FD_RUNS);
  },
  layerNorm() {
    fc.assert(fc.property(fc.tuple(dimArb(6), dimArb(17), fc.boolean(), fc.boolean()).chain(([R, D, g, b]) =>
      fc.tuple(vals(R * D), vals(D), vals(D)).map(([x, gg, bb]) => ({ x: inp([R, D], x), g: g ? inp([D], gg) : null, b: b ? inp([D], bb) : null }))),
    ({ x, g, b }) => {
      const inputs = [x, ...(g ? [g] : []), ...(b ? [b] : [])];
      checkOp((t, ...rest) => W.layerNorm(t, g ? rest[0] : null, b ? rest[g ? 1 : 0] : null), inputs, { wasm: { atol: 1e-4, rtol: 1e-4 } });
    }), FD_RUNS);
  },
  groupedScaleShift() {
    fc.assert(fc.property(fc.tuple(dimArb(5), dimArb(19), fc.integer({ min: 1, max: 6 })).chain(([R, D, K]) =>
      fc.tuple(vals(R * D), fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: D, maxLength: D }), vals(K, { positive: true, awayFromZero: 0.5 }), vals(K))
        .map(([x, map, g, b]) => ({ x: inp([R, D], x), map: { shape: [D], data: map, dtype: 'int32' as const }, g: inp([K], g), b: inp([K], b) }))),
    ({ x, map, g, b }) => checkOp((t, m, gg, bb) => W.groupedScaleShift(t, m, gg, bb), [x, map, g, b], { wasm: { atol: 1e-4, rtol: 1e-4 } })), FD_RUNS);
  },
  gaussianSample() {
    fc.assert(fc.property(shapeArb({ minRank: 1, maxRank: 2, maxSize: 40 }).chain((s) =>
      fc.tuple(vals(size(s)), vals(size(s), { positive: true, awayFromZero: 0.1 }), fc.nat()).map(([m, sd, seed]) => ({ m: inp(s, m), sd: inp(s, sd), seed }))),
    ({ m, sd, seed }) => checkOp((mu, sigma) => W.gaussianSample(mu, sigma, { generator: new W.Generator(seed) }), [m, sd], { wasm: { atol: 1e-5, rtol: 1e-5 } })), FD_RUNS);
  },
};

describe('every op: autodiff = finite differences (float64), WASM = reference', () => {
  for (const name of Object.keys(OPS) as OpName[]) {
    it(name, () => {
      CASES[name]();
    }, 120_000);
  }
});

describe('composed ops', () => {
  it('mean, variance, gelu (both forms), linear, dropout, stack, maskedFill, indexRows', () => {
    fc.assert(fc.property(fc.tuple(dimArb(5), dimArb(9)).chain(([R, D]) =>
      fc.tuple(vals(R * D, { awayFromZero: 0.01 }), vals(D * D), vals(D)).map(([x, w, b]) => ({ x: inp([R, D], x), w: inp([D, D], w), b: inp([D], b) }))),
    ({ x, w, b }) => {
      checkOp((t) => W.mean(t, 0), [x]);
      checkOp((t) => W.variance(t, -1, { keepdim: true, correction: t.shape[1] > 1 ? 1 : 0 }), [x], { wasm: { atol: 1e-4, rtol: 1e-4 } });
      checkOp((t) => W.gelu(t, 'tanh').add(W.gelu(t)), [x]);
      checkOp((t, ww, bb) => W.linear(t, ww, bb), [x, w, b], { wasm: { atol: 1e-4, rtol: 1e-4 } });
      checkOp((t) => W.dropout(t, 0.3, { generator: new W.Generator(7) }), [x]);
      checkOp((t, bb) => W.stack([bb, bb.mul(2)], 1).add(W.sum(t)), [x, b]);
      checkOp((t) => W.maskedFill(t, W.gt(t, 0), -2), [x]);
      checkOp((t) => W.indexRows(t, W.tensor([-1, 0, t.shape[0] - 1, -t.shape[0]], [2, 2], { dtype: 'int32', backend: t.backend })), [x]);
    }), { numRuns: 6 });
  }, 120_000);
});
