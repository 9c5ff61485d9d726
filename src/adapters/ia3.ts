/**
 * (IA)3 (Liu et al. 2022): learned vectors, initialised to 1, that rescale activations. On attention
 * keys and values the layer's output is scaled (l [out]); on feed-forward modules the layer's input,
 * i.e. the FFN activation, is scaled (l [in]). Stored as PEFT's `ia3_l`: [out, 1] or [1, in].
 * Merging folds l into the weight (and, for output scaling, the bias).
 */
import { full } from '../ops/create.js';
import { mul } from '../ops/elementwise.js';
import { reshape } from '../ops/shape.js';
import { Conv1D, Embedding, type LayerAdapter } from '../nn/layers.js';
import { parameter } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  checkKnownFields, checkModulesToSave, checkTargets, defaultModulesToSave, defaultTargets, findTargets, matchesTarget,
} from './targets.js';
import type { AdaptableLayer, AdapterMethod, AttachedLayer } from './types.js';
import { detachHook, layerBias, layerGeometry, readF64, weightIndex, writeInto } from './weights.js';

const FIELDS = ['peft_type', 'target_modules', 'feedforward_modules', 'fan_in_fan_out', 'modules_to_save', 'base_model_name_or_path'] as const;

class IA3Layer implements AttachedLayer, LayerAdapter {
  readonly params: [string, Tensor][];
  readonly buffers: [string, Tensor][] = [];
  private merged = false;
  private folded: Float64Array | null = null;
  private readonly l: Tensor;
  /** A per-feature scale. */
  readonly rowLocal = true;

  constructor(readonly name: string, readonly layer: AdaptableLayer, readonly feedforward: boolean) {
    const { inF, outF } = layerGeometry(layer);
    this.l = parameter(full(feedforward ? [1, inF] : [outF, 1], 1, { backend: layer.weight.backend }));
    this.params = [['ia3_l', this.l]];
    layer.adapters.push(this);
  }

  input(x: Tensor): Tensor {
    if (this.merged || !this.feedforward) return x;
    return mul(x, reshape(this.l, [this.l.size])); // (..., in) * [in]
  }

  output(_x: Tensor, y: Tensor): Tensor {
    if (this.merged || this.feedforward) return y;
    return mul(y, reshape(this.l, [this.l.size])); // (..., out) * [out]
  }

  private fold(l: Float64Array, dir: 1 | -1): void {
    const { inF, outF, transposed } = layerGeometry(this.layer);
    const w = readF64(this.layer.weight);
    for (let o = 0; o < outF; o++) {
      for (let i = 0; i < inF; i++) {
        const f = this.feedforward ? l[i] : l[o];
        const at = weightIndex(o, i, inF, outF, transposed);
        w[at] = dir === 1 ? w[at] * f : w[at] / f;
      }
    }
    writeInto(this.layer.weight, w);
    const biasT = layerBias(this.layer);
    if (biasT && !this.feedforward) writeInto(biasT, readF64(biasT).map((b, o) => (dir === 1 ? b * l[o] : b / l[o])));
  }

  merge(): void {
    if (this.merged) return;
    const l = readF64(this.l);
    if (l.some((v) => v === 0)) throw new Error(`${this.name}: an (IA)3 scale is exactly 0; merging could not be undone`);
    this.fold(l, 1);
    this.folded = l;
    this.merged = true;
  }

  unmerge(): void {
    if (!this.merged || !this.folded) return;
    this.fold(this.folded, -1);
    this.folded = null;
    this.merged = false;
  }

  remove(): void {
    detachHook(this.layer, this);
    this.l.dispose();
  }
}

export const IA3: AdapterMethod<'IA3'> = {
  peftType: 'IA3',
  name: 'ia3',
  // Scale/shift methods move few values and want ~1e-2 (METHODS.md gives 1e-3..1e-2).
  defaultLr: 1e-2,
  describe: () => '(IA)3',
  resolve(config, model) {
    const m = '(IA)3';
    checkKnownFields(m, config, FIELDS);
    const target = checkTargets(m, 'target_modules', config.target_modules ?? defaultTargets(model, 'ia3', m));
    const ff = checkTargets(m, 'feedforward_modules', config.feedforward_modules ?? defaultTargets(model, 'ia3Feedforward', m));
    const modulesToSave = checkModulesToSave(m, config.modules_to_save ?? defaultModulesToSave(model));
    const layers = findTargets(model, target, m, modulesToSave);
    for (const [name, l] of layers) if (l instanceof Embedding) throw new Error(`${m}: target ${name} is an Embedding; (IA)3 scales Linear/Conv1D layers`);
    // PEFT's rule: every feed-forward module must also be a target (otherwise it would silently do nothing).
    for (const [name] of model.namedModules()) {
      if (name && matchesTarget(name, ff) && !layers.some(([n]) => n === name)) {
        throw new Error(`${m}: feedforward_modules matches ${name}, which target_modules does not; feedforward_modules must be a subset of target_modules`);
      }
    }
    return {
      peft_type: 'IA3',
      target_modules: target,
      feedforward_modules: ff,
      fan_in_fan_out: layers.some(([, l]) => l instanceof Conv1D),
      modules_to_save: modulesToSave,
      base_model_name_or_path: config.base_model_name_or_path ?? null,
    };
  },
  attach(model, config) {
    const layers = findTargets(model, config.target_modules, '(IA)3', config.modules_to_save)
      .map(([name, layer]) => new IA3Layer(name, layer, matchesTarget(name, config.feedforward_modules)));
    return { layers, trainBase: [] };
  },
};
