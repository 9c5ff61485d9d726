/**
 * Hardware-noise robustness: evaluate a model whose programmed weights carry Gaussian noise, as on
 * analog / non-volatile-memory accelerators. The adapter is merged first (what a device would hold),
 * then for each sigma every target layer's weight is perturbed with fresh draws and the metric
 * recomputed; the report is mean and std over the draws.
 *
 * Our choices (documented fields): the default targets are the same set for every method, every
 * attention projection and both FFN layers of each block (GRASP's default set), so methods are
 * compared on the same hardware; biases, embeddings, LayerNorms and the head stay exact (digital).
 * Multiplicative noise: W (1 + sigma eps). Additive: W + sigma * max|W| eps, with the layer's
 * largest magnitude standing in for the device's conductance range.
 */
import { randn } from '../ops/create.js';
import { Generator } from '../ops/random.js';
import type { Module } from '../nn/module.js';
import { noGrad } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { AdaptedModel } from './model.js';
import { defaultTargets, findTargets } from './targets.js';
import type { TargetModules } from './types.js';
import { layerBias, writeInto } from './weights.js';

export const DEFAULT_NOISE_SIGMAS = [0, 0.05, 0.1, 0.15, 0.2, 0.3] as const;

export type NoiseModel = 'multiplicative' | 'additive';

export interface NoiseOptions {
  sigmas?: readonly number[];
  /** Draws per sigma > 0 (default 10); sigma = 0 is evaluated once. */
  draws?: number;
  mode?: NoiseModel;
  /** Layers whose weights are perturbed (default: the family's attention + FFN projections). */
  targets?: TargetModules;
  /** Seed of the noise stream; each draw continues it, so draws differ and runs repeat. */
  seed?: number;
  /** Called after each evaluation. */
  onProgress?: (done: number, total: number, sigma: number) => void;
  /**
   * The metric of the unperturbed model, when the caller has already measured it (the final
   * evaluation after training): sigma = 0 reports it instead of evaluating the same weights again.
   * Without it, sigma = 0 is evaluated on the merged weights, which can differ from the unmerged
   * model's by float32 rounding (a borderline prediction may flip; full fine-tuning and BitFit merge nothing).
   */
  clean?: number;
}

export interface NoiseResult {
  sigma: number;
  mean: number;
  std: number;
  draws: number;
  values: number[];
}

/** Mean and sample standard deviation (n - 1; 0 for a single value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length < 2) return { mean, std: 0 };
  const v = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(v) };
}

/** Writes W0 perturbed by `sigma` into `weight` (W0 stays untouched in `original`). */
export function perturbWeight(weight: Tensor, original: Float32Array | Float64Array, sigma: number, mode: NoiseModel, generator: Generator): void {
  const eps = noGrad(() => randn([original.length], { generator }));
  const e = eps.toArray();
  eps.dispose();
  const out = new (original instanceof Float64Array ? Float64Array : Float32Array)(original.length);
  if (mode === 'multiplicative') {
    for (let i = 0; i < out.length; i++) out[i] = original[i] * (1 + sigma * e[i]);
  } else {
    let range = 0;
    for (let i = 0; i < original.length; i++) range = Math.max(range, Math.abs(original[i]));
    for (let i = 0; i < out.length; i++) out[i] = original[i] + sigma * range * e[i];
  }
  writeInto(weight, out);
}

/**
 * Runs `evaluate` (which returns the metric, e.g. accuracy on a validation set) on the merged model
 * under weight noise at each sigma. Weights are restored and the adapter unmerged (if this call
 * merged it) before returning, even when `evaluate` throws.
 */
export async function evaluateUnderNoise(model: AdaptedModel | Module, evaluate: () => number | Promise<number>, opts: NoiseOptions = {}): Promise<NoiseResult[]> {
  const sigmas = [...(opts.sigmas ?? DEFAULT_NOISE_SIGMAS)];
  const draws = opts.draws ?? 10;
  const mode = opts.mode ?? 'multiplicative';
  if (!Number.isInteger(draws) || draws < 1) throw new Error(`evaluateUnderNoise: draws = ${draws} must be a positive integer (>= 10 for a stable std)`);
  if (mode !== 'multiplicative' && mode !== 'additive') throw new Error(`evaluateUnderNoise: mode "${String(mode)}" must be "multiplicative" or "additive"`);
  for (const s of sigmas) if (!(Number.isFinite(s) && s >= 0)) throw new Error(`evaluateUnderNoise: sigma ${s} must be a finite number >= 0`);
  if (opts.clean !== undefined && !Number.isFinite(opts.clean)) throw new Error(`evaluateUnderNoise: clean = ${opts.clean} must be a finite metric value (or left out to evaluate sigma = 0)`);
  const adapted = model instanceof AdaptedModel ? model : null;
  const base = adapted ? adapted.base : (model as Module);
  const targets = findTargets(base, opts.targets ?? defaultTargets(base, 'grasp', 'evaluateUnderNoise'), 'evaluateUnderNoise');
  const mergedHere = adapted !== null && !adapted.merged;
  // merge() + unmerge() round in float32; keep the exact pre-merge weights and biases to put back.
  const exact = mergedHere
    ? adapted.layers.flatMap(({ layer }) => [layer.weight, layerBias(layer)]).filter((t): t is Tensor => t !== null).map((t) => [t, t.toArray().slice()] as const)
    : [];
  if (mergedHere) adapted.merge();
  // Copies in the backend's own precision (float64 on the reference backend), so restoring is exact.
  const originals = targets.map(([, l]) => l.weight.toArray().slice() as Float32Array | Float64Array);
  const generator = new Generator(opts.seed ?? 0);
  const total = sigmas.reduce((n, s) => n + (s > 0 ? draws : opts.clean === undefined ? 1 : 0), 0);
  let done = 0;
  const results: NoiseResult[] = [];
  try {
    for (const sigma of sigmas) {
      if (sigma === 0 && opts.clean !== undefined) {
        results.push({ sigma, ...meanStd([opts.clean]), draws: 1, values: [opts.clean] });
        continue;
      }
      const values: number[] = [];
      const n = sigma === 0 ? 1 : draws;
      for (let d = 0; d < n; d++) {
        targets.forEach(([, l], i) => (sigma === 0 ? writeInto(l.weight, originals[i]) : perturbWeight(l.weight, originals[i], sigma, mode, generator)));
        values.push(await evaluate());
        opts.onProgress?.(++done, total, sigma);
      }
      results.push({ sigma, ...meanStd(values), draws: n, values });
    }
  } finally {
    targets.forEach(([, l], i) => writeInto(l.weight, originals[i]));
    if (mergedHere) {
      adapted.unmerge();
      for (const [t, v] of exact) writeInto(t, v);
    }
  }
  return results;
}
