/**
 * Merging is reversible and saving is lossless: with every adapter parameter set to non-trivial
 * values, the hooked model, the merged model, the unmerged model and a fresh model with the saved
 * adapter loaded compute the same logits, and unmerge() gives back the base weights up to the
 * rounding the fold itself introduces. On RoBERTa (Linear) and GPT-2 (Conv1D), WASM and reference.
 *
 * Tolerances.
 * - Weights. Merging writes fl(f(W)) and unmerging fl(f^-1(fl(f(W)))), each fold computed in float64
 *   from the float32 values and rounded once (u = 2^-24, |fl(z) - z| <= u |fl(z)|). For LoRA
 *   (W + d, then - d with the same d) that bounds |W2 - W0| by u (|W1| + |W2|); for the
 *   multiplicative folds ((IA)3's W l, GRASP's W / gamma) by 2u |W0| (1 + u); a GRASP bias also
 *   carries the difference of the two float64 shift sums, u sum_i |W0[o,i] beta_i / gamma_i|. One bound
 *   covers all: |W2 - W0| <= u (1 + 2^-10) (|W0| + |W1| + |W2| + R), R = that sum for GRASP biases, else 0.
 * - Logits. The merged weights differ from the hooked computation by a few ulps per weight (and
 *   float32 sums run in another order), so logits agree to LOGIT_ULPS ulps of the largest logit:
 *   about 14 sequential float32 reductions of length <= 32 each (2 layers x (q/k/v, scores,
 *   attention x V, output, FFN in, FFN out) + head), each good to ~32 u relative, times 2 for the
 *   LayerNorms: 14 * 32 * 2 < 2^10. A wrong fold (a sign, a missing scale, a transposed layout) moves
 *   the logits by a sizeable fraction of their size (checked: at least 2^12 of these ulps).
 * - Reloading gives the same float32 values and runs the same kernels, so it is bit-exact.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { adapterConfigJson, adapterWeights, applyAdapter, loadAdapter, type AdaptedModel } from '../src/adapters/index.js';
import { loadAdapterFromDirectory, saveAdapter } from '../src/node/adapter-files.js';
import { wasmBackends } from './helpers.js';
import {
  expectBitwiseEqual, logits, makeModel, maxDiff, methodsFor, randomizeTrainable, snapshot, type Family,
} from './adapters-models.js';

const U = 2 ** -24;
const LOGIT_ULPS = 2 ** 10;

const BACKENDS: [string, () => W.Backend][] = [
  ['wasm', () => wasmBackends()[0]],
  ['reference', () => createReferenceBackend()],
];

/** Per-bias R of the GRASP fold: sum_i |W0[o, i] beta[g(i)] / max(gamma[g(i)], min_scale)|, by bias parameter name. */
function graspShiftMagnitudes(adapted: AdaptedModel, w0: Map<string, ArrayLike<number>>): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  const c = adapted.config;
  if (c.peft_type !== 'GRASP' && c.peft_type !== 'STOCHGRASP') return out;
  for (const l of adapted.layers) {
    const p = new Map(l.params);
    const gamma = (p.get('grasp_gamma') ?? p.get('grasp_gamma_mu'))!.toArray();
    const beta = (p.get('grasp_beta') ?? p.get('grasp_beta_mu'))!.toArray();
    const map = l.buffers[0][1].toArray();
    const w = w0.get(`${l.name}.weight`)!;
    const conv = l.layer instanceof W.Conv1D;
    const inF = map.length;
    const outF = w.length / inF;
    const r = new Float64Array(outF);
    for (let o = 0; o < outF; o++) {
      for (let i = 0; i < inF; i++) {
        const k = map[i];
        r[o] += Math.abs((w[conv ? i * outF + o : o * inF + i] * beta[k]) / Math.max(gamma[k], c.min_scale));
      }
    }
    out.set(`${l.name}.bias`, r);
  }
  return out;
}

function expectRestored(adapted: AdaptedModel, w0: Map<string, Float32Array | Float64Array>, w1: Map<string, Float32Array | Float64Array>): void {
  const shifts = graspShiftMagnitudes(adapted, w0);
  for (const [name, p] of adapted.base.namedParameters()) {
    const a = w0.get(name)!;
    const b = w1.get(name)!;
    const c = p.toArray();
    const r = shifts.get(name);
    for (let i = 0; i < a.length; i++) {
      const bound = U * (1 + 2 ** -10) * (Math.abs(a[i]) + Math.abs(b[i]) + Math.abs(c[i]) + (r ? r[i] : 0));
      if (!(Math.abs(c[i] - a[i]) <= bound)) {
        expect.fail(`${name}[${i}]: unmerged ${c[i]}, before merge ${a[i]} (merged ${b[i]}); |diff| ${Math.abs(c[i] - a[i])} > ${bound}`);
      }
    }
  }
}

function expectLogitsClose(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  const { diff, scale } = maxDiff(got, want);
  expect(diff, `${label}: max |diff| ${diff} vs largest logit ${scale}`).toBeLessThanOrEqual(LOGIT_ULPS * U * scale);
}

describe('merged == unmerged == reloaded', () => {
  for (const [backendName, backend] of BACKENDS) {
    for (const family of ['roberta', 'gpt2'] as Family[]) {
      for (const { label, config } of methodsFor(family)) {
        it(`${label} on ${family} (${backendName})`, () => {
          W.withBackend(backend(), () => {
            const model = makeModel(family);
            const base = logits(model);
            const adapted = applyAdapter(model, config);
            randomizeTrainable(adapted);
            const hooked = logits(model);
            const moved = maxDiff(hooked, base);
            expect(moved.diff, 'the adapter values change the logits').toBeGreaterThan(2 ** 12 * U * moved.scale);
            const configJson = adapterConfigJson(adapted);
            const weights = adapterWeights(adapted);

            const w0 = snapshot(model);
            adapted.merge();
            expect(adapted.merged).toBe(true);
            const merged = logits(model);
            const w1 = snapshot(model);
            adapted.merge(); // idempotent
            expectBitwiseEqual(logits(model), merged, 'merging twice');
            adapted.unmerge();
            expect(adapted.merged).toBe(false);
            const unmerged = logits(model);
            expectRestored(adapted, w0, w1);
            expectLogitsClose(merged, hooked, 'merged vs hooked');
            expectLogitsClose(unmerged, hooked, 'unmerged vs hooked');

            const fresh = makeModel(family);
            const reloaded = loadAdapter(fresh, configJson, weights);
            expectBitwiseEqual(logits(fresh), hooked, 'reloaded vs hooked');
            expect(reloaded.method).toBe(adapted.method);
            reloaded.merge();
            expectLogitsClose(logits(fresh), hooked, 'reloaded and merged vs hooked');
            model.dispose();
            fresh.dispose();
          });
        });
      }
    }
  }

  it('LoRA on GPT-2\'s wte, which the LM head shares: merge() refuses (naming the tie) or keeps the outputs', () => {
    const model = makeModel('gpt2');
    const adapted = applyAdapter(model, { peft_type: 'LORA', r: 2, target_modules: ['wte'] });
    randomizeTrainable(adapted);
    const hooked = logits(model);
    let refused: unknown = null;
    try {
      adapted.merge();
    } catch (err) {
      refused = err;
    }
    if (refused) expect(String(refused)).toMatch(/tied|shared/);
    else expectLogitsClose(logits(model), hooked, 'merged into the tied wte vs hooked');
    model.dispose();
  });

  it('a GRASP scale below min_scale is merged as min_scale, as the forward pass clamps it', () => {
    const model = makeModel('roberta');
    const adapted = applyAdapter(model, { peft_type: 'GRASP', num_groups: 4, min_scale: 0.5 });
    randomizeTrainable(adapted);
    const gamma = adapted.layers[0].params[0][1];
    W.noGrad(() => gamma.backend.write(gamma.buf, [0.1, 0.2, 1.3, 0.9]));
    const hooked = logits(model);
    adapted.merge();
    expectLogitsClose(logits(model), hooked, 'merged with clamped scales');
    model.dispose();
  });
});

/** A config as a reload gives it back: LoRA's seed is not saved (PEFT has none), target lists are sets. */
function normalized(c: AdaptedModel['config']): object {
  const t = 'target_modules' in c && Array.isArray(c.target_modules) ? { target_modules: [...c.target_modules].sort() } : {};
  return { ...c, ...t, ...(c.peft_type === 'LORA' ? { seed: 0 } : {}) };
}

describe('saveAdapter / loadAdapterFromDirectory', () => {
  for (const family of ['roberta', 'gpt2'] as Family[]) {
    it(`round-trips every method through a directory (${family})`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'wasmgrad-adapter-'));
      try {
        for (const { label, config } of methodsFor(family)) {
          const model = makeModel(family);
          const adapted = applyAdapter(model, config);
          randomizeTrainable(adapted);
          const hooked = logits(model);
          const sub = join(dir, label.replace(/\W+/g, '-'));
          await saveAdapter(adapted, sub);
          expect((await readdir(sub)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
          const fresh = makeModel(family);
          const loaded = await loadAdapterFromDirectory(fresh, sub);
          expect(normalized(loaded.config), label).toEqual(normalized(adapted.config));
          expectBitwiseEqual(logits(fresh), hooked, `${label}: loaded from ${sub}`);
          model.dispose();
          fresh.dispose();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('a damaged weights file is named in the error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wasmgrad-adapter-'));
    try {
      const model = makeModel('roberta');
      await saveAdapter(applyAdapter(model, methodsFor('roberta')[0]!.config), dir);
      const path = join(dir, 'adapter_model.safetensors');
      const bytes = await readFile(path);
      await writeFile(path, bytes.subarray(0, bytes.length - 4));
      await expect(loadAdapterFromDirectory(makeModel('roberta'), dir)).rejects.toThrow(`safetensors: ${path}: file is truncated`);
      model.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a missing directory says which file it expected', async () => {
    await expect(loadAdapterFromDirectory(makeModel('roberta'), join(tmpdir(), 'wasmgrad-no-such-adapter-dir')))
      .rejects.toThrow(/adapter_config\.json/);
  });
});
