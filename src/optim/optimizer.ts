/** Shared optimizer plumbing: parameter validation, gradient clearing, persistent state tensors. */
import type { Backend } from '../backend/kernels.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { zeros } from '../ops/create.js';

export abstract class Optimizer {
  readonly params: readonly Tensor[];
  /** Learning rate; assign to it between steps for schedules. */
  lr: number;
  /** Number of steps taken. */
  stepCount = 0;

  constructor(params: Iterable<Tensor>, lr: number) {
    this.params = [...params];
    if (this.params.length === 0) throw new Error(`${this.constructor.name}: no parameters to optimise`);
    for (const p of this.params) {
      if (!p.requiresGrad) {
        throw new Error(`${this.constructor.name}: ${p.describe()} does not require grad; create it with { requiresGrad: true }`);
      }
      if (p.node) throw new Error(`${this.constructor.name}: ${p.describe()} is not a leaf (it was computed by an op)`);
    }
    if (!(lr >= 0)) throw new Error(`${this.constructor.name}: lr ${lr} must be >= 0`);
    this.lr = lr;
  }

  /** Applies one update to every parameter that has a gradient. */
  abstract step(): void;

  /** Frees the gradients (the next backward allocates them again, reusing the same blocks). */
  zeroGrad(): void {
    for (const p of this.params) {
      if (p.grad) {
        p.grad.dispose();
        p.grad = null;
      }
    }
  }

  /** Frees the optimizer state. */
  abstract dispose(): void;

  /** A zero tensor shaped like p that survives every scope (optimizer state). */
  protected stateLike(p: Tensor): Tensor {
    return optimizerMemory(p.backend, () => keep(zeros(p.shape, { backend: p.backend })));
  }
}

/** Runs `fn` with its allocations counted as optimizer state (memory accounting, backend/memory.ts). */
export function optimizerMemory<T>(backend: Backend, fn: () => T): T {
  const prev = backend.setMemoryCategory('optimizer');
  try {
    return fn();
  } finally {
    backend.setMemoryCategory(prev);
  }
}
