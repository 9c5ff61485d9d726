/** The public testing tools catch what they are for. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as W from '../src/index.js';
import { assertGradcheck, gradcheck, compareBackends, shapeArb, broadcastPairArb, tensorArb } from '../src/testing/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';

// A deliberately wrong op: forward x^2, backward claims 3x.
const badSquare = W.defineOp<Record<string, never>>({
  name: 'badSquare',
  forward(ctx, [x]) {
    ctx.save(x);
    return W.noGrad(() => x.mul(x));
  },
  backward(ctx, dy) {
    return [dy.mul(ctx.get(0, 'badSquare')).mul(3)];
  },
});

describe('wasmgrad/testing', () => {
  it('gradcheck passes a correct gradient and reports a wrong one with its worst element', () => {
    expect(gradcheck((x) => x.mul(x), [{ data: [0.5, -1, 2], shape: [3] }]).ok).toBe(true);
    const r = gradcheck((x) => W.apply(badSquare, [x], {}), [{ data: [0.5, -1, 2], shape: [3] }]);
    expect(r.ok).toBe(false);
    expect(r.inputs[0].failures).toBe(3);
    expect(r.summary).toMatch(/input 0 \[3\]: 3 element\(s\) out of tolerance/);
    expect(() => assertGradcheck((x) => W.apply(badSquare, [x], {}), [{ data: [1], shape: [1] }])).toThrow(/gradcheck failed/);
  });

  it('gradcheck skips non-differentiable inputs (int32, requiresGrad false)', () => {
    const r = gradcheck((t, ids) => W.embedding(t, ids), [
      { data: [1, 2, 3, 4], shape: [2, 2] },
      { data: [1, 1, 0], shape: [3], dtype: 'int32' },
    ]);
    expect(r.ok).toBe(true);
    expect(r.inputs.map((i) => i.input)).toEqual([0]);
  });

  it('compareBackends flags a backend whose kernel is wrong', () => {
    const good = createReferenceBackend({ dtype: 'float32' });
    const broken = createReferenceBackend({ dtype: 'float32' });
    const exp = broken.unary.bind(broken);
    broken.unary = (op, x, out, n) => {
      exp(op, x, out, n);
      if (op === 'tanh') broken.scale(1.001, out, out, n);
    };
    const inputs = [{ data: [0.1, 0.5, -2], shape: [3] }];
    expect(compareBackends(good, (x) => x.tanh(), inputs).ok).toBe(true);
    const r = compareBackends(broken, (x) => x.tanh(), inputs);
    expect(r.ok).toBe(false);
    expect(r.summary).toMatch(/output \[3\]: 3 of 3 elements differ/);
  });

  it('arbitraries produce valid shapes, data and broadcastable pairs', () => {
    fc.assert(fc.property(shapeArb({ maxSize: 100 }), (s) => s.reduce((a, b) => a * b, 1) <= 100 && s.every((d) => d >= 1)));
    fc.assert(fc.property(tensorArb({ scale: 1e4 }), ({ shape, data }) => data.length === shape.reduce((a, b) => a * b, 1) && data.every((v) => Math.abs(v) <= 1e4)));
    fc.assert(fc.property(broadcastPairArb(), ([a, b]) => W.broadcastShapes('t', a, b).length === Math.max(a.length, b.length)));
  });
});
