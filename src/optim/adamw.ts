/** AdamW (Loshchilov & Hutter): Adam with decoupled weight decay and bias correction, one fused kernel per tensor. */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer } from './optimizer.js';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  /** Decoupled decay: p -= lr * weightDecay * p each step (default 0.01, as PyTorch). */
  weightDecay?: number;
  /**
   * Per-parameter multipliers of `lr` (PyTorch's parameter groups, reduced to what schedules need):
   * a parameter missing from the map uses 1. E.g. a task head trained more gently than an adapter.
   */
  lrScales?: ReadonlyMap<Tensor, number>;
}

export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  weightDecay: number;
  readonly lrScales: ReadonlyMap<Tensor, number>;
  private readonly m = new Map<Tensor, Tensor>();
  private readonly v = new Map<Tensor, Tensor>();

  constructor(params: Iterable<Tensor>, opts: AdamWOptions = {}) {
    super(params, opts.lr ?? 1e-3);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    this.lrScales = opts.lrScales ?? new Map();
    for (const [p, k] of this.lrScales) {
      if (!(k >= 0 && Number.isFinite(k))) throw new Error(`AdamW: lrScales has ${k} for ${p.describe()}; multipliers must be finite and >= 0`);
    }
    for (const [name, b] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new Error(`AdamW: ${name} = ${b} must be in [0, 1)`);
    }
    if (!(this.eps > 0)) throw new Error(`AdamW: eps = ${this.eps} must be > 0`);
    if (!(this.weightDecay >= 0)) throw new Error(`AdamW: weightDecay = ${this.weightDecay} must be >= 0`);
  }

  step(): void {
    this.stepCount++;
    const bc1 = 1 - this.beta1 ** this.stepCount;
    const bc2 = 1 - this.beta2 ** this.stepCount;
    for (const p of this.params) {
      if (!p.grad) continue;
      let m = this.m.get(p);
      let v = this.v.get(p);
      if (!m || !v) {
        m = this.stateLike(p);
        v = this.stateLike(p);
        this.m.set(p, m);
        this.v.set(p, v);
      }
      p.backend.adamw(p.buf, p.grad.buf, m.buf, v.buf, p.size, this.lr * (this.lrScales.get(p) ?? 1), this.beta1, this.beta2, this.eps, this.weightDecay, bc1, bc2);
    }
  }

  /** First and second moment of a parameter (undefined before its first update). */
  moments(p: Tensor): { m: Tensor; v: Tensor } | undefined {
    const m = this.m.get(p);
    const v = this.v.get(p);
    return m && v ? { m, v } : undefined;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
