/**
 * LoRA (Hu et al. 2021) with the rsLoRA flag (Kalajdzievski 2023):
 *   h = W x + s B A dropout(x),  A [r, in], B [out, r],  s = alpha / r  (rsLoRA: alpha / sqrt(r)).
 * B starts at 0, so the adapted model starts as the base model. Tensors use HF PEFT's names and
 * shapes (`lora_A.weight` [r, in], `lora_B.weight` [out, r]; embeddings `lora_embedding_A` [r, num],
 * `lora_embedding_B` [dim, r]) whatever the base layout, so adapter files move between PEFT and here.
 */
import { rand, randn } from '../ops/create.js';
import { add, mul } from '../ops/elementwise.js';
import { embedding } from '../ops/indexing.js';
import { matmul } from '../ops/matmul.js';
import { Generator } from '../ops/random.js';
import { transpose } from '../ops/shape.js';
import { Conv1D, Dropout, Embedding, Linear, type LayerAdapter } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { noGrad } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  checkBoolean, checkKnownFields, checkModulesToSave, checkNumber, checkTargets, defaultModulesToSave, defaultTargets,
  findTargets, hashName,
} from './targets.js';
import type { AdaptableLayer, AdapterMethod, AttachedLayer, LoraConfig } from './types.js';
import { detachHook, layerGeometry, newParameter, readF64, weightIndex, writeInto } from './weights.js';

const FIELDS = [
  'peft_type', 'r', 'lora_alpha', 'lora_dropout', 'target_modules', 'use_rslora', 'init_lora_weights', 'fan_in_fan_out',
  'seed', 'modules_to_save', 'base_model_name_or_path',
] as const;

/** The LoRA branch's scale: alpha / r, or alpha / sqrt(r) for rsLoRA. */
export function loraScaling(c: Pick<LoraConfig, 'r' | 'lora_alpha' | 'use_rslora'>): number {
  return c.use_rslora ? c.lora_alpha / Math.sqrt(c.r) : c.lora_alpha / c.r;
}

/** Initial A: Kaiming-uniform with a = sqrt(5) (bound 1/sqrt(fan_in), as nn.Linear and PEFT) or N(0, 1/r^2). */
function initA(r: number, inF: number, init: LoraConfig['init_lora_weights'], generator: Generator): Float32Array {
  return noGrad(() => {
    if (init === 'gaussian') {
      const t = randn([r, inF], { generator });
      const v = Float32Array.from(t.toArray(), (x) => x / r);
      t.dispose();
      return v;
    }
    const bound = 1 / Math.sqrt(inF);
    const t = rand([r, inF], { generator });
    const v = Float32Array.from(t.toArray(), (u) => (2 * u - 1) * bound);
    t.dispose();
    return v;
  });
}

class LoraLayer implements AttachedLayer, LayerAdapter {
  readonly params: [string, Tensor][];
  readonly buffers: [string, Tensor][] = [];
  private merged = false;
  private readonly A: Tensor;
  private readonly B: Tensor;
  private readonly scale: number;
  private readonly drop: Dropout | null;
  readonly generator: Generator | undefined;

  /** Row by row; its dropout (lora_dropout > 0) draws the whole input's mask for one row (`firstRowOf`). */
  readonly rowLocal = true;

  constructor(readonly name: string, readonly layer: AdaptableLayer, c: LoraConfig) {
    const { inF, outF } = layerGeometry(layer);
    const generator = new Generator((c.seed ^ hashName(name)) >>> 0);
    this.scale = loraScaling(c);
    const w = layer.weight;
    if (layer instanceof Embedding) {
      if (c.init_lora_weights === 'gaussian') {
        // Gaussian down-projection A ~ N(0, 1/r^2), zero up-projection B, as on Linear layers
        // (One-for-All's rsLoRA on wpe). PEFT ignores "gaussian" for embeddings and always uses the
        // variant below; the tensors' names and shapes are the same, so files load either way.
        this.A = newParameter(initA(c.r, inF, 'gaussian', generator), [c.r, inF], w);
        this.B = newParameter(new Float32Array(outF * c.r), [outF, c.r], w);
      } else {
        // PEFT's embedding variant starts A at 0 and B random (B A x is still 0).
        this.A = newParameter(new Float32Array(c.r * inF), [c.r, inF], w);
        const b = noGrad(() => randn([outF, c.r], { generator }));
        this.B = newParameter(b.toArray(), [outF, c.r], w);
        b.dispose();
      }
      this.params = [['lora_embedding_A', this.A], ['lora_embedding_B', this.B]];
      this.drop = null;
      this.generator = undefined;
    } else {
      this.A = newParameter(initA(c.r, inF, c.init_lora_weights, generator), [c.r, inF], w);
      this.B = newParameter(new Float32Array(outF * c.r), [outF, c.r], w);
      this.params = [['lora_A.weight', this.A], ['lora_B.weight', this.B]];
      this.drop = c.lora_dropout > 0 ? new Dropout(c.lora_dropout, generator) : null;
      this.generator = this.drop ? generator : undefined;
    }
    layer.adapters.push(this);
  }

  output(x: Tensor, y: Tensor, firstRowOf?: number): Tensor {
    if (this.merged) return y;
    let low: Tensor; // (..., r)
    if (this.layer instanceof Embedding) {
      low = embedding(transpose(this.A), x); // ids (...) -> (..., r)
    } else {
      if (this.drop) {
        this.drop.training = this.layer.training;
        x = this.drop.forward(x, firstRowOf);
      }
      low = matmul(x, this.A, { transB: true }); // (..., in) -> (..., r)
    }
    return add(y, mul(matmul(low, this.B, { transB: true }), this.scale)); // (..., r) -> (..., out)
  }

  /** W += sign * s * (B A), written in the layer's own layout. */
  private fold(sign: 1 | -1): void {
    const { inF, outF, transposed } = layerGeometry(this.layer);
    const a = readF64(this.A);
    const b = readF64(this.B);
    const r = this.A.shape[0];
    const w = readF64(this.layer.weight);
    for (let o = 0; o < outF; o++) {
      for (let i = 0; i < inF; i++) {
        let d = 0;
        for (let k = 0; k < r; k++) d += b[o * r + k] * a[k * inF + i];
        w[weightIndex(o, i, inF, outF, transposed)] += sign * this.scale * d;
      }
    }
    writeInto(this.layer.weight, w);
  }

  merge(): void {
    if (this.merged) return;
    this.fold(1);
    this.merged = true;
  }

  unmerge(): void {
    if (!this.merged) return;
    this.fold(-1);
    this.merged = false;
  }

  remove(): void {
    detachHook(this.layer, this);
    this.A.dispose();
    this.B.dispose();
  }
}

export const LORA: AdapterMethod<'LORA'> = {
  peftType: 'LORA',
  name: 'lora',
  // On the bundled tiny RoBERTa, LoRA at 1e-2 stopped learning in 3 of 4 runs, hence 3e-3. For large
  // pretrained models use the paper's recipe (RoBERTa-base: 4e-4..5e-4).
  defaultLr: 3e-3,
  describe: (c) => `${c.init_lora_weights === 'gaussian' ? `One-for-All (${c.use_rslora ? 'alpha/sqrt(r)' : 'alpha/r'}) ` : c.use_rslora ? 'rsLoRA ' : 'LoRA '}r=${c.r} α=${c.lora_alpha} (${Array.isArray(c.target_modules) ? c.target_modules.join(',') : 'regex'})`,
  toFile(fields) {
    const { seed: _seed, ...rest } = fields; // initialisation only; PEFT has no such field
    return { ...rest, bias: 'none' };
  },
  fromFile(fields) {
    // PEFT writes false for weights loaded afterwards; the initialisation is irrelevant then.
    return fields.init_lora_weights === false ? { ...fields, init_lora_weights: true } : fields;
  },
  resolve(config, model) {
    const m = 'LoRA';
    checkKnownFields(m, config, FIELDS);
    const c = { ...config };
    const target = checkTargets(m, 'target_modules', c.target_modules ?? defaultTargets(model, 'lora', m));
    const modulesToSave = checkModulesToSave(m, c.modules_to_save ?? defaultModulesToSave(model));
    const layers = findTargets(model, target, m, modulesToSave);
    const conv = layers.filter(([, l]) => l instanceof Conv1D).length;
    const linear = layers.filter(([, l]) => l instanceof Linear).length;
    if (conv > 0 && linear > 0) {
      throw new Error(`${m}: the targets mix Conv1D and Linear layers; target one kind per adapter`);
    }
    const init = c.init_lora_weights ?? true;
    if (init !== true && init !== 'gaussian') {
      throw new Error(`${m}: init_lora_weights must be true (Kaiming-uniform A) or "gaussian", got ${JSON.stringify(init)}`);
    }
    return {
      peft_type: 'LORA',
      r: checkNumber(m, 'r', c.r ?? 8, { min: 1, integer: true }),
      lora_alpha: checkNumber(m, 'lora_alpha', c.lora_alpha ?? 8, { min: 0, exclusiveMin: true }),
      lora_dropout: checkNumber(m, 'lora_dropout', c.lora_dropout ?? 0, { min: 0, max: 0.99 }),
      target_modules: target,
      use_rslora: checkBoolean(m, 'use_rslora', c.use_rslora ?? false),
      init_lora_weights: init,
      // PEFT wants fan_in_fan_out for GPT-2's Conv1D; here it is derived from the layers.
      fan_in_fan_out: conv > 0,
      seed: checkNumber(m, 'seed', c.seed ?? 0, { min: 0, integer: true }),
      modules_to_save: modulesToSave,
      base_model_name_or_path: c.base_model_name_or_path ?? null,
    };
  },
  attach(model, config) {
    const layers = findTargets(model, config.target_modules, 'LoRA', config.modules_to_save)
      .map(([name, layer]) => new LoraLayer(name, layer, config));
    return { layers, trainBase: [] };
  },
};

/** Used by tests and docs: the trainable count of LoRA on the given layers, r (in + out) each. */
export function loraParameterCount(model: Module, config: LoraConfig): number {
  return findTargets(model, config.target_modules, 'LoRA', config.modules_to_save)
    .reduce((n, [, l]) => { const g = layerGeometry(l); return n + config.r * (g.inF + g.outF); }, 0);
}
