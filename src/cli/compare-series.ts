/**
 * `wasmgrad compare --task forecast|forecast-short|impute|anomaly|classify-series`: several methods
 * on one series task and one backbone (each from the same pretrained weights and the same fresh
 * input/output layers), plus the linear baseline as the floor, in one report: every test metric,
 * trainable parameters, trainable + optimizer-state bytes, peak heap and time; forecast plots
 * (history, truth, each method's forecast of a few test windows) and, when a method runs at several
 * ranks (`--sweep r=2,4,8`), the rank-sweep plot. results.json keeps everything the report shows.
 */
import { appendFile, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defaultLr } from '../adapters/registry.js';
import { compareMethods, type MethodRun } from '../experiments/compare.js';
import { saveAdapter } from '../node/adapter-files.js';
import { writeFileAtomic } from '../node/files.js';
import { renderHtmlReport, renderMarkdownReport, seriesTable, markdownTable } from '../report/index.js';
import type { ExperimentReport } from '../report/types.js';
import { DEFAULT_HEAD_LR, FINETUNE_DEFAULTS, resolveFinetuneConfig } from '../train/finetune-config.js';
import { metricsLine } from '../train/metrics.js';
import { runsProgress } from '../train/progress.js';
import { prepareSeriesRun, trainBaseline, type SeriesOptions, type SeriesTaskName } from './series.js';

/** The linear baseline's peak learning rate when --lr is not given (one Linear trains well at 1e-3 on ETT). */
export const BASELINE_LR = 1e-3;

export interface SeriesCompareOptions {
  model: string;
  task: SeriesTaskName;
  runs: readonly MethodRun[];
  /** File-safe names of the runs (metrics JSONL and adapter folders). */
  names: readonly string[];
  out: string;
  series: SeriesOptions;
  /** Train the linear baseline too (default true; not for classify-series). */
  baseline?: boolean;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  headLr?: number;
  seed?: number;
  seeds?: readonly number[];
  offloadOptimizer?: boolean;
  /** Weight-noise draws per sigma (default 0: series reports are about the test split and the cost). */
  draws?: number;
  sigmas?: readonly number[];
  noiseMode?: 'multiplicative' | 'additive';
  title?: string;
  write: (text: string) => void;
  tty?: boolean;
}

export async function runSeriesCompare(o: SeriesCompareOptions): Promise<ExperimentReport> {
  const { write } = o;
  const seed = o.seed ?? 0;
  const s = await prepareSeriesRun(o.model, o.task, { ...o.series, seed });
  const { task } = s;
  write(`task ${o.task} (${task.name}): ${task.trainExamples} training, ${task.validationExamples} validation windows (${task.metric}); ${s.source}; model ${s.dir}\n`);
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  for (const n of o.names) await rm(join(out, `${n}.metrics.jsonl`), { force: true });
  const mode = o.noiseMode ?? 'multiplicative';
  const draws = o.draws ?? 0;
  const config = { epochs: o.epochs, batchSize: o.batchSize, seed, lr: o.lr, headLr: o.headLr, offloadOptimizer: o.offloadOptimizer };
  const results = await compareMethods({
    runs: o.runs,
    loadModel: s.loadModel,
    task,
    config,
    noise: { sigmas: o.sigmas, draws, mode, seed },
    seeds: o.seeds,
    ...runsProgress(write, o.tty ?? process.stderr.isTTY === true),
    onRecord: (_method, rec, i) => appendFile(join(out, `${o.names[i]}.metrics.jsonl`), metricsLine(rec)),
    afterMethod: (run, result, adapted) => {
      const name = o.names[o.runs.indexOf(run)]!; // distinct per run (as its files), where the method may repeat
      if (result.testMetrics) write(`${name}: test ${Object.entries(result.testMetrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}\n`);
      return saveAdapter(adapted, join(out, 'adapters', name));
    },
  });
  const wantBaseline = o.baseline ?? true;
  if (wantBaseline && s.horizon === null) write('(no linear baseline row: it maps a window to steps and does not classify)\n');
  else if (wantBaseline) {
    // The same loop and schedule as the methods; its own learning rate unless --lr sets one for all.
    const b = await trainBaseline(s, resolveFinetuneConfig({ ...config, lr: o.lr ?? BASELINE_LR }, 'full'), write, o.tty);
    results.push(b.result);
  }
  const D = FINETUNE_DEFAULTS;
  const report: ExperimentReport = {
    title: o.title ?? `wasmgrad: methods on ${o.task} (${task.name})`,
    task: `${o.task}: ${task.name}`,
    model: o.model,
    createdAt: new Date().toISOString(),
    noiseModel: mode,
    noiseTargets: 'every attention projection and both FFN layers of each kept GPT-2 block, perturbed after merging',
    results,
    notes: [
      `${s.source}; ${task.trainExamples} training / ${task.validationExamples} validation windows; the summary's ${task.metric} is on the validation split, the test table on the test split; seed${o.seeds ? `s ${o.seeds.join(', ')}` : ` ${seed}`}.`,
      `AdamW, warmup ${D.warmupRatio * 100}% then linear decay, batch ${o.batchSize ?? D.batchSize}, ${o.epochs ?? D.epochs} epochs, the final model scored (no early stopping); peak learning rates ${[...new Set(o.runs.map((r) => `${r.method} ${o.lr ?? defaultLr(r.method)}`))].join(', ')}${results.some((r) => r.baseline) ? `, linear ${o.lr ?? BASELINE_LR}` : ''}; the head's ${o.headLr ?? `min(lr, ${DEFAULT_HEAD_LR})`}.`,
      'Trainable + optimizer state counts each trainable float32 value with its two AdamW moments (12 bytes per parameter); a layer-wise method (LISA, GRASS) counts what one step trains (the tensors every step trains and its gamma largest blocks; with frozen_state keep, plus the moments switched-off blocks keep), and its trainable params say how many of them one step trains; peak heap is the most WebAssembly heap bytes live at once in training (parameters, gradients, optimizer state, activations).',
      ...(draws > 0 ? [] : ['No weight-noise evaluation (--draws 0, the default for series tasks).']),
    ],
  };
  await writeFileAtomic(join(out, 'results.json'), JSON.stringify({ ...report, runs: o.runs }, null, 2) + '\n');
  await writeFileAtomic(join(out, 'report.md'), renderMarkdownReport(report));
  await writeFileAtomic(join(out, 'report.html'), renderHtmlReport(report));
  process.stdout.write('\n' + markdownTable(seriesTable(report)!) + '\n');
  write(`\nwrote ${join(out, 'report.md')}, ${join(out, 'report.html')}, results.json, metrics JSONL and adapters/\n`);
  return report;
}
