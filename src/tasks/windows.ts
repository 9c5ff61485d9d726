/** Batches of window indices shared by the series tasks: training batches in a seeded order, evaluation batches in order. */
import { ExampleOrder } from './order.js';
import type { TrainBatches } from './task.js';

/** Windows [indices] of one split, with the training step that drew them (-1 in evaluation); tensors are made inside the step's scope. */
export interface WindowBatch<S> {
  set: S;
  indices: readonly number[];
  step: number;
}

/** Every window of `set`, in order, `batchSize` at a time. */
export function windowsInOrder<S extends { length: number }>(set: S, batchSize: number): WindowBatch<S>[] {
  const out: WindowBatch<S>[] = [];
  for (let s = 0; s < set.length; s += batchSize) {
    out.push({ set, step: -1, indices: Array.from({ length: Math.min(batchSize, set.length - s) }, (_, i) => s + i) });
  }
  return out;
}

/** Each window once per epoch in a seeded order; `who` names the task in errors. */
export function windowTrainBatches<S extends { length: number }>(set: S, o: { batchSize: number; seed: number }, who: string): TrainBatches<WindowBatch<S>> {
  const order = new ExampleOrder(set.length, Math.min(o.batchSize, set.length), o.seed);
  return { stepsPerEpoch: order.stepsPerEpoch, batchAt: (step) => ({ set, step, indices: order.indicesAt(step, who) }) };
}

/** The one set a list of evaluation batches covers; throws when they mix sets or are empty. */
export function setOf<S>(batches: Iterable<WindowBatch<S>>, who: string): { set: S; batches: WindowBatch<S>[] } {
  const list = [...batches];
  if (list.length === 0) throw new Error(`${who}: no evaluation windows`);
  const set = list[0].set;
  if (list.some((b) => b.set !== set)) throw new Error(`${who}: evaluation batches must come from one split (validationBatches() or testBatches())`);
  return { set, batches: list };
}

/**
 * What every series task does with its three window splits: the example counts, each training window
 * once per epoch in a seeded order, and evaluation windows in order (`o.evalBatchSize`, default 64).
 */
export abstract class WindowSplitsTask<S extends { length: number }> {
  abstract readonly data: { readonly train: S; readonly val: S; readonly test: S };
  abstract readonly o: { readonly evalBatchSize?: number };
  /** The task's class name, for errors. */
  protected abstract readonly who: string;

  get trainExamples(): number {
    return this.data.train.length;
  }

  get validationExamples(): number {
    return this.data.val.length;
  }

  trainBatches(o: { batchSize: number; seed: number }): TrainBatches<WindowBatch<S>> {
    return windowTrainBatches(this.data.train, o, this.who);
  }

  validationBatches(): WindowBatch<S>[] {
    return windowsInOrder(this.data.val, this.o.evalBatchSize ?? 64);
  }

  testBatches(): WindowBatch<S>[] {
    return windowsInOrder(this.data.test, this.o.evalBatchSize ?? 64);
  }
}
