/**
 * The training loop: per step, set the scheduled learning rate, compute the loss, backpropagate,
 * clip the global gradient norm, update, all inside one tidy scope so every temporary is freed and
 * only parameters and optimizer state survive. Everything task-specific (batches, evaluation,
 * checkpoints, logging) comes in through the loss function and the hooks, so the loop never knows
 * what it trains.
 */
import { clipGradNorm } from '../optim/clip.js';
import type { Optimizer } from '../optim/optimizer.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
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
  /** The loss of the next batch; called inside the step's scope with the 0-based step index. */
  loss: (step: number) => Tensor;
  /** After backward, before clipping, inside the step's scope (gradient statistics a trainable-set selector reads). */
  afterBackward?: (step: number) => void;
  /** Global gradient-norm clipping threshold (default 1.0; 0 or Infinity disables it). */
  clipNorm?: number;
  /** After each update, outside the scope (evaluate, save, log). May be async. */
  afterStep?: (info: StepInfo) => void | Promise<void>;
}

export class Trainer {
  constructor(private readonly opts: TrainerOptions) {
    validateLrSchedule(opts.schedule);
  }

  /** Runs steps [from, to) (0-based indices; to <= schedule.total). Returns the last step's info. */
  async run(from: number, to: number): Promise<StepInfo | null> {
    const { optimizer: opt, schedule } = this.opts;
    if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= schedule.total)) {
      throw new Error(`Trainer.run: steps [${from}, ${to}) must lie within [0, ${schedule.total}]`);
    }
    const clip = this.opts.clipNorm ?? 1.0;
    let last: StepInfo | null = null;
    for (let step = from; step < to; step++) {
      const lr = lrAt(step, schedule);
      opt.lr = lr;
      const [loss, gradNorm] = tidy(() => {
        const l = this.opts.loss(step);
        const value = l.item();
        l.backward();
        this.opts.afterBackward?.(step);
        const norm = clip > 0 && Number.isFinite(clip) ? clipGradNorm(opt.params, clip) : NaN;
        opt.step();
        opt.zeroGrad();
        return [value, norm] as const;
      });
      if (!Number.isFinite(loss)) {
        throw new Error(`Trainer: loss is ${loss} at step ${step + 1}; lower the learning rate (now ${lr}) or raise the warmup`);
      }
      last = { step: step + 1, loss, lr, gradNorm };
      await this.opts.afterStep?.(last);
    }
    return last;
  }
}
