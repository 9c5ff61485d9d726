/**
 * GRASP (Bal and Sengupta, "GRouped Activation Shared Parameterization"): a chosen layer sees
 *   x~[..., i] = (x[..., i] - beta[g(i)]) / gamma[g(i)],   g(i) = perm[i] mod K,
 * K shared (gamma, beta) pairs per layer, init gamma = 1, beta = 0 (the identity). The permutation
 * scatters each group over the input dims; it is seeded per layer and saved with the adapter.
 * The modulation folds into the layer: y = x~ W^T + b = x (W diag(1/gamma~))^T + (b - W (beta~/gamma~)),
 * so merged inference costs nothing.
 */
import { full } from '../ops/create.js';
import { maximum } from '../ops/elementwise.js';
import { groupedScaleShift } from '../ops/grouped.js';
import { Embedding, type LayerAdapter } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { parameter } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  checkKnownFields, checkModulesToSave, checkNumber, checkTargets, defaultModulesToSave, defaultTargets, findTargets,
  hashName, seededPermutation,
} from './targets.js';
import type { AdaptableLayer, AdapterMethod, AttachedLayer, GraspConfig, StochGraspConfig } from './types.js';
import { detachHook, layerBias, layerGeometry, newBuffer, readF64, weightIndex, writeInto } from './weights.js';

/** g(i) = perm[i] mod K for a layer, from the config's seed and the layer's name. */
export function graspGroupMap(inF: number, K: number, seed: number, name: string): Int32Array {
  const perm = seededPermutation(inF, (seed ^ hashName(name)) >>> 0);
  return Int32Array.from(perm, (p) => p % K);
}

/** The effective per-group (scale, shift) this forward pass uses. */
export interface GroupParams {
  gamma: Tensor;
  beta: Tensor;
}

/**
 * One modulated layer. Subclasses decide where the group parameters come from (GRASP: two
 * vectors; StochGRASP: samples of two Gaussians); the hook, the clamp and the folding are shared.
 */
export abstract class GroupedLayer implements AttachedLayer, LayerAdapter {
  abstract readonly params: [string, Tensor][];
  readonly buffers: [string, Tensor][];
  readonly groupMap: Tensor;
  readonly K: number;
  /** Scales below this are clamped in the forward pass and when merging. */
  readonly minScale: number;
  /** Per-feature scale/shift; StochGRASP samples per group (not per element) once per forward. */
  readonly rowLocal = true;
  private merged = false;
  /** Host copy of the group values folded in at merge (unmerge divides by exactly these). */
  private folded: { gamma: Float64Array; beta: Float64Array } | null = null;

  constructor(readonly name: string, readonly layer: AdaptableLayer, c: GraspConfig | StochGraspConfig) {
    if (layer instanceof Embedding) {
      throw new Error(`${c.peft_type}: ${name} is an Embedding; GRASP modulates the input of Linear/Conv1D layers, remove it from target_modules`);
    }
    const { inF } = layerGeometry(layer);
    if (c.num_groups > inF) throw new Error(`${c.peft_type}: num_groups ${c.num_groups} exceeds ${name}'s ${inF} input dims; lower num_groups`);
    this.K = c.num_groups;
    this.groupMap = newBuffer(graspGroupMap(inF, this.K, c.group_seed, name), [inF], layer.weight, 'int32');
    this.buffers = [['grasp_group_map', this.groupMap]];
    this.minScale = c.min_scale;
  }

  /** A group map from a file must send every input dim to a group in [0, K). */
  checkBuffer(_key: string, data: ArrayLike<number>): string | null {
    for (let i = 0; i < data.length; i++) {
      const g = data[i];
      if (!(Number.isInteger(g) && g >= 0 && g < this.K)) return `entry ${i} = ${g} is not a group in [0, ${this.K}); the file does not match num_groups = ${this.K}`;
    }
    return null;
  }

  /** Registers the hook; subclasses call it once their parameters exist. */
  protected hookUp(): void {
    this.layer.adapters.push(this);
  }

  /** The group parameters of this forward pass (sampled in training for StochGRASP). */
  protected abstract groupParams(): GroupParams;
  /** The deterministic values folded in by merge (StochGRASP: the means). */
  protected abstract meanParams(): GroupParams;

  input(x: Tensor): Tensor {
    if (this.merged) return x;
    const { gamma, beta } = this.groupParams();
    return groupedScaleShift(x, this.groupMap, maximum(gamma, this.minScale), beta); // (..., D) -> (..., D)
  }

  merge(): void {
    if (this.merged) return;
    const { gamma, beta } = this.meanParams();
    const g = readF64(gamma).map((v) => Math.max(v, this.minScale));
    const b = readF64(beta);
    this.fold(g, b, 1);
    this.folded = { gamma: g, beta: b };
    this.merged = true;
  }

  unmerge(): void {
    if (!this.merged || !this.folded) return;
    this.fold(this.folded.gamma, this.folded.beta, -1);
    this.folded = null;
    this.merged = false;
  }

  /** Forward (dir 1): W[o, i] /= g_i, b[o] -= sum_i W[o, i] beta_i / g_i. Backward (-1) undoes it. */
  private fold(gamma: Float64Array, beta: Float64Array, dir: 1 | -1): void {
    const { inF, outF, transposed } = layerGeometry(this.layer);
    const map = this.groupMap.toArray();
    const w = readF64(this.layer.weight);
    const biasT = layerBias(this.layer);
    const needsBias = beta.some((v) => v !== 0);
    if (needsBias && !biasT) throw new Error(`${this.name}: cannot merge GRASP shifts into a layer without bias`);
    const bias = biasT ? readF64(biasT) : null;
    for (let o = 0; o < outF; o++) {
      let shift = 0;
      for (let i = 0; i < inF; i++) {
        const k = map[i];
        const at = weightIndex(o, i, inF, outF, transposed);
        if (dir === 1) {
          shift += (w[at] * beta[k]) / gamma[k];
          w[at] /= gamma[k];
        } else {
          w[at] *= gamma[k];
          shift -= (w[at] * beta[k]) / gamma[k];
        }
      }
      if (bias) bias[o] -= shift;
    }
    writeInto(this.layer.weight, w);
    if (biasT && bias) writeInto(biasT, bias);
  }

  remove(): void {
    detachHook(this.layer, this);
    for (const [, t] of this.params) t.dispose();
    this.groupMap.dispose();
  }
}

class GraspLayer extends GroupedLayer {
  readonly params: [string, Tensor][];
  private readonly gamma: Tensor;
  private readonly beta: Tensor;

  constructor(name: string, layer: AdaptableLayer, c: GraspConfig) {
    super(name, layer, c);
    const like = layer.weight;
    this.gamma = parameter(full([this.K], 1, { backend: like.backend }));
    this.beta = parameter(full([this.K], 0, { backend: like.backend }));
    this.params = [['grasp_gamma', this.gamma], ['grasp_beta', this.beta]];
    this.hookUp();
  }

  protected groupParams(): GroupParams {
    return { gamma: this.gamma, beta: this.beta };
  }

  protected meanParams(): GroupParams {
    return this.groupParams();
  }
}

export const GRASP_FIELDS = ['peft_type', 'num_groups', 'target_modules', 'group_seed', 'min_scale', 'modules_to_save', 'base_model_name_or_path'] as const;

/** The fields GRASP and StochGRASP share, validated. */
export function resolveGroupedBase(m: string, c: Partial<Omit<GraspConfig, 'peft_type'>>, model: Module): Omit<GraspConfig, 'peft_type'> {
  const target = checkTargets(m, 'target_modules', c.target_modules ?? defaultTargets(model, 'grasp', m));
  const modulesToSave = checkModulesToSave(m, c.modules_to_save ?? defaultModulesToSave(model));
  const num = checkNumber(m, 'num_groups', c.num_groups ?? 8, { min: 1, integer: true });
  for (const [name, l] of findTargets(model, target, m, modulesToSave)) {
    if (l instanceof Embedding) throw new Error(`${m}: target ${name} is an Embedding; GRASP modulates Linear/Conv1D inputs`);
    if (num > layerGeometry(l).inF) throw new Error(`${m}: num_groups ${num} exceeds the ${layerGeometry(l).inF} input dims of ${name}`);
  }
  return {
    num_groups: num,
    target_modules: target,
    group_seed: checkNumber(m, 'group_seed', c.group_seed ?? 0, { min: 0, integer: true }),
    min_scale: checkNumber(m, 'min_scale', c.min_scale ?? 0.05, { min: 0, max: 1, exclusiveMin: true }),
    modules_to_save: modulesToSave,
    base_model_name_or_path: c.base_model_name_or_path ?? null,
  };
}

export const GRASP: AdapterMethod<'GRASP'> = {
  peftType: 'GRASP',
  name: 'grasp',
  defaultLr: 1e-2,
  describe: (c) => `GRASP K=${c.num_groups}`,
  resolve(config, model) {
    checkKnownFields('GRASP', config, GRASP_FIELDS);
    return { peft_type: 'GRASP', ...resolveGroupedBase('GRASP', config, model) };
  },
  attach(model, config) {
    const layers = findTargets(model, config.target_modules, 'GRASP', config.modules_to_save)
      .map(([name, layer]) => new GraspLayer(name, layer, config));
    return { layers, trainBase: [] };
  },
};
