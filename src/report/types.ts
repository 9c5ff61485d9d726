/**
 * The experiment report's input: what each fine-tuning method scored, clean and under simulated hardware
 * weight noise, and what it cost. Plain JSON-serialisable data, so an experiment can write it to disk and
 * the report can be rendered later, elsewhere, or again with a different layout.
 *
 * `validateReport` is the contract: every renderer calls it first, so a malformed report fails with the
 * path of the bad field instead of producing a table full of `NaN`.
 */

import type { ForecastSample, TaskGeneration } from '../tasks/task.js';
import type { SelectionHistory } from '../train/finetune.js';

/** The task metric at one noise level, over several independent noise draws. */
export interface NoisePoint {
  /** Noise scale (relative for multiplicative noise). 0 is the clean model. */
  sigma: number;
  /** Mean of the metric over the draws; NaN when it could not be measured (shown as `n/a`). */
  mean: number;
  /** Standard deviation over the draws; NaN when unknown (one draw), never negative. */
  std: number;
  /** Number of noise draws the mean and std summarise. */
  draws: number;
}

/** A generation task's outputs for one method: the task's record (metrics, decoding cost, samples) as a report holds it. */
export type GenerationResult = Omit<TaskGeneration, 'scores'> & {
  /** Metric name -> score (bleu, nist, meteor, rougeL, cider), in table order. */
  scores: Record<string, number>;
};

/** One fine-tuning method's outcome. */
export interface MethodResult {
  /** 'full' | 'bitfit' | 'lora' | 'grasp' | 'stochgrasp' | 'rslora' | 'ia3' | ...; the tables' first column (with what tells the runs apart when several results share it: see rowName). */
  method: string;
  /** Human-readable variant, e.g. 'LoRA r=8 (q,v)', 'GRASP K=8'; used in chart legends, and in table rows of a method run more than once. Defaults to `method`. */
  label?: string;
  /** Parameters updated by the optimiser: a plain integer. */
  trainableParams: number;
  /** Parameters in the model (frozen and trainable). */
  totalParams: number;
  /** Trainable parameters outside the task head (the method's own cost), when known. */
  paramsWithoutHead?: number;
  /** Clean score of the task's main metric on the validation split (0..1 for accuracy and f1); NaN if not measured. */
  metric: number;
  /** Standard deviation of `metric` over seeds, when the run repeated over several (see `seeds`). */
  metricStd?: number;
  /** Training runs averaged into this result (different data-order seeds); 1 when absent. */
  seeds?: number;
  /** 'accuracy' | 'mcc' | 'f1'; the same for every result of one report. */
  metricName: string;
  /** Metric under weight noise per sigma (sigma 0 included). */
  noise: NoisePoint[];
  /** Wall time of training. */
  trainSeconds: number;
  /** Peak WebAssembly heap bytes during training. */
  peakMemoryBytes: number;
  /** What that peak was made of at its instant (parameters, gradients, optimizer state, activations and other temporaries), when measured. */
  peakMemory?: { parameters: number; gradients: number; optimizer: number; activations: number };
  /** Optimiser steps taken. */
  steps: number;
  /** Training loss at the end (NaN or Infinity if training diverged). */
  finalLoss?: number;
  /** Training loss over steps; non-finite losses are skipped in charts. */
  lossCurve?: { step: number; loss: number }[];
  /** Training tokens seen (real, unpadded), when known. */
  trainTokens?: number;
  /** Generation tasks: the decoded outputs' scores and cost. */
  generation?: GenerationResult;
  /**
   * A reference row that fine-tunes no model (e.g. the bag-of-words classifier): its parameters are
   * its own, it has no WebAssembly heap peak (shown as '-') and usually no noise curve.
   */
  baseline?: boolean;
  /** Layer-wise methods (LISA, GRASS): which blocks trained when and their draw probabilities (the block heatmap). */
  selection?: SelectionHistory;
  /** Every metric of the task on its test split, by name (series tasks), after training; means over seeds. */
  testMetrics?: Record<string, number>;
  /**
   * Bytes of the trainable values and their optimizer state (AdamW: two moments per value; 12 bytes per
   * float32 parameter); for a layer-wise method, of what one step trains (see {@link stepTrainable}).
   */
  stateBytes?: number;
  /**
   * Layer-wise methods (LISA, GRASS): what one step trains at most, the always-trained tensors and the
   * `blocks` largest of `of` blocks (`params` elements); `trainableParams` counts every tensor that can train.
   */
  stepTrainable?: { params: number; blocks: number; of: number };
  /** Forecasting: a few test windows' history, truth and prediction (the report's forecast plots). */
  forecasts?: ForecastSample[];
  /** LoRA-style methods: rank, alpha and scaling (`standard` alpha/r, `rs` alpha/sqrt(r)), for the rank-sweep plot. */
  lora?: { r: number; alpha: number; scaling: 'standard' | 'rs' };
}

/** A comparison of methods on one task and model. */
export interface ExperimentReport {
  title: string;
  task: string;
  model: string;
  /** ISO 8601 time the experiment was run. */
  createdAt: string;
  noiseModel: 'multiplicative' | 'additive';
  /** Which layers were perturbed, e.g. 'all Linear weights in the encoder'. */
  noiseTargets: string;
  results: MethodResult[];
  /** Free-form lines (settings, seeds, machine). */
  notes?: string[];
}

/** Two sigmas are the same noise level when closer than this (they are usually parsed from decimal text). */
export const SIGMA_TOLERANCE = 1e-9;

const NOISE_MODELS = ['multiplicative', 'additive'] as const;

/** The parts of MethodResult.peakMemory, in table order. */
export const PEAK_PARTS = ['parameters', 'gradients', 'optimizer', 'activations'] as const;

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || v === undefined || v === null) return String(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return typeof v;
}

/**
 * Throws on the first malformed field, naming the caller, the field's path and what it must be:
 * `renderMarkdownTable: results[2].trainableParams = 1.5 must be a non-negative integer`.
 * NaN is accepted where it means "not measured" (metric, noise mean and std, losses).
 */
export function validateReport(report: ExperimentReport, caller = 'validateReport'): void {
  const fail = (path: string, v: unknown, must: string): never => {
    throw new Error(`${caller}: ${path} = ${show(v)} ${must}`);
  };
  if (typeof report !== 'object' || report === null) fail('report', report, 'must be an ExperimentReport object');
  const r = report as unknown as Record<string, unknown>;
  for (const key of ['title', 'task', 'model', 'createdAt', 'noiseTargets'] as const) {
    if (typeof r[key] !== 'string') fail(key, r[key], 'must be a string');
  }
  if (Number.isNaN(Date.parse(report.createdAt))) fail('createdAt', report.createdAt, 'must be an ISO 8601 date');
  if (!NOISE_MODELS.includes(report.noiseModel)) fail('noiseModel', report.noiseModel, `must be one of ${NOISE_MODELS.join(', ')}`);
  if (!Array.isArray(report.results)) fail('results', report.results, 'must be an array of MethodResult');
  if (report.results.length === 0) fail('results', report.results, 'must hold at least one method: there is nothing to report');
  if (report.notes !== undefined) {
    if (!Array.isArray(report.notes)) fail('notes', report.notes, 'must be an array of strings or absent');
    report.notes.forEach((n, i) => typeof n === 'string' || fail(`notes[${i}]`, n, 'must be a string'));
  }
  const metricName = report.results[0]?.metricName;
  report.results.forEach((res, i) => validateResult(res, `results[${i}]`, fail));
  report.results.forEach((res, i) => {
    // one table column shows one metric; mixing accuracy and mcc in it would mislead
    if (res.metricName !== metricName) fail(`results[${i}].metricName`, res.metricName, `must equal results[0].metricName = ${show(metricName)}`);
  });
}

type Fail = (path: string, v: unknown, must: string) => never;

function validateResult(res: MethodResult, at: string, fail: Fail): void {
  if (typeof res !== 'object' || res === null) fail(at, res, 'must be a MethodResult object');
  const nonNegInt = (path: string, v: unknown) =>
    (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || fail(path, v, 'must be a non-negative integer');
  const nonNeg = (path: string, v: unknown) =>
    (typeof v === 'number' && Number.isFinite(v) && v >= 0) || fail(path, v, 'must be a finite number >= 0');
  const measured = (path: string, v: unknown) =>
    (typeof v === 'number' && !(v === Infinity || v === -Infinity)) || fail(path, v, 'must be a finite number, or NaN if not measured');

  if (typeof res.method !== 'string' || res.method.trim() === '') fail(`${at}.method`, res.method, 'must be a non-empty string');
  if (res.label !== undefined && typeof res.label !== 'string') fail(`${at}.label`, res.label, 'must be a string or absent');
  nonNegInt(`${at}.trainableParams`, res.trainableParams);
  nonNegInt(`${at}.totalParams`, res.totalParams);
  if (res.trainableParams > res.totalParams) {
    fail(`${at}.trainableParams`, res.trainableParams, `must be <= totalParams = ${res.totalParams}`);
  }
  if (res.paramsWithoutHead !== undefined) {
    nonNegInt(`${at}.paramsWithoutHead`, res.paramsWithoutHead);
    if (res.paramsWithoutHead > res.trainableParams) {
      fail(`${at}.paramsWithoutHead`, res.paramsWithoutHead, `must be <= trainableParams = ${res.trainableParams}`);
    }
  }
  measured(`${at}.metric`, res.metric);
  if (res.metricStd !== undefined) measured(`${at}.metricStd`, res.metricStd);
  if (res.seeds !== undefined && !(Number.isInteger(res.seeds) && res.seeds >= 1)) fail(`${at}.seeds`, res.seeds, 'must be a positive integer');
  if (typeof res.metricName !== 'string' || res.metricName.trim() === '') {
    fail(`${at}.metricName`, res.metricName, "must be a non-empty string such as 'accuracy', 'mcc' or 'f1'");
  }
  nonNeg(`${at}.trainSeconds`, res.trainSeconds);
  nonNeg(`${at}.peakMemoryBytes`, res.peakMemoryBytes);
  if (res.peakMemory !== undefined) {
    if (typeof res.peakMemory !== 'object' || res.peakMemory === null) fail(`${at}.peakMemory`, res.peakMemory, 'must be {parameters, gradients, optimizer, activations} or absent');
    for (const k of PEAK_PARTS) nonNeg(`${at}.peakMemory.${k}`, res.peakMemory[k]);
    const sum = PEAK_PARTS.reduce((n, k) => n + res.peakMemory![k], 0);
    if (Math.abs(sum - res.peakMemoryBytes) > 0.5) fail(`${at}.peakMemory`, `parts summing to ${sum}`, `must add up to peakMemoryBytes = ${res.peakMemoryBytes}`);
  }
  nonNegInt(`${at}.steps`, res.steps);
  if (res.finalLoss !== undefined && typeof res.finalLoss !== 'number') fail(`${at}.finalLoss`, res.finalLoss, 'must be a number or absent');

  if (!Array.isArray(res.noise)) fail(`${at}.noise`, res.noise, 'must be an array of NoisePoint (it may be empty)');
  res.noise.forEach((p, j) => {
    const pat = `${at}.noise[${j}]`;
    if (typeof p !== 'object' || p === null) fail(pat, p, 'must be a NoisePoint object');
    nonNeg(`${pat}.sigma`, p.sigma);
    measured(`${pat}.mean`, p.mean);
    if (typeof p.std !== 'number' || p.std < 0 || p.std === Infinity) fail(`${pat}.std`, p.std, 'must be a finite number >= 0, or NaN if unknown');
    nonNegInt(`${pat}.draws`, p.draws);
    const k = res.noise.findIndex((q) => Math.abs(q.sigma - p.sigma) < SIGMA_TOLERANCE);
    if (k !== j) fail(`${pat}.sigma`, p.sigma, `repeats ${at}.noise[${k}].sigma; give one point per sigma`);
  });

  if (res.generation !== undefined) {
    const g = res.generation;
    const gat = `${at}.generation`;
    if (typeof g !== 'object' || g === null) fail(gat, g, 'must be a GenerationResult object or absent');
    if (typeof g.scores !== 'object' || g.scores === null) fail(`${gat}.scores`, g.scores, 'must be an object of metric name -> number');
    for (const [k, v] of Object.entries(g.scores)) measured(`${gat}.scores.${k}`, v);
    nonNegInt(`${gat}.instances`, g.instances);
    nonNegInt(`${gat}.skipped`, g.skipped);
    nonNeg(`${gat}.decodeSeconds`, g.decodeSeconds);
    nonNegInt(`${gat}.generatedTokens`, g.generatedTokens);
    if (typeof g.decoding !== 'string') fail(`${gat}.decoding`, g.decoding, 'must be a string');
    if (!Array.isArray(g.samples)) fail(`${gat}.samples`, g.samples, 'must be an array of {input, output, reference}');
  }
  if (res.trainTokens !== undefined) nonNegInt(`${at}.trainTokens`, res.trainTokens);
  if (res.baseline !== undefined && typeof res.baseline !== 'boolean') fail(`${at}.baseline`, res.baseline, 'must be a boolean or absent');
  if (res.selection !== undefined) {
    const sel = res.selection;
    const sat = `${at}.selection`;
    if (typeof sel !== 'object' || sel === null) fail(sat, sel, 'must be {blocks, steps, points} or absent');
    if (!(Number.isInteger(sel.blocks) && sel.blocks >= 1)) fail(`${sat}.blocks`, sel.blocks, 'must be a positive integer');
    if (!(Number.isInteger(sel.steps) && sel.steps >= 1)) fail(`${sat}.steps`, sel.steps, 'must be a positive integer');
    if (!Array.isArray(sel.points)) fail(`${sat}.points`, sel.points, 'must be an array of {step, active, probabilities}');
    sel.points.forEach((p, j) => {
      const pat = `${sat}.points[${j}]`;
      if (!(Number.isInteger(p?.step) && p.step >= 0 && p.step < sel.steps)) fail(`${pat}.step`, p?.step, `must be an integer step in 0..${sel.steps - 1}`);
      if (j > 0 && p.step < sel.points[j - 1]!.step) fail(`${pat}.step`, p.step, `must not be before ${sat}.points[${j - 1}].step`);
      if (!Array.isArray(p.active) || p.active.some((b) => !(Number.isInteger(b) && b >= 0 && b < sel.blocks))) fail(`${pat}.active`, p.active, `must list block positions in 0..${sel.blocks - 1}`);
      if (!Array.isArray(p.probabilities) || !(p.probabilities.length === 0 || p.probabilities.length === sel.blocks) || p.probabilities.some((x) => !(x >= 0 && x <= 1))) {
        fail(`${pat}.probabilities`, p.probabilities, `must be ${sel.blocks} probabilities in [0, 1] (or empty when unknown)`);
      }
    });
  }
  if (res.testMetrics !== undefined) {
    if (typeof res.testMetrics !== 'object' || res.testMetrics === null) fail(`${at}.testMetrics`, res.testMetrics, 'must be an object of metric name -> number or absent');
    for (const [k, v] of Object.entries(res.testMetrics)) measured(`${at}.testMetrics.${k}`, v);
  }
  if (res.stateBytes !== undefined) nonNeg(`${at}.stateBytes`, res.stateBytes);
  if (res.stepTrainable !== undefined) {
    const st = res.stepTrainable;
    if (!(Number.isInteger(st?.params) && st.params >= 0 && st.params <= res.trainableParams)) fail(`${at}.stepTrainable.params`, st?.params, `must be an integer in 0..trainableParams (${res.trainableParams})`);
    if (!(Number.isInteger(st.of) && st.of >= 1 && Number.isInteger(st.blocks) && st.blocks >= 1 && st.blocks <= st.of)) fail(`${at}.stepTrainable`, st, 'must have integers 1 <= blocks <= of');
  }
  if (res.forecasts !== undefined) {
    if (!Array.isArray(res.forecasts)) fail(`${at}.forecasts`, res.forecasts, 'must be an array of {window, channel, history, truth, prediction} or absent');
    res.forecasts.forEach((f, j) => {
      const fat = `${at}.forecasts[${j}]`;
      if (!(Number.isInteger(f?.window) && f.window >= 0)) fail(`${fat}.window`, f?.window, 'must be a window index >= 0');
      if (typeof f.channel !== 'string') fail(`${fat}.channel`, f.channel, 'must be a string');
      for (const k of ['history', 'truth', 'prediction'] as const) {
        if (!Array.isArray(f[k]) || f[k].some((v) => typeof v !== 'number')) fail(`${fat}.${k}`, f[k], 'must be an array of numbers');
      }
      if (f.truth.length !== f.prediction.length) fail(`${fat}.prediction`, f.prediction, `must have as many steps as truth (${f.truth.length})`);
    });
  }
  if (res.lora !== undefined) {
    const l = res.lora;
    if (typeof l !== 'object' || l === null) fail(`${at}.lora`, l, 'must be {r, alpha, scaling} or absent');
    if (!(Number.isInteger(l.r) && l.r >= 1)) fail(`${at}.lora.r`, l.r, 'must be a positive integer');
    nonNeg(`${at}.lora.alpha`, l.alpha);
    if (l.scaling !== 'standard' && l.scaling !== 'rs') fail(`${at}.lora.scaling`, l.scaling, "must be 'standard' (alpha/r) or 'rs' (alpha/sqrt(r))");
  }
  if (res.lossCurve !== undefined) {
    if (!Array.isArray(res.lossCurve)) fail(`${at}.lossCurve`, res.lossCurve, 'must be an array of {step, loss} or absent');
    res.lossCurve.forEach((p, j) => {
      if (typeof p !== 'object' || p === null) fail(`${at}.lossCurve[${j}]`, p, 'must be a {step, loss} object');
      if (typeof p.step !== 'number' || !Number.isFinite(p.step)) fail(`${at}.lossCurve[${j}].step`, p.step, 'must be a finite number');
      if (typeof p.loss !== 'number') fail(`${at}.lossCurve[${j}].loss`, p.loss, 'must be a number');
    });
  }
}
