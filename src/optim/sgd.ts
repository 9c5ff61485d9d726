/** Stochastic gradient descent with optional (Nesterov) momentum, dampening and L2 weight decay (PyTorch semantics). */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  private readonly buffers = new Map<Tensor, Tensor>();

  constructor(params: Iterable<Tensor>, opts: SGDOptions) {
    super(params, opts.lr);
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (!(this.momentum >= 0)) throw new Error(`SGD: momentum ${this.momentum} must be >= 0`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error('SGD: nesterov needs momentum > 0 and dampening = 0');
    }
  }

  step(): void {
    this.stepCount++;
    for (const p of this.params) {
      if (!p.grad) continue;
      let buf: Tensor | null = null;
      let first = false;
      if (this.momentum !== 0) {
        buf = this.buffers.get(p) ?? null;
        if (!buf) {
          buf = this.stateLike(p);
          this.buffers.set(p, buf);
          first = true;
        }
      }
      p.backend.sgd(p.buf, p.grad.buf, buf?.buf ?? null, p.size, this.lr, this.momentum, this.dampening, this.weightDecay, this.nesterov, first);
    }
  }

  dispose(): void {
    for (const t of this.buffers.values()) t.dispose();
    this.buffers.clear();
  }
}
