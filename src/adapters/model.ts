/**
 * AdaptedModel: a base model with one fine-tuning method attached. It freezes the base, attaches
 * the method's hooks, marks the head (modules_to_save) and the method's own base tensors trainable,
 * and owns merge/unmerge, the noise-aware loss term, parameter accounting, and the adapter state
 * under HF PEFT's key names (`base_model.model.<module>.lora_A.weight`, ...).
 */
import { fmtShape, shapesEqual } from '../backend/strides.js';
import { FAMILIES, familyOf } from '../models/families.js';
import type { Module } from '../nn/module.js';
import { add, mul } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { methodFor, methodName, type MethodLabel } from './registry.js';
import { matchesTarget } from './targets.js';
import type { AdapterConfig, AttachedLayer, TrainableSelector } from './types.js';
import { writeInto } from './weights.js';

/** Embedding tables a model also uses as its output projection (tied LM heads). */
function tiedEmbeddings(model: Module): Set<Tensor> {
  const family = familyOf(model);
  return new Set(family ? FAMILIES[family].tiedWeights(model) : []);
}

/** PEFT's prefix of every key in adapter_model.safetensors. */
export const PEFT_PREFIX = 'base_model.model.';

export interface ParameterCounts {
  /** Parameters of the base model, head included. */
  base: number;
  /** Parameters the method added (LoRA matrices, GRASP groups, (IA)3 vectors). */
  adapter: number;
  /** Head parameters trained in full (modules_to_save). */
  head: number;
  /** Base parameters the method trains itself (BitFit biases; all of them for full fine-tuning), head excluded. */
  trainedBase: number;
  trainable: number;
  total: number;
}

/** Is parameter `name` inside one of the modules to save? */
function inModules(name: string, modules: readonly string[]): boolean {
  return modules.some((m) => {
    const module = name.slice(0, name.lastIndexOf('.'));
    return matchesTarget(module, [m]) || module.startsWith(`${m}.`) || module.includes(`.${m}.`);
  });
}

export class AdaptedModel<M extends Module = Module> {
  readonly layers: readonly AttachedLayer[];
  /** The method's step-by-step choice of what trains (layer-wise selectors), or null: everything trainable trains every step. */
  readonly selector: TrainableSelector | null;
  private readonly headNames: string[];
  private readonly baseNames: string[];
  private mergedState = false;
  private removed = false;

  constructor(readonly base: M, readonly config: AdapterConfig) {
    const method = methodFor(config.peft_type);
    base.freeze();
    const attachment = method.attach(base, config as never);
    this.layers = attachment.layers;
    this.selector = attachment.selector ?? null;
    const names = base.namedParameters().map(([n]) => n);
    this.headNames = names.filter((n) => inModules(n, config.modules_to_save));
    const head = new Set(this.headNames);
    this.baseNames = attachment.trainBase.filter((n) => !head.has(n));
    const own = new Map(base.namedParameters());
    for (const n of [...this.headNames, ...this.baseNames]) own.get(n)!.requiresGrad = true;
  }

  /** The method's name ({@link methodName}): `full`, `lora`, `one-for-all`, `one-for-all (alpha/r)`, `grasp`, ... */
  get method(): MethodLabel {
    return methodName(this.config);
  }

  get merged(): boolean {
    return this.mergedState;
  }

  /** Every trainable tensor with its key in the adapter file, in a fixed order (adapter, then base, then head). */
  namedTrainable(): [string, Tensor][] {
    this.checkLive();
    const own = new Map(this.base.namedParameters());
    const out: [string, Tensor][] = [];
    for (const l of this.layers) for (const [k, t] of l.params) out.push([`${PEFT_PREFIX}${l.name}.${k}`, t]);
    for (const n of [...this.baseNames, ...this.headNames]) out.push([`${PEFT_PREFIX}${n}`, own.get(n)!]);
    return out;
  }

  /** The head's parameters (modules_to_save), trained in full by every method. */
  headParameters(): Tensor[] {
    const own = new Map(this.base.namedParameters());
    return this.headNames.map((n) => own.get(n)!);
  }

  trainableParameters(): Tensor[] {
    return this.namedTrainable().map(([, t]) => t);
  }

  /** The adapter file's tensors: trainable ones plus fixed buffers (GRASP group maps). */
  stateDict(): Map<string, Tensor> {
    const out = new Map(this.namedTrainable());
    for (const l of this.layers) for (const [k, t] of l.buffers) out.set(`${PEFT_PREFIX}${l.name}.${k}`, t);
    return out;
  }

  /**
   * Loads values saved by {@link stateDict} (ours or PEFT's for LoRA/(IA)3). Checks every key, shape
   * and group map before writing anything.
   */
  loadStateDict(state: Map<string, Tensor> | Map<string, { shape: readonly number[]; data: ArrayLike<number> }>): void {
    if (this.mergedState) throw new Error('AdaptedModel.loadStateDict: unmerge() first; the loaded values would not reach merged weights');
    const own = this.stateDict();
    const problems: string[] = [];
    const read = (v: Tensor | { shape: readonly number[]; data: ArrayLike<number> }) =>
      'toArray' in v ? { shape: v.shape, data: v.toArray() } : v;
    for (const [k, t] of own) {
      const src = state.get(k);
      if (!src) problems.push(`missing ${k}`);
      else if (!shapesEqual(read(src).shape, t.shape)) problems.push(`${k}: file ${fmtShape(read(src).shape)}, adapter ${fmtShape(t.shape)}`);
    }
    for (const k of state.keys()) if (!own.has(k)) problems.push(`unexpected ${k}`);
    // Fixed buffers (GRASP's group maps) are adopted from the file, so a file is self-contained:
    // it loads the same whatever seed or shuffle produced it. Their values are checked first.
    for (const l of this.layers) {
      for (const [k] of l.buffers) {
        const src = state.get(`${PEFT_PREFIX}${l.name}.${k}`);
        const problem = src ? l.checkBuffer?.(k, read(src).data) : null;
        if (problem) problems.push(`${l.name}.${k}: ${problem}`);
      }
    }
    if (problems.length) {
      throw new Error(`adapter state does not fit this ${this.method} adapter:\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  ... ${problems.length - 20} more` : ''}`);
    }
    for (const [k, t] of own) writeInto(t, read(state.get(k)!).data);
  }

  /**
   * The method's extra loss (StochGRASP: kl_weight times the mean KL over all group parameters), or
   * null. Add it to the task loss in training.
   */
  regularizer(): Tensor | null {
    this.checkLive();
    const weight = methodFor(this.config.peft_type).regularizerWeight?.(this.config as never) ?? 0;
    if (weight === 0 || this.mergedState) return null;
    let total: Tensor | null = null;
    let size = 0;
    for (const l of this.layers) {
      const r = l.regularizer?.();
      if (!r) continue;
      total = total ? add(total, r) : r;
      size += l.regularizerSize ?? 0;
    }
    return total && size > 0 ? mul(total, weight / size) : null;
  }

  /**
   * Marks which trainable tensors train at 0-based step `step` (requiresGrad on or off), as the
   * method's selector decides; without a selector, or with step null (after training), every one
   * trains. Returns how many tensors train.
   */
  selectForStep(step: number | null): number {
    this.checkLive();
    const named = this.namedTrainable();
    const active = this.selector && step !== null ? this.selector.activeAt(step, named) : null;
    let n = 0;
    for (const [k, t] of named) {
      t.requiresGrad = active ? active.has(k) : true;
      if (t.requiresGrad) n++;
    }
    return n;
  }

  /** Folds every layer's adapter into its weights; forward passes then cost what the base model costs. */
  merge(): this {
    this.checkLive();
    const tied = tiedEmbeddings(this.base);
    for (const l of this.layers) {
      if (tied.has(l.layer.weight)) {
        throw new Error(`AdaptedModel.merge: ${l.name} is tied to the LM head (the same matrix computes the logits); merging would change the head too. Keep this adapter unmerged, or target other layers`);
      }
    }
    for (const l of this.layers) l.merge();
    this.mergedState = true;
    return this;
  }

  unmerge(): this {
    this.checkLive();
    for (const l of [...this.layers].reverse()) l.unmerge();
    this.mergedState = false;
    return this;
  }

  /** The layers whose weights the adapter modulates (the ones a noise model perturbs by default). */
  modulatedLayerNames(): string[] {
    return this.layers.map((l) => l.name);
  }

  parameterCounts(): ParameterCounts {
    const own = new Map(this.base.namedParameters());
    const size = (names: string[]) => names.reduce((n, k) => n + own.get(k)!.size, 0);
    const base = this.base.numParameters();
    const adapter = this.layers.reduce((n, l) => n + l.params.reduce((m, [, t]) => m + t.size, 0), 0);
    const head = size(this.headNames);
    const trainedBase = size(this.baseNames);
    return { base, adapter, head, trainedBase, trainable: adapter + head + trainedBase, total: base + adapter };
  }

  /** A plain-text table of trainable vs total parameters. */
  parameterTable(): string {
    const c = this.parameterCounts();
    const pct = (n: number) => `${((100 * n) / c.total).toFixed(n / c.total < 0.001 ? 4 : 2)}%`;
    const rows: [string, number, string][] = [
      [`adapter (${this.method}, ${this.layers.length} layers)`, c.adapter, pct(c.adapter)],
      ['base trained by the method', c.trainedBase, pct(c.trainedBase)],
      [`head (${this.config.modules_to_save.join(', ') || 'none'})`, c.head, pct(c.head)],
      ['trainable', c.trainable, pct(c.trainable)],
      ['frozen', c.total - c.trainable, pct(c.total - c.trainable)],
      ['total', c.total, '100%'],
    ];
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => String(r[1]).length));
    return rows.map(([a, b, p]) => `${a.padEnd(w0)}  ${String(b).padStart(w1)}  ${p.padStart(8)}`).join('\n');
  }

  /** Detaches every hook, frees the adapter's tensors and unfreezes the base; merged weights are unmerged first. */
  remove(): M {
    this.checkLive();
    if (this.mergedState) this.unmerge();
    for (const l of this.layers) l.remove();
    this.base.unfreeze();
    this.removed = true;
    return this.base;
  }

  private checkLive(): void {
    if (this.removed) throw new Error('AdaptedModel: the adapter was removed; apply a new one');
  }
}

/**
 * Completes a partial config with the method's defaults for `model` and validates every field (the
 * config's `validate()`): throws naming the field and what to change. Nothing is attached.
 */
export function validateAdapterConfig(model: Module, config: Partial<AdapterConfig> & { peft_type: AdapterConfig['peft_type'] }): AdapterConfig {
  if (typeof config !== 'object' || config === null || typeof config.peft_type !== 'string') {
    throw new Error('adapter config must be an object with a peft_type (FULL, BITFIT, GPT4TS, LORA, IA3, GRASP, STOCHGRASP)');
  }
  return methodFor(config.peft_type).resolve(config as never, model);
}

/**
 * Attaches a method to `model` by config (a partial config is completed with the method's defaults
 * for this model family). The base model's parameters are frozen except those the method trains.
 */
export function applyAdapter<M extends Module>(model: M, config: Partial<AdapterConfig> & { peft_type: AdapterConfig['peft_type'] }): AdaptedModel<M> {
  return new AdaptedModel(model, validateAdapterConfig(model, config));
}
