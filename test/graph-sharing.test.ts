/**
 * Graphs that overlap: two results of separate tidy() calls reading one hidden state, two losses
 * returned by one tidy(), a result computed from another. Backward through one graph must leave
 * what the other still needs (nodes and saved tensors), so the other's backward gives the gradients
 * a fresh computation gives; memory still goes back to where it was once everything is disposed.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { wasmBackends } from './helpers.js';

for (const [label, make] of [
  ['reference float64', () => createReferenceBackend({ dtype: 'float64' })],
  ['wasm', () => wasmBackends()[0]],
] as const) {
  describe(`overlapping graphs (${label})`, () => {
    const be = make();
    const tol = label === 'wasm' ? 1e-5 : 1e-12;

    /** Gradients of x and w after `fn`, on fresh leaves; live bytes are back to the start afterwards. */
    function grads(fn: (x: W.Tensor, w: W.Tensor) => W.Tensor[]): number[][] {
      return W.withBackend(be, () => {
        const before = be.liveBytes();
        const gen = new W.Generator(7);
        const x = W.randn([4, 6], { generator: gen });
        const w = W.randn([6, 5], { generator: gen });
        x.requiresGrad = true;
        w.requiresGrad = true;
        const held = fn(x, w);
        const out = [Array.from(x.grad!.toArray()), Array.from(w.grad!.toArray())];
        for (const t of held) t.dispose();
        x.dispose();
        w.dispose();
        expect(be.liveBytes()).toBe(before);
        return out;
      });
    }

    const expectClose = (got: number[][], want: number[][]) => {
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - want[i][j])).toBeLessThan(tol * (1 + Math.abs(want[i][j])))));
    };

    /** h = tanh(x @ w) * w-ish: matmul, tanh and mul all save tensors backward reads. */
    const hidden = (x: W.Tensor, w: W.Tensor) => W.mul(W.tanh(W.matmul(x, w)), W.tanh(W.matmul(x, w)));
    const lossA = (h: W.Tensor) => W.sum(W.exp(W.mul(h, 0.5)));
    const lossB = (h: W.Tensor) => W.sum(W.square(W.tanh(h)));
    const together = grads((x, w) => {
      const y = W.tidy(() => W.add(lossA(hidden(x, w)), lossB(hidden(x, w))));
      y.backward();
      return [y];
    });

    it('two tidy results reading one hidden state: backward on one leaves the other intact', () => {
      const got = grads((x, w) => {
        const h = W.tidy(() => hidden(x, w));
        const y1 = W.tidy(() => lossA(h));
        const y2 = W.tidy(() => lossB(h));
        y1.backward();
        y2.backward();
        return [h, y1, y2];
      });
      expectClose(got, together);
    });

    it('two losses returned by one tidy, backward on each in turn', () => {
      const got = grads((x, w) => {
        const [y1, y2] = W.tidy(() => {
          const h = hidden(x, w);
          return [lossA(h), lossB(h)];
        });
        y1.backward();
        y2.backward();
        return [y1, y2];
      });
      expectClose(got, together);
    });

    it('a result computed from another: backward on the inner one, then on the outer', () => {
      const chained = (x: W.Tensor, w: W.Tensor) => {
        const y1 = W.tidy(() => lossA(hidden(x, w)));
        const y2 = W.tidy(() => W.sum(W.square(W.tanh(W.mul(y1, 0.1)))));
        return [y1, y2] as const;
      };
      const want = grads((x, w) => {
        const [y1, y2] = chained(x, w);
        const y = W.tidy(() => W.add(y1, y2));
        y.backward();
        return [y1, y2, y];
      });
      const got = grads((x, w) => {
        const [y1, y2] = chained(x, w);
        y1.backward();
        y2.backward();
        return [y1, y2];
      });
      expectClose(got, want);
    });

    it('backward through a graph an earlier backward consumed throws instead of stopping the gradient', () => {
      W.withBackend(be, () => {
        const x = W.randn([4, 6], { generator: new W.Generator(1) });
        const w = W.randn([6, 5], { generator: new W.Generator(2) });
        w.requiresGrad = true;
        const y1 = W.tidy(() => lossA(hidden(x, w)));
        const y2 = W.tidy(() => W.mul(y1, 2));
        y2.backward(); // consumes y1's graph too: nothing else read y1 when it ran
        expect(() => y1.backward()).toThrow(/earlier backward\(\) already consumed; pass \{ retainGraph: true \}/);
        expect(() => y2.backward()).toThrow(/already consumed/);
        for (const t of [x, w, y1, y2]) t.dispose();
      });
    });
  });
}
