/**
 * The training loop: per step, set the scheduled learning rate, compute the loss, backpropagate,
 * let a trainable-set selector read the raw gradients (afterBackward), check the loss and the global gradient norm are finite (else stop before the update, naming the
 * parameters), clip the norm, update, all inside one tidy scope so every temporary is freed and
 * only parameters and optimizer state survive. Everything task-specific (batches, evaluation,
 * checkpoints, logging) comes in through the loss function and the hooks, so the loop never knows
 * what it trains.
 */
import type { Optimizer } from '../optim/optimizer.js';
import { mul } from '../ops/elementwise.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkAndClip } from './finite.js';
import { lrAt, validateLrSchedule, type LrScheduleConfig } from './schedule.js';

export interface StepInfo {
  /** Steps completed (1 after the first update). */
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
}

export interface TrainerOptions {
  optimizer: Optimizer;
  schedule: LrScheduleConfig;
  /**
   * The loss of the next (micro-)batch; called inside its own scope with the 0-based step index and,
   * with gradient accumulation, the micro-batch index within the step. The scope ends when the
   * loss is returned: its temporaries that backward does not read are freed before backward runs,
   * and those it reads as soon as it has (only the returned loss survives for the caller).
   */
  loss: (step: number, micro: number) => Tensor;
  /**
   * Gradient accumulation: micro-batches per optimizer step (default 1). Each micro-batch's loss is
   * scaled by 1/accumulate and backpropagated in its own scope (gradients add up in the parameters'
   * .grad), so a step equals one over the concatenated batch while holding one micro-batch's
   * activations at a time. The reported loss is the mean over the micro-batches.
   */
  accumulate?: number;
  /**
   * After backward (after the last micro-batch's, so gradients are complete), before clipping, inside
   * the step's scope: gradient statistics a trainable-set selector reads.
   */
  afterBackward?: (step: number) => void;
  /** Global gradient-norm clipping threshold (default 1.0; 0 or Infinity disables it). */
  clipNorm?: number;
  /** Names of the model's parameters, frozen ones included: a refused non-finite step names them. */
  namedParameters?: () => Iterable<[string, Tensor]>;
  /** After each update, outside the scope (evaluate, save, log). May be async. */
  afterStep?: (info: StepInfo) => void | Promise<void>;
  /**
   * Stops the run between steps once aborted: the step under way completes (its update and
   * afterStep), no further step starts, and run() returns normally with the last step's info.
   */
  signal?: AbortSignal;
}

export class Trainer {
  constructor(private readonly opts: TrainerOptions) {
    validateLrSchedule(opts.schedule);
    const k = opts.accumulate ?? 1;
    if (!(Number.isInteger(k) && k >= 1)) throw new Error(`Trainer: accumulate = ${k} must be a positive integer (micro-batches per step)`);
  }

  /** Runs steps [from, to) (0-based indices; to <= schedule.total), fewer if `signal` aborts. Returns the last step's info. */
  async run(from: number, to: number): Promise<StepInfo | null> {
    const { optimizer: opt, schedule } = this.opts;
    if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= schedule.total)) {
      throw new Error(`Trainer.run: steps [${from}, ${to}) must lie within [0, ${schedule.total}]`);
    }
    const clip = this.opts.clipNorm ?? 1.0;
    const k = this.opts.accumulate ?? 1;
    let last: StepInfo | null = null;
    for (let step = from; step < to; step++) {
      if (this.opts.signal?.aborted) break;
      const lr = lrAt(step, schedule);
      opt.lr = lr;
      let loss = 0;
      for (let micro = 0; micro < k - 1; micro++) {
        loss += tidy(() => {
          const l = tidy(() => this.opts.loss(step, micro));
          const value = l.item();
          mul(l, 1 / k).backward();
          return value;
        });
      }
      const [finalLoss, gradNorm] = tidy(() => {
        const l = tidy(() => this.opts.loss(step, k - 1));
        const value = l.item();
        (k === 1 ? l : mul(l, 1 / k)).backward();
        let norm: number;
        try {
          // Gradient statistics for a trainable-set selector, on the raw (unclipped) gradients.
          this.opts.afterBackward?.(step);
          // Before the update: a non-finite loss or gradient never reaches the weights.
          // The loss checked is the step's mean over its k micro-batches.
          norm = checkAndClip((loss + value) / k, opt.params, { step: step + 1, lr, clipNorm: clip, named: this.opts.namedParameters });
        } catch (err) {
          opt.zeroGrad();
          throw err;
        }
        opt.step();
        opt.zeroGrad();
        return [value, norm] as const;
      });
      loss = (loss + finalLoss) / k;
      last = { step: step + 1, loss, lr, gradNorm };
      await this.opts.afterStep?.(last);
    }
    return last;
  }
}
