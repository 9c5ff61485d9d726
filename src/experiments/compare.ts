/**
 * The method comparison behind the main job and the GLUE experiments: for each method, load the
 * same pretrained classifier (same head initialisation), fine-tune it, measure the validation metric
 * clean and under weight noise, and collect a {@link MethodResult} per method for the report.
 */
import type { AdaptedModel } from '../adapters/model.js';
import { methodName, type MethodName } from '../adapters/registry.js';
import type { AdapterConfig } from '../adapters/types.js';
import { DEFAULT_NOISE_SIGMAS, evaluateUnderNoise, type NoiseModel } from '../adapters/noise.js';
import type { MethodResult } from '../report/types.js';
import { evaluationBatches, ClassificationBatches, type EncodedExample } from '../tasks/batches.js';
import type { TaskMetric } from '../tasks/registry.js';
import { DEFAULT_LR, evaluateClassifier, runFinetune, type FinetuneConfig, type SequenceClassifier } from '../train/finetune.js';
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

export interface CompareOptions {
  runs: readonly MethodRun[];
  /** A fresh base classifier per method (same pretrained weights and head init every time). */
  loadModel: () => Promise<SequenceClassifier>;
  train: readonly EncodedExample[];
  validation: readonly EncodedExample[];
  padId: number;
  metric: TaskMetric;
  config: Omit<FinetuneConfig, 'lr'> & { lr?: number };
  noise: { sigmas?: readonly number[]; draws: number; mode: NoiseModel; seed: number };
  log?: (message: string) => void;
  onStep?: (method: string, step: number, total: number, loss: number, tokens: number) => void;
  /** `index`: the run's position in `runs` (two runs may share a method). */
  onRecord?: (method: string, record: MetricsRecord, index: number) => void | Promise<void>;
  /** After each method, with the trained model still adapted (save the adapter here). */
  afterMethod?: (run: MethodRun, result: MethodResult, adapted: AdaptedModel<SequenceClassifier>) => Promise<void> | void;
}

/** A short description of a method's configuration, for legends. */
export function describeConfig(c: AdapterConfig): string {
  switch (c.peft_type) {
    case 'LORA': return `${c.use_rslora ? 'rsLoRA' : 'LoRA'} r=${c.r} α=${c.lora_alpha} (${Array.isArray(c.target_modules) ? c.target_modules.join(',') : 'regex'})`;
    case 'GRASP': return `GRASP K=${c.num_groups}`;
    case 'STOCHGRASP': return `StochGRASP K=${c.num_groups} σt=${c.target_sigma} λ=${c.kl_weight}`;
    case 'IA3': return '(IA)3';
    case 'BITFIT': return 'BitFit';
    case 'FULL': return 'full fine-tuning';
  }
}

export async function compareMethods(o: CompareOptions): Promise<MethodResult[]> {
  const results: MethodResult[] = [];
  // Evaluation order does not change the metrics; batching similar lengths together cuts the padding.
  const byLength = [...o.validation].sort((a, b) => a.ids.length - b.ids.length);
  for (const [index, run] of o.runs.entries()) {
    const model = await o.loadModel();
    let adapted: AdaptedModel<SequenceClassifier> | null = null;
    try {
      const config: FinetuneConfig = { ...o.config, lr: o.config.lr ?? DEFAULT_LR[run.method], ...(run.train ?? {}) };
      o.log?.(`\n== ${run.method}: lr ${config.lr}, ${config.epochs} epochs, batch ${config.batchSize}`);
      const train = new ClassificationBatches(o.train, { batchSize: config.batchSize, padId: o.padId, seed: config.seed });
      const validation = () => evaluationBatches(byLength, { batchSize: 64, padId: o.padId });
      const r = await runFinetune({
        model, method: run.method, adapter: run.adapter, config, train, validation,
        log: o.log, onStep: (s, t, l, _lr, n) => o.onStep?.(run.method, s, t, l, n), onRecord: (rec) => o.onRecord?.(run.method, rec, index),
      });
      adapted = r.adapted;
      o.log?.(r.adapted.parameterTable());
      const pick = (e: { accuracy: number; f1: number; mcc: number }) => e[o.metric];
      const noise = await evaluateUnderNoise(r.adapted, () => pick(evaluateClassifier(model, validation())), {
        sigmas: o.noise.sigmas ?? DEFAULT_NOISE_SIGMAS, draws: o.noise.draws, mode: o.noise.mode, seed: o.noise.seed,
      });
      o.log?.(`under ${o.noise.mode} weight noise: ${noise.map((p) => `σ=${p.sigma}: ${p.mean.toFixed(4)} ± ${p.std.toFixed(4)}`).join(', ')}`);
      const counts = r.adapted.parameterCounts();
      const result: MethodResult = {
        method: methodName(r.adapted.config),
        label: run.label ?? describeConfig(r.adapted.config),
        paramsWithoutHead: counts.adapter + counts.trainedBase,
        trainableParams: counts.trainable,
        totalParams: counts.total,
        metric: pick(r.final),
        metricName: o.metric,
        noise: noise.map(({ sigma, mean, std, draws }) => ({ sigma, mean, std, draws })),
        trainSeconds: r.trainSeconds,
        peakMemoryBytes: r.peakMemoryBytes,
        steps: r.steps,
        finalLoss: r.finalLoss,
        lossCurve: r.lossCurve,
      };
      results.push(result);
      await o.afterMethod?.(run, result, r.adapted);
    } finally {
      adapted?.remove();
      model.dispose();
    }
  }
  return results;
}
