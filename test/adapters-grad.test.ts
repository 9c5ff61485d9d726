/**
 * Gradients through each adapter's hook, with the repo's gradcheck (central differences in float64
 * on the reference backend, default tolerances) followed by every WASM binary against the
 * reference (checkOp). Each checked function builds a one-layer model, attaches the method through
 * applyAdapter and puts the gradcheck inputs in place of the adapter's own parameter tensors, so
 * the real hook code runs and the gradient reaches the inputs. Building inside the function makes
 * it deterministic: LoRA's dropout masks and StochGRASP's eps come from generators seeded afresh on
 * every evaluation. Forward values are also checked against the methods' formulas.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { applyAdapter, graspGroupMap, type AttachedLayer } from '../src/adapters/index.js';
import { isStochGraspLayer } from '../src/adapters/stochgrasp.js';
import { Module } from '../src/nn/index.js';
import { gradcheck } from '../src/testing/gradcheck.js';
import { checkOp } from './helpers.js';
import { type AnyConfig, uniform } from './adapters-models.js';

type Layer = W.Linear | W.Conv1D | W.Embedding;

/** A model whose only adaptable module is `layer`. */
class One extends Module {
  constructor(readonly layer: Layer) {
    super();
  }
}

function makeLayer(kind: 'linear' | 'conv1d' | 'embedding', inF: number, outF: number): Layer {
  const generator = new W.Generator(11);
  const std = 0.5; // weights of order 1, so every term of the output matters at gradcheck's tolerances
  if (kind === 'linear') return new W.Linear(inF, outF, { generator, std });
  if (kind === 'conv1d') return new W.Conv1D(inF, outF, { generator, std });
  return new W.Embedding(inF, outF, { generator, std });
}

/** Makes `leaf` the tensor the adapter computes with for its parameter `key` (found by identity, not by field name). */
function bind(attached: AttachedLayer, key: string, leaf: W.Tensor): void {
  const entry = attached.params.find(([k]) => k === key);
  if (!entry) throw new Error(`no adapter parameter ${key}; have ${attached.params.map(([k]) => k).join(', ')}`);
  const own = entry[1];
  if (own.shape.join() !== leaf.shape.join()) throw new Error(`${key}: input ${leaf.describe()} vs adapter ${own.describe()}`);
  const fields = Object.keys(attached).filter((f) => (attached as unknown as Record<string, unknown>)[f] === own);
  if (fields.length !== 1) throw new Error(`${key}: found ${fields.length} fields holding it`);
  (attached as unknown as Record<string, unknown>)[fields[0]] = leaf;
  (entry as [string, W.Tensor])[1] = leaf;
  own.dispose();
}

/** fn(x, ...params) = the adapted layer's output, the params bound in `keys` order. */
function adaptedLayerFn(kind: 'linear' | 'conv1d' | 'embedding', inF: number, outF: number, config: AnyConfig, keys: string[], opts: { eval?: boolean } = {}) {
  return (x: W.Tensor, ...params: W.Tensor[]): W.Tensor => {
    const model = new One(makeLayer(kind, inF, outF));
    if (opts.eval) model.eval();
    const adapted = applyAdapter(model, { target_modules: ['layer'], ...config } as AnyConfig);
    keys.forEach((k, i) => bind(adapted.layers[0], k, params[i]));
    return model.layer.forward(x);
  };
}

function values(n: number, lo: number, hi: number, seed: number): number[] {
  const u = uniform(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * u());
}

function input(shape: number[], lo: number, hi: number, seed: number) {
  return { data: values(shape.reduce((a, b) => a * b, 1), lo, hi, seed), shape };
}

/** The base layer's output as y = x W^T + b, computed with plain ops (Conv1D stores W^T). */
function baseOut(layer: W.Linear | W.Conv1D, x: W.Tensor): W.Tensor {
  return layer instanceof W.Conv1D ? W.add(W.matmul(x, layer.weight), layer.bias) : W.linear(x, layer.weight, layer.bias);
}

describe('LoRA gradients', () => {
  for (const kind of ['linear', 'conv1d'] as const) {
    it(`output hook on a ${kind === 'linear' ? 'Linear' : 'Conv1D'}: x, A, B`, () => {
      const fn = adaptedLayerFn(kind, 5, 3, { peft_type: 'LORA', r: 2, lora_alpha: 3 }, ['lora_A.weight', 'lora_B.weight']);
      checkOp(fn, [input([2, 3, 5], -2, 2, 1), input([2, 5], -1, 1, 2), input([3, 2], -1, 1, 3)]);
    });
  }

  it('with dropout on the branch input (mask fixed by the seed)', () => {
    const fn = adaptedLayerFn('linear', 5, 3, { peft_type: 'LORA', r: 2, lora_dropout: 0.3 }, ['lora_A.weight', 'lora_B.weight']);
    checkOp(fn, [input([4, 5], -2, 2, 4), input([2, 5], -1, 1, 5), input([3, 2], -1, 1, 6)]);
  });

  it('output hook on an Embedding: A [r, num], B [dim, r] (ids get no gradient)', () => {
    const fn = adaptedLayerFn('embedding', 7, 3, { peft_type: 'LORA', r: 2 }, ['lora_embedding_A', 'lora_embedding_B']);
    const ids = { data: [0, 6, 3, 3, 1, 5], shape: [2, 3], dtype: 'int32' as const };
    checkOp(fn, [ids, input([2, 7], -1, 1, 7), input([3, 2], -1, 1, 8)]);
  });

  for (const [rslora, scale] of [[false, 6 / 4], [true, 6 / 2]] as const) {
    it(`forward is W x + b + s B A x with s = ${rslora ? 'alpha / sqrt(r)' : 'alpha / r'} (${rslora ? 'rsLoRA' : 'LoRA'})`, () => {
      W.withBackend(createReferenceBackend({ dtype: 'float64' }), () => {
        for (const kind of ['linear', 'conv1d'] as const) {
          const model = new One(makeLayer(kind, 5, 3));
          const adapted = applyAdapter(model, { peft_type: 'LORA', target_modules: ['layer'], r: 4, lora_alpha: 6, use_rslora: rslora });
          const [[, A], [, B]] = adapted.layers[0].params;
          W.noGrad(() => B.backend.write(B.buf, values(12, -1, 1, 9)));
          const x = W.tensor(values(10, -2, 2, 10), [2, 5]);
          const got = W.noGrad(() => model.layer.forward(x)).toArray();
          const want = W.noGrad(() => W.add(baseOut(model.layer as W.Linear | W.Conv1D, x), W.mul(W.matmul(W.matmul(x, A, { transB: true }), B, { transB: true }), scale))).toArray();
          for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 12);
        }
      });
    });
  }
});

describe('(IA)3 gradients', () => {
  it('output scaling (keys, values): x and l [out, 1]', () => {
    const fn = adaptedLayerFn('linear', 5, 3, { peft_type: 'IA3', feedforward_modules: ['ffn'] }, ['ia3_l']);
    checkOp(fn, [input([2, 5], -2, 2, 11), input([3, 1], 0.5, 1.5, 12)]);
  });

  it('input scaling (feed-forward): x and l [1, in], on a Conv1D too', () => {
    for (const kind of ['linear', 'conv1d'] as const) {
      const fn = adaptedLayerFn(kind, 5, 3, { peft_type: 'IA3', feedforward_modules: ['layer'] }, ['ia3_l']);
      checkOp(fn, [input([2, 5], -2, 2, 13), input([1, 5], 0.5, 1.5, 14)]);
    }
  });
});

describe('GRASP gradients', () => {
  const config: AnyConfig = { peft_type: 'GRASP', num_groups: 3, min_scale: 0.05, group_seed: 4 };

  for (const kind of ['linear', 'conv1d'] as const) {
    it(`input hook on a ${kind === 'linear' ? 'Linear' : 'Conv1D'}: x, gamma, beta`, () => {
      const fn = adaptedLayerFn(kind, 7, 3, config, ['grasp_gamma', 'grasp_beta']);
      checkOp(fn, [input([2, 7], -2, 2, 15), { data: [1.2, 0.6, 0.9], shape: [3] }, input([3], -0.5, 0.5, 16)]);
    });
  }

  it('a scale below min_scale is clamped: its gradient is 0 (checked away from the kink)', () => {
    const fn = adaptedLayerFn('linear', 7, 3, config, ['grasp_gamma', 'grasp_beta']);
    const inputs = [input([2, 7], -2, 2, 17), { data: [1.2, 0.02, 0.7], shape: [3] }, input([3], -0.5, 0.5, 18)];
    checkOp(fn, inputs);
    const report = gradcheck(fn, inputs);
    expect(report.ok, report.summary).toBe(true);
    const analytic = W.withBackend(createReferenceBackend({ dtype: 'float64' }), () => {
      const leaves = inputs.map((s) => W.tensor(s.data, s.shape, { requiresGrad: true }));
      W.sum(fn(leaves[0], leaves[1], leaves[2])).backward();
      return leaves[1].grad!.toArray();
    });
    expect(analytic[1]).toBe(0);
    expect(analytic[0]).not.toBe(0);
  });

  it('forward is ((x - beta[g]) / max(gamma[g], min_scale)) W^T + b with g the saved group map', () => {
    W.withBackend(createReferenceBackend({ dtype: 'float64' }), () => {
      const gamma = [1.2, 0.02, 0.7];
      const beta = [0.3, -0.2, 0.1];
      const x = W.tensor(values(14, -2, 2, 19), [2, 7]);
      const fn = adaptedLayerFn('linear', 7, 3, config, ['grasp_gamma', 'grasp_beta']);
      const got = W.noGrad(() => fn(x, W.tensor(gamma, [3]), W.tensor(beta, [3]))).toArray();
      const map = graspGroupMap(7, 3, 4, 'layer');
      expect(new Set(map)).toEqual(new Set([0, 1, 2]));
      const xv = x.toArray();
      const xt = W.tensor(Array.from(xv, (v, j) => (v - beta[map[j % 7]]) / Math.max(gamma[map[j % 7]], 0.05)), [2, 7]);
      const want = W.noGrad(() => baseOut(makeLayer('linear', 7, 3) as W.Linear, xt)).toArray();
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 12);
    });
  });
});

describe('StochGRASP gradients', () => {
  const config: AnyConfig = { peft_type: 'STOCHGRASP', num_groups: 3, group_seed: 2, sample_seed: 9 };
  const keys = ['grasp_gamma_mu', 'grasp_gamma_rho', 'grasp_beta_mu', 'grasp_beta_rho'];
  // rho <= -2.5 keeps sigma <= 0.08, so mu - 9 sigma stays above min_scale: no sample reaches the clamp.
  const params = () => [{ data: [1.1, 0.8, 1.3], shape: [3] }, { data: [-3, -2.5, -3.5], shape: [3] }, input([3], -0.3, 0.3, 20), { data: [-2.5, -3, -4], shape: [3] }];

  it('training (sampled): x, mu and rho of scales and shifts', () => {
    checkOp(adaptedLayerFn('linear', 6, 3, config, keys), [input([2, 6], -2, 2, 21), ...params()]);
  });

  it('training with sample_shift false: beta_mu gets the plain GRASP gradient', () => {
    checkOp(adaptedLayerFn('conv1d', 6, 3, { ...config, sample_shift: false }, keys.slice(0, 3)), [input([2, 6], -2, 2, 22), ...params().slice(0, 3)]);
  });

  it('eval (means): rho gets no gradient, mu does', () => {
    const fn = adaptedLayerFn('linear', 6, 3, config, keys, { eval: true });
    checkOp(fn, [input([2, 6], -2, 2, 23), ...params()]);
    const grads = W.withBackend(createReferenceBackend({ dtype: 'float64' }), () => {
      const leaves = [input([2, 6], -2, 2, 23), ...params()].map((s) => W.tensor(s.data, s.shape, { requiresGrad: true }));
      W.sum(fn(leaves[0], ...leaves.slice(1))).backward();
      return leaves.map((l) => l.grad);
    });
    expect(grads[2]).toBeNull();
    expect(grads[4]).toBeNull();
    expect(grads[1]).not.toBeNull();
  });

  it('mu + softplus(rho) eps: gradient 1 and eps sigmoid(rho), against finite differences with a re-seeded generator', () => {
    checkOp((mu, rho) => W.gaussianSample(mu, W.softplus(rho), { generator: new W.Generator(5) }), [input([7], -1, 1, 24), input([7], -3, 1, 25)]);
  });

  it('the training sample is mu + softplus(rho) eps, eps drawn from the layer generator (scales, then shifts); resetting it repeats the sample', () => {
    W.withBackend(createReferenceBackend({ dtype: 'float64' }), () => {
      const model = new One(makeLayer('linear', 6, 3));
      const adapted = applyAdapter(model, { target_modules: ['layer'], ...config } as AnyConfig);
      const layer = adapted.layers[0];
      if (!isStochGraspLayer(layer)) throw new Error('not a StochGRASP layer');
      const p = new Map(layer.params);
      p.get('grasp_gamma_rho')!.backend.write(p.get('grasp_gamma_rho')!.buf, [-1, -2, -0.5]);
      p.get('grasp_beta_rho')!.backend.write(p.get('grasp_beta_rho')!.buf, [-1.5, -2, -1]);
      const x = W.tensor(values(12, -2, 2, 26), [2, 6]);
      const state = layer.generatorState();
      const first = W.noGrad(() => model.layer.forward(x)).toArray();
      const second = W.noGrad(() => model.layer.forward(x)).toArray();
      expect(Array.from(second)).not.toEqual(Array.from(first));
      layer.setGeneratorState(state);
      expect(Array.from(W.noGrad(() => model.layer.forward(x)).toArray())).toEqual(Array.from(first));

      const g = new W.Generator(0);
      g.setState(state);
      const sample = (mu: string, rho: string) => W.noGrad(() => W.gaussianSample(p.get(mu)!, W.softplus(p.get(rho)!), { generator: g })).toArray();
      const gamma = sample('grasp_gamma_mu', 'grasp_gamma_rho');
      const beta = sample('grasp_beta_mu', 'grasp_beta_rho');
      const map = layer.buffers[0][1].toArray();
      const xv = x.toArray();
      const xt = W.tensor(Array.from(xv, (v, j) => (v - beta[map[j % 6]]) / Math.max(gamma[map[j % 6]], 0.05)), [2, 6]);
      const want = W.noGrad(() => baseOut(model.layer as W.Linear, xt)).toArray();
      for (let i = 0; i < want.length; i++) expect(first[i]).toBeCloseTo(want[i], 12);
    });
  });
});
