/** The tape and the backward sweep: accumulation, deep graphs, grad modes, errors. */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';

const ref = createReferenceBackend({ dtype: 'float64' });
const run = <T>(fn: () => T) => W.withBackend(ref, () => W.tidy(fn));

describe('autograd', () => {
  it('accumulates gradients of a tensor used several times', () => {
    run(() => {
      const x = W.tensor([1, 2, 3], [3], { requiresGrad: true });
      // y = x*x + 3x  ->  dy/dx = 2x + 3
      W.sum(x.mul(x).add(x.mul(3))).backward();
      expect(Array.from(x.grad!.toArray())).toEqual([5, 7, 9]);
      // A second backward adds into .grad.
      W.sum(x.mul(2)).backward();
      expect(Array.from(x.grad!.toArray())).toEqual([7, 9, 11]);
    });
  });

  it('sums the gradients of a tensor used twice in place, and hands the sweep\'s own gradient to .grad without a copy', () => {
    // backward of sum(x) + sum(x): each branch yields a ones-like (N) gradient X; the second is added
    // into the first (not into a third buffer) and the result becomes x.grad: at most 2X at once (3X before).
    const be = createReferenceBackend({ dtype: 'float64' });
    W.withBackend(be, () => {
      const n = 4096;
      const x = W.keep(W.tensor(new Float64Array(n).fill(0.5), [n], { requiresGrad: true }));
      const X = 8 * n;
      W.tidy(() => {
        const y = W.add(W.sum(x), W.sum(x));
        const live = be.liveBytes();
        be.resetPeak();
        y.backward();
        expect(be.peakBytes() - live).toBeLessThanOrEqual(2 * X + 256);
      });
      expect(Array.from(x.grad!.toArray()).every((v) => v === 2)).toBe(true);
      // a second backward adds into the handed-over .grad, which nothing else shares
      W.tidy(() => W.sum(W.mul(x, 3)).backward());
      expect(Array.from(x.grad!.toArray()).every((v) => v === 5)).toBe(true);
      x.dispose();
      expect(be.liveBytes()).toBe(0);
    });
  });

  it('un-broadcasts gradients in one place', () => {
    run(() => {
      const a = W.tensor([[1, 2, 3], [4, 5, 6]], undefined, { requiresGrad: true });
      const b = W.tensor([10, 20, 30], [3], { requiresGrad: true });
      const c = W.tensor(2, [], { requiresGrad: true });
      W.sum(a.add(b).mul(c)).backward();
      expect(Array.from(b.grad!.toArray())).toEqual([4, 4, 4]);
      expect(b.grad!.shape).toEqual([3]);
      expect(c.grad!.item()).toBe(21 + 120);
    });
  });

  it('handles a graph 20,000 ops deep without recursion', () => {
    run(() => {
      const x = W.tensor([0.5], [1], { requiresGrad: true });
      let y = x;
      for (let i = 0; i < 20000; i++) y = y.mul(1.0001).add(0.001).sub(0.001);
      y.sum().backward();
      expect(x.grad!.item()).toBeCloseTo(Math.pow(1.0001, 20000), 6);
    });
  });

  it('noGrad, detach and requiresGrad control recording', () => {
    run(() => {
      const x = W.tensor([1, 2], [2], { requiresGrad: true });
      const y = W.noGrad(() => x.mul(2));
      expect(y.requiresGrad).toBe(false);
      expect(y.node).toBeNull();
      const z = x.detach().mul(3);
      expect(z.requiresGrad).toBe(false);
      expect(() => z.sum().backward()).toThrow(/does not require grad/);
      const c = W.tensor([1, 2], [2]);
      expect(c.mul(2).requiresGrad).toBe(false);
    });
  });

  it('frees the graph after backward unless retainGraph', () => {
    run(() => {
      const x = W.tensor([1, 2], [2], { requiresGrad: true });
      const y = x.mul(x).sum();
      y.backward(undefined, { retainGraph: true });
      y.backward();
      expect(Array.from(x.grad!.toArray())).toEqual([4, 8]);
      // After a backward without retainGraph the graph is gone: a further backward says so.
      expect(() => y.backward()).toThrow(/already consumed/);
      expect(Array.from(x.grad!.toArray())).toEqual([4, 8]);
    });
  });

  it('explains bad backward calls and shape errors', () => {
    run(() => {
      const x = W.tensor([[1, 2], [3, 4]], undefined, { requiresGrad: true });
      expect(() => x.mul(2).backward()).toThrow(/not a scalar/);
      const a = W.zeros([3, 64]);
      const b = W.zeros([32, 5]);
      expect(() => W.matmul(a, b)).toThrow(/matmul: inner dims 64 .* and 32 .* differ/);
      expect(() => W.add(W.zeros([2, 3]), W.zeros([4]))).toThrow(/add: shapes \[2, 3\] and \[4\] do not broadcast/);
      expect(() => W.reshape(W.zeros([2, 3]), [4, 2])).toThrow(/reshape: cannot view \[2, 3\]/);
      expect(() => W.embedding(W.zeros([4, 2]), W.tensor([5], [1], { dtype: 'int32' }))).toThrow(/id 5 .* outside \[0, 4\)/);
      expect(() => W.crossEntropy(W.zeros([2, 3]), W.tensor([0, 7], [2], { dtype: 'int32' }))).toThrow(/target 7 in row 1/);
    });
  });

  it('keeps the graph of a tensor returned from tidy until backward consumes it', () => {
    W.withBackend(ref, () => {
      const x = W.tensor([1, 2, 3], [3], { requiresGrad: true });
      const before = ref.liveBytes();
      const y = W.tidy(() => x.exp().mul(2).sum());
      expect(ref.liveBytes()).toBeGreaterThan(before + 8); // y plus exp's output, the scalar 2, mul's output
      y.backward();
      expect(Array.from(x.grad!.toArray())).toEqual([1, 2, 3].map((v) => 2 * Math.exp(v)));
      // The graph is consumed: only y and x.grad remain.
      expect(ref.liveBytes()).toBe(before + 8 + 3 * 8);
      y.dispose();
      x.grad!.dispose();
      x.grad = null;
      expect(ref.liveBytes()).toBe(before);
      // Disposing an unconsumed result frees its graph as well.
      W.tidy(() => x.exp().mul(2).sum()).dispose();
      expect(ref.liveBytes()).toBe(before);
      x.dispose();
    });
  });

  it('keeps the graph of a tensor kept inside tidy (nested too) until backward consumes it', () => {
    W.withBackend(ref, () => {
      const x = W.tensor([1, 2, 3], [3], { requiresGrad: true });
      const before = ref.liveBytes();
      let y: W.Tensor | undefined;
      W.tidy(() => {
        const e = x.exp(); // exp's output, which its backward reads, made in the outer scope
        W.tidy(() => {
          y = W.keep(e.mul(2).sum()); // kept in the inner one: both scopes keep what its graph needs
        });
        e.mul(5); // a temporary outside y's graph: freed with the scope
      });
      y!.backward();
      expect(Array.from(x.grad!.toArray())).toEqual([1, 2, 3].map((v) => 2 * Math.exp(v)));
      expect(ref.liveBytes()).toBe(before + 8 + 3 * 8); // y and x.grad: the graph is consumed
      y!.dispose();
      x.grad!.dispose();
      x.grad = null;
      // a kept result disposed without backward frees its graph as well
      W.tidy(() => {
        W.keep(x.exp().mul(2).sum()).dispose();
      });
      let z: W.Tensor | undefined;
      W.tidy(() => {
        z = W.keep(x.exp().mul(2).sum());
      });
      z!.dispose();
      expect(ref.liveBytes()).toBe(before);
      x.dispose();
    });
  });

  it('reports use of a disposed tensor', () => {
    W.withBackend(ref, () => {
      const t = W.zeros([2]);
      t.dispose();
      expect(() => t.add(1)).toThrow(/was disposed/);
    });
  });
});
