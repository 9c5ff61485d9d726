/**
 * Fine-tuning any model of the family table on any task with any method: the one loop behind
 * `wasmgrad finetune`, `compare`, the main job (`npm run demo`) and the GLUE experiment script. It
 * attaches the method, trains the trainable set with AdamW under a warmup + linear-decay schedule
 * (asking the method's selector, if it has one, which tensors train each step), adds the method's
 * regularizer to the loss, evaluates with the task each epoch, and hands JSONL records and resumable
 * training states to the caller, which does the I/O. The task (src/tasks/task.ts) owns batches,
 * loss and metrics; the method (src/adapters) owns its defaults; the loop knows neither.
 * Portable: no Node imports.
 */
import { AdaptedModel, applyAdapter } from '../adapters/model.js';
import { presetFor, type MethodName } from '../adapters/registry.js';
import type { AdapterConfig } from '../adapters/types.js';
import type { Module } from '../nn/module.js';
import { add } from '../ops/elementwise.js';
import { AdamW } from '../optim/adamw.js';
import type { MomentStore } from '../optim/offload.js';
import type { MemoryBreakdown } from '../backend/memory.js';
import { tidy } from '../tensor/scope.js';
import { Dropout } from '../nn/layers.js';
import type { Generator } from '../ops/random.js';
import { getBackend } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ClassificationBatch } from '../tasks/batches.js';
import { batchTensors, evaluateClassifier, type ClassifierEval } from '../tasks/classification.js';
import type { Task, TaskEval, TaskModel, TrainBatches } from '../tasks/task.js';
import { decodeTrainingState, encodeTrainingState } from './checkpoint.js';
import { DEFAULT_HEAD_LR, validateFinetuneConfig, type FinetuneConfig } from './finetune-config.js';
import type { MetricsRecord } from './metrics.js';
import { Trainer } from './trainer.js';

export type { ClassificationBatch, ClassifierEval, FinetuneConfig, TrainBatches };
export { batchTensors, evaluateClassifier };
export { DEFAULT_HEAD_LR, FINETUNE_DEFAULTS, resolveFinetuneConfig, validateFinetuneConfig } from './finetune-config.js';

/** A model that maps ids (B, T) to logits (B, C) (RobertaForSequenceClassification). */
export interface SequenceClassifier extends Module {
  forward(ids: Tensor, opts?: { attentionMask?: Tensor | null }): { logits: Tensor };
}

export interface FinetuneRunOptions<B = unknown, E extends TaskEval = TaskEval> {
  model: TaskModel;
  task: Task<B, E>;
  method: MethodName;
  /** Overrides of the method's config (e.g. { r: 16 } or { num_groups: 32 }). */
  adapter?: Partial<AdapterConfig>;
  /** A resolved config (resolveFinetuneConfig). */
  config: FinetuneConfig;
  /** Training batches (default: the task's, with config.batchSize and config.seed). */
  train?: TrainBatches<B>;
  /** Validation batches, re-iterated at each evaluation (default: the task's). */
  validation?: () => Iterable<B>;
  /** Evaluate every this many steps and at the end (default: once per epoch); 0: only at the end. */
  evalEvery?: number;
  /** Write a training state every this many steps (0 = never); `onCheckpoint` receives the bytes. */
  checkpointEvery?: number;
  onCheckpoint?: (state: Uint8Array, step: number) => void | Promise<void>;
  /** A state written by an earlier run of the same configuration. */
  resumeFrom?: Uint8Array | null;
  /** The file `resumeFrom` was read from, named in its errors. */
  resumeSource?: string;
  /** JSONL records, in order. */
  onRecord?: (record: MetricsRecord) => void | Promise<void>;
  /** After each step (progress bars); awaited, so a caller may yield to its event loop here (a worker reading a stop message). */
  onStep?: (step: number, total: number, loss: number, lr: number, tokens: number) => void | Promise<void>;
  /**
   * Ends training early once aborted: the current step completes, then the run finishes as it would
   * at the last step (final evaluation, records), with `stopped` set and `steps` the steps done.
   */
  signal?: AbortSignal;
  /** Free-text messages (evaluation lines). */
  log?: (message: string) => void;
  /** Where offloaded AdamW moments live (config.offloadOptimizer; default: host memory). A file store: src/node/moment-file.ts. */
  momentStore?: MomentStore;
}

/** The blocks a layer-wise method (LISA, GRASS) trained from `step` on, and the probabilities they were drawn with. */
export interface SelectionPoint {
  step: number;
  /** Positions (in block order) of the active blocks. */
  active: number[];
  /** Draw probability of each block (uniform for LISA; GRASS's softmax of its importance). */
  probabilities: number[];
}

/** A layer-wise run's block selection over training: a point each time the selection or its probabilities changed. */
export interface SelectionHistory {
  blocks: number;
  steps: number;
  points: SelectionPoint[];
}

export interface FinetuneResult<E extends TaskEval = TaskEval> {
  adapted: AdaptedModel<TaskModel>;
  /** Steps completed (the planned total unless `signal` stopped the run). */
  steps: number;
  /** True when `signal` ended training before the planned total. */
  stopped: boolean;
  trainSeconds: number;
  /** Peak bytes live in the backend's memory during training (model, adapter, optimizer state, activations). */
  peakMemoryBytes: number;
  /** What the peak was made of, at its instant (backend/memory.ts): parameters, gradients, optimizer state, activations and other temporaries. */
  peakMemory: MemoryBreakdown;
  /** Bytes of AdamW moments held outside the heap at the end of training (offloadOptimizer; 0 otherwise). */
  offloadedOptimizerBytes: number;
  finalLoss: number;
  /** Real (unpadded) training tokens seen, over the whole run (a resumed run included). */
  trainTokens: number;
  lossCurve: { step: number; loss: number }[];
  /** Layer-wise methods: which blocks trained when, and the draw probabilities (the report's heatmap). */
  selection?: SelectionHistory;
  final: E;
}

/** Runs the whole fine-tuning; the adapter stays attached (unmerged) to `model` for evaluation and saving. */
export async function runFinetune<B, E extends TaskEval>(o: FinetuneRunOptions<B, E>): Promise<FinetuneResult<E>> {
  const c = validateFinetuneConfig(o.config);
  const task = o.task;
  const trainBatches = o.train ?? task.trainBatches({ batchSize: c.batchSize, seed: c.seed, groupByLength: c.groupByLength });
  const validation = o.validation ?? (() => task.validationBatches());
  // stepsPerEpoch may be fractional (batches straddle epochs); the run covers `epochs` passes.
  const total = Math.max(1, Math.round(c.epochs * trainBatches.stepsPerEpoch));
  const evalEvery = o.evalEvery ?? Math.max(1, Math.round(trainBatches.stepsPerEpoch));
  if (!(Number.isInteger(evalEvery) && evalEvery >= 0)) throw new Error(`runFinetune: evalEvery = ${evalEvery} must be an integer >= 0 (0: evaluate only at the end)`);
  const adapted = applyAdapter(o.model, { ...presetFor(o.method), ...(o.adapter ?? {}) } as AdapterConfig);
  // The schedule drives one lr; the head follows it scaled to its own peak.
  const headScale = (c.headLr ?? Math.min(c.lr, DEFAULT_HEAD_LR)) / c.lr;
  const lrScales = new Map(adapted.headParameters().map((p) => [p, headScale] as const));
  const named = adapted.namedTrainable();
  const byKey = new Map(named);
  const selector = adapted.selector;
  // Offloading walks the selector's blocks (the units it switches), else one tensor at a time.
  const offload = c.offloadOptimizer
    ? { store: o.momentStore, groups: selector?.groups(named).map((g) => g.map((k) => byKey.get(k)!)) }
    : undefined;
  const opt = new AdamW(adapted.trainableParameters(), { lr: c.lr, weightDecay: c.weightDecay, lrScales, offload });
  const trained = { namedParameters: () => adapted.namedTrainable() };
  const sumSquares = (key: string) => {
    const g = byKey.get(key)?.grad;
    return g ? g.backend.sumSquares(g.buf, g.size) : 0;
  };
  // Every stream training draws from, for exact resume: the adapter layers' (StochGRASP sampling,
  // LoRA dropout), the selector's, and the model's dropout generators (deduplicated: our models share one).
  const generators = [...new Set<Generator>([
    ...adapted.layers.flatMap((l) => (l.generator ? [l.generator] : [])),
    ...(adapted.selector?.generator ? [adapted.selector.generator] : []),
    ...[...o.model.namedModules()].flatMap(([, m]) => (m instanceof Dropout ? [m.generator] : [])),
  ])];
  const evaluate = () => task.evaluate(o.model, validation());
  try {
    let start = 0;
    let elapsed = 0;
    let tokensSeen = 0;
    if (o.resumeFrom) {
      const state = decodeTrainingState(o.resumeFrom, trained, opt, { file: o.resumeSource });
      (state.extra.generators as ReturnType<Generator['state']>[] | undefined)?.forEach((s, i) => generators[i]?.setState(s));
      if (selector) selector.setState(state.extra.selector);
      start = state.step;
      elapsed = state.elapsedSeconds;
      tokensSeen = state.tokensSeen;
      await o.onRecord?.({ type: 'resume', step: start });
    } else {
      await o.onRecord?.({ type: 'start', step: 0, method: o.method, adapter: adapted.config, params: adapted.parameterCounts(), total_steps: total });
    }
    o.model.train();
    const backend = getBackend();
    // Memory accounting: the model's and the adapter's tensors count as parameters (backend/memory.ts).
    for (const t of new Set([...o.model.parameters(), ...adapted.stateDict().values()])) backend.tagMemory(t.buf, 'parameters');
    backend.resetPeak();
    const lossCurve: { step: number; loss: number }[] = [];
    let windowSum = 0;
    let windowN = 0;
    let lastLoss = NaN;
    let lastLr = c.lr;
    let tokens = 0; // real (unpadded) tokens of the last batch
    let t0 = performance.now();
    const seconds = () => elapsed + (performance.now() - t0) / 1000;
    const logEvery = Math.max(1, Math.round(total / 50));
    // A selector's probe (GRASS): gradients of the probed tensors on the first batches, no update.
    if (selector && selector.probeSteps > 0 && !o.resumeFrom) {
      const keys = selector.probeKeys?.(named) ?? new Set(named.map(([k]) => k));
      for (const [k, t] of named) t.requiresGrad = keys.has(k);
      for (let i = 0; i < selector.probeSteps; i++) {
        tidy(() => {
          tidy(() => task.loss(o.model, trainBatches.batchAt(i))).backward();
          selector.observe?.(i, sumSquares, i);
          opt.zeroGrad();
        });
      }
    }
    let selectionChanged = false;
    let lastSelection = '';
    const selection: SelectionHistory | undefined = selector ? { blocks: selector.groups(named).length, steps: total, points: [] } : undefined;
    let lastPoint = '';
    const trainer = new Trainer({
      optimizer: opt,
      schedule: { peak: c.lr, warmup: Math.round(c.warmupRatio * total), total, decay: 'linear', minRatio: 0 },
      clipNorm: c.clipNorm,
      namedParameters: () => [...o.model.namedParameters(), ...adapted.namedTrainable()], // a refused non-finite step names them
      signal: o.signal,
      loss: (step) => {
        if (selector) {
          const before = named.filter(([, t]) => t.requiresGrad);
          adapted.selectForStep(step);
          // Tensors that left the active set drop their optimizer state if the method says so.
          if (selector.frozenState === 'drop') for (const [, t] of before) if (!t.requiresGrad) opt.dropState(t);
          const now = named.filter(([, t]) => t.requiresGrad).map(([k]) => k).join('\n');
          selectionChanged = now !== lastSelection;
          lastSelection = now;
        }
        const b = trainBatches.batchAt(step);
        tokens = task.size(b);
        const l = task.loss(o.model, b);
        const r = adapted.regularizer();
        return r ? add(l, r) : l;
      },
      afterBackward: selector?.observe ? (step) => selector.observe!(step, sumSquares, null) : undefined,
      afterStep: async ({ step, loss, lr }) => {
        if (selectionChanged && selector?.describe) await o.onRecord?.({ type: 'select', step: step - 1, ...selector.describe() });
        if (selection && selector?.describe) {
          const d = selector.describe();
          const point = { step: step - 1, active: [...(d.active_blocks as number[] ?? [])], probabilities: [...(d.draw_probabilities as number[] ?? [])] };
          const key = JSON.stringify([point.active, point.probabilities]);
          if (key !== lastPoint) selection.points.push(point);
          lastPoint = key;
        }
        lastLoss = loss;
        lastLr = lr;
        windowSum += loss;
        windowN++;
        tokensSeen += tokens;
        await o.onStep?.(step, total, loss, lr, tokens);
        if (step % logEvery === 0 || step === total) {
          lossCurve.push({ step, loss: windowSum / windowN });
          await o.onRecord?.({ type: 'train', step, loss: windowSum / windowN, lr, tokens: tokensSeen, tokens_per_sec: tokensSeen / Math.max(1e-9, seconds()), elapsed_s: seconds() });
          windowSum = 0;
          windowN = 0;
        }
        if (evalEvery > 0 && step % evalEvery === 0 && step < total) {
          const pause = performance.now();
          const e = evaluate();
          t0 += performance.now() - pause; // evaluation time is not training time
          o.log?.(`step ${step}: ${task.describe(e)}`);
          await o.onRecord?.({ type: 'val', step, ...task.record(e) });
        }
        if (o.checkpointEvery && o.onCheckpoint && step % o.checkpointEvery === 0 && step < total) {
          const extra = { generators: generators.map((g) => g.state()), ...(selector ? { selector: selector.state() } : {}) };
          await o.onCheckpoint(encodeTrainingState(trained, opt, { step, tokensSeen, elapsedSeconds: seconds(), extra }), step);
          await o.onRecord?.({ type: 'save', step });
        }
      },
    });
    let offloadedOptimizerBytes = 0;
    let done = total;
    try {
      done = (await trainer.run(start, total))?.step ?? start;
      offloadedOptimizerBytes = opt.offloadedBytes();
    } finally {
      opt.dispose();
      if (adapted.selector) adapted.selectForStep(null);
    }
    const stopped = done < total;
    if (stopped && windowN > 0) {
      lossCurve.push({ step: done, loss: windowSum / windowN });
      await o.onRecord?.({ type: 'train', step: done, loss: windowSum / windowN, lr: lastLr, tokens: tokensSeen, tokens_per_sec: tokensSeen / Math.max(1e-9, seconds()), elapsed_s: seconds() });
    }
    const trainSeconds = seconds();
    const peakMemoryBytes = backend.peakBytes();
    const peakMemory = backend.peakBreakdown();
    const final = evaluate();
    o.log?.(`final: ${task.describe(final)}`);
    await o.onRecord?.({ type: 'val', step: done, ...task.record(final) });
    await o.onRecord?.({
      type: 'final', step: done, train_seconds: trainSeconds, peak_memory_bytes: peakMemoryBytes,
      peak_memory: peakMemory, offloaded_optimizer_bytes: offloadedOptimizerBytes,
    });
    return {
      adapted, steps: done, stopped, trainSeconds, peakMemoryBytes, peakMemory, offloadedOptimizerBytes, finalLoss: lastLoss,
      trainTokens: tokensSeen, lossCurve, final, ...(selection ? { selection } : {}),
    };
  } catch (err) {
    opt.dispose(); // idempotent; covers failures before the training loop (a state that does not fit)
    adapted.remove(); // the caller gets no handle on a failed run's adapter
    throw err;
  }
}
