/**
 * Linear probes: how much a frozen model's features already say about a task. Each text becomes
 * one pooled vector (mean over its tokens, or the first / last token's state), the features are
 * standardised with the training split's statistics, and an L2 logistic regression is fitted with
 * its C chosen by stratified cross-validation on the training split alone; the figure is accuracy
 * on the held-out split. The quickest honest check of a base model.
 */
import { permutation } from '../data/blocks.js';
import { GPT2LMHeadModel } from '../models/gpt2/index.js';
import { RobertaForMaskedLM, RobertaForSequenceClassification, RobertaModel } from '../models/roberta/index.js';
import { tensor } from '../ops/create.js';
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ByteLevelBPETokenizer } from '../tokenizer/tokenizer.js';
import { DenseDesign, fitLogistic, predictLogistic, type Design } from './logistic.js';

import type { ProbePooling } from './probe-pooling.js';

export { PROBE_POOLINGS, type ProbePooling } from './probe-pooling.js';

export type ProbeModel = GPT2LMHeadModel | RobertaForMaskedLM | RobertaForSequenceClassification | RobertaModel;

export interface FeatureOptions {
  /** Texts per forward pass (default 32; texts are grouped by length to limit padding). */
  batch?: number;
  /** Token cap per text (default: the model's maximum). */
  maxLength?: number;
  /**
   * Which hidden states to pool: 0 is the embeddings' output, i the output of layer i, and the
   * number of layers (the default) the final states (after GPT-2's ln_f).
   */
  layers?: readonly number[];
}

/** Hidden states (B, T, C) of a frozen model, embeddings first and final last (after GPT-2's ln_f); padding is on the right. */
function hiddenStates(model: ProbeModel, ids: Tensor, mask: Tensor): Tensor[] {
  // GPT-2 is causal, so right padding cannot reach real tokens.
  if (model instanceof GPT2LMHeadModel) return model.transformer.hiddenStates(ids, { attentionMask: mask });
  const trunk = model instanceof RobertaModel ? model : model.roberta;
  return trunk.hiddenStates(ids, { attentionMask: mask });
}

/** The number of layers of a probe model (its hidden states are 0..this). */
export function probeModelLayers(model: ProbeModel): number {
  if (model instanceof GPT2LMHeadModel) return model.config.n_layer;
  return (model instanceof RobertaModel ? model.config : model.roberta.config).num_hidden_layers;
}

/**
 * One pooled feature vector per text for each requested pooling of the final hidden states (or of
 * the one layer `opts.layers` names): a (texts x hidden) row-major matrix per pooling. The model runs
 * in eval mode without gradients.
 */
export function pooledFeatures(
  model: ProbeModel, tokenizer: ByteLevelBPETokenizer, texts: readonly string[], poolings: readonly ProbePooling[], opts: FeatureOptions = {},
): Map<ProbePooling, Float64Array> {
  const layers = opts.layers ?? [probeModelLayers(model)];
  if (layers.length !== 1) throw new Error(`pooledFeatures: pass one layer (got ${layers.length}); layerPooledFeatures takes several`);
  return layerPooledFeatures(model, tokenizer, texts, poolings, opts).get(layers[0]!)!;
}

/**
 * As `pooledFeatures`, for every layer in `opts.layers` (default: the final states) from one
 * forward pass per batch: layer -> pooling -> (texts x hidden) matrix.
 */
export function layerPooledFeatures(
  model: ProbeModel, tokenizer: ByteLevelBPETokenizer, texts: readonly string[], poolings: readonly ProbePooling[], opts: FeatureOptions = {},
): Map<number, Map<ProbePooling, Float64Array>> {
  const L = probeModelLayers(model);
  const layers = [...new Set(opts.layers ?? [L])];
  const badLayer = layers.filter((l) => !(Number.isInteger(l) && l >= 0 && l <= L));
  if (badLayer.length || layers.length === 0) {
    throw new Error(`probe: layers ${layers.join(', ')} must be integers 0..${L} (0 = the embeddings' output, ${L} = the final hidden states)`);
  }
  const gpt = model instanceof GPT2LMHeadModel;
  const cfgMax = gpt ? model.config.n_positions : (model instanceof RobertaModel ? model.config : model.roberta.config).maxLength;
  const maxLength = Math.min(opts.maxLength ?? cfgMax, cfgMax);
  const pad = gpt ? tokenizer.requireId('<|endoftext|>', 'probe') : tokenizer.requireId('<pad>', 'probe');
  const encoded = texts.map((t) => (gpt ? tokenizer.encodeForGpt2(t, { maxLength }) : tokenizer.encodeForRoberta(t, { maxLength })).ids);
  const C = gpt ? model.config.n_embd : (model instanceof RobertaModel ? model.config : model.roberta.config).hidden_size;
  const out = new Map(layers.map((l) => [l, new Map(poolings.map((p) => [p, new Float64Array(texts.length * C)] as const))] as const));
  const order = encoded.map((e, i) => i).sort((a, b) => encoded[a]!.length - encoded[b]!.length || a - b);
  const B = opts.batch ?? 32;
  const wasTraining = model.training;
  model.eval();
  try {
    for (let start = 0; start < order.length; start += B) {
      const rows = order.slice(start, start + B);
      const T = Math.max(1, ...rows.map((r) => encoded[r]!.length));
      const ids = new Int32Array(rows.length * T).fill(pad);
      const mask = new Int32Array(rows.length * T);
      rows.forEach((r, b) => {
        const e = encoded[r]!;
        ids.set(e, b * T);
        mask.fill(1, b * T, b * T + e.length);
      });
      const states = tidy(() => noGrad(() => {
        const hs = hiddenStates(model, tensor(ids, [rows.length, T], { dtype: 'int32' }), tensor(mask, [rows.length, T], { dtype: 'int32' }));
        return layers.map((l) => hs[l]!.toArray());
      }));
      layers.forEach((l, li) => {
        const h = states[li]!;
        const byPool = out.get(l)!;
        rows.forEach((r, b) => {
          const n = Math.max(1, encoded[r]!.length);
          for (const p of poolings) {
            const dst = byPool.get(p)!;
            const at = r * C;
            if (p === 'mean') {
              for (let t = 0; t < n; t++) for (let c = 0; c < C; c++) dst[at + c]! += h[(b * T + t) * C + c]! / n;
            } else {
              const t = p === 'first' ? 0 : n - 1;
              for (let c = 0; c < C; c++) dst[at + c] = h[(b * T + t) * C + c]!;
            }
          }
        });
      });
    }
  } finally {
    if (wasTraining) model.train();
  }
  return out;
}

/** Standardises columns in place with the mean and standard deviation of `fit` (constant columns get std 1). */
export function standardize(fit: Float64Array, others: readonly Float64Array[], cols: number): void {
  const rows = fit.length / cols;
  const mean = new Float64Array(cols);
  const sd = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) mean[c]! += fit[i * cols + c]! / rows;
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) sd[c]! += (fit[i * cols + c]! - mean[c]!) ** 2 / rows;
  for (let c = 0; c < cols; c++) sd[c] = sd[c]! > 1e-24 ? Math.sqrt(sd[c]!) : 1;
  for (const m of [fit, ...others]) for (let i = 0; i < m.length; i++) m[i] = (m[i]! - mean[i % cols]!) / sd[i % cols]!;
}

export interface ProbeFitOptions {
  /** Candidate C values (default 0.01, 0.1, 1, 10). */
  grid?: readonly number[];
  /** Cross-validation folds on the training split (default 5). */
  folds?: number;
  /** Seed of the fold assignment (default 0). */
  seed?: number;
}

export interface ProbeFit {
  /** Held-out accuracy of the model refitted on the whole training split with the chosen C. */
  accuracy: number;
  trainAccuracy: number;
  /** The C cross-validation chose, and the mean CV accuracy of each candidate. */
  C: number;
  cv: { C: number; accuracy: number }[];
}

/** Rows of a design as a new design (the CV folds). */
export type RowSelector = (X: Design, rows: readonly number[]) => Design;

export const selectDenseRows: RowSelector = (X, rows) => {
  const d = X as DenseDesign;
  const out = new Float64Array(rows.length * d.cols);
  rows.forEach((r, i) => out.set(d.data.subarray(r * d.cols, (r + 1) * d.cols), i * d.cols));
  return new DenseDesign(out, rows.length, d.cols);
};

/**
 * Chooses C by stratified k-fold cross-validation on the training rows (highest mean accuracy,
 * the smaller C on ties), refits on all of them, and scores the held-out rows.
 */
export function fitProbe(
  train: Design, trainLabels: ArrayLike<number>, validation: Design, validationLabels: ArrayLike<number>, select: RowSelector, opts: ProbeFitOptions = {},
): ProbeFit {
  const grid = opts.grid ?? [0.01, 0.1, 1, 10];
  const k = opts.folds ?? 5;
  const fold = stratifiedFolds(trainLabels, k, opts.seed ?? 0);
  const cv = grid.map((C) => {
    let correct = 0;
    for (let f = 0; f < k; f++) {
      const tr: number[] = [];
      const te: number[] = [];
      for (let i = 0; i < fold.length; i++) (fold[i] === f ? te : tr).push(i);
      const model = fitLogistic(select(train, tr), tr.map((i) => trainLabels[i]!), { C });
      const pred = predictLogistic(select(train, te), model);
      te.forEach((i, j) => (correct += pred[j] === trainLabels[i] ? 1 : 0));
    }
    return { C, accuracy: correct / fold.length };
  });
  const best = cv.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  const model = fitLogistic(train, trainLabels, { C: best.C });
  return { accuracy: accuracy(predictLogistic(validation, model), validationLabels), trainAccuracy: accuracy(predictLogistic(train, model), trainLabels), C: best.C, cv };
}

function accuracy(pred: ArrayLike<number>, labels: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < labels.length; i++) c += pred[i] === labels[i] ? 1 : 0;
  return c / labels.length;
}

/** Fold index of each row: each class's rows in a seeded order dealt round-robin to the k folds. */
export function stratifiedFolds(labels: ArrayLike<number>, k: number, seed: number): Int32Array {
  if (!(Number.isInteger(k) && k >= 2)) throw new Error(`stratifiedFolds: folds = ${k} must be an integer >= 2`);
  const fold = new Int32Array(labels.length);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const rows = byClass.get(labels[i]!) ?? [];
    rows.push(i);
    byClass.set(labels[i]!, rows);
  }
  let offset = 0;
  for (const [label, rows] of [...byClass].sort((a, b) => a[0] - b[0])) {
    const p = permutation(rows.length, seed, label);
    p.forEach((r, j) => (fold[rows[r]!] = (offset + j) % k));
    offset += rows.length;
  }
  return fold;
}

export interface LinearProbeResult extends ProbeFit {
  pooling: ProbePooling;
  /** The hidden states probed: 0 = embeddings' output, the number of layers = final. */
  layer: number;
  features: number;
  train: number;
  validation: number;
}

/** Probes a frozen model on a binary task: one result per layer (default: the final states) and pooling. */
export function linearProbe(
  model: ProbeModel, tokenizer: ByteLevelBPETokenizer, train: readonly { text: string; label: number }[], validation: readonly { text: string; label: number }[],
  poolings: readonly ProbePooling[], opts: ProbeFitOptions & FeatureOptions = {},
): LinearProbeResult[] {
  const trainF = layerPooledFeatures(model, tokenizer, train.map((e) => e.text), poolings, opts);
  const valF = layerPooledFeatures(model, tokenizer, validation.map((e) => e.text), poolings, opts);
  return [...trainF].flatMap(([layer, byPool]) => poolings.map((pooling) => {
    const a = byPool.get(pooling)!;
    const b = valF.get(layer)!.get(pooling)!;
    const C = a.length / train.length;
    standardize(a, [b], C);
    const fit = fitProbe(new DenseDesign(a, train.length, C), train.map((e) => e.label), new DenseDesign(b, validation.length, C), validation.map((e) => e.label), selectDenseRows, opts);
    return { pooling, layer, features: C, train: train.length, validation: validation.length, ...fit };
  }));
}
