/**
 * `wasmgrad finetune` and `wasmgrad eval`: fine-tune a pretrained checkpoint on a task (any family x
 * task pair the family table allows) with one method and save only the adapter (adapter_config.json + adapter_model.safetensors; full
 * fine-tuning also writes the whole model), with a progress bar, metrics.jsonl, periodic atomic
 * training states and `--resume`; evaluate a saved adapter clean and under weight noise.
 */
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureBackend } from './backend.js';
import { MEMORY_CATEGORIES, type MemoryBreakdown } from '../backend/memory.js';
import { validateAdapterConfig } from '../adapters/model.js';
import { describeConfig, methodName, presetFor, type MethodName } from '../adapters/registry.js';
import { evaluateUnderNoise, type NoiseModel } from '../adapters/noise.js';
import type { AdapterConfig } from '../adapters/types.js';
import { detectAnomaly } from '../nn/anomaly.js';
import { saveAdapter, loadAdapterFromDirectory } from '../node/adapter-files.js';
import { writeFileAtomic } from '../node/files.js';
import { FileMomentStore } from '../node/moment-file.js';
import { savePretrained } from '../node/pretrained.js';
import type { GlueTask } from '../tasks/glue.js';
import { saveTokenizer } from '../node/tokenizer-files.js';
import { FINETUNE_DEFAULTS, resolveFinetuneConfig, type FinetuneConfig } from '../train/finetune-config.js';
import { runFinetune } from '../train/finetune.js';
import { metricsLine, truncateMetrics } from '../train/metrics.js';
import { ProgressBar } from '../train/progress.js';
import { claimOutDir, jsonDiff, outDirEntries } from './run-dir.js';
import { formatProcessMemory, processMemory } from './process-memory.js';
import type { E2ETaskConfig } from '../tasks/e2e.js';
import { renderHtmlReport, renderMarkdownReport } from '../report/index.js';
import type { ExperimentReport, MethodResult } from '../report/types.js';
import { trainingState } from '../experiments/compare.js';
import { EVAL_SPLITS, prepareRun, type EvalSplit, type PreparedRun } from './setup.js';
import { isSeriesTask, prepareSeriesRun, trainBaseline, type PreparedSeriesRun, type SeriesOptions } from './series.js';
import type { Task } from '../tasks/task.js';
import type { FamilyModel } from '../models/families.js';
import type { ByteLevelBPETokenizer } from '../tokenizer/tokenizer.js';

const STATE = join('training_state', 'state.safetensors');

/** Where a task's files are and how to read them. */

export interface FinetuneCliOptions extends Partial<FinetuneConfig> {
  model: string;
  method: MethodName;
  adapter?: Partial<AdapterConfig>;
  task: string;
  out: string;
  datasetsDir?: string;
  /** GLUE layout of a task path whose folder name does not tell it. */
  format?: GlueTask;
  /** Use at most this many training examples (E2E: MRs, with all their references). */
  limitTrain?: number;
  /** The data file of `--task e2e`. */
  data?: string;
  /** E2E task settings (split, decoding, label smoothing). */
  e2e?: Partial<E2ETaskConfig>;
  saveEvery?: number;
  /** Stop after this many steps (the schedule still spans the whole run); resume later with `resume`. */
  stopAfter?: number;
  resume?: boolean;
  /** Offloaded AdamW moments go to a scratch file in this directory instead of host memory (implies offloadOptimizer). */
  offloadDir?: string;
  /** Check every op and gradient for NaN/Inf during training, naming the op and module (slow). */
  detectAnomaly?: boolean;
  /** Replace the files of an earlier run in a non-empty `out` (without it, a non-empty `out` is refused). */
  overwrite?: boolean;
  /** Noise draws for the final robustness curve (0 = skip). */
  noiseDraws?: number;
  /** Flags of a series task (`--task forecast|forecast-short|anomaly|impute|classify-series`; src/cli/series-data.ts). */
  series?: SeriesOptions;
  /** Also train the linear baseline (one Linear from input window to output steps per channel) with the same loop and report it (series tasks but classification). */
  baseline?: boolean;
  write?: (text: string) => void;
  tty?: boolean;
}

/** What a run needs from its preparation, for text and series tasks alike. */
interface Prepared {
  dir: string;
  task: Task;
  /** Loads the checkpoint; `log` hears which head keys start fresh, `fresh` collects them. */
  loadModel: (log?: (message: string) => void, fresh?: string[]) => Promise<FamilyModel>;
  /** Saved with a fully fine-tuned text model; null for series. */
  tokenizer: ByteLevelBPETokenizer | null;
  maxLength: number;
  /** One line saying where the examples come from. */
  source: string;
  /** The text task's preparation (which split is scored); null for series. */
  run: PreparedRun | null;
  series: PreparedSeriesRun | null;
}

interface PrepareArgs {
  model: string; task: string; maxLength?: number; datasetsDir?: string; format?: GlueTask; seed: number;
  data?: string; e2e?: Partial<E2ETaskConfig>; limitTrain?: number; evaluateOn?: EvalSplit | 'auto'; series?: SeriesOptions;
}

async function prepare(o: PrepareArgs): Promise<Prepared> {
  if (isSeriesTask(o.task)) {
    const s = await prepareSeriesRun(o.model, o.task, { ...(o.series ?? {}), data: o.data ?? o.series?.data, seed: o.seed });
    return { dir: s.dir, task: s.task, loadModel: () => s.loadModel(), tokenizer: null, maxLength: s.inputLength, source: s.source, run: null, series: s };
  }
  const p = await prepareRun(o.model, o.task, {
    maxLength: o.maxLength, datasetsDir: o.datasetsDir, format: o.format, data: o.data, e2e: o.e2e, limitTrain: o.limitTrain, evaluateOn: o.evaluateOn,
  });
  return { dir: p.dir, task: p.task, loadModel: p.loadModel, tokenizer: p.tokenizer, maxLength: p.maxLength, source: p.source, run: p, series: null };
}

/** Fine-tunes and writes the adapter; returns the final validation metrics (NaN when stopped early). */
export type FinetuneCliResult = { stopped: boolean } & { [metric: string]: number | boolean };

/** Files a finetune run writes into --out (removed by --overwrite, and only these). */
const RUN_FILES = ['training_state', 'metrics.jsonl', 'results.json', 'report.md', 'report.html', 'adapter_config.json', 'adapter_model.safetensors', 'model'];

/** The CLI-only options: integers in range, checked before anything is read or written. */
function validateCliOptions(o: FinetuneCliOptions): void {
  const errs: string[] = [];
  const int = (flag: string, v: number | undefined, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) errs.push(`${flag} ${v} must be an integer >= ${min}`);
  };
  int('--save-every', o.saveEvery, 1);
  int('--stop-after', o.stopAfter, 1);
  int('--noise-draws', o.noiseDraws, 0);
  if (o.resume && o.overwrite) errs.push('--resume and --overwrite exclude each other (continue the run, or replace it)');
  if (errs.length) throw new Error(`finetune: ${errs.join('; ')}`);
}

export async function runFinetuneCli(o: FinetuneCliOptions): Promise<FinetuneCliResult> {
  const write = o.write ?? ((t: string) => void process.stderr.write(t));
  const out = resolve(o.out);
  let bar: ProgressBar | null = null;
  const stopAfter = o.stopAfter;
  class Stop extends Error {}
  // Everything is validated before the output folder is touched: the options, the task, the
  // checkpoint, and the method's config against the model.
  validateCliOptions(o);
  const config = resolveFinetuneConfig(
    { epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, weightDecay: o.weightDecay, warmupRatio: o.warmupRatio, clipNorm: o.clipNorm, maxLength: o.maxLength, groupByLength: o.groupByLength, seed: o.seed, headLr: o.headLr, offloadOptimizer: o.offloadOptimizer || (o.offloadDir !== undefined ? true : undefined) },
    o.method,
  );
  await outDirEntries(out); // a file at --out fails here, before the (slower) loading
  await ensureBackend();
  const p = await prepare({ ...o, seed: config.seed });
  if (!p.series) config.maxLength = p.maxLength;
  const { task } = p;
  const model = await p.loadModel((m) => write(m + '\n'));
  try {
    validateAdapterConfig(model, { ...presetFor(o.method), ...(o.adapter ?? {}) } as AdapterConfig);
    await claimOutDir(out, { resume: o.resume === true, overwrite: o.overwrite === true, runFiles: RUN_FILES });
    write(`${task.name}: ${task.trainExamples} training / ${task.validationExamples} validation examples; model ${p.dir}; method ${o.method}, lr ${config.lr}\n`);
    const metricsPath = join(out, 'metrics.jsonl');
    const runKey = {
      model: p.dir, task: task.name, method: o.method, adapter: o.adapter ?? {}, config, data: o.data ?? null, e2e: o.e2e ?? {}, limitTrain: o.limitTrain ?? null,
      ...(p.series ? { series: p.series.options } : {}),
    };
    const statePath = join(out, STATE);
    write(`${p.source}\n`);
    let resumeFrom: Uint8Array | null = null;
    if (o.resume) {
      const bytes = await readFile(statePath).catch(() => {
        throw new Error(`--resume: no training state at ${statePath}; start without --resume`);
      });
      const runJson = join(out, 'training_state', 'run.json');
      const saved = JSON.parse(await readFile(runJson, 'utf8').catch(() => '{}')) as typeof runKey;
      // a setting added since the run was saved counts as its default (the run used that behaviour)
      if (saved.config) saved.config = { ...FINETUNE_DEFAULTS, ...saved.config };
      const diff = jsonDiff(saved, JSON.parse(JSON.stringify(runKey)));
      if (diff.length) {
        throw new Error(`--resume: the options differ from the saved run's (${runJson}): ${diff.join('; ')}; resume with the same options`);
      }
      resumeFrom = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } else {
      await mkdir(join(out, 'training_state'), { recursive: true });
      await writeFile(metricsPath, '');
      await writeFileAtomic(join(out, 'training_state', 'run.json'), JSON.stringify(runKey, null, 2));
    }
    const train = task.trainBatches({ batchSize: config.batchSize, seed: config.seed, groupByLength: config.groupByLength });
    if (o.detectAnomaly) {
      detectAnomaly(true, { model });
      write('--detect-anomaly: every op and gradient is checked for NaN/Inf (training runs several times slower)\n');
    }
    const momentStore = o.offloadDir !== undefined ? new FileMomentStore(join(resolve(o.offloadDir), `adamw-moments-${process.pid}.bin`)) : undefined;
    const r = await runFinetune({
      model, task, method: o.method, adapter: o.adapter, config, train, resumeFrom, resumeSource: statePath, momentStore,
      checkpointEvery: o.saveEvery ?? Math.max(1, Math.round(train.stepsPerEpoch)),
      onCheckpoint: async (bytes, step) => {
        await writeFileAtomic(join(out, STATE), bytes);
        if (stopAfter !== undefined && step >= stopAfter) throw new Stop();
      },
      onRecord: async (rec) => {
        if (rec.type === 'resume') {
          await writeFile(metricsPath, truncateMetrics(await readFile(metricsPath, 'utf8').catch(() => ''), rec.step));
          write(`resumed at step ${rec.step}\n`);
        }
        await appendFile(metricsPath, metricsLine(rec));
      },
      onStep: (step, total, loss, lr, tokens) => {
        bar ??= new ProgressBar({ total, start: step - 1, write, tty: o.tty ?? process.stderr.isTTY === true });
        bar.update({ step, loss, lr, tokensPerStep: tokens });
      },
      log: (m) => (bar ? bar.log(m) : write(m + '\n')),
    });
    (bar as ProgressBar | null)?.finish();
    write(r.adapted.parameterTable() + '\n');
    write(`${memoryLine(r.peakMemoryBytes, r.peakMemory)}${r.offloadedOptimizerBytes ? `; optimizer state offloaded to the host: ${mib(r.offloadedOptimizerBytes)}` : ''}\n`);
    await saveAdapter(r.adapted, out);
    const summary: Record<string, unknown> = {
      task: task.name, method: o.method, metric: task.metric, ...r.final.metrics,
      params: r.adapted.parameterCounts(), steps: r.steps, train_seconds: r.trainSeconds, peak_memory_bytes: r.peakMemoryBytes,
      peak_memory: r.peakMemory, offloaded_optimizer_bytes: r.offloadedOptimizerBytes,
    };
    const proc = processMemory();
    Object.assign(summary, proc);
    write(formatProcessMemory(proc) + '\n');
    const extra: Partial<MethodResult> = trainingState(r.adapted);
    if (task.testBatches) {
      const test = task.evaluate(model, task.testBatches());
      summary.test = test.metrics;
      extra.testMetrics = { ...test.metrics };
      write(`test: ${task.describe(test)}\n`);
    }
    const forecasts = task.forecastSamples?.(model);
    if (forecasts) {
      extra.forecasts = forecasts;
      summary.forecasts = forecasts; // the report's plots, kept with the figures
    }
    let baselineRow: MethodResult | null = null;
    if (p.series) {
      // A complete model (`wasmgrad forecast --model <out>` for forecasters): the adapter merged into a copy of
      // the weights on disk, and the training split's standardisation.
      r.adapted.merge();
      try {
        await savePretrained(model, join(out, 'model'));
      } finally {
        r.adapted.unmerge();
      }
      await writeFileAtomic(join(out, 'model', 'scaler.json'), JSON.stringify(p.series.scaler, null, 2) + '\n');
      if (o.baseline) {
        const b = await trainBaseline(p.series, config, write, o.tty);
        summary.baseline = b.summary;
        baselineRow = b.result;
      }
    }
    if ((o.noiseDraws ?? 0) > 0) {
      // σ = 0 is the final evaluation of training, on the same validation batches.
      summary.noise = await evaluateUnderNoise(r.adapted, () => task.evaluate(model, task.validationBatches()).metrics[task.metric], { draws: o.noiseDraws, clean: r.final.metrics[task.metric] });
    }
    const counts = r.adapted.parameterCounts();
    r.adapted.remove();
    // Every weight trained (full, LISA, GRASS) on a text task: the whole model is the result.
    const wholeModel = counts.trainedBase + counts.head === counts.base && p.tokenizer !== undefined;
    if (wholeModel && p.tokenizer) {
      await savePretrained(model, join(out, 'model'));
      await saveTokenizer(p.tokenizer, join(out, 'model')); // a complete checkpoint: `wasmgrad eval --model <out>/model`
    }
    if (r.final.generation) {
      summary.generation = r.final.generation;
      summary.train_tokens = r.trainTokens;
      summary.outputs = (r.final as unknown as { outputs?: string[] }).outputs;
    }
    await writeFileAtomic(join(out, 'results.json'), JSON.stringify(summary, null, 2) + '\n');
    const report = singleRunReport(o, p.source, task.metric, r, summary.noise as MethodResult['noise'] | undefined, extra);
    if (baselineRow) report.results.push(baselineRow);
    await writeFileAtomic(join(out, 'report.md'), renderMarkdownReport(report));
    await writeFileAtomic(join(out, 'report.html'), renderHtmlReport(report));
    await rm(join(out, 'training_state'), { recursive: true, force: true });
    write(`wrote ${out}/adapter_config.json, adapter_model.safetensors, metrics.jsonl, results.json, report.md, report.html${p.series || wholeModel ? ', model/' : ''}\n`);
    return { ...r.final.metrics, stopped: false };
  } catch (err) {
    if (err instanceof Stop) {
      (bar as ProgressBar | null)?.finish();
      write(`stopped after step ${stopAfter}; continue with --resume\n`);
      return { ...Object.fromEntries(task.metricNames.map((k) => [k, NaN])), stopped: true };
    }
    throw err;
  } finally {
    if (o.detectAnomaly) detectAnomaly(false);
    model.dispose();
  }
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** `peak heap 12.0 MiB: parameters 4.0, gradients 2.0, optimizer 4.0, activations 2.0 MiB`. */
export function memoryLine(peak: number, split: MemoryBreakdown): string {
  return `peak heap ${mib(peak)}: ${MEMORY_CATEGORIES.map((k) => `${k} ${(split[k] / 2 ** 20).toFixed(1)}`).join(', ')} MiB`;
}

/** One method's report (the compare report's layout with one row). */
function singleRunReport(o: FinetuneCliOptions, source: string, metric: string, r: Awaited<ReturnType<typeof runFinetune>>, noise: MethodResult['noise'] | undefined, extra: Partial<MethodResult>): ExperimentReport {
  const counts = r.adapted.parameterCounts();
  const g = r.final.generation;
  const result: MethodResult = {
    method: methodName(r.adapted.config), label: describeConfig(r.adapted.config),
    trainableParams: counts.trainable, totalParams: counts.total, paramsWithoutHead: counts.adapter + counts.trainedBase,
    metric: r.final.metrics[metric], metricName: metric, noise: noise ?? [],
    trainSeconds: r.trainSeconds, peakMemoryBytes: r.peakMemoryBytes, peakMemory: r.peakMemory, steps: r.steps, finalLoss: r.finalLoss, trainTokens: r.trainTokens, lossCurve: r.lossCurve,
    ...(g ? { generation: { ...g, scores: { ...g.scores } } } : {}),
    ...(r.selection ? { selection: r.selection } : {}),
    ...extra,
  };
  return {
    title: `wasmgrad: ${result.label ?? result.method} on ${o.task}`, task: o.task, model: o.model, createdAt: new Date().toISOString(),
    noiseModel: 'multiplicative', noiseTargets: 'every attention projection and both FFN layers of each block, perturbed after merging',
    results: [result],
    notes: [source, `epochs ${o.epochs ?? 'default'}, batch ${o.batchSize ?? 'default'}, lr ${o.lr ?? 'the method default'}, seed ${o.seed ?? 0}.`],
  };
}

export interface EvalCliOptions {
  /** Which rows to score (default: every row of a lone file, else the validation split). */
  split?: EvalSplit;
  model: string;
  adapter?: string;
  task: string;
  datasetsDir?: string;
  /** GLUE layout of a task path whose folder name does not tell it. */
  format?: GlueTask;
  maxLength?: number;
  /** The data file of `--task e2e`. */
  data?: string;
  e2e?: Partial<E2ETaskConfig>;
  draws?: number;
  sigmas?: number[];
  noiseMode?: NoiseModel;
  /** Flags of a series task (`--task forecast --data <csv>`). */
  series?: SeriesOptions;
  write?: (text: string) => void;
}

/** Why these rows are scored, for the line `eval` prints first. */
function describeSplit(prepared: Prepared, given: EvalSplit | undefined): string {
  const p = prepared.run;
  if (!p) return `scoring the ${prepared.task.validationExamples} validation windows of ${prepared.source}`;
  const { loaded, evaluatedOn } = p;
  const n = p.task.validationExamples;
  const rows = `${n} row${n === 1 ? '' : 's'}`;
  // A task reading its own data file (e2e) holds out part of it; its source line says which.
  if (!loaded) return `scoring the ${rows} held out: ${p.source}`;
  const file = loaded.heldOutFrom;
  if (evaluatedOn === 'all') {
    return file
      ? `scoring all ${rows} of ${file} (${given ? '--split all' : 'a single file: every row by default'}; --split validation scores the ${loaded.validation.length} rows fine-tuning held out)`
      : `scoring all ${rows} of ${loaded.name}: its training and validation splits (--split all)`;
  }
  if (evaluatedOn === 'train') return `scoring the ${rows} of ${loaded.name}'s training split (--split train)`;
  return file
    ? `scoring the ${rows} fine-tuning held out of ${file} (--split validation; --split all scores every row)`
    : `scoring the ${rows} of ${loaded.name}'s validation split (${given ? '--split validation' : 'the default'}; --split all adds the training rows)`;
}

/** Evaluates a model (+ adapter) on a task, clean and (with draws > 0) under noise. */
export async function runEvalCli(o: EvalCliOptions): Promise<Record<string, unknown>> {
  const write = o.write ?? ((t: string) => void process.stdout.write(t));
  if (o.split !== undefined && !EVAL_SPLITS.includes(o.split)) throw new Error(`eval: --split ${o.split} is not one of ${EVAL_SPLITS.join(', ')}`);
  await ensureBackend();
  const p = await prepare({ ...o, seed: 0, evaluateOn: o.split ?? 'auto' });
  const { task } = p;
  const fresh: string[] = [];
  const model = await p.loadModel(undefined, fresh); // a head missing here must come from the adapter (checked below)
  try {
    const adapted = o.adapter ? await loadAdapterFromDirectory(model, resolve(o.adapter)) : null;
    const saved = adapted?.config.modules_to_save ?? [];
    const unsupplied = fresh.filter((k) => !saved.some((m) => k.startsWith(`${m}.`) || k.includes(`.${m}.`)));
    if (unsupplied.length) {
      throw new Error(
        `eval: the task head (${unsupplied.join(', ')}) is neither in ${p.dir} nor in ${o.adapter ? `the adapter ${o.adapter}` : 'an adapter'}, ` +
          'so it would score a randomly initialised head; pass --adapter <dir> written by finetune, or a fine-tuned checkpoint (finetune --method full writes <out>/model)',
      );
    }
    if (fresh.length) write(`task head from the adapter ${o.adapter}: ${fresh.join(', ')}\n`);
    write(describeSplit(p, o.split) + '\n');
    const clean = task.evaluate(model, task.validationBatches());
    const scores = task.metricNames.map((k) => `${k} ${clean.metrics[k].toFixed(4)}`).join(', ');
    write(`${task.name} (${clean.examples} examples): ${scores}, loss ${clean.loss.toFixed(4)}\n`);
    const result: Record<string, unknown> = { task: task.name, ...clean.metrics, loss: clean.loss };
    if (task.testBatches) {
      const test = task.evaluate(model, task.testBatches());
      write(`test: ${task.describe(test)}\n`);
      result.test = test.metrics;
    }
    if ((o.draws ?? 0) > 0) {
      const metric = task.metric;
      const noise = await evaluateUnderNoise(adapted ?? model, () => task.evaluate(model, task.validationBatches()).metrics[metric], {
        draws: o.draws, sigmas: o.sigmas, mode: o.noiseMode, clean: clean.metrics[metric], // σ = 0: the clean score above
      });
      write(`${metric} under ${o.noiseMode ?? 'multiplicative'} weight noise:\n`);
      for (const n of noise) write(`  σ=${n.sigma.toFixed(2)}  ${n.mean.toFixed(4)} ± ${n.std.toFixed(4)}  (${n.draws} draws)\n`);
      result.noise = noise;
    }
    return result;
  } finally {
    model.dispose();
  }
}
