/**
 * What `finetune --task <series task>` needs before training: the task and its data (series-data.ts)
 * and how to load the model: a checkpoint of the gpt4ts family whose architecture serves the task as
 * it is (a saved GPT4TS or GPT4TSForClassification; its geometry wins and given flags must agree), or
 * one built on a base checkpoint (the family table's `fromBase`: a GPT4TS from a GPT-2 LM).
 */
import { chooseArchitecture, familiesBuiltOn, FAMILIES, familyForModelType, architectureFor, type Family, type FamilyModel } from '../models/families.js';
import { fromBaseCheckpoint, fromPretrained, readPretrainedConfig } from '../node/pretrained.js';
import { resolveModelDir } from '../node/paths.js';
import { Generator } from '../ops/random.js';
import type { TaskModel } from '../tasks/task.js';
import type { FinetuneConfig } from '../train/finetune-config.js';
import { runFinetune } from '../train/finetune.js';
import { ProgressBar } from '../train/progress.js';
import { LinearForecaster } from '../timeseries/baseline.js';
import { GPT4TS_DEFAULTS } from '../timeseries/config.js';
import { patchCount } from '../timeseries/pipeline.js';
import { trainingState } from '../experiments/compare.js';
import type { MethodResult } from '../report/types.js';
import { checkSeriesOptions, readSeriesTask, SERIES_TASK_KINDS, type SeriesOptions, type SeriesTaskData, type SeriesTaskName } from './series-data.js';

export { checkSeriesOptions, isSeriesTask, SERIES_TASKS, type SeriesOptions, type SeriesTaskName } from './series-data.js';

export interface PreparedSeriesRun extends SeriesTaskData {
  dir: string;
  /** The family of the model trained (gpt4ts), which may differ from the checkpoint's (gpt2). */
  family: Family;
  /** A fresh model: the checkpoint as it is, or built on it (fresh input/output layers seeded by `seed`). */
  loadModel: () => Promise<FamilyModel>;
}

/** Checks the checkpoint x task pair, reads the data and builds the task; throws naming what fits. */
export async function prepareSeriesRun(modelArg: string, taskName: SeriesTaskName, o: SeriesOptions & { seed?: number }): Promise<PreparedSeriesRun> {
  let checked = checkSeriesOptions(o, taskName); // flag errors first, before any file is read
  const dir = resolveModelDir(modelArg);
  const raw = await readPretrainedConfig(dir);
  const checkpointFamily = familyForModelType(raw.model_type, dir);
  const kind = SERIES_TASK_KINDS[taskName];
  positionsCheck(raw, checked.inputLength, dir);
  const declared = Array.isArray(raw.architectures) ? (raw.architectures as unknown[]).map(String) : [];
  const archSpec = FAMILIES[checkpointFamily].architectures[chooseArchitecture(checkpointFamily, declared)];
  if (archSpec.task === kind) {
    // A trained model: its geometry (and classes) are fixed; flags that are given must agree with it.
    const c = FAMILIES[checkpointFamily].parseConfig(raw).toJSON() as { input_length: number; horizon: number; id2label?: Record<string, string>; series_task?: string };
    const reconstruction = (t: string) => t === 'impute' || t === 'anomaly';
    if (c.series_task !== undefined && c.series_task !== taskName && (reconstruction(c.series_task) || reconstruction(taskName))) {
      throw new Error(`${dir} was fine-tuned for --task ${c.series_task}, not ${taskName}; fine-tune its base GPT-2 checkpoint for --task ${taskName}`);
    }
    const clash = ([['--input-length', 'input_length', o.inputLength], ...(kind === 'forecast' ? [['--horizon', 'horizon', o.horizon] as const] : [])] as const)
      .filter(([, k, v]) => v !== undefined && c[k] !== v).map(([flag, k, v]) => `${flag} ${v} (the checkpoint's ${k} is ${String(c[k])})`);
    if (clash.length) throw new Error(`${dir} is a trained ${checkpointFamily} model: ${clash.join('; ')}; pass the checkpoint's values or start from its base checkpoint`);
    if ((taskName === 'anomaly' || taskName === 'impute') && c.horizon !== c.input_length) {
      throw new Error(`${dir} forecasts ${c.horizon} steps from ${c.input_length}; --task ${taskName} needs a model that reconstructs its window (horizon = input length): start from its base GPT-2 checkpoint`);
    }
    checked = { ...checked, inputLength: c.input_length, horizon: kind === 'forecast' ? c.horizon : null };
    const classes = c.id2label ? Object.keys(c.id2label).sort((a, b) => Number(a) - Number(b)).map((k) => c.id2label![k]) : undefined;
    const data = await readSeriesTask(taskName, checked, { seed: o.seed, classes });
    return { ...data, dir, family: checkpointFamily, loadModel: () => fromPretrained(dir) };
  }
  const built = familiesBuiltOn(checkpointFamily, kind);
  if (built.length === 0) {
    throw new Error(
      `--task ${taskName} needs a model for ${kind}: a ${checkpointFamily} checkpoint (${dir}) ${FAMILIES[checkpointFamily].fromBase ? `holds a ${archSpec.task} model` : 'does not serve it'}, and no family is built on ${checkpointFamily} checkpoints to do it; ` +
        'use a GPT-2 checkpoint (e.g. tiny-gpt2) or a model saved by finetune for this task',
    );
  }
  const family = built[0];
  const data = await readSeriesTask(taskName, checked, { seed: o.seed });
  const fields: Record<string, unknown> = { input_length: data.inputLength, horizon: data.horizon ?? 1 };
  if (data.classes) Object.assign(fields, { num_labels: data.classes.length, id2label: Object.fromEntries(data.classes.map((n, i) => [String(i), n])) });
  if (o.gptLayers !== undefined) fields.gpt_layers = o.gptLayers;
  fields.series_task = taskName;
  const architecture = architectureFor(family, kind);
  return { ...data, dir, family, loadModel: () => fromBaseCheckpoint(dir, family, fields, { generator: new Generator(o.seed ?? 0), architecture }) };
}

/**
 * A GPT-2 backbone adds one row of its positional embedding (wpe) per patch: an input window with
 * more patches than the checkpoint has positions cannot run. Checked before any data is read, naming
 * the flag and the longest input that fits (the patch and stride are GPT4TS's defaults).
 */
function positionsCheck(raw: Record<string, unknown>, inputLength: number | null, dir: string): void {
  const positions = raw.n_positions;
  // A trained GPT4TS keeps its own geometry, which its config checked when it was built.
  if (raw.model_type === 'gpt4ts' || inputLength === null || typeof positions !== 'number') return;
  const { patch_size: patch, stride } = GPT4TS_DEFAULTS;
  if (inputLength < patch) return; // the config's own check names this
  const patches = patchCount(inputLength, patch, stride);
  if (patches > positions) {
    const longest = (positions - 1) * stride + patch - 1;
    throw new Error(
      `--input-length ${inputLength} makes ${patches} patches (patch ${patch}, stride ${stride}), but ${dir} has ${positions} positions (wpe rows): ` +
        `use --input-length ${longest} or less, or a GPT-2 checkpoint with more positions`,
    );
  }
}

/**
 * The linear baseline on the same data with the same loop and config (every parameter trains):
 * its test metrics and size for finetune's results.json (`summary`), and as a report row
 * (`result`, marked as a baseline) with its forecasts of the plotted test windows. Window-to-window
 * tasks only.
 */
export async function trainBaseline(s: PreparedSeriesRun, config: FinetuneConfig, write: (t: string) => void, tty?: boolean): Promise<{ summary: Record<string, unknown>; result: MethodResult }> {
  if (s.horizon === null) throw new Error('--baseline: the linear baseline maps a window to steps; it does not classify (drop --baseline for --task classify-series)');
  const linear = new LinearForecaster({ input_length: s.inputLength, horizon: s.horizon });
  let bar: ProgressBar | null = null;
  try {
    write('linear baseline (one Linear from the input window to the output steps, shared by the channels):\n');
    const r = await runFinetune({
      model: linear as unknown as TaskModel, task: s.task, method: 'full', config,
      onStep: (step, total, loss, lr, tokens) => {
        bar ??= new ProgressBar({ total, start: step - 1, write, tty: tty ?? process.stderr.isTTY === true });
        bar.update({ step, loss, lr, tokensPerStep: tokens });
      },
      log: (m) => (bar ? bar.log(m) : write(m + '\n')),
    });
    (bar as ProgressBar | null)?.finish();
    const test = s.task.evaluate(linear as unknown as TaskModel, s.task.testBatches!());
    write(`linear baseline test: ${s.task.describe(test)}\n`);
    const params = r.adapted.parameterCounts().trainable;
    const forecasts = s.task.forecastSamples?.(linear as unknown as TaskModel);
    const summary = { ...r.final.metrics, test: test.metrics, params, steps: r.steps, train_seconds: r.trainSeconds, peak_memory_bytes: r.peakMemoryBytes, ...(forecasts ? { forecasts } : {}) };
    const result: MethodResult = {
      method: 'linear', label: 'linear baseline: one Linear(input, output steps) shared by the channels', baseline: true,
      trainableParams: params, totalParams: params, metric: r.final.metrics[s.task.metric], metricName: s.task.metric, noise: [],
      trainSeconds: r.trainSeconds, peakMemoryBytes: r.peakMemoryBytes, peakMemory: r.peakMemory, steps: r.steps, finalLoss: r.finalLoss, lossCurve: r.lossCurve,
      testMetrics: { ...test.metrics }, ...trainingState(r.adapted), ...(forecasts ? { forecasts } : {}),
    };
    r.adapted.remove();
    return { summary, result };
  } finally {
    linear.dispose();
  }
}
