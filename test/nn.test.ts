/**
 * nn modules: names, state dicts, modes, freezing; attention masks and the KV cache; gradients of
 * attention and both block layouts (finite differences in float64, and every WASM binary against the
 * float64 reference).
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import type { Backend } from '../src/backend/kernels.js';
import { getBackend } from '../src/tensor/engine.js';
import {
  attend, attentionBlockMask, attentionMask, Conv1D, Dropout, Embedding, LayerNorm, Linear, Module, ModuleList, StateDictError, type LayerPast,
} from '../src/nn/index.js';
import { CausalSelfAttention, PreLNBlock } from '../src/models/gpt2/index.js';
import { PostLNBlock, SelfAttention } from '../src/models/roberta/index.js';
import { checkOp, f32round, wasmBackends } from './helpers.js';

/** Deterministic float32-exact values in about [-1, 1]. */
function vals(n: number, seed: number): Float64Array {
  return f32round(Float64Array.from({ length: n }, (_, i) => Math.sin(seed * 7.13 + i * 1.618) * Math.cos(i * 0.37 + seed)));
}
const input = (shape: number[], seed: number) => ({ shape, data: vals(shape.reduce((a, b) => a * b, 1), seed) });
const gen = (seed: number) => new W.Generator(seed);

class Tiny extends Module {
  readonly embed = new Embedding(10, 4, { generator: gen(1) });
  readonly layers = new ModuleList([new Linear(4, 4, { generator: gen(2) }), new Linear(4, 3, { generator: gen(3), bias: false })]);
  readonly norm = new LayerNorm(3);
  readonly drop = new Dropout(0.5, gen(4));
  readonly label = 'not a parameter';
}

describe('Module', () => {
  it('names parameters by property path (HF style) and counts them', () => {
    const m = new Tiny();
    expect(m.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['embed.weight', [10, 4]], ['layers.0.weight', [4, 4]], ['layers.0.bias', [4]], ['layers.1.weight', [3, 4]],
      ['norm.weight', [3]], ['norm.bias', [3]],
    ]);
    expect(m.numParameters()).toBe(40 + 16 + 4 + 12 + 6);
    m.layers[0].freeze();
    expect(m.numParameters({ trainableOnly: true })).toBe(40 + 12 + 6);
    expect(m.layers[0].weight.requiresGrad).toBe(false);
    m.unfreeze();
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
    m.dispose();
  });

  it('parameters created inside tidy survive it', () => {
    const m = W.tidy(() => new Linear(3, 2, { generator: gen(5) }));
    expect(m.weight.isDisposed).toBe(false);
    W.tidy(() => expect(m.forward(W.ones([1, 3])).shape).toEqual([1, 2]));
    m.dispose();
  });

  it('loadStateDict copies into the same tensors and reports missing / unexpected / mis-shaped keys', () => {
    const a = new Tiny();
    const b = new Tiny();
    const w0 = b.embed.weight;
    const src = new Map([...a.stateDict()].map(([k, t]) => [k, t.clone()]));
    expect(b.loadStateDict(src).loaded.length).toBe(6);
    expect(b.embed.weight).toBe(w0);
    expect(Array.from(b.embed.weight.toArray())).toEqual(Array.from(a.embed.weight.toArray()));

    const bad = new Map(src);
    bad.delete('norm.bias');
    bad.set('norm.gamma', W.ones([3]));
    bad.set('layers.0.weight', W.zeros([4, 5]));
    let err: StateDictError | null = null;
    try {
      b.loadStateDict(bad);
    } catch (e) {
      err = e as StateDictError;
    }
    expect(err).toBeInstanceOf(StateDictError);
    expect(err!.report.missing).toEqual(['norm.bias']);
    expect(err!.report.unexpected).toEqual(['norm.gamma']);
    expect(err!.report.mismatched).toEqual([{ key: 'layers.0.weight', expected: [4, 4], got: [4, 5] }]);
    expect(err!.message).toMatch(/missing keys \(1\): norm\.bias/);
    expect(err!.message).toMatch(/unexpected keys \(1\): norm\.gamma/);
    expect(err!.message).toMatch(/shape mismatch for layers\.0\.weight: the model has \[4, 4\], the state dict \[4, 5\]/);
    // Shape mismatches raise even when not strict, and nothing was copied.
    const before = Array.from(b.norm.weight.toArray());
    bad.set('norm.weight', W.full([3], 9));
    expect(() => b.loadStateDict(bad, { strict: false })).toThrow(StateDictError);
    expect(Array.from(b.norm.weight.toArray())).toEqual(before);
    // Not strict: loads what matches, reports the rest.
    bad.delete('layers.0.weight');
    const r = b.loadStateDict(bad, { strict: false });
    expect(r.missing.sort()).toEqual(['layers.0.weight', 'norm.bias']);
    expect(r.unexpected).toEqual(['norm.gamma']);
    expect(Array.from(b.norm.weight.toArray())).toEqual([9, 9, 9]);
    W.dispose([...src.values(), ...bad.values()]);
    a.dispose();
    b.dispose();
  });

  it('train()/eval() propagate to every descendant; dropout is the identity in eval', () => {
    const m = new Tiny();
    m.eval();
    expect([...m.namedModules()].every(([, c]) => !c.training)).toBe(true);
    W.tidy(() => {
      const x = W.ones([2, 8]);
      expect(Array.from(m.drop.forward(x).toArray())).toEqual(Array.from(x.toArray()));
      m.train();
      expect([...m.namedModules()].every(([, c]) => c.training)).toBe(true);
      const y = Array.from(m.drop.forward(x).toArray());
      expect(y.some((v) => v === 0) && y.some((v) => v === 2)).toBe(true);
    });
    m.dispose();
  });

  it('frozen parameters get no gradient', () => {
    const m = new Linear(3, 2, { generator: gen(6) });
    m.freeze();
    const x = W.tensor([[1, 2, 3]], undefined, { requiresGrad: true });
    W.tidy(() => m.forward(x).sum().backward());
    expect(m.weight.grad).toBeNull();
    expect(x.grad).not.toBeNull();
    x.dispose();
    m.dispose();
  });

  it('Linear stores W [out, in] (y = x W^T + b), Conv1D W [in, out] (y = x W + b)', () => {
    const lin = new Linear(3, 2, { generator: gen(7) });
    const conv = new Conv1D(3, 2, { generator: gen(8) });
    W.tidy(() => {
      const x = W.tensor([[0.5, -1, 2]]);
      const ref = (w: ArrayLike<number>, at: (o: number, i: number) => number) =>
        [0, 1].map((o) => [0, 1, 2].reduce((s, i) => s + [0.5, -1, 2][i] * w[at(o, i)], 0));
      const l = Array.from(lin.forward(x).toArray());
      const c = Array.from(conv.forward(x).toArray());
      ref(lin.weight.toArray(), (o, i) => o * 3 + i).forEach((v, j) => expect(l[j]).toBeCloseTo(v, 5));
      ref(conv.weight.toArray(), (o, i) => i * 2 + o).forEach((v, j) => expect(c[j]).toBeCloseTo(v, 5));
    });
    lin.dispose();
    conv.dispose();
  });

  it('Embedding with paddingIdx: zero-initialised pad row that receives no gradient', () => {
    const e = new Embedding(5, 3, { generator: gen(9), paddingIdx: 1 });
    expect(Array.from(e.weight.toArray().slice(3, 6))).toEqual([0, 0, 0]);
    e.weight.backend.write(e.weight.buf, Array.from({ length: 15 }, (_, i) => i));
    W.tidy(() => {
      const out = e.forward(W.tensor([[1, 2, 1, 4]], undefined, { dtype: 'int32' }));
      expect(Array.from(out.toArray())).toEqual([3, 4, 5, 6, 7, 8, 3, 4, 5, 12, 13, 14]);
      out.sum().backward();
      expect(Array.from(e.weight.grad!.toArray())).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1]);
    });
    e.dispose();
  });
});

describe('attention', () => {
  it('block mask: causal with a cache offset, and padded keys', () => {
    W.tidy(() => {
      const like = W.zeros([1]);
      const am = W.tensor([[1, 1, 1, 0], [0, 1, 1, 1]], undefined, { dtype: 'int32' });
      const m = attentionBlockMask({ batch: 2, queryLength: 2, pastLength: 2, causal: true, attentionMask: am, like })!;
      expect(m.toNested()).toEqual([[[[0, 0, 0, 1], [0, 0, 0, 1]]], [[[1, 0, 0, 1], [1, 0, 0, 0]]]]);
      expect(attentionBlockMask({ batch: 2, queryLength: 1, pastLength: 3, causal: true, like })).toBeNull();
      expect(() => attentionBlockMask({ batch: 2, queryLength: 2, causal: false, attentionMask: am, like })).toThrow(/\[2, 2\]/);
    });
  });

  it('the fused mask (attentionMask) gives the block-mask composition bit for bit, values and gradients, on every WASM binary', () => {
    // padding (int32 and float), causal with cached keys, a query row whose every key is blocked
    const cases = [
      { B: 2, H: 3, Tq: 5, past: 0, causal: false, keep: [1, 1, 0, 1, 1, 0, 0, 0, 0, 0], float: false },
      { B: 2, H: 2, Tq: 3, past: 4, causal: true, keep: [1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1], float: true },
      { B: 1, H: 2, Tq: 6, past: 0, causal: true, keep: null, float: false },
    ];
    for (const be of wasmBackends()) {
      W.withBackend(be, () => W.tidy(() => {
        for (const c of cases) {
          const Tk = c.Tq + c.past;
          const leaf = (n: number, shape: number[], seed: number) => {
            const t = W.tensor(vals(n, seed), shape);
            t.requiresGrad = true;
            return t;
          };
          const q = leaf(c.B * c.H * c.Tq * 5, [c.B, c.H, c.Tq, 5], 20);
          const k = leaf(c.B * c.H * Tk * 5, [c.B, c.H, Tk, 5], 21);
          const v = leaf(c.B * c.H * Tk * 5, [c.B, c.H, Tk, 5], 22);
          const am = c.keep ? W.tensor(c.keep, [c.B, Tk], c.float ? {} : { dtype: 'int32' }) : null;
          const o = { batch: c.B, queryLength: c.Tq, pastLength: c.past, causal: c.causal, attentionMask: am };
          const run = (mask: ReturnType<typeof attentionMask> | W.Tensor | null) => {
            for (const t of [q, k, v]) t.grad = null;
            const y = attend(q, k, v, mask);
            W.sum(W.mul(y, W.tensor(vals(y.size, 23), y.shape))).backward();
            return [y, q.grad!, k.grad!, v.grad!].map((t) => Array.from(new Int32Array(new Float32Array(t.toArray()).buffer)));
          };
          expect(run(attentionMask(o)), `${be.variant} ${JSON.stringify(c)}`).toEqual(run(attentionBlockMask({ ...o, like: q })));
        }
      }));
    }
  });

  it('incremental decoding with the KV cache equals the full causal forward', () => {
    const attn = new CausalSelfAttention(8, 2, { generator: gen(10), std: 0.4 });
    W.tidy(() => {
      const x = W.tensor(vals(2 * 6 * 8, 1), [2, 6, 8]);
      const mask = attentionBlockMask({ batch: 2, queryLength: 6, causal: true, like: x });
      const full = attn.forward(x, { mask }).out.toArray();
      let past: LayerPast | null = null;
      const steps: number[] = [];
      for (const [s, e] of [[0, 3], [3, 4], [4, 6]]) {
        const mask2 = attentionBlockMask({ batch: 2, queryLength: e - s, pastLength: s, causal: true, like: x });
        const r = attn.forward(W.slice(x, [0, s, 0], [2, e, 8]), { mask: mask2, past, useCache: true });
        past = r.present;
        expect(past!.key.shape).toEqual([2, 2, e, 4]);
        const o = r.out.toArray();
        for (let b = 0; b < 2; b++) for (let t = 0; t < e - s; t++) for (let c = 0; c < 8; c++) steps[(b * 6 + s + t) * 8 + c] = o[(b * (e - s) + t) * 8 + c];
      }
      steps.forEach((v, i) => expect(Math.abs(v - full[i])).toBeLessThan(1e-6));
    });
    attn.dispose();
  });

  it('padded keys are excluded: padding content does not change the other positions', () => {
    const attn = new SelfAttention(8, 2, { generator: gen(11), std: 0.4 });
    W.tidy(() => {
      const keepMask = W.tensor([[1, 1, 1, 0, 0]], undefined, { dtype: 'int32' });
      const mask = attentionBlockMask({ batch: 1, queryLength: 5, causal: false, attentionMask: keepMask, like: keepMask });
      const a = W.tensor(vals(40, 2), [1, 5, 8]);
      const b = W.concat([W.slice(a, [0, 0, 0], [1, 3, 8]), W.tensor(vals(16, 3), [1, 2, 8])], 1);
      const ya = attn.forward(a, mask).toArray().slice(0, 24);
      const yb = attn.forward(b, mask).toArray().slice(0, 24);
      const short = attn.forward(W.slice(a, [0, 0, 0], [1, 3, 8])).toArray();
      for (let i = 0; i < 24; i++) {
        expect(yb[i]).toBe(ya[i]);
        expect(Math.abs(short[i] - ya[i])).toBeLessThan(1e-6);
      }
    });
    attn.dispose();
  });
});

/** A module per backend (gradcheck runs fn on a fresh float64 reference backend, compare on each WASM one). */
function perBackend<M extends Module>(make: () => M): () => M {
  const cache = new WeakMap<Backend, M>();
  return () => {
    const be = getBackend();
    if (!cache.has(be)) cache.set(be, make().freeze().eval());
    return cache.get(be)!;
  };
}

// Float32 WASM against the float64 reference through a dozen fused kernels: 1e-4 absolute and
// relative, as the matmul checks in ops-grad.test.ts.
const WASM_TOL = { wasm: { atol: 1e-4, rtol: 1e-4 } };

describe('gradients (finite differences; WASM vs reference)', () => {
  it('attend(q, k, v) with a causal and a padding mask', () => {
    const keep = [1, 1, 1, 1, 1, 0, 1, 1];
    checkOp((q, k, v) => {
      const am = W.tensor(keep, [2, 4], { dtype: 'int32', backend: q.backend });
      return attend(q, k, v, attentionBlockMask({ batch: 2, queryLength: 4, causal: true, attentionMask: am, like: q }));
    }, [input([2, 2, 4, 3], 4), input([2, 2, 4, 3], 5), input([2, 2, 4, 3], 6)], WASM_TOL);
  });

  it('GPT-2 attention with a KV cache (gradient through the cached keys and values)', () => {
    const attn = perBackend(() => new CausalSelfAttention(8, 2, { generator: gen(12), std: 0.4 }));
    checkOp((x, pk, pv) => {
      const mask = attentionBlockMask({ batch: 1, queryLength: 3, pastLength: 2, causal: true, like: x });
      return attn().forward(x, { mask, past: { key: pk, value: pv } }).out;
    }, [input([1, 3, 8], 7), input([1, 2, 2, 4], 8), input([1, 2, 2, 4], 9)], WASM_TOL);
  });

  it('pre-LN block (GPT-2)', () => {
    const block = perBackend(() => new PreLNBlock(8, 2, 16, { generator: gen(13), std: 0.4 }));
    checkOp((x) => block().forward(x, { mask: attentionBlockMask({ batch: 2, queryLength: 3, causal: true, like: x }) }).hidden,
      [input([2, 3, 8], 10)], WASM_TOL);
  });

  it('post-LN block (RoBERTa) with padding', () => {
    const block = perBackend(() => new PostLNBlock(8, 2, 16, { generator: gen(14), std: 0.4 }));
    checkOp((x) => {
      const am = W.tensor([1, 1, 1, 1, 1, 0], [2, 3], { dtype: 'int32', backend: x.backend });
      return block().forward(x, attentionBlockMask({ batch: 2, queryLength: 3, causal: false, attentionMask: am, like: x }));
    }, [input([2, 3, 8], 11)], WASM_TOL);
  });
});
