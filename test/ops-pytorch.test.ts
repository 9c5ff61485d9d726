/**
 * Ops that ports of PyTorch code reach for, against PyTorch's own values and gradients
 * (test/fixtures/torch-ops.json, from test/fixtures/scripts/make_op_fixtures.py): erf, cross-entropy
 * with class weights and with the class axis at 1, x[ids] with negative ids. The reference backend
 * in float64 must agree to rounding; every WASM binary to float32 accuracy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/kernels.js';
import { erf as exactErf } from '../src/backend/reference/index.js';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { wasmBackends } from './helpers.js';

interface Arr { shape: number[]; data: number[] }
interface Graded { out: Arr; upstream: Arr; grad: Arr }
interface XentCase extends Graded { reduction: 'mean' | 'sum' | 'none'; smoothing: number; weighted: boolean }
interface XentFixture { logits: Arr; targets: Arr; weight: Arr; ignore_index: number; cases: XentCase[] }
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'torch-ops.json'), 'utf8')) as {
  erf: Graded & { x: Arr };
  cross_entropy: XentFixture;
  cross_entropy_axis1: XentFixture;
  index_rows: Graded & { x: Arr; ids: Arr };
};

const backends: [string, Backend, number][] = [
  ['reference float64', createReferenceBackend({ dtype: 'float64' }), 1e-12],
  ...wasmBackends().map((b): [string, Backend, number] => [`wasm ${b.variant}`, b, 2e-6]),
];

/** Runs f on a leaf made from x and returns f's output and the gradient of sum(out * upstream). */
function run(backend: Backend, x: Arr, upstream: Arr, f: (t: W.Tensor) => W.Tensor): { out: number[]; grad: number[] } {
  return W.tidy(() => {
    const leaf = W.tensor(x.data, x.shape, { backend, requiresGrad: true });
    const out = f(leaf);
    W.sum(W.mul(out, W.tensor(upstream.data, upstream.shape, { backend }))).backward();
    return { out: Array.from(out.toArray()), grad: Array.from(leaf.grad!.toArray()) };
  });
}

function expectClose(got: number[], want: number[], rtol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const ok = Number.isNaN(want[i]) ? Number.isNaN(got[i]) : Math.abs(got[i] - want[i]) <= rtol * Math.max(Math.abs(want[i]), 1e-30);
    expect(ok, `${what}[${i}]: ${got[i]} vs torch ${want[i]}`).toBe(true);
  }
}

describe.each(backends)('PyTorch parity on %s', (_, backend, rtol) => {
  it('erf: values and gradients, 0, -0, tiny, both sides of the series/CDF switch, saturation', () => {
    const { x, upstream, out, grad } = fixture.erf;
    const r = run(backend, x, upstream, W.erf);
    expectClose(r.out, out.data, rtol, 'erf');
    // The gradient 2/sqrt(pi) exp(-x^2) is computed directly; float32 exp is good to a few ulp.
    expectClose(r.grad, grad.data, rtol, 'd erf');
    expect(Object.is(r.out[1], -0)).toBe(true);
  });

  it.each(['cross_entropy', 'cross_entropy_axis1'] as const)('%s: class weights, label smoothing, ignore_index, every reduction', (name) => {
    const f = fixture[name];
    const axis = name === 'cross_entropy' ? undefined : 1;
    for (const c of f.cases) {
      const r = run(backend, f.logits, c.upstream, (l) => {
        const targets = W.tensor(f.targets.data, f.targets.shape, { dtype: 'int32', backend });
        const weight = c.weighted ? W.tensor(f.weight.data, f.weight.shape, { backend }) : undefined;
        return W.crossEntropy(l, targets, { weight, labelSmoothing: c.smoothing, reduction: c.reduction, ignoreIndex: f.ignore_index, classAxis: axis });
      });
      const what = `${name} ${c.reduction} smoothing ${c.smoothing}${c.weighted ? ' weighted' : ''}`;
      expect(r.out.length, what).toBe(c.out.data.length || 1);
      expectClose(r.out, c.out.data, rtol * 4, what);
      expectClose(r.grad, c.grad.data, rtol * 4, `d ${what}`);
    }
  });

  it('indexRows: x[ids] with negative ids, gradients scatter-added', () => {
    const { x, ids, upstream, out, grad } = fixture.index_rows;
    const r = run(backend, x, upstream, (t) => W.indexRows(t, W.tensor(ids.data, ids.shape, { dtype: 'int32', backend })));
    expect(r.out.length).toBe(out.data.length);
    expectClose(r.out, out.data, 1e-7, 'x[ids]');
    expectClose(r.grad, grad.data, 1e-6, 'd x[ids]');
  });
});

describe('erf accuracy', () => {
  // Every float32 in [-8, 8] on a 1e-3 grid plus powers of ten down to 1e-30, against the
  // reference backend's float64 erf (series / continued fraction, near float64 precision).
  const xs = [
    ...Array.from({ length: 16001 }, (_, i) => Math.fround((i - 8000) * 1e-3)),
    ...Array.from({ length: 30 }, (_, i) => Math.fround(10 ** -(i + 1))).flatMap((v) => [v, -v]),
  ];
  const worst = (backend: Backend) => {
    const y = W.tidy(() => W.erf(W.tensor(xs, [xs.length], { backend })).toArray());
    let rel = 0;
    for (let i = 0; i < xs.length; i++) {
      const e = exactErf(xs[i]);
      rel = Math.max(rel, e === 0 ? Math.abs(y[i]) : Math.abs(y[i] - e) / Math.abs(e));
    }
    return rel;
  };

  it('is exact to a few float64 ulps on the reference backend', () => {
    expect(worst(createReferenceBackend({ dtype: 'float64' }))).toBeLessThan(4e-15);
  });

  it.each(wasmBackends().map((b) => [b.variant, b] as const))('is within 5 float32 ulps (relative) on WASM %s', (_, backend) => {
    expect(worst(backend)).toBeLessThan(5 * 2 ** -23);
  });

  it('maps NaN to NaN and +-Infinity to +-1, and refuses int32 tensors', () => {
    for (const backend of [createReferenceBackend(), ...wasmBackends()]) {
      const y = W.erf(W.tensor([NaN, Infinity, -Infinity], [3], { backend })).toArray();
      expect(Number.isNaN(y[0])).toBe(true);
      expect([y[1], y[2]]).toEqual([1, -1]);
    }
    expect(() => W.erf(W.tensor([1], [1], { dtype: 'int32' }))).toThrow(/erf: .* is int32; erf needs a float tensor/);
  });
});

describe('errors a PyTorch port meets', () => {
  const backend = createReferenceBackend();
  const ids = (...v: number[]) => W.tensor(v, [v.length], { dtype: 'int32', backend });
  const table = W.tensor([1, 2, 3, 4, 5, 6], [3, 2], { backend });

  it('embedding refuses negative ids as PyTorch does, and points at indexRows', () => {
    expect(() => W.embedding(table, ids(0, -1))).toThrow(
      'embedding: id -1 at position 1 is outside [0, 3) (the table has 3 rows); negative ids are not wrapped here (nor in PyTorch); for x[ids] semantics use indexRows',
    );
    expect(() => W.embedding(table, ids(-4))).toThrow(/outside \[0, 3\) \(the table has 3 rows\)$/);
  });

  it('indexRows refuses ids outside [-rows, rows)', () => {
    expect(Array.from(W.indexRows(table, ids(-3, 2)).toArray())).toEqual([1, 2, 5, 6]);
    expect(() => W.indexRows(table, ids(3))).toThrow('indexRows: id 3 at position 0 is outside [-3, 3) for x [3, 2] (3 rows)');
    expect(() => W.indexRows(table, ids(-4))).toThrow(/id -4 at position 0 is outside \[-3, 3\)/);
    expect(() => W.indexRows(W.tensor(1, [], { backend }), ids(0))).toThrow(/rank 0/);
  });

  it('Embedding takes a negative paddingIdx as PyTorch does (counted from the end)', () => {
    expect(new W.Embedding(5, 2, { paddingIdx: -1 }).paddingIdx).toBe(4);
    expect(() => new W.Embedding(5, 2, { paddingIdx: -6 })).toThrow('Embedding: paddingIdx -6 is outside [-5, 5)');
  });

  it('cross-entropy: bad weights, bad class axis, (N, C, d) logits without classAxis', () => {
    const logits = W.tensor(new Float32Array(2 * 3 * 4), [2, 3, 4], { backend });
    const t = W.tensor(new Int32Array(8), [2, 4], { dtype: 'int32', backend });
    expect(() => W.crossEntropy(logits, t)).toThrow(
      'crossEntropy: logits [2, 3, 4] need shape [...targets.shape, classes] for targets [2, 4] (for PyTorch/ONNX logits (N, C, d1, ...) pass { classAxis: 1 })',
    );
    expect(() => W.crossEntropy(logits, t, { classAxis: 2 })).toThrow('crossEntropy: logits [2, 3, 4] with classes on axis 2 need targets [2, 3], got [2, 4]');
    expect(() => W.crossEntropy(logits, t, { classAxis: 1, weight: W.tensor([1, 2], [2], { backend }) })).toThrow(/weight .* must be a float tensor \[3\], one weight per class/);
    const bad = W.tensor([0, 5, 0, 0, 0, 0, 0, 0], [2, 4], { dtype: 'int32', backend });
    expect(() => W.crossEntropy(logits, bad, { classAxis: 1, weight: W.tensor([1, 2, 3], [3], { backend }) })).toThrow(
      'crossEntropy: target 5 in row 1 is outside [0, 3) and is not the ignore index -100',
    );
  });
});
