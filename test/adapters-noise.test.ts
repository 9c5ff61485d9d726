/**
 * evaluateUnderNoise: the metric of the merged model under Gaussian weight noise. sigma = 0 is the
 * clean metric (one evaluation), draws differ and repeat with the seed, the perturbation has the
 * documented statistics and targets, bad options are refused, and the weights are restored bit for
 * bit afterwards, also when the evaluation throws.
 *
 * Statistics over n perturbed weights use four standard errors: the mean of W/W0 = 1 + sigma eps is
 * within 4 sigma / sqrt(n) of 1, the sample std within a factor 1 +- 4 / sqrt(2 n) of sigma.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { applyAdapter, evaluateUnderNoise, loadAdapter, adapterConfigJson, adapterWeights, meanStd, perturbWeight } from '../src/adapters/index.js';
import type { Module } from '../src/nn/index.js';
import { expectBitwiseEqual, logits, makeModel, randomizeTrainable, snapshot, type TinyModel } from './adapters-models.js';

/** A metric that depends on every logit: the sum of logit * (index + 1). */
function metric(model: TinyModel): () => number {
  return () => Array.from(logits(model)).reduce((a, v, i) => a + v * (i + 1), 0);
}

function expectSameWeights(model: Module, before: Map<string, ArrayLike<number>>, label: string): void {
  for (const [n, p] of model.namedParameters()) expectBitwiseEqual(p.toArray(), before.get(n)!, `${label}: ${n}`);
}

/** Names of the parameters whose values differ from `before`. */
function perturbed(model: Module, before: Map<string, ArrayLike<number>>): string[] {
  return model.namedParameters().filter(([n, p]) => Array.from(p.toArray()).some((v, i) => v !== before.get(n)![i])).map(([n]) => n);
}

const ROBERTA_TARGETS = [0, 1].flatMap((i) => [
  'attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense', 'intermediate.dense', 'output.dense',
].map((m) => `roberta.encoder.layer.${i}.${m}.weight`));

describe('evaluateUnderNoise', () => {
  it('sigma 0 is the clean metric, evaluated once', async () => {
    const model = makeModel('roberta');
    const clean = metric(model)();
    const [r] = await evaluateUnderNoise(model, metric(model), { sigmas: [0], draws: 5 });
    expect(r).toEqual({ sigma: 0, mean: clean, std: 0, draws: 1, values: [clean] });
  });

  it('on an adapter, sigma 0 is the clean metric of the merged model', async () => {
    const model = makeModel('roberta');
    const adapted = applyAdapter(model, { peft_type: 'GRASP', num_groups: 4 });
    randomizeTrainable(adapted);
    const twin = makeModel('roberta');
    loadAdapter(twin, adapterConfigJson(adapted), adapterWeights(adapted)).merge();
    const clean = metric(twin)();
    const [r] = await evaluateUnderNoise(adapted, metric(model), { sigmas: [0] });
    expect(r.values).toEqual([clean]);
  });

  it('with a clean metric given, sigma 0 reports it without evaluating; the noisy draws are the same as without it', async () => {
    const model = makeModel('roberta');
    const adapted = applyAdapter(model, { peft_type: 'LORA' });
    randomizeTrainable(adapted);
    const before = snapshot(model);
    let calls = 0;
    const counted = () => {
      calls++;
      return metric(model)();
    };
    const opts = { sigmas: [0, 0.1, 0.2], draws: 3, seed: 5 };
    const plain = await evaluateUnderNoise(adapted, counted, opts);
    expect(calls).toBe(1 + 2 * 3);
    calls = 0;
    const progress: [number, number, number][] = [];
    const reused = await evaluateUnderNoise(adapted, counted, { ...opts, clean: 0.75, onProgress: (d, t, s) => progress.push([d, t, s]) });
    expect(calls).toBe(2 * 3);
    expect(progress.map(([d, t]) => [d, t])).toEqual([1, 2, 3, 4, 5, 6].map((d) => [d, 6]));
    expect(reused[0]).toEqual({ sigma: 0, mean: 0.75, std: 0, draws: 1, values: [0.75] });
    expect(reused.slice(1)).toEqual(plain.slice(1));
    expect(adapted.merged).toBe(false);
    expectSameWeights(model, before, 'after the call');
    await expect(evaluateUnderNoise(model, counted, { sigmas: [0], clean: NaN })).rejects.toThrow(/clean = NaN must be a finite metric value/);
  });

  it('restores a plain model bit for bit, also when evaluate throws', async () => {
    const model = makeModel('roberta');
    const before = snapshot(model);
    await evaluateUnderNoise(model, metric(model), { sigmas: [0, 0.2], draws: 2 });
    expectSameWeights(model, before, 'after the call');
    let calls = 0;
    const failing = () => {
      if (++calls === 2) throw new Error('evaluation failed');
      return metric(model)();
    };
    await expect(evaluateUnderNoise(model, failing, { sigmas: [0.3], draws: 3 })).rejects.toThrow('evaluation failed');
    expectSameWeights(model, before, 'after the failed call');
  });

  for (const peft_type of ['LORA', 'IA3', 'GRASP', 'STOCHGRASP'] as const) {
    it(`restores an unmerged ${peft_type} adapter's base weights bit for bit and leaves it unmerged (also when evaluate throws)`, async () => {
      const model = makeModel('roberta');
      const adapted = applyAdapter(model, { peft_type });
      randomizeTrainable(adapted);
      const before = snapshot(model);
      const hooked = logits(model);
      await evaluateUnderNoise(adapted, metric(model), { sigmas: [0, 0.1], draws: 2 });
      expect(adapted.merged).toBe(false);
      expectSameWeights(model, before, 'after the call');
      expectBitwiseEqual(logits(model), hooked, 'logits after the call');
      await expect(evaluateUnderNoise(adapted, () => { throw new Error('boom'); }, { sigmas: [0.1] })).rejects.toThrow('boom');
      expect(adapted.merged).toBe(false);
      expectSameWeights(model, before, 'after the failed call');
    });
  }

  it('leaves an adapter that was already merged merged, with its merged weights', async () => {
    const model = makeModel('roberta');
    const adapted = applyAdapter(model, { peft_type: 'LORA' });
    randomizeTrainable(adapted);
    adapted.merge();
    const merged = snapshot(model);
    await evaluateUnderNoise(adapted, metric(model), { sigmas: [0.1], draws: 2 });
    expect(adapted.merged).toBe(true);
    expectSameWeights(model, merged, 'merged weights');
  });

  it('draws differ for sigma > 0; the same seed repeats them, another seed does not', async () => {
    const model = makeModel('roberta');
    const run = (seed: number) => evaluateUnderNoise(model, metric(model), { sigmas: [0, 0.05, 0.2], draws: 4, seed });
    const a = await run(3);
    for (const r of a.slice(1)) {
      expect(r.draws).toBe(4);
      expect(new Set(r.values).size, `sigma ${r.sigma}: ${r.values}`).toBe(4);
      expect(r).toMatchObject(meanStd(r.values));
      expect(r.std).toBeGreaterThan(0);
    }
    expect(await run(3)).toEqual(a);
    expect((await run(4))[1].values).not.toEqual(a[1].values);
  });

  it('perturbs exactly the six projections of every RoBERTa block by default (not embeddings, LayerNorms, biases, head)', async () => {
    const model = makeModel('roberta');
    const before = snapshot(model);
    const seen: string[][] = [];
    await evaluateUnderNoise(model, () => (seen.push(perturbed(model, before)), 0), { sigmas: [0, 0.1], draws: 1 });
    expect(seen[0]).toEqual([]);
    expect(seen[1]).toEqual(ROBERTA_TARGETS);
    const only: string[][] = [];
    await evaluateUnderNoise(model, () => (only.push(perturbed(model, before)), 0), { sigmas: [0.1], draws: 1, targets: ['query'] });
    expect(only[0]).toEqual(ROBERTA_TARGETS.filter((n) => n.endsWith('query.weight')));
  });

  it('perturbs the four Conv1D layers of every GPT-2 block by default', async () => {
    const model = makeModel('gpt2');
    const before = snapshot(model);
    let seen: string[] = [];
    await evaluateUnderNoise(model, () => ((seen = perturbed(model, before)), 0), { sigmas: [0.1], draws: 1 });
    expect(seen).toEqual([0, 1].flatMap((i) => ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'].map((m) => `transformer.h.${i}.${m}.weight`)));
  });

  it('multiplicative noise: W / W0 has mean 1 and std sigma over the perturbed weights', async () => {
    const model = makeModel('roberta');
    const before = snapshot(model);
    const sigma = 0.1;
    const ratios: number[] = [];
    await evaluateUnderNoise(model, () => {
      for (const n of ROBERTA_TARGETS) {
        const w = model.namedParameters().find(([k]) => k === n)![1].toArray();
        const w0 = before.get(n)!;
        for (let i = 0; i < w.length; i++) ratios.push(w[i] / w0[i]);
      }
      return 0;
    }, { sigmas: [sigma], draws: 3 });
    const n = ratios.length;
    expect(n).toBe(3 * 2 * (4 * 16 * 16 + 2 * 16 * 32));
    const s = meanStd(ratios);
    expect(Math.abs(s.mean - 1)).toBeLessThan((4 * sigma) / Math.sqrt(n));
    expect(Math.abs(s.std / sigma - 1)).toBeLessThan(4 / Math.sqrt(2 * n));
  });

  it('additive noise: (W - W0) / (sigma max|W0|) is standard normal, per layer', async () => {
    const model = makeModel('roberta');
    const before = snapshot(model);
    const sigma = 0.05;
    const z: number[] = [];
    await evaluateUnderNoise(model, () => {
      for (const n of ROBERTA_TARGETS) {
        const w = model.namedParameters().find(([k]) => k === n)![1].toArray();
        const w0 = before.get(n)!;
        const range = Math.max(...Array.from(w0, Math.abs));
        for (let i = 0; i < w.length; i++) z.push((w[i] - w0[i]) / (sigma * range));
      }
      return 0;
    }, { sigmas: [sigma], draws: 3, mode: 'additive' });
    const s = meanStd(z);
    expect(Math.abs(s.mean)).toBeLessThan(4 / Math.sqrt(z.length));
    expect(Math.abs(s.std - 1)).toBeLessThan(4 / Math.sqrt(2 * z.length));
  });

  it('perturbWeight on 20000 weights: multiplicative statistics, original untouched', () => {
    const n = 20000;
    const original = Float32Array.from({ length: n }, (_, i) => (i % 2 ? 1 : -1) * (0.5 + (i % 97) / 97));
    const copy = original.slice();
    const t = W.zeros([n]);
    const sigma = 0.2;
    perturbWeight(t, original, sigma, 'multiplicative', new W.Generator(8));
    expectBitwiseEqual(original, copy, 'original');
    const s = meanStd(Array.from(t.toArray(), (v, i) => v / original[i]));
    expect(Math.abs(s.mean - 1)).toBeLessThan((4 * sigma) / Math.sqrt(n));
    expect(Math.abs(s.std / sigma - 1)).toBeLessThan(4 / Math.sqrt(2 * n));
  });

  it('reports progress once per evaluation', async () => {
    const model = makeModel('roberta');
    const calls: [number, number, number][] = [];
    await evaluateUnderNoise(model, () => 0, { sigmas: [0, 0.1, 0.2], draws: 2, onProgress: (d, t, s) => calls.push([d, t, s]) });
    expect(calls).toEqual([[1, 5, 0], [2, 5, 0.1], [3, 5, 0.1], [4, 5, 0.2], [5, 5, 0.2]]);
  });

  it('refuses bad sigmas, draws and modes before touching the model', async () => {
    const model = makeModel('roberta');
    const adapted = applyAdapter(model, { peft_type: 'GRASP' });
    const before = snapshot(model);
    const bad: [object, RegExp][] = [
      [{ sigmas: [0.1, -0.1] }, /sigma -0\.1 must be a finite number >= 0/],
      [{ sigmas: [NaN] }, /sigma NaN/],
      [{ sigmas: [Infinity] }, /sigma Infinity/],
      [{ draws: 0 }, /draws = 0 must be a positive integer/],
      [{ draws: 2.5 }, /draws = 2\.5/],
      [{ mode: 'gaussian' }, /mode "gaussian" must be "multiplicative" or "additive"/],
      [{ targets: ['nothing_here'] }, /match no layer/],
    ];
    for (const [opts, msg] of bad) {
      await expect(evaluateUnderNoise(adapted, () => 0, opts)).rejects.toThrow(msg);
      expect(adapted.merged).toBe(false);
    }
    expectSameWeights(model, before, 'after refused calls');
  });
});
