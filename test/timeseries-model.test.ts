/**
 * The GPT4TS pipeline: patch-count formula, patching and channel independence values, instance
 * normalisation and its inverse, gradients (float64 finite differences on the reference backend),
 * the pretrained backbone against GPT-2 itself, and the HF-layout save/load round trip.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { fromPretrained, gpt4tsFromGPT2Checkpoint, loadGPT4TS, saveGPT4TS } from '../src/node/index.js';
import {
  GPT4TS, GPT4TSConfig, gpt4tsFromFiles, gpt4tsToFiles, instanceDenorm, instanceNorm, LinearForecaster, patchCount, patchify,
} from '../src/timeseries/index.js';
import { gradcheck } from '../src/testing/gradcheck.js';
import { checkOp, mulberry32, tempDirs } from './helpers.js';

const TINY = join(import.meta.dirname, '..', 'examples', 'checkpoints', 'tiny-gpt2');
const tmp = tempDirs();

function values(n: number, seed: number, scale = 1): number[] {
  const u = mulberry32(seed);
  return Array.from({ length: n }, () => scale * (2 * u() - 1));
}

/** A 2-layer GPT-2 of width 8 and a GPT4TS on it: L = 12, patch 4, stride 2 -> 6 patches, H = 3. */
const TINY_TS = { input_length: 12, horizon: 3, patch_size: 4, stride: 2, gpt_layers: 2, gpt2: { n_embd: 8, n_head: 2, n_layer: 2, n_positions: 8, vocab_size: 5, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 } };

describe('patching', () => {
  it('patch count = floor((L - patch) / stride) + 2 (one extra patch from the right padding)', () => {
    expect(patchCount(336, 16, 8)).toBe(42);
    expect(patchCount(512, 16, 8)).toBe(64);
    expect(patchCount(96, 16, 8)).toBe(12);
    expect(patchCount(16, 16, 8)).toBe(2);
    // The same as counting unfold windows over the padded series of length L + stride.
    for (const [L, P, S] of [[20, 4, 3], [17, 5, 2], [33, 16, 8], [9, 3, 3]]) {
      let n = 0;
      for (let s = 0; s + P <= L + S; s += S) n++;
      expect(patchCount(L, P, S)).toBe(n);
    }
    expect(() => patchCount(8, 16, 8)).toThrow(/shorter than one patch/);
  });

  it('patchify: (B, L, M) -> (B*M, N, P), row b*M+m, the last step replicated into the padding', () => {
    const [B, L, M, P, S] = [2, 11, 3, 4, 3];
    const x = W.tensor(Array.from({ length: B * L * M }, (_, i) => i), [B, L, M]);
    const p = patchify(x, P, S);
    const N = patchCount(L, P, S);
    expect(p.shape).toEqual([B * M, N, P]);
    const v = p.toArray();
    for (let b = 0; b < B; b++) for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) for (let k = 0; k < P; k++) {
      const t = Math.min(n * S + k, L - 1);
      expect(v[((b * M + m) * N + n) * P + k]).toBe((b * L + t) * M + m);
    }
    x.dispose();
    p.dispose();
  });

  it('gradients of patchify reach every input step (padding copies add up)', () => {
    // finite differences in float64, then every WASM binary against the reference
    checkOp((x) => patchify(x, 4, 3), [{ data: values(2 * 11 * 3, 1), shape: [2, 11, 3] }]);
  });
});

describe('instance normalisation', () => {
  it('per series and channel: mean 0, variance var/(var + eps); the inverse restores x', () => {
    W.tidy(() => {
      const data = values(3 * 20 * 2, 2, 5).map((v, i) => v + (i % 2) * 100);
      const x = W.tensor(data, [3, 20, 2]);
      const { x: xn, stats } = instanceNorm(x, 1e-5);
      const n = xn.toArray();
      for (let b = 0; b < 3; b++) for (let m = 0; m < 2; m++) {
        let s = 0;
        let q = 0;
        for (let t = 0; t < 20; t++) s += n[(b * 20 + t) * 2 + m];
        for (let t = 0; t < 20; t++) q += n[(b * 20 + t) * 2 + m] ** 2;
        expect(Math.abs(s / 20)).toBeLessThan(1e-5);
        expect(q / 20).toBeCloseTo(1, 4);
      }
      expect(stats.mean.shape).toEqual([3, 1, 2]);
      const back = instanceDenorm(xn, stats).toArray();
      back.forEach((v, i) => expect(v).toBeCloseTo(data[i], 3));
    });
  });

  it('gradients through the statistics (detachStats: false) and through the round trip', () => {
    const x = { data: values(2 * 6 * 2, 3, 2), shape: [2, 6, 2] };
    checkOp((t) => instanceNorm(t, 1e-5, { detachStats: false }).x, [x]);
    checkOp((t) => { const n = instanceNorm(t, 1e-5, { detachStats: false }); return instanceDenorm(W.tanh(n.x), n.stats); }, [x]);
    // GPT4TS's detached statistics: the gradient treats mean and std as constants, d/dx = 1 / std.
    W.tidy(() => {
      const t = W.tensor(x.data, x.shape, { requiresGrad: true });
      const n = instanceNorm(t, 1e-5);
      W.sum(n.x).backward();
      const g = t.grad!.toArray();
      const sd = n.stats.std.toArray();
      for (let b = 0; b < 2; b++) for (let i = 0; i < 6; i++) for (let m = 0; m < 2; m++) expect(g[(b * 6 + i) * 2 + m]).toBeCloseTo(1 / sd[b * 2 + m], 5);
    });
  });
});

/** Replaces parameter `name` of `model` by `leaf` (so gradcheck's inputs are the model's weights). */
function bindParameter(model: W.Module, name: string, leaf: W.Tensor): void {
  const path = name.split('.');
  const key = path.pop()!;
  let owner: Record<string, unknown> = model as unknown as Record<string, unknown>;
  for (const p of path) owner = owner[p] as Record<string, unknown>;
  const own = owner[key] as W.Tensor;
  if (own.shape.join() !== leaf.shape.join()) throw new Error(`${name}: ${own.describe()} vs ${leaf.describe()}`);
  owner[key] = leaf;
}

describe('GPT4TS', () => {
  it('shapes, and channel independence: each channel is forecast from itself alone', () => {
    W.tidy(() => {
      const model = new GPT4TS(TINY_TS, { generator: new W.Generator(3) });
      expect(model.config.numPatches).toBe(6);
      const data = values(2 * 12 * 3, 4);
      const x = W.tensor(data, [2, 12, 3]);
      const y = model.forward(x).prediction;
      expect(y.shape).toEqual([2, 3, 3]);
      const all = y.toArray();
      const ch1 = W.tensor(data.filter((_, i) => i % 3 === 1), [2, 12, 1]);
      const one = model.forward(ch1).prediction.toArray();
      for (let b = 0; b < 2; b++) for (let h = 0; h < 3; h++) expect(one[b * 3 + h]).toBeCloseTo(all[(b * 3 + h) * 3 + 1], 5);
      model.dispose();
    });
  });

  it('parameter names follow the PyTorch GPT4TS state dict', () => {
    const model = new GPT4TS(TINY_TS);
    const names = model.namedParameters().map(([n]) => n);
    expect(names.slice(0, 3)).toEqual(['in_layer.weight', 'in_layer.bias', 'gpt2.wpe.weight']);
    expect(names).toContain('gpt2.h.1.attn.c_attn.weight');
    expect(names).toContain('gpt2.ln_f.bias');
    expect(names.slice(-2)).toEqual(['out_layer.weight', 'out_layer.bias']);
    expect(model.out_layer.weight.shape).toEqual([3, 6 * 8]);
    model.dispose();
  });

  it('gradients of the forecast reach the input/output layers, wpe, LayerNorms and attention (finite differences)', () => {
    const names = ['in_layer.weight', 'gpt2.wpe.weight', 'gpt2.h.0.ln_1.weight', 'gpt2.h.1.attn.c_proj.bias', 'gpt2.ln_f.bias', 'out_layer.weight'];
    const probe = new GPT4TS(TINY_TS, { generator: new W.Generator(5) });
    const shapes = names.map((n) => probe.stateDict().get(n)!.shape);
    probe.dispose();
    const x = W.tensor(values(2 * 12 * 2, 6, 3), [2, 12, 2]);
    const r = gradcheck((...params) => {
      const model = new GPT4TS(TINY_TS, { generator: new W.Generator(5) });
      names.forEach((n, i) => bindParameter(model, n, params[i]));
      return model.forward(W.tensor(x.toArray(), x.shape)).prediction;
    }, names.map((_, i) => ({ data: values(shapes[i].reduce((a, b) => a * b, 1), 10 + i, 0.5), shape: shapes[i] })));
    x.dispose();
    expect(r.ok, r.summary).toBe(true);
  }, 120_000);

  it('the config rejects geometry the backbone cannot take', () => {
    expect(() => new GPT4TSConfig({ ...TINY_TS, input_length: 30 })).toThrow(/input_length = 30 makes 15 patches .*wpe has n_positions = 8 rows; use an input of at most 17 steps/);
    expect(() => new GPT4TSConfig({ ...TINY_TS, gpt_layers: 3 })).toThrow(/gpt_layers = 3 exceeds the backbone's n_layer = 2/);
    expect(() => new GPT4TSConfig({ ...TINY_TS, patch_size: 20 })).toThrow(/patch_size = 20 exceeds input_length = 12/);
  });

  it('on the pretrained tiny GPT-2, the backbone fed token embeddings reproduces GPT-2 itself', async () => {
    const lm = (await fromPretrained(TINY)) as W.GPT2LMHeadModel;
    const model = GPT4TS.fromGPT2(lm, { input_length: 336, horizon: 96, gpt_layers: 2 });
    expect(model.config.numPatches).toBe(42);
    expect(model.gpt2.wpe.weight.toArray()).toEqual(lm.transformer.wpe.weight.toArray());
    W.tidy(() => {
      const ids = W.tensor([[5, 17, 300, 2, 9]], [1, 5], { dtype: 'int32' });
      const want = lm.forward(ids).logits.toArray();
      const h = model.gpt2.forward(lm.transformer.wte.forward(ids));
      const got = W.matmul(h, lm.transformer.wte.weight, { transB: true }).toArray();
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 3));
    });
    const one = GPT4TS.fromGPT2(lm, { input_length: 336, horizon: 96, gpt_layers: 1 });
    expect(one.namedParameters().some(([n]) => n.startsWith('gpt2.h.1.'))).toBe(false);
    lm.dispose();
    model.dispose();
    one.dispose();
  });

  it('saves and loads config.json + model.safetensors in HF layout with identical forecasts', async () => {
    const model = await gpt4tsFromGPT2Checkpoint(TINY, { input_length: 64, horizon: 24, gpt_layers: 2 }, { generator: new W.Generator(9) });
    const dir = tmp('gpt4ts');
    await saveGPT4TS(model, dir);
    const back = await loadGPT4TS(dir);
    expect(back.config.toJSON()).toEqual(model.config.toJSON());
    W.tidy(() => {
      const x = W.tensor(values(2 * 64, 8, 4), [2, 64, 1]);
      expect(back.forward(x).prediction.toArray()).toEqual(model.forward(x).prediction.toArray());
    });
    // A PyTorch GPT4TS state dict also has gpt2.wte.weight: it is skipped, not an error.
    const files = gpt4tsToFiles(model);
    const withWte = new Map(model.stateDict());
    withWte.set('gpt2.wte.weight', W.zeros([4, model.config.dModel]));
    const again = gpt4tsFromFiles(files.config, W.tensorsToSafetensors(withWte));
    expect(again.out_layer.weight.toArray()).toEqual(model.out_layer.weight.toArray());
    withWte.get('gpt2.wte.weight')!.dispose();
    expect(() => gpt4tsFromFiles('{"model_type":"gpt2"}', files.weights)).toThrow(/is not "gpt4ts"/);
    for (const m of [model, back, again]) m.dispose();
  });
});

describe('LinearForecaster', () => {
  it('one Linear(L, H) applied to every channel', () => {
    W.tidy(() => {
      const model = new LinearForecaster({ input_length: 5, horizon: 2 });
      const data = values(2 * 5 * 3, 7);
      const y = model.forward(W.tensor(data, [2, 5, 3])).prediction;
      expect(y.shape).toEqual([2, 2, 3]);
      const w = model.Linear.weight.toArray();
      const b = model.Linear.bias!.toArray();
      const got = y.toArray();
      for (let s = 0; s < 2; s++) for (let h = 0; h < 2; h++) for (let m = 0; m < 3; m++) {
        let want = b[h];
        for (let t = 0; t < 5; t++) want += w[h * 5 + t] * data[(s * 5 + t) * 3 + m];
        expect(got[(s * 2 + h) * 3 + m]).toBeCloseTo(want, 5);
      }
      model.dispose();
    });
  });
});
