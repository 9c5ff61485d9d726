/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay and bias correction, one fused kernel
 * per tensor. Each parameter counts its own updates (PyTorch's per-parameter `step`), so a tensor
 * that trains only some steps (layer-wise selectors) is bias-corrected by the updates it took, and
 * a tensor whose state was dropped starts again from step 1. With `offload`, moments live outside
 * the WebAssembly heap between updates (offload.ts).
 */
import type { Buf } from '../backend/kernels.js';
import type { Tensor } from '../tensor/tensor.js';
import { MomentStaging, type FloatArray, type OffloadOptions } from './offload.js';
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
  /** Keep the moments outside the WebAssembly heap between updates (offload.ts); absent = resident tensors. */
  offload?: OffloadOptions;
}

/** One parameter's optimizer state as plain arrays (checkpoints). */
export interface AdamWState {
  m: FloatArray;
  v: FloatArray;
  /** Updates this parameter has taken. */
  step: number;
}

export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  weightDecay: number;
  readonly lrScales: ReadonlyMap<Tensor, number>;
  private readonly m = new Map<Tensor, Tensor>();
  private readonly v = new Map<Tensor, Tensor>();
  /** Updates taken per parameter. */
  private readonly steps = new Map<Tensor, number>();
  private readonly staging: MomentStaging | null;

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
    this.staging = opts.offload ? new MomentStaging(this.params[0].backend, this.params, opts.offload) : null;
  }

  /** Whether moments live outside the heap between updates. */
  get offloaded(): boolean {
    return this.staging !== null;
  }

  step(): void {
    this.stepCount++;
    if (this.staging) {
      this.staging.run(({ p, offset, n }, m, v) => {
        if (offset === 0) this.steps.set(p, (this.steps.get(p) ?? 0) + 1);
        const whole = n === p.size;
        const view = (b: Buf) => (whole ? b : p.backend.view(b, offset, n));
        this.kernel(p, view(p.buf), view(p.grad!.buf), m, v, n);
      });
      return;
    }
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
      this.update(p, m.buf, v.buf);
    }
  }

  /** The fused kernel on one parameter whose moments sit at m and v. */
  private update(p: Tensor, m: Buf, v: Buf): void {
    this.steps.set(p, (this.steps.get(p) ?? 0) + 1);
    this.kernel(p, p.buf, p.grad!.buf, m, v, p.size);
  }

  /** The kernel on n elements of p (its step already counted). */
  private kernel(p: Tensor, pb: Buf, gb: Buf, m: Buf, v: Buf, n: number): void {
    const t = this.steps.get(p)!;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    p.backend.adamw(pb, gb, m, v, n, this.lr * (this.lrScales.get(p) ?? 1), this.beta1, this.beta2, this.eps, this.weightDecay, bc1, bc2);
  }

  /** First and second moment of a resident parameter (undefined before its first update, and always when offloaded: use {@link readState}). */
  moments(p: Tensor): { m: Tensor; v: Tensor } | undefined {
    const m = this.m.get(p);
    const v = this.v.get(p);
    return m && v ? { m, v } : undefined;
  }

  /** A copy of a parameter's state wherever it lives, or undefined before its first update. */
  readState(p: Tensor): AdamWState | undefined {
    const step = this.steps.get(p);
    if (step === undefined) return undefined;
    if (this.staging) {
      const s = this.staging.store.get(p.id);
      return s ? { m: s.m.slice(), v: s.v.slice(), step } : undefined;
    }
    const mv = this.moments(p);
    return mv ? { m: mv.m.toArray() as FloatArray, v: mv.v.toArray() as FloatArray, step } : undefined;
  }

  /** Sets a parameter's state (resuming from a checkpoint). */
  writeState(p: Tensor, s: { m: ArrayLike<number>; v: ArrayLike<number>; step: number }): void {
    if (!this.params.includes(p)) throw new Error(`AdamW.writeState: ${p.describe()} is not one of the optimizer's parameters`);
    if (s.m.length !== p.size || s.v.length !== p.size) throw new Error(`AdamW.writeState: moments of ${s.m.length}/${s.v.length} values for ${p.describe()}`);
    if (!(Number.isInteger(s.step) && s.step >= 1)) throw new Error(`AdamW.writeState: step ${s.step} of ${p.describe()} must be an integer >= 1`);
    this.steps.set(p, s.step);
    if (this.staging) {
      const make = (a: ArrayLike<number>) => (p.backend.dtype === 'float64' ? Float64Array.from(a) : Float32Array.from(a));
      this.staging.store.set(p.id, { m: make(s.m), v: make(s.v) });
      return;
    }
    for (const [map, data] of [[this.m, s.m], [this.v, s.v]] as const) {
      let t = map.get(p);
      if (!t) map.set(p, (t = this.stateLike(p)));
      t.backend.write(t.buf, data);
    }
  }

  /** Forgets a parameter's state (its next update starts from zero moments at step 1) and frees it. */
  dropState(p: Tensor): void {
    this.steps.delete(p);
    if (this.staging) this.staging.store.delete(p.id);
    for (const map of [this.m, this.v]) {
      map.get(p)?.dispose();
      map.delete(p);
    }
  }

  /** Whether a parameter has state (it has been updated since its state was last dropped). */
  hasState(p: Tensor): boolean {
    return this.steps.has(p);
  }

  /** Bytes of moments held outside the heap (0 when resident). */
  offloadedBytes(): number {
    return this.staging?.store.bytes() ?? 0;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
    this.steps.clear();
    this.staging?.dispose();
  }
}
