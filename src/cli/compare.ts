/**
 * `wasmgrad compare`: fine-tune one pretrained classifier with several methods on one task, measure
 * each clean and under weight noise, and write the report (report.md, report.html, results.json,
 * per-method metrics JSONL and adapters). The main job (`npm run demo`) and the GLUE experiment
 * script are this with different defaults.
 */
import { appendFile, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureBackend } from './backend.js';
import { presetFor, type MethodName } from '../adapters/registry.js';
import type { AdapterConfig } from '../adapters/types.js';
import type { NoiseModel } from '../adapters/noise.js';
import { compareMethods, type MethodRun } from '../experiments/compare.js';
import { writeFileAtomic } from '../node/files.js';
import { saveAdapter } from '../node/adapter-files.js';
import type { GlueTask } from '../tasks/glue.js';
import type { E2ETaskConfig } from '../tasks/e2e.js';
import { prepareRun, type PreparedRun } from './setup.js';
import { bagOfWordsBaseline } from '../train/bow.js';
import { isSeriesTask, type SeriesOptions } from './series.js';
import { runSeriesCompare } from './compare-series.js';
import { renderHtmlReport, renderMarkdownReport, renderMarkdownTable } from '../report/index.js';
import type { ExperimentReport, MethodResult } from '../report/types.js';
import { DEFAULT_HEAD_LR, FINETUNE_DEFAULTS, resolveFinetuneConfig, type FinetuneConfig } from '../train/finetune-config.js';
import { metricsLine } from '../train/metrics.js';
import { runsProgress } from '../train/progress.js';

export interface CompareRunOptions {
  model: string;
  task: string;
  methods: readonly (MethodName | MethodRun)[];
  out: string;
  epochs?: number;
  batchSize?: number;
  maxLength?: number;
  /** FinetuneConfig.groupByLength: windows (in batches) of length-sorted training batches; 0 = random batches. */
  groupByLength?: number;
  seed?: number;
  /** One learning rate for every method (default: each method's own, AdapterMethod.defaultLr). */
  lr?: number;
  /** The head's peak learning rate (default: min(lr, DEFAULT_HEAD_LR)). */
  headLr?: number;
  /** Data-order seeds to repeat each method over (mean ± std in the report; default: `seed` alone). */
  seeds?: readonly number[];
  /** Validation passes once per epoch during training (default true), or only after it (false; the report uses only the final one). */
  epochEvals?: boolean;
  /** Keep AdamW state outside the WebAssembly heap (FinetuneConfig.offloadOptimizer). */
  offloadOptimizer?: boolean;
  /** Use at most this many training examples (quick runs). */
  limitTrain?: number;
  draws?: number;
  noiseMode?: NoiseModel;
  sigmas?: readonly number[];
  datasetsDir?: string;
  /** GLUE layout of a task path whose folder name does not tell it. */
  format?: GlueTask;
  /** The data file of `--task e2e`. */
  data?: string;
  e2e?: Partial<E2ETaskConfig>;
  title?: string;
  /** Flags of a series task (`--task forecast|forecast-short|impute|anomaly|classify-series`). */
  series?: SeriesOptions;
  /** Series tasks: also train the linear baseline (default true; never for classify-series). */
  baseline?: boolean;
  write?: (text: string) => void;
  tty?: boolean;
}

/**
 * LoRA's scaling by name, for rank sweeps (`one-for-all:r=8,scaling=standard`): `standard` is
 * alpha/r (use_rslora false), `rs` is alpha/sqrt(r) (use_rslora true).
 */
const LORA_SCALINGS: Record<string, boolean> = { standard: false, rs: true };

/**
 * Parses `lora:r=16,lora_alpha=16` style overrides: values are JSON when they parse, strings
 * otherwise; `scaling=standard|rs` sets use_rslora (LoRA methods).
 */
export function parseMethodSpec(spec: string): MethodRun {
  const [name, rest] = spec.split(':', 2) as [string, string | undefined];
  presetFor(name);
  const adapter: Record<string, unknown> = {};
  const train: Partial<FinetuneConfig> = {};
  for (const kv of rest ? rest.split(',') : []) {
    const [k, v] = kv.split('=', 2);
    if (!k || v === undefined) throw new Error(`method spec "${spec}": expected name:key=value,key=value (e.g. grasp:num_groups=16)`);
    if (Object.hasOwn(TRAIN_OVERRIDES, k)) {
      // A training setting of this run alone (the rest of the runs keep --lr / --epochs / the method's default).
      const x = Number(v);
      if (!TRAIN_OVERRIDES[k]!.ok(x)) throw new Error(`method spec "${spec}": ${k}=${v} ${TRAIN_OVERRIDES[k]!.need}`);
      train[TRAIN_OVERRIDES[k]!.field] = x;
      continue;
    }
    if (k === 'scaling') {
      if (presetFor(name).peft_type !== 'LORA') throw new Error(`method spec "${spec}": scaling applies to LoRA methods (lora, rslora, one-for-all) only`);
      if (!Object.hasOwn(LORA_SCALINGS, v)) throw new Error(`method spec "${spec}": scaling=${v} is not known; use standard (alpha/r) or rs (alpha/sqrt(r))`);
      adapter.use_rslora = LORA_SCALINGS[v];
      continue;
    }
    try {
      adapter[k] = JSON.parse(v);
    } catch {
      adapter[k] = v;
    }
  }
  return { method: name as MethodName, adapter: adapter as Partial<AdapterConfig>, ...(Object.keys(train).length ? { train } : {}) };
}

/** Method-spec keys that set a training setting of that run instead of a method field. */
const TRAIN_OVERRIDES: Record<string, { field: 'lr' | 'epochs'; ok: (x: number) => boolean; need: string }> = {
  lr: { field: 'lr', ok: (x) => x > 0 && x < 1, need: 'must be a learning rate in (0, 1)' },
  epochs: { field: 'epochs', ok: (x) => Number.isInteger(x) && x >= 1, need: 'must be a whole number of epochs >= 1' },
};

/** One file-safe name per run (its label, else its method), with -2, -3, ... on repeats. */
function runNames(runs: readonly MethodRun[]): string[] {
  const seen = new Map<string, number>();
  return runs.map((r) => {
    // A method run several times (a sweep) is told apart by its overrides: one-for-all-r8-use_rsloratrue.
    const repeated = runs.filter((q) => q.method === r.method).length > 1;
    const overrides = repeated
      ? Object.entries({ ...(r.adapter ?? {}), ...(r.train ?? {}) }).map(([k, v]) => `-${k}${typeof v === 'string' ? v : JSON.stringify(v)}`).join('')
      : '';
    const name = (r.label ?? `${r.method}${overrides}`).replace(/[^\w.-]+/g, '_');
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name}-${n}`;
  });
}

export async function runCompare(o: CompareRunOptions): Promise<ExperimentReport> {
  const write = o.write ?? ((t: string) => process.stderr.write(t));
  await ensureBackend();
  if (isSeriesTask(o.task)) {
    const runs = o.methods.map((m) => (typeof m === 'string' ? { method: m } : m));
    return runSeriesCompare({
      model: o.model, task: o.task, runs, names: runNames(runs), out: o.out, series: { ...(o.series ?? {}), data: o.data ?? o.series?.data }, baseline: o.baseline,
      epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, headLr: o.headLr, seed: o.seed, seeds: o.seeds, offloadOptimizer: o.offloadOptimizer,
      draws: o.draws, sigmas: o.sigmas, noiseMode: o.noiseMode, title: o.title, write, tty: o.tty,
    });
  }
  const p = await prepareRun(o.model, o.task, { maxLength: o.maxLength, datasetsDir: o.datasetsDir, format: o.format, limitTrain: o.limitTrain, data: o.data, e2e: o.e2e });
  const { task, maxLength } = p;
  write(`task ${task.name}: ${task.trainExamples} training, ${task.validationExamples} validation examples (${task.metric}); model ${p.dir}\n`);
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  const runs = o.methods.map((m) => (typeof m === 'string' ? { method: m } : m));
  const names = runNames(runs);
  for (const n of names) await rm(join(out, `${n}.metrics.jsonl`), { force: true });
  const draws = o.draws ?? (task.kind === 'causal-lm' && p.loaded === undefined ? 0 : 10); // e2e: every evaluation decodes
  const mode = o.noiseMode ?? 'multiplicative';
  const D = FINETUNE_DEFAULTS;
  const shared: Partial<FinetuneConfig> = { epochs: o.epochs, batchSize: o.batchSize, maxLength, groupByLength: o.groupByLength, seed: o.seed ?? 0, lr: o.lr, headLr: o.headLr, offloadOptimizer: o.offloadOptimizer };
  const results = await compareMethods({
    runs,
    loadModel: p.loadModel,
    task,
    config: shared,
    noise: { sigmas: o.sigmas, draws, mode, seed: o.seed ?? 0 },
    seeds: o.seeds,
    epochEvals: o.epochEvals,
    ...runsProgress(write, o.tty ?? process.stderr.isTTY === true),
    onRecord: (_method, rec, i) => appendFile(join(out, `${names[i]}.metrics.jsonl`), metricsLine(rec)),
    afterMethod: (run, _result, adapted) => saveAdapter(adapted, join(out, 'adapters', names[runs.indexOf(run)]!)),
  });
  const bow = bowRow(p, o.limitTrain, task.metric, write);
  if (bow) results.push(bow);
  const report: ExperimentReport = {
    title: o.title ?? `wasmgrad: fine-tuning methods on ${task.name}`,
    task: task.name,
    model: o.model,
    createdAt: new Date().toISOString(),
    noiseModel: mode,
    noiseTargets: 'every attention projection and both FFN layers of each block (the same layers for every method), perturbed after merging',
    results,
    notes: [
      `${task.trainExamples} training / ${task.validationExamples} validation examples (${p.source}); max length ${maxLength} tokens; seed${o.seeds ? `s ${o.seeds.join(", ")}` : ` ${o.seed ?? 0}`}.`,
      `AdamW, warmup ${D.warmupRatio * 100}% then linear decay, batch ${o.batchSize ?? D.batchSize}${o.groupByLength ? ` (examples of similar length batched together, seeded windows of ${o.groupByLength} batches)` : ''}, ${o.epochs ?? D.epochs} epochs; peak learning rates ${runSettings(runs, shared)}; the head's ${o.headLr ?? `min(lr, ${DEFAULT_HEAD_LR})`}.`,
      'Peak memory: the most WebAssembly heap bytes live at once during training (probe included), split at that instant into parameters, gradients, optimizer state (AdamW moments, or the staging area when offloaded) and activations (everything else: saved activations, intermediate gradients, batches, kernel scratch).',
      ...(o.offloadOptimizer ? ['AdamW state offloaded to host memory between updates (bit-identical results).'] : []),
      draws > 0 ? `Noise: ${mode} Gaussian, ${draws} draws per σ > 0; mean ± sample std of the validation ${task.metric}.` : 'No weight-noise evaluation (--draws 0).',
      ...(task.kind === 'sequence-classification'
        ? ['Trainable params include the classification head, which every method trains; the Methods list gives each method\'s count without it.']
        : []),
    ],
  };
  await writeFileAtomic(join(out, 'results.json'), JSON.stringify({ ...report, runs }, null, 2) + '\n');
  await writeFileAtomic(join(out, 'report.md'), renderMarkdownReport(report));
  await writeFileAtomic(join(out, 'report.html'), renderHtmlReport(report));
  process.stdout.write('\n' + renderMarkdownTable(report) + '\n');
  write(`\nwrote ${join(out, 'report.md')}, ${join(out, 'report.html')}, results.json, metrics JSONL and adapters/\n`);
  return report;
}

/** Settings a run's own `train` overrides may change, named in the report when they differ from the shared ones. */
const RUN_SETTINGS = ['epochs', 'warmupRatio', 'weightDecay', 'batchSize', 'headLr'] as const;

/**
 * Each run's peak learning rate as training resolves it (the run's own `train`, else the shared
 * config, else the method's default), with any other setting the run sets for itself:
 * `full 1e-4 (epochs 5), bitfit 0.005`.
 */
export function runSettings(runs: readonly MethodRun[], shared: Partial<FinetuneConfig>): string {
  const base = resolveFinetuneConfig(shared, 'full');
  return runs.map((r) => {
    const c = resolveFinetuneConfig({ ...shared, ...(r.train ?? {}) }, r.method);
    const own = RUN_SETTINGS.filter((k) => r.train?.[k] !== undefined && c[k] !== base[k]).map((k) => `${k} ${c[k]}`);
    return `${r.label ?? r.method} ${c.lr}${own.length ? ` (${own.join(', ')})` : ''}`;
  }).join(', ');
}

/**
 * The bag-of-words row every binary single-sentence comparison carries (binary word presence, L2
 * logistic regression, C by 5-fold CV on the same training examples, scored on the same validation
 * examples): a method or base model that does not beat it has not earned its cost. Null (with a log
 * line) where it does not apply.
 */
function bowRow(p: PreparedRun, limitTrain: number | undefined, metric: string, write: (t: string) => void): MethodResult | null {
  const data = p.loaded;
  if (data === undefined || p.task.kind !== 'sequence-classification') return null;
  if (data.spec.numLabels !== 2 || metric !== 'accuracy' || p.evaluatedOn !== 'validation' || [...data.train, ...data.validation].some((e) => e.textPair !== undefined)) {
    write(`(no bag-of-words row: it needs a binary single-sentence task scored by accuracy; ${data.name} is not)\n`);
    return null;
  }
  const train = limitTrain ? data.train.slice(0, limitTrain) : data.train;
  const t0 = performance.now();
  const r = bagOfWordsBaseline(train, data.validation);
  const seconds = (performance.now() - t0) / 1000;
  write(`bag of words (no model): validation accuracy ${(100 * r.accuracy).toFixed(1)}% (${r.vocabulary} words, C = ${r.C} by 5-fold CV)\n`);
  const params = r.vocabulary + 1;
  return {
    method: 'bow', label: `bag of words, L2 logistic regression, C=${r.C} by CV`, baseline: true,
    trainableParams: params, totalParams: params, metric: r.accuracy, metricName: 'accuracy',
    noise: [{ sigma: 0, mean: r.accuracy, std: NaN, draws: 1 }], trainSeconds: seconds, peakMemoryBytes: 0, steps: 0,
  };
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

/**
 * Every method spec crossed with every sweep: `--sweep r=2,4 --sweep scaling=standard,rs` turns
 * `one-for-all` into one-for-all:r=2,scaling=standard, one-for-all:r=2,scaling=rs, r=4 likewise.
 * A swept key overrides the same key in a spec. Errors name the sweep and the form it takes.
 */
export function expandSweeps(specs: readonly string[], sweeps: readonly string[]): string[] {
  const axes = sweeps.map((sw) => {
    const [k, v] = sw.split('=', 2);
    const values = v === undefined ? [] : list(v);
    if (!k || !/^[\w.-]+$/.test(k) || values.length === 0) throw new Error(`--sweep "${sw}": expected key=value,value,... (e.g. r=2,4,8,16,32,64 or scaling=standard,rs)`);
    return { key: k.trim(), values };
  });
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.key)) throw new Error(`--sweep ${a.key} is given twice; list all its values in one --sweep ${a.key}=...`);
    seen.add(a.key);
  }
  let out = [...specs];
  for (const a of axes) {
    out = out.flatMap((spec) => a.values.map((v) => {
      const [name, rest] = spec.split(':', 2) as [string, string | undefined];
      const kept = (rest ? rest.split(',') : []).filter((kv) => kv.split('=', 1)[0] !== a.key);
      return `${name}:${[...kept, `${a.key}=${v}`].join(',')}`;
    }));
  }
  return out;
}
