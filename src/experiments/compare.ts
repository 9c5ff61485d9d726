/**
 * The method comparison behind the main job and the GLUE experiments: for each method, load the
 * same pretrained model (same head initialisation), fine-tune it on the task, measure the task's
 * metric clean and under weight noise, and collect a {@link MethodResult} per method for the report.
 */
import type { AdaptedModel } from '../adapters/model.js';
import { describeConfig, methodName, type MethodName } from '../adapters/registry.js';
import type { AdapterConfig } from '../adapters/types.js';
import { DEFAULT_NOISE_SIGMAS, evaluateUnderNoise, meanStd, type NoiseModel } from '../adapters/noise.js';
import type { MethodResult } from '../report/types.js';
import type { Task, TaskEval, TaskModel } from '../tasks/task.js';
import { resolveFinetuneConfig, type FinetuneConfig } from '../train/finetune-config.js';
import { runFinetune } from '../train/finetune.js';
import type { MetricsRecord } from '../train/metrics.js';

export interface MethodRun {
  method: MethodName;
  /** Overrides of the method's config (r, num_groups, ...). */
  adapter?: Partial<AdapterConfig>;
  /** Overrides of the training config (lr, epochs, ...). */
  train?: Partial<FinetuneConfig>;
  /** Shown in charts (default: derived from the config). */
  label?: string;
}

export interface CompareOptions<B = unknown, E extends TaskEval = TaskEval> {
  runs: readonly MethodRun[];
  /** A fresh base model per method (same pretrained weights and head init every time). */
  loadModel: () => Promise<TaskModel>;
  task: Task<B, E>;
  /** Overrides of the fine-tuning config shared by every run (resolved per method: lr defaults to the method's). */
  config: Partial<FinetuneConfig>;
  /** Weight-noise evaluation after training; draws 0 skips it (generation tasks, where each evaluation decodes). */
  noise: { sigmas?: readonly number[]; draws: number; mode: NoiseModel; seed: number };
  /** Data-order seeds: each method trains once per seed and reports mean ± std (default: config.seed alone). */
  seeds?: readonly number[];
  /**
   * Validation passes during training (`val` records and log lines; the results use only the final one):
   * true (default) once per epoch, false only after training.
   */
  epochEvals?: boolean;
  log?: (message: string) => void;
  onStep?: (method: string, step: number, total: number, loss: number, tokens: number) => void;
  /** `index`: the run's position in `runs` (two runs may share a method). */
  onRecord?: (method: string, record: MetricsRecord, index: number) => void | Promise<void>;
  /** After each method, with the trained model still adapted (save the adapter here). */
  afterMethod?: (run: MethodRun, result: MethodResult, adapted: AdaptedModel<TaskModel>) => Promise<void> | void;
}

/** One training run of one method with one data-order seed, and its noise draws by sigma. */
interface SeedRun {
  result: MethodResult;
  values: number[][];
}

async function runOnce<B, E extends TaskEval>(o: CompareOptions<B, E>, run: MethodRun, index: number, seed: number, first: boolean): Promise<SeedRun> {
  const model = await o.loadModel();
  let adapted: AdaptedModel<TaskModel> | null = null;
  try {
    const config = resolveFinetuneConfig({ ...o.config, ...(run.train ?? {}), seed }, run.method);
    o.log?.(`\n== ${run.method}: lr ${config.lr}, ${config.epochs} epochs, batch ${config.batchSize}, seed ${seed}`);
    const { task } = o;
    const r = await runFinetune({
      model, task, method: run.method, adapter: run.adapter, config, ...(o.epochEvals === false ? { evalEvery: 0 } : {}),
      log: o.log, onStep: (s, t, l, _lr, n) => o.onStep?.(run.method, s, t, l, n), onRecord: (rec) => o.onRecord?.(run.method, rec, index),
    });
    adapted = r.adapted;
    o.log?.(r.adapted.parameterTable());
    const pick = (e: TaskEval) => e.metrics[task.metric];
    // σ = 0 is the final evaluation just made on the same validation batches: reused, not repeated.
    const noise = o.noise.draws === 0 ? [] : await evaluateUnderNoise(r.adapted, () => pick(task.evaluate(model, task.validationBatches())), {
      sigmas: o.noise.sigmas ?? DEFAULT_NOISE_SIGMAS, draws: o.noise.draws, mode: o.noise.mode, seed: o.noise.seed + seed, clean: pick(r.final),
    });
    if (noise.length) o.log?.(`under ${o.noise.mode} weight noise: ${noise.map((p) => `σ=${p.sigma}: ${p.mean.toFixed(4)} ± ${p.std.toFixed(4)}`).join(', ')}`);
    const counts = r.adapted.parameterCounts();
    // Series tasks score a held-out test split once after training, and forecasters plot a few of its windows.
    const test = task.testBatches ? task.evaluate(model, task.testBatches()).metrics : undefined;
    const forecasts = first && task.forecastSamples ? task.forecastSamples(model) : undefined;
    const c = r.adapted.config;
    const result: MethodResult = {
      method: methodName(r.adapted.config),
      label: run.label ?? describeConfig(r.adapted.config) + trainOverrides(run.train),
      paramsWithoutHead: counts.adapter + counts.trainedBase,
      trainableParams: counts.trainable,
      totalParams: counts.total,
      metric: pick(r.final),
      metricName: task.metric,
      noise: noise.map(({ sigma, mean, std, draws }) => ({ sigma, mean, std, draws })),
      trainSeconds: r.trainSeconds,
      peakMemoryBytes: r.peakMemoryBytes,
      peakMemory: r.peakMemory,
      steps: r.steps,
      finalLoss: r.finalLoss,
      trainTokens: r.trainTokens,
      lossCurve: r.lossCurve,
      ...(r.final.generation ? { generation: { ...r.final.generation, scores: { ...r.final.generation.scores } } } : {}),
      ...(r.selection ? { selection: r.selection } : {}),
      ...(test ? { testMetrics: { ...test } } : {}),
      ...trainingState(r.adapted),
      ...(forecasts ? { forecasts } : {}),
      ...(c.peft_type === 'LORA' ? { lora: { r: c.r, alpha: c.lora_alpha, scaling: c.use_rslora ? 'rs' as const : 'standard' as const } } : {}),
    };
    if (first) await o.afterMethod?.(run, result, r.adapted);
    return { result, values: noise.map((p) => p.values) };
  } finally {
    adapted?.remove();
    model.dispose();
  }
}

/**
 * Bytes of what training keeps per trainable value: the value and AdamW's two moments, all float32
 * (12 bytes per parameter; the gradients come and go with each step and count in the heap peak).
 * A method with a selector (LISA, GRASS) trains a few blocks per step: it counts what one step
 * trains at most (`stepTrainable`), plus, with `frozen_state: "keep"`, the moments switched-off
 * blocks keep.
 */
export function trainingState(adapted: AdaptedModel<TaskModel>): Pick<MethodResult, 'stateBytes' | 'stepTrainable'> {
  const trainable = adapted.namedTrainable();
  const all = trainable.reduce((n, [, t]) => n + t.size, 0);
  const sel = adapted.selector;
  if (!sel) return { stateBytes: 12 * all };
  const step = sel.largestStep(trainable);
  const moments = sel.frozenState === 'keep' ? all : step.elements;
  return { stateBytes: 4 * step.elements + 8 * moments, stepTrainable: { params: step.elements, blocks: step.units, of: step.of } };
}

/**
 * Several seeds as one result: the clean metric's mean and sample std over seeds; each noise level's
 * mean and std over every draw of every seed; mean train time and final loss; the largest peak; the
 * first seed's loss curve and adapter.
 */
export function aggregateSeeds(runs: readonly SeedRun[]): MethodResult {
  const first = runs[0].result;
  if (runs.length === 1) return first;
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const clean = meanStd(runs.map((r) => r.result.metric));
  return {
    ...first,
    metric: clean.mean,
    metricStd: clean.std,
    seeds: runs.length,
    noise: first.noise.map((p, i) => {
      const all = runs.flatMap((r) => r.values[i]);
      return { sigma: p.sigma, ...meanStd(all), draws: all.length };
    }),
    trainSeconds: avg(runs.map((r) => r.result.trainSeconds)),
    peakMemoryBytes: Math.max(...runs.map((r) => r.result.peakMemoryBytes)),
    // the split of the largest peak
    peakMemory: runs.reduce((a, b) => (b.result.peakMemoryBytes > a.result.peakMemoryBytes ? b : a)).result.peakMemory,
    finalLoss: avg(runs.map((r) => r.result.finalLoss ?? NaN)),
    ...(first.testMetrics ? { testMetrics: Object.fromEntries(Object.keys(first.testMetrics).map((k) => [k, avg(runs.map((r) => r.result.testMetrics?.[k] ?? NaN))])) } : {}),
  };
}

export async function compareMethods<B, E extends TaskEval>(o: CompareOptions<B, E>): Promise<MethodResult[]> {
  const results: MethodResult[] = [];
  const seeds = o.seeds ?? [o.config.seed ?? 0];
  if (seeds.length === 0 || seeds.some((s) => !(Number.isInteger(s) && s >= 0))) {
    throw new Error(`compareMethods: seeds ${JSON.stringify(seeds)} must be a non-empty list of integers >= 0`);
  }
  for (const [index, run] of o.runs.entries()) {
    const perSeed: SeedRun[] = [];
    for (const [k, seed] of seeds.entries()) perSeed.push(await runOnce(o, run, index, seed, k === 0));
    results.push(aggregateSeeds(perSeed));
  }
  return results;
}

/** A run's own training settings, for its label (`, lr 0.0002, 5 epochs`); empty without any. */
function trainOverrides(t: Partial<FinetuneConfig> | undefined): string {
  if (!t) return '';
  return (t.lr !== undefined ? `, lr ${t.lr}` : '') + (t.epochs !== undefined ? `, ${t.epochs} epochs` : '');
}
