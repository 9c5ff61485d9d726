/**
 * What backward keeps alive: forward saves only what the gradients asked for read, a tidy() frees
 * the values of graph vertices no rule reads, and backward frees a saved tensor once the last node
 * reading it has run. Byte counts are exact: every tensor here is float32 (4 bytes per element).
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { wasmBackends } from './helpers.js';

const N = 64;
const D = 32;
const E = 16;

for (const [label, make] of [
  ['reference', () => createReferenceBackend()],
  ['wasm', () => wasmBackends()[0]],
] as const) {
  describe(`saved tensors (${label})`, () => {
    const be = make();

    /** x0 -> u = tanh(x0) [N, D] -> y = u @ W [N, E] -> sum(y * y): the loss, with what its graph holds. */
    function forward(x0: W.Tensor, w: W.Tensor): W.Tensor {
      return W.tidy(() => {
        const u = W.tanh(x0);
        const y = W.matmul(u, w);
        return W.sum(W.mul(y, y));
      });
    }

    it('a frozen weight lets the matmul drop its input: N x D floats fewer held after the forward', () => {
      W.withBackend(be, () => {
        const gen = new W.Generator(1);
        const x0 = W.randn([N, D], { generator: gen });
        x0.requiresGrad = true; // the gradient still crosses the matmul, as through a frozen block
        const w = W.randn([D, E], { generator: gen });
        const held = (trainable: boolean) => {
          w.requiresGrad = trainable;
          const before = be.liveBytes();
          const loss = forward(x0, w);
          const bytes = be.liveBytes() - before;
          loss.backward();
          loss.dispose();
          expect(be.liveBytes()).toBe(before + (trainable ? 4 * D * E : 0) + 4 * N * D); // the new .grad(s)
          x0.grad!.dispose();
          x0.grad = null;
          w.grad?.dispose();
          w.grad = null;
          return bytes;
        };
        const trainable = held(true);
        const frozen = held(false);
        // Trainable: u (read by dW = u^T dy) and y (read by both sides of y * y), plus the loss.
        expect(trainable).toBe(4 * (N * D + N * E + 1));
        // Frozen: u is only a vertex (dx = dy W^T reads W, a parameter), so its values are gone.
        expect(trainable - frozen).toBe(4 * N * D);
        // The gradients are the same either way.
        w.requiresGrad = false;
        const g1 = (() => { forward(x0, w).backward(); const g = x0.grad!.toArray(); x0.grad!.dispose(); x0.grad = null; return g; })();
        w.requiresGrad = true;
        const g2 = (() => { forward(x0, w).backward(); const g = x0.grad!.toArray(); x0.grad!.dispose(); x0.grad = null; w.grad!.dispose(); w.grad = null; return g; })();
        expect(Array.from(g1)).toEqual(Array.from(g2));
        x0.dispose();
        w.dispose();
      });
    });

    it('add keeps nothing for backward and a tidy frees its operands (bias added after a matmul)', () => {
      W.withBackend(be, () => {
        const gen = new W.Generator(2);
        const x = W.randn([N, D], { generator: gen });
        const w = W.randn([D, E], { generator: gen });
        const b = W.zeros([E]);
        w.requiresGrad = true;
        b.requiresGrad = true;
        const before = be.liveBytes();
        // x @ w is read by nothing (the add reads nothing); z = (x @ w + b) is read by tanh.
        const loss = W.tidy(() => W.sum(W.tanh(W.add(W.matmul(x, w), b))));
        expect(be.liveBytes() - before).toBe(4 * (N * E + 1));
        loss.backward();
        loss.dispose();
        x.dispose();
        w.dispose();
        b.dispose();
      });
    });

    it('backward frees what a node read as soon as it has run, not at the end', () => {
      W.withBackend(be, () => {
        const gen = new W.Generator(3);
        const x0 = W.randn([N, D], { generator: gen });
        x0.requiresGrad = true;
        // An identity whose backward records the live bytes when the sweep reaches it (the last node).
        let seen = -1;
        const probe = W.defineOp<Record<string, never>>({
          name: 'probe',
          forward: (_ctx, [x]) => W.noGrad(() => W.mul(x, 1)),
          backward: (_ctx, dy) => {
            seen = be.liveBytes();
            return [dy];
          },
        });
        const run = (retainGraph: boolean) => {
          const before = be.liveBytes();
          // s = p^2 and t = exp(s) are read by exp's backward only (the WASM kernel reads t, the reference s).
          const loss = W.tidy(() => W.sum(W.exp(W.square(W.apply(probe, [x0], {})))));
          loss.backward(undefined, { retainGraph });
          const at = seen - before;
          loss.dispose();
          x0.grad!.dispose();
          x0.grad = null;
          return at;
        };
        const kept = run(true); // retained graph: nothing may be freed early
        const freed = run(false);
        // p (read by square) and t (read by exp) are gone when the probe's backward runs; s was read
        // by exp (exp's saved x) too, so all of p, s and t: 3 x N x D floats.
        expect(kept - freed).toBe(3 * 4 * N * D);
        x0.dispose();
      });
    });
  });
}
