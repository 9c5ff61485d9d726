/**
 * AdamW's per-parameter step counts, dropped state, and optimizer-state offloading: moments kept
 * outside the heap and staged unit by unit give the same parameters bit for bit as resident
 * moments (one or two staging slots), hold only the staging area in the heap, and survive a
 * readState / writeState round trip. Also the memory ledger's split of the peak.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { HostMomentStore, type OffloadOptions } from '../src/optim/offload.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileMomentStore } from '../src/node/moment-file.js';
import { mulberry32, tempDirs, wasmBackends } from './helpers.js';

const tmp = tempDirs();

const SHAPES = [[7, 5], [5], [33], [4, 4], [9]];

/** Runs 12 AdamW steps on fresh parameters; parameter i has a gradient only on steps where (step + i) % 3 != 0. */
function run(backend: W.Backend, offload?: OffloadOptions | ((ps: W.Tensor[]) => OffloadOptions)): { values: number[][]; opt: W.AdamW; params: W.Tensor[] } {
  return W.withBackend(backend, () => {
    const u = mulberry32(3);
    const params = SHAPES.map((s) => W.keep(W.tensor(Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => u() - 0.5), s, { requiresGrad: true })));
    const opt = new W.AdamW(params, { lr: 0.05, weightDecay: 0.01, offload: typeof offload === 'function' ? offload(params) : offload });
    for (let step = 0; step < 12; step++) {
      params.forEach((p, i) => {
        if ((step + i) % 3 === 0) return;
        p.grad = W.keep(W.tensor(Array.from({ length: p.size }, () => u() - 0.5), p.shape));
      });
      if (step === 6) opt.dropState(params[1]); // a selector's reset in the middle
      opt.step();
      opt.zeroGrad();
    }
    return { values: params.map((p) => Array.from(p.toArray())), opt, params };
  });
}

describe('AdamW offloading', () => {
  for (const backend of [createReferenceBackend(), ...wasmBackends()]) {
    const tag = `${backend.name}/${backend.variant}`;
    it(`offloaded moments (1 or 2 slots, grouped or not) give the resident result bit for bit (${tag})`, () => {
      const resident = run(backend);
      for (const offload of [{}, { slots: 2 as const }, (ps: W.Tensor[]) => ({ groups: [[ps[0], ps[2]], [ps[3], ps[1]]] }), (ps: W.Tensor[]) => ({ groups: [[ps[4], ps[0]]], slots: 2 as const }),
        { chunkElements: 7 }, (ps: W.Tensor[]) => ({ groups: [[ps[0], ps[2]]], chunkElements: 10, slots: 2 as const })]) {
        const off = run(backend, offload);
        off.values.forEach((v, i) => expect(v.every((x, j) => Object.is(x, resident.values[i][j])), `param ${i}`).toBe(true));
        // the saved state reads the same wherever it lives
        for (const [i, p] of off.params.entries()) {
          const a = off.opt.readState(p)!;
          const b = resident.opt.readState(resident.params[i])!;
          expect(a.step).toBe(b.step);
          expect(Array.from(a.m)).toEqual(Array.from(b.m));
          expect(Array.from(a.v)).toEqual(Array.from(b.v));
        }
        expect(off.opt.offloadedBytes()).toBeGreaterThan(0);
        off.opt.dispose();
      }
      resident.opt.dispose();
    });

    it(`the heap holds only the staging area: slots x 2 moments x the largest unit (${tag})`, () => {
      W.withBackend(backend, () => {
        const live0 = backend.liveBytes();
        const { opt } = run(backend, (ps) => ({ groups: [[ps[0], ps[1]]] }));
        const bytes = backend.dtype === 'float64' ? 8 : 4;
        const staged = backend.liveBytes() - live0 - SHAPES.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0) * bytes;
        // largest unit: params 0 and 1 together (35 + 5 = 40 elements) > 33
        if (backend.name === 'reference') expect(staged).toBe(2 * 40 * bytes);
        else expect(staged).toBeGreaterThanOrEqual(2 * 40 * bytes);
        opt.dispose();
      });
    });
  }

  it('per-parameter steps: a parameter updated k times is bias-corrected with k; dropState restarts it at 1', () => {
    W.withBackend(createReferenceBackend({ dtype: 'float64' }), () => {
      const a = W.keep(W.tensor([1, 2], [2], { requiresGrad: true }));
      const b = W.keep(W.tensor([1, 2], [2], { requiresGrad: true }));
      const opt = new W.AdamW([a, b], { lr: 0.1, weightDecay: 0 });
      const g = () => W.keep(W.tensor([0.5, -0.25], [2]));
      for (let s = 0; s < 3; s++) {
        a.grad = g();
        if (s === 2) b.grad = g(); // b's first update happens at the optimizer's third step
        opt.step();
        opt.zeroGrad();
      }
      expect(opt.readState(a)!.step).toBe(3);
      expect(opt.readState(b)!.step).toBe(1);
      // A first Adam update moves each coordinate by lr (m/bc1 / sqrt(v/bc2) = sign g, up to eps), whatever
      // the global step; bias-corrected with the optimizer's step 3 it would move by 0.064.
      expect(Array.from(b.toArray()).map((x, i) => x - [1, 2][i])).toEqual([expect.closeTo(-0.1, 6), expect.closeTo(0.1, 6)]);
      opt.dropState(a);
      expect(opt.hasState(a)).toBe(false);
      expect(opt.readState(a)).toBeUndefined();
      opt.dispose();
    });
  });

  it('a file store trains like resident state bit for bit and deletes its file on dispose', () => {
    const backend = wasmBackends()[0]!;
    const resident = run(backend);
    const path = join(tmp('wasmgrad-moments-'), 'moments.bin');
    const off = run(backend, { store: new FileMomentStore(path) });
    off.values.forEach((v, i) => expect(v.every((x, j) => Object.is(x, resident.values[i][j])), `param ${i}`).toBe(true));
    expect(off.opt.offloadedBytes()).toBe(2 * 4 * SHAPES.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0));
    expect(existsSync(path)).toBe(true);
    off.opt.dispose();
    resident.opt.dispose();
    expect(existsSync(path)).toBe(false);
  });

  it('a tensor larger than the chunk is staged in pieces: the heap holds chunk-sized moments', () => {
    const backend = createReferenceBackend();
    W.withBackend(backend, () => {
      const live0 = backend.liveBytes();
      const { opt } = run(backend, { chunkElements: 6 });
      const params = SHAPES.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0) * 4;
      expect(backend.liveBytes() - live0 - params).toBe(2 * 6 * 4);
      opt.dispose();
    });
  });

  it('a host store holds what it is given and reports its bytes', () => {
    const s = new HostMomentStore();
    s.set(1, { m: new Float32Array(3), v: new Float32Array(3) });
    expect(s.bytes()).toBe(24);
    s.delete(1);
    expect(s.bytes()).toBe(0);
  });

  it('rejects groups naming a parameter twice or one it does not update', () => {
    W.withBackend(createReferenceBackend(), () => {
      const a = W.keep(W.tensor([1], [1], { requiresGrad: true }));
      const b = W.keep(W.tensor([1], [1], { requiresGrad: true }));
      expect(() => new W.AdamW([a], { offload: { groups: [[a], [a]] } })).toThrow(/in two groups/);
      expect(() => new W.AdamW([a], { offload: { groups: [[b]] } })).toThrow(/does not update/);
    });
  });
});

describe('memory ledger', () => {
  it('splits the peak by category at its instant: parameters, gradients, optimizer, activations', () => {
    const backend = createReferenceBackend();
    W.withBackend(backend, () => {
      const p = W.keep(W.tensor([1, 2, 3, 4], [4], { requiresGrad: true }));
      backend.tagMemory(p.buf, 'parameters');
      const opt = new W.AdamW([p], { lr: 0.1 });
      const step = () => W.tidy(() => {
        const y = p.mul(p).mul(p).sum(); // keeps p*p for backward: activations
        y.backward();
        opt.step();
        opt.zeroGrad();
      });
      step(); // creates the moments (after the backward pass: the first step's peak has none)
      backend.resetPeak();
      step();
      const split = backend.peakBreakdown();
      expect(split.parameters).toBe(16);
      expect(split.optimizer).toBe(32);
      // the peak falls inside the backward pass, before or after p's gradient is allocated
      expect([0, 16]).toContain(split.gradients);
      expect(split.activations).toBeGreaterThan(0);
      expect(split.parameters + split.gradients + split.optimizer + split.activations).toBe(backend.peakBytes());
      opt.dispose();
    });
  });

  it('counts a leaf gradient as gradient memory: handed over without a copy, or copied from its allocation on', () => {
    const backend = createReferenceBackend();
    W.withBackend(backend, () => {
      const p = W.keep(W.zeros([1000], { requiresGrad: true }));
      backend.resetPeak();
      // d sum(p) / dp: a tensor of ones only the sweep holds (an intermediate: activations), handed to p.grad
      W.tidy(() => p.sum().backward());
      expect(backend.peakBytes()).toBeLessThan(8000 + 4000); // p, one gradient buffer and scalars: no copy of the gradient
      backend.resetPeak(); // the split of what is live now
      expect(backend.peakBreakdown()).toMatchObject({ gradients: 4000, activations: 4000, parameters: 0 }); // p never tagged
      p.grad!.dispose();
      p.grad = null;
      // a seed the caller passes stays the caller's: p.grad is a copy, gradient memory from its allocation on
      W.tidy(() => {
        const seed = W.ones([10, 100]);
        backend.resetPeak();
        W.reshape(p, [10, 100]).backward(seed);
      });
      expect(backend.peakBreakdown().gradients).toBe(4000);
      p.grad!.dispose();
      p.grad = null;
    });
  });

  it('rejects an unknown category', () => {
    expect(() => createReferenceBackend().setMemoryCategory('weights' as never)).toThrow(/not one of parameters, gradients, optimizer, activations/);
  });
});
