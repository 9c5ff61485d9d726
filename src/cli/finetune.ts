/**
 * `wasmgrad finetune` and `wasmgrad eval`: fine-tune a pretrained checkpoint on a task (any family x
 * task pair the family table allows) with one method and save only the adapter (adapter_config.json + adapter_model.safetensors; full
 * fine-tuning also writes the whole model), with a progress bar, metrics.jsonl, periodic atomic
 * training states and `--resume`; evaluate a saved adapter clean and under weight noise.
 */
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ensureBackend } from './backend.js';
import { MEMORY_CATEGORIES, type MemoryBreakdown } from '../backend/memory.js';
import { METHOD_NAMES, type MethodName } from '../adapters/registry.js';
import { evaluateUnderNoise, type NoiseModel } from '../adapters/noise.js';
import type { AdapterConfig } from '../adapters/types.js';
import { saveAdapter, loadAdapterFromDirectory } from '../node/adapter-files.js';
import { writeFileAtomic } from '../node/files.js';
import { FileMomentStore } from '../node/moment-file.js';
import { fromPretrained, savePretrained } from '../node/pretrained.js';
import type { LoadTaskOptions } from '../node/tasks.js';
import type { GlueTask } from '../tasks/glue.js';
import { saveTokenizer } from '../node/tokenizer-files.js';
import { resolveFinetuneConfig, type FinetuneConfig } from '../train/finetune-config.js';
import { runFinetune } from '../train/finetune.js';
import { metricsLine, truncateMetrics } from '../train/metrics.js';
import { ProgressBar } from '../train/progress.js';
import { parseMethodSpec } from './compare.js';
import { taskOptions, trainingOptions } from './options.js';
import { prepareRun } from './setup.js';

const STATE = join('training_state', 'state.safetensors');

/** Where a task's files are and how to read them. */
type TaskData = Pick<LoadTaskOptions, 'datasetsDir' | 'format'>;

export interface FinetuneCliOptions extends Partial<FinetuneConfig> {
  model: string;
  method: MethodName;
  adapter?: Partial<AdapterConfig>;
  task: string;
  out: string;
  datasetsDir?: string;
  /** GLUE layout of a task path whose folder name does not tell it. */
  format?: GlueTask;
  saveEvery?: number;
  /** Stop after this many steps (the schedule still spans the whole run); resume later with `resume`. */
  stopAfter?: number;
  resume?: boolean;
  /** Offloaded AdamW moments go to a scratch file in this directory instead of host memory (implies offloadOptimizer). */
  offloadDir?: string;
  /** Noise draws for the final robustness curve (0 = skip). */
  noiseDraws?: number;
  write?: (text: string) => void;
  tty?: boolean;
}


/** Fine-tunes and writes the adapter; returns the final validation metrics (NaN when stopped early). */
export type FinetuneCliResult = { stopped: boolean } & { [metric: string]: number | boolean };

export async function runFinetuneCli(o: FinetuneCliOptions): Promise<FinetuneCliResult> {
  const write = o.write ?? ((t: string) => void process.stderr.write(t));
  const out = resolve(o.out);
  let bar: ProgressBar | null = null;
  const stopAfter = o.stopAfter;
  class Stop extends Error {}
  await ensureBackend();
  const config = resolveFinetuneConfig(
    { epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, weightDecay: o.weightDecay, warmupRatio: o.warmupRatio, clipNorm: o.clipNorm, maxLength: o.maxLength, seed: o.seed, headLr: o.headLr, offloadOptimizer: o.offloadOptimizer || (o.offloadDir !== undefined ? true : undefined) },
    o.method,
  );
  const p = await prepareRun(o.model, o.task, { maxLength: o.maxLength, datasetsDir: o.datasetsDir, format: o.format });
  config.maxLength = p.maxLength;
  const { task } = p;
  const model = await p.loadModel();
  try {
    write(`${task.name}: ${task.trainExamples} training / ${task.validationExamples} validation examples; model ${p.dir}; method ${o.method}, lr ${config.lr}\n`);
    await mkdir(join(out, 'training_state'), { recursive: true });
    const metricsPath = join(out, 'metrics.jsonl');
    const runKey = { model: p.dir, task: task.name, method: o.method, adapter: o.adapter ?? {}, config };
    let resumeFrom: Uint8Array | null = null;
    if (o.resume) {
      const bytes = await readFile(join(out, STATE)).catch(() => {
        throw new Error(`--resume: no training state at ${join(out, STATE)}; start without --resume`);
      });
      const saved = JSON.parse(await readFile(join(out, 'training_state', 'run.json'), 'utf8').catch(() => '{}')) as typeof runKey;
      if (JSON.stringify(saved) !== JSON.stringify(runKey)) {
        throw new Error(`--resume: the options differ from the saved run's (${join(out, 'training_state', 'run.json')}); resume with the same options`);
      }
      resumeFrom = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } else {
      await writeFile(metricsPath, '');
      await writeFileAtomic(join(out, 'training_state', 'run.json'), JSON.stringify(runKey, null, 2));
    }
    const train = task.trainBatches({ batchSize: config.batchSize, seed: config.seed });
    const momentStore = o.offloadDir !== undefined ? new FileMomentStore(join(resolve(o.offloadDir), `adamw-moments-${process.pid}.bin`)) : undefined;
    const r = await runFinetune({
      model, task, method: o.method, adapter: o.adapter, config, train, resumeFrom, momentStore,
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
      params: r.adapted.parameterCounts(), train_seconds: r.trainSeconds, peak_memory_bytes: r.peakMemoryBytes,
      peak_memory: r.peakMemory, offloaded_optimizer_bytes: r.offloadedOptimizerBytes,
    };
    if ((o.noiseDraws ?? 0) > 0) {
      summary.noise = await evaluateUnderNoise(r.adapted, () => task.evaluate(model, task.validationBatches()).metrics[task.metric], { draws: o.noiseDraws });
    }
    const counts = r.adapted.parameterCounts();
    r.adapted.remove();
    if (counts.trainedBase + counts.head === counts.base) { // every weight trained (full, LISA, GRASS): the whole model is the result
      await savePretrained(model, join(out, 'model'));
      await saveTokenizer(p.tokenizer, join(out, 'model')); // a complete checkpoint: `wasmgrad eval --model <out>/model`
    }
    await writeFileAtomic(join(out, 'results.json'), JSON.stringify(summary, null, 2) + '\n');
    await rm(join(out, 'training_state'), { recursive: true, force: true });
    write(`wrote ${out}/adapter_config.json, adapter_model.safetensors, metrics.jsonl, results.json\n`);
    return { ...r.final.metrics, stopped: false };
  } catch (err) {
    if (err instanceof Stop) {
      (bar as ProgressBar | null)?.finish();
      write(`stopped after step ${stopAfter}; continue with --resume\n`);
      return { ...Object.fromEntries(task.metricNames.map((k) => [k, NaN])), stopped: true };
    }
    throw err;
  } finally {
    model.dispose();
  }
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** `peak heap 12.0 MiB: parameters 4.0, gradients 2.0, optimizer 4.0, activations 2.0 MiB`. */
export function memoryLine(peak: number, split: MemoryBreakdown): string {
  return `peak heap ${mib(peak)}: ${MEMORY_CATEGORIES.map((k) => `${k} ${(split[k] / 2 ** 20).toFixed(1)}`).join(', ')} MiB`;
}

export interface EvalCliOptions {
  model: string;
  adapter?: string;
  task: string;
  datasetsDir?: string;
  /** GLUE layout of a task path whose folder name does not tell it. */
  format?: GlueTask;
  maxLength?: number;
  draws?: number;
  sigmas?: number[];
  noiseMode?: NoiseModel;
  write?: (text: string) => void;
}

/** Evaluates a model (+ adapter) on a task's validation split, clean and (with draws > 0) under noise. */
export async function runEvalCli(o: EvalCliOptions): Promise<Record<string, unknown>> {
  const write = o.write ?? ((t: string) => void process.stdout.write(t));
  await ensureBackend();
  const p = await prepareRun(o.model, o.task, { maxLength: o.maxLength, datasetsDir: o.datasetsDir, format: o.format });
  const { task } = p;
  const model = await p.loadModel();
  try {
    const adapted = o.adapter ? await loadAdapterFromDirectory(model, resolve(o.adapter)) : null;
    const clean = task.evaluate(model, task.validationBatches());
    const scores = task.metricNames.map((k) => `${k} ${clean.metrics[k].toFixed(4)}`).join(', ');
    write(`${task.name} (${clean.examples} examples): ${scores}, loss ${clean.loss.toFixed(4)}\n`);
    const result: Record<string, unknown> = { task: task.name, ...clean.metrics, loss: clean.loss };
    if ((o.draws ?? 0) > 0) {
      const metric = task.metric;
      const noise = await evaluateUnderNoise(adapted ?? model, () => task.evaluate(model, task.validationBatches()).metrics[metric], {
        draws: o.draws, sigmas: o.sigmas, mode: o.noiseMode,
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

export function registerFinetune(program: Command): void {
  const finetune = program.command('finetune');
  trainingOptions(taskOptions(finetune))
    .description('fine-tune a checkpoint on a task (classification with RoBERTa, text continuation with GPT-2) with one method; writes the adapter')
    .option('--model <dir|name>', 'checkpoint directory or a bundled name (tiny-roberta)', 'tiny-roberta')
    .requiredOption('--method <name[:key=value,...]>', `one of ${METHOD_NAMES.join(', ')}, with optional config overrides (grasp:num_groups=16)`)
    .requiredOption('--out <dir>', 'output directory')
    .option('--lr <x>', 'peak learning rate (default per method)', Number)
    .option('--weight-decay <x>', 'AdamW weight decay', Number)
    .option('--seed <n>', 'seed of the data order', Number)
    .option('--save-every <n>', 'training-state checkpoint interval in steps (default: each epoch)', Number)
    .option('--stop-after <n>', 'stop after n steps with a resumable state', Number)
    .option('--resume', 'continue from <out>/training_state')
    .option('--offload-optimizer', 'keep AdamW state outside the WebAssembly heap, updating block by block (bit-identical, less heap)')
    .option('--offload-dir <dir>', 'offload AdamW state to a scratch file in <dir> (deleted at the end) instead of host memory')
    .option('--noise-draws <n>', 'also measure the metric under weight noise with n draws per sigma', Number)
    .action(async (a: Record<string, string | number | boolean | undefined>) => {
      const spec = parseMethodSpec(String(a.method));
      await runFinetuneCli({
        model: String(a.model), method: spec.method, adapter: spec.adapter, task: String(a.task), out: String(a.out),
        epochs: a.epochs as number | undefined, batchSize: a.batchSize as number | undefined, lr: a.lr as number | undefined,
        headLr: a.headLr as number | undefined, weightDecay: a.weightDecay as number | undefined, maxLength: a.maxLength as number | undefined, seed: a.seed as number | undefined,
        saveEvery: a.saveEvery as number | undefined, stopAfter: a.stopAfter as number | undefined, resume: a.resume === true,
        offloadOptimizer: a.offloadOptimizer === true ? true : undefined, offloadDir: a.offloadDir as string | undefined, noiseDraws: a.noiseDraws as number | undefined, datasetsDir: a.datasets as string | undefined, format: a.format as GlueTask | undefined,
      });
    });
  const evalCmd = program.command('eval');
  taskOptions(evalCmd)
    .description('evaluate a checkpoint (and an adapter) on a task, clean and under weight noise')
    .option('--model <dir|name>', 'checkpoint directory or bundled name', 'tiny-roberta')
    .option('--adapter <dir>', 'adapter directory written by finetune')
    .option('--draws <n>', 'noise draws per sigma (0 = clean only)', Number, 10)
    .option('--sigmas <list>', 'noise levels', '0,0.05,0.1,0.15,0.2,0.3')
    .option('--noise <mode>', 'multiplicative or additive', 'multiplicative')
    .action(async (a: Record<string, string | number | undefined>) => {
      await runEvalCli({
        model: String(a.model), adapter: a.adapter as string | undefined, task: String(a.task), draws: a.draws as number,
        sigmas: String(a.sigmas).split(',').map(Number), noiseMode: a.noise as NoiseModel, datasetsDir: a.datasets as string | undefined, format: a.format as GlueTask | undefined,
      });
    });
}
