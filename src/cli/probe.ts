/**
 * `wasmgrad probe`: a linear probe on a frozen model's pooled features (mean, first token `<s>`,
 * or last token), or with `--method bow` the bag-of-words baseline, on a binary single-sentence
 * task's train/validation split (the same split fine-tuning uses). Prints one row per figure and
 * can write them as JSON.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ensureBackend } from './backend.js';
import { writeFileAtomic } from '../node/files.js';
import { resolveModelDir } from '../node/paths.js';
import { fromPretrained } from '../node/pretrained.js';
import { loadTask } from '../node/tasks.js';
import { loadTokenizerFromDirectory } from '../node/tokenizer-files.js';
import type { GlueTask } from '../tasks/glue.js';
import { bagOfWordsBaseline } from '../train/bow.js';
import { linearProbe, PROBE_POOLINGS, probeModelLayers, type ProbePooling, type ProbeModel } from '../train/probe.js';
import { formatDuration } from '../train/progress.js';

export interface ProbeCommandOptions {
  model?: string;
  method: 'probe' | 'bow';
  task: string;
  datasets?: string;
  format?: GlueTask;
  pool: string;
  /** Hidden states to probe: `last` (default), `all`, or a comma-separated list of 0..layers (0 = embeddings). */
  layers?: string;
  folds: number;
  maxLength?: number;
  json?: string;
  write?: (s: string) => void;
}

export interface ProbeRow {
  method: string;
  model: string | null;
  pooling: ProbePooling | null;
  /** Hidden states probed (0 = embeddings' output, the model's layer count = final); null for bow. */
  layer: number | null;
  accuracy: number;
  trainAccuracy: number;
  C: number;
  cv: { C: number; accuracy: number }[];
  train: number;
  validation: number;
  features: number;
  seconds: number;
}

export async function runProbeCommand(o: ProbeCommandOptions): Promise<ProbeRow[]> {
  const write = o.write ?? ((s: string) => void process.stdout.write(s));
  if (o.method !== 'probe' && o.method !== 'bow') throw new Error(`--method ${String(o.method)}: use probe (frozen features) or bow (bag of words)`);
  const task = await loadTask(o.task, { datasetsDir: o.datasets, format: o.format });
  if (task.spec.numLabels !== 2 || [...task.train, ...task.validation].some((e) => e.textPair !== undefined)) {
    throw new Error(`probe: task ${task.name} must be a binary single-sentence task (like sentiment or sst2)`);
  }
  write(`task ${task.name}: ${task.train.length} train / ${task.validation.length} validation (${task.source})\n`);
  const rows: ProbeRow[] = [];
  const t0 = performance.now();
  if (o.method === 'bow') {
    const r = bagOfWordsBaseline(task.train, task.validation, { folds: o.folds });
    rows.push({ method: 'bow', model: null, pooling: null, layer: null, accuracy: r.accuracy, trainAccuracy: r.trainAccuracy, C: r.C, cv: r.cv, train: r.train, validation: r.validation, features: r.vocabulary, seconds: (performance.now() - t0) / 1000 });
  } else {
    if (!o.model) throw new Error('probe: pass --model <checkpoint directory or bundled name>, or --method bow');
    const pools = o.pool.split(',').map((p) => p.trim()) as ProbePooling[];
    const bad = pools.filter((p) => !PROBE_POOLINGS.includes(p));
    if (bad.length || pools.length === 0) throw new Error(`--pool ${o.pool}: use a comma-separated list of ${PROBE_POOLINGS.join(', ')}`);
    await ensureBackend();
    const dir = resolveModelDir(o.model);
    const loaded = await fromPretrained(dir);
    if (loaded.family !== 'gpt2' && loaded.family !== 'roberta') {
      loaded.dispose();
      throw new Error(`probe: ${dir} is a ${loaded.family} model; the probe reads the text features of a GPT-2 or RoBERTa checkpoint`);
    }
    const model = loaded as ProbeModel;
    try {
      const layers = parseProbeLayers(o.layers ?? 'last', probeModelLayers(model));
      const tokenizer = await loadTokenizerFromDirectory(dir);
      for (const r of linearProbe(model, tokenizer, task.train, task.validation, pools, { folds: o.folds, maxLength: o.maxLength, layers })) {
        rows.push({ method: 'probe', model: o.model, pooling: r.pooling, layer: r.layer, accuracy: r.accuracy, trainAccuracy: r.trainAccuracy, C: r.C, cv: r.cv, train: r.train, validation: r.validation, features: r.features, seconds: (performance.now() - t0) / 1000 });
      }
    } finally {
      model.dispose();
    }
  }
  write('| method | model | layer | pooling | features | C (by CV) | CV accuracy | validation accuracy |\n|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    const cvAcc = r.cv.find((c) => c.C === r.C)!.accuracy;
    write(`| ${r.method === 'bow' ? 'bag of words' : 'linear probe'} | ${r.model ?? '-'} | ${r.layer ?? '-'} | ${r.pooling ?? '-'} | ${r.features} | ${r.C} | ${(cvAcc * 100).toFixed(1)}% | ${(r.accuracy * 100).toFixed(1)}% |\n`);
  }
  write(`(${formatDuration((performance.now() - t0) / 1000)})\n`);
  if (o.json) {
    const path = resolve(o.json);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, JSON.stringify({ task: task.name, source: task.source, rows }, null, 2) + '\n');
  }
  return rows;
}

/** `--layers`: `last`, `all` (0..layers) or a comma-separated list of layer indices, checked against the model. */
export function parseProbeLayers(spec: string, layers: number): number[] {
  const s = spec.trim();
  if (s === 'last') return [layers];
  if (s === 'all') return Array.from({ length: layers + 1 }, (_, i) => i);
  const parts = s.split(',').map((p) => p.trim());
  const out = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || out.some((l) => l > layers)) {
    throw new Error(`--layers ${spec}: use last, all, or a comma-separated list of 0..${layers} (0 = the embeddings' output, ${layers} = the final hidden states)`);
  }
  return [...new Set(out)];
}
