/**
 * What the training worker does, as a plain class (so it runs and is tested in Node and Deno too):
 * load a checkpoint and the demo task, fine-tune with any method through runFinetune (progress per
 * step, stoppable between steps), evaluate, generate, sweep weight noise, and write or read the
 * adapter as PEFT files. Every run starts from the checkpoint as loaded (the weights are kept as
 * bytes and a fresh model is built), so runs with different methods are comparable.
 * Portable: no Node or DOM imports; the worker (worker.ts) only routes messages here.
 */
import { adapterFiles, loadAdapterFrom } from '../adapters/io.js';
import type { AdaptedModel } from '../adapters/model.js';
import { evaluateUnderNoise } from '../adapters/noise.js';
import { defaultLr, describeConfig, METHOD_NAMES, methodName, presetFor, type MethodLabel, type MethodName } from '../adapters/registry.js';
import { validateAdapterConfig } from '../adapters/model.js';
import type { AdapterConfig } from '../adapters/types.js';
import { readRequired, type FileSource } from '../io/source.js';
import { architectureFor, FAMILIES, familyForModelType, type Family, type FamilyModel } from '../models/families.js';
import { fromPretrained, readPretrainedConfig } from '../models/pretrained.js';
import { loadTokenizer } from '../tokenizer/files.js';
import { generate } from '../models/generate/index.js';
import type { CausalLM } from '../models/generate/decoder.js';
import { tensor } from '../ops/create.js';
import { Generator } from '../ops/random.js';
import { collateExamples } from '../tasks/batches.js';
import { batchTensors } from '../tasks/classification.js';
import type { Task, TaskModel } from '../tasks/task.js';
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { ByteLevelBPETokenizer } from '../tokenizer/tokenizer.js';
import { FINETUNE_DEFAULTS, resolveFinetuneConfig } from '../train/finetune-config.js';
import { runFinetune } from '../train/finetune.js';
import type {
  AdapterFiles, EvalSummary, MethodInfo, FilesSpec, GenerateArgs, GenerateReply, LoadArgs, LoadInfo, LogitsReply, NoiseArgs, NoisePoint, NoiseReply,
  ProgressEvent, TrainArgs, TrainSummary,
} from './protocol.js';
import { cachedSource, sourceOf } from './sources.js';
import { DEMO_TASKS, defaultDemoTask, demoTask, readSentiment, spread } from './tasks.js';

/** The noise levels of a sweep when the page gives none (as `wasmgrad eval`). */
export const DEMO_SIGMAS = [0, 0.05, 0.1, 0.2, 0.3] as const;
/** Validation examples an evaluation scores by default: enough to tell methods apart, quick on a tiny model. */
export const DEMO_EVAL_EXAMPLES = 200;

/** Methods for series models (GPT4TS and its One-for-All recipe), not offered for the demo's text tasks. */
const SERIES_METHODS: readonly MethodName[] = ['gpt4ts', 'one-for-all'];

/** The methods whose default config fits `model`, with their defaults. */
export function methodsFor(model: FamilyModel): MethodInfo[] {
  return METHOD_NAMES.filter((m) => !SERIES_METHODS.includes(m)).flatMap((name) => {
    try {
      const config = validateAdapterConfig(model, presetFor(name) as AdapterConfig);
      return [{ name, defaultLr: defaultLr(name), label: describeConfig(config) }];
    } catch {
      return [];
    }
  });
}

/** Lets queued messages (a stop) in between steps: a macrotask turn. */
const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

class Stopped extends Error {}

interface Loaded {
  /** The checkpoint's files, kept after the first read. */
  checkpoint: FileSource;
  info: LoadInfo;
  family: Family;
  architecture: string;
  overrides: Record<string, unknown>;
  tokenizer: ByteLevelBPETokenizer;
  task: Task;
  ids: { bos: number; eos: number; pad: number };
  maxPositions: number;
}

export class DemoSession {
  private loaded: Loaded | null = null;
  private model: FamilyModel | null = null;
  private adapted: AdaptedModel | null = null;
  private busy: string | null = null;
  private abort: AbortController | null = null;

  /** `base`: the URL relative checkpoint and data URLs resolve against (the worker's own). */
  constructor(private readonly base?: string) {}

  /** Reads the checkpoint, tokenizer and data, builds the task and a fresh model (the task head from its seeded init). */
  async load(args: LoadArgs, progress: (e: ProgressEvent) => void = () => {}): Promise<LoadInfo> {
    return this.exclusive('load', async () => {
      this.release();
      this.loaded = null;
      const source = cachedSource(sourceOf(args.checkpoint, this.base));
      progress({ kind: 'status', message: `reading ${source.describe}` });
      const raw = await readPretrainedConfig(source);
      const family = familyForModelType(raw.model_type, source.locate('config.json'));
      const taskName = args.task ?? defaultDemoTask(family);
      const kind = DEMO_TASKS[taskName].kind;
      const architecture = architectureFor(family, kind);
      const overrides = kind === 'sequence-classification' ? { num_labels: 2 } : {};
      const spec = FAMILIES[family];
      const config = spec.parseConfig({ ...raw, ...overrides });
      const maxPositions = spec.maxPositions(config);
      const maxLength = Math.min(args.maxLength ?? FINETUNE_DEFAULTS.maxLength, maxPositions);
      const tokenizer = await loadTokenizer(source);
      const data = sourceOf(args.data, this.base);
      progress({ kind: 'status', message: `reading the sentiment sentences from ${data.describe}` });
      const { train, validation } = await readSentiment(data);
      const evalSet = spread(validation, args.evalExamples ?? DEMO_EVAL_EXAMPLES);
      if (args.limitTrain !== undefined && !(Number.isInteger(args.limitTrain) && args.limitTrain >= 1)) {
        throw new Error(`load: limitTrain ${args.limitTrain} must be a positive integer (training examples to keep)`);
      }
      const trainSet = args.limitTrain === undefined ? train : train.slice(0, args.limitTrain);
      const task = demoTask({ name: taskName, family, config, tokenizer, train: trainSet, validation: evalSet, maxLength });
      const freshKeys: string[] = [];
      const model = await fromPretrained(source, { architecture, config: overrides, freshHead: true, onLoad: (r) => freshKeys.push(...r.missing) });
      this.model = model;
      const info: LoadInfo = {
        family, architecture, task: taskName, taskKind: kind, metric: task.metric, metricNames: [...task.metricNames],
        parameters: model.numParameters(), vocabSize: tokenizer.vocabSize, maxLength,
        trainExamples: task.trainExamples, validationExamples: task.validationExamples, freshKeys, source: source.describe,
        methods: methodsFor(model),
      };
      this.loaded = { checkpoint: source, info, family, architecture, overrides, tokenizer, task, ids: spec.specialIds!(config), maxPositions };
      return info;
    });
  }

  /** Fine-tunes a fresh copy of the checkpoint for `steps` steps (fewer if stopped), then evaluates. */
  async train(args: TrainArgs, progress: (e: ProgressEvent) => void = () => {}): Promise<TrainSummary> {
    return this.exclusive('train', async () => {
      const l = this.need();
      if (!(Number.isInteger(args.steps) && args.steps >= 1)) throw new Error(`train: steps ${args.steps} must be a positive integer`);
      presetFor(args.method); // an unknown method fails here, naming the known ones
      const config = resolveFinetuneConfig(
        { epochs: 1, batchSize: args.batchSize, lr: args.lr, headLr: args.headLr, seed: args.seed, warmupRatio: args.warmupRatio, maxLength: l.info.maxLength },
        args.method,
      );
      this.release();
      const model = await this.freshModel();
      this.model = model;
      const inner = l.task.trainBatches({ batchSize: config.batchSize, seed: config.seed });
      // One "epoch" of exactly `steps` batches: the schedule (warmup, linear decay) spans the run.
      const train = { batchAt: (i: number) => inner.batchAt(i), stepsPerEpoch: args.steps };
      const losses: number[] = [];
      let tokens = 0;
      const t0 = performance.now();
      this.abort = new AbortController();
      try {
        const r = await runFinetune({
          model: model as TaskModel, task: l.task, method: args.method, adapter: args.adapter as Partial<AdapterConfig> | undefined,
          config, train, evalEvery: args.steps, signal: this.abort.signal,
          onStep: async (step, total, loss, lr, stepTokens) => {
            losses.push(loss);
            tokens += stepTokens;
            const elapsedSeconds = (performance.now() - t0) / 1000;
            progress({ kind: 'train', step, total, loss, lr, tokensPerSecond: tokens / Math.max(1e-9, elapsedSeconds), elapsedSeconds });
            await nextTurn();
          },
        });
        this.adapted = r.adapted;
        const counts = r.adapted.parameterCounts();
        return {
          method: methodName(r.adapted.config), steps: r.steps, stopped: r.stopped, losses, trainSeconds: r.trainSeconds,
          tokensPerSecond: r.trainTokens / Math.max(1e-9, r.trainSeconds),
          params: { trainable: counts.trainable, total: counts.total },
          evaluation: { loss: r.final.loss, examples: r.final.examples, metrics: { ...r.final.metrics }, adapted: true },
        };
      } finally {
        this.abort = null;
      }
    });
  }

  /** Scores the validation subset with the current model (adapter included once trained or loaded). */
  evaluate(): EvalSummary {
    const l = this.need();
    this.idle('evaluate');
    const e = l.task.evaluate(this.model as TaskModel, l.task.validationBatches());
    return { loss: e.loss, examples: e.examples, metrics: { ...e.metrics }, adapted: this.adapted !== null };
  }

  /** Continues `prompt` with the current GPT-2 model (greedy by default). */
  generate(args: GenerateArgs): GenerateReply {
    const l = this.need();
    this.idle('generate');
    if (l.info.taskKind !== 'causal-lm') throw new Error(`generate: a ${l.info.architecture} classifies text and does not write it; load a GPT-2 checkpoint`);
    const prompt = [l.ids.bos, ...l.tokenizer.encode(args.prompt)];
    const room = l.maxPositions - prompt.length;
    if (room < 1) throw new Error(`generate: the prompt is ${prompt.length} tokens and the model reads at most ${l.maxPositions}; shorten it`);
    const maxNewTokens = Math.min(args.maxNewTokens ?? 24, room);
    const model = this.model!;
    const wasTraining = model.training;
    model.eval();
    try {
      const { sequences } = generate(model as unknown as CausalLM, [prompt], {
        maxNewTokens, strategy: args.strategy ?? 'greedy', temperature: args.temperature, topP: args.topP,
        generator: new Generator(args.seed ?? 0), eosTokenId: l.ids.eos,
      });
      const fresh = sequences[0].slice(prompt.length);
      const text = l.tokenizer.decode(fresh.filter((t) => t !== l.ids.eos));
      return { text, promptTokens: prompt.length, newTokens: fresh.length, adapted: this.adapted !== null };
    } finally {
      model.train(wasTraining);
    }
  }

  /** The task metric under Gaussian weight noise, sigma by sigma (stoppable between evaluations). */
  async noise(args: NoiseArgs, progress: (e: ProgressEvent) => void = () => {}): Promise<NoiseReply> {
    return this.exclusive('noise', async () => {
      const l = this.need();
      const sigmas = args.sigmas ?? [...DEMO_SIGMAS];
      const draws = args.draws ?? 3;
      const total = sigmas.reduce((n, s) => n + (s === 0 ? 1 : draws), 0);
      const points: NoisePoint[] = [];
      let done = 0;
      this.abort = new AbortController();
      const signal = this.abort.signal;
      try {
        for (const [i, sigma] of sigmas.entries()) {
          const [r] = await evaluateUnderNoise(this.adapted ?? this.model!, async () => {
            await nextTurn();
            if (signal.aborted) throw new Stopped();
            return l.task.evaluate(this.model as TaskModel, l.task.validationBatches()).metrics[l.task.metric];
          }, { sigmas: [sigma], draws, mode: args.mode, seed: i, onProgress: () => progress({ kind: 'noise', done: ++done, total, sigma }) });
          points.push({ sigma: r.sigma, mean: r.mean, std: r.std, draws: r.draws });
        }
        return { metric: l.task.metric, points, stopped: false };
      } catch (err) {
        if (err instanceof Stopped) return { metric: l.task.metric, points, stopped: true };
        throw err;
      } finally {
        this.abort = null;
      }
    });
  }

  /** adapter_config.json and adapter_model.safetensors of the trained (or loaded) adapter. */
  saveAdapter(): AdapterFiles {
    this.idle('saveAdapter');
    if (!this.adapted) throw new Error('saveAdapter: no adapter yet; train (or load an adapter) first');
    const files = adapterFiles(this.adapted);
    return {
      method: this.adapted.method,
      files: (['adapter_config.json', 'adapter_model.safetensors'] as const).map((name) => ({ name, bytes: files.get(name)! })),
    };
  }

  /** Attaches a saved adapter (PEFT files) to a fresh copy of the checkpoint. */
  async loadAdapter(files: FilesSpec): Promise<{ method: MethodLabel; params: { trainable: number; total: number } }> {
    return this.exclusive('loadAdapter', async () => {
      this.need();
      // Read before anything is released: missing files leave the current model and adapter in place.
      const source = cachedSource(sourceOf(files, this.base));
      for (const name of ['adapter_config.json', 'adapter_model.safetensors']) await readRequired(source, name, `the adapter file ${name}`);
      this.release();
      const model = await this.freshModel();
      this.model = model;
      this.adapted = await loadAdapterFrom(model, source);
      const c = this.adapted.parameterCounts();
      return { method: this.adapted.method, params: { trainable: c.trainable, total: c.total } };
    });
  }

  /** The current model's logits for each text (classifier: class scores; LM: next-token scores). */
  logits(texts: readonly string[]): LogitsReply {
    const l = this.need();
    this.idle('logits');
    const model = this.model!;
    const wasTraining = model.training;
    model.eval();
    try {
      return {
        logits: texts.map((text) => tidy(() => noGrad(() => {
          if (l.info.taskKind === 'sequence-classification') {
            const { ids } = l.tokenizer.encodeForRoberta(text, { maxLength: l.info.maxLength });
            const t = batchTensors(collateExamples([{ ids, label: 0 }], [0], l.ids.pad));
            return Array.from(model.forward(t.ids, { attentionMask: t.attentionMask }).logits.toArray());
          }
          const ids = [l.ids.bos, ...l.tokenizer.encode(text)].slice(0, l.maxPositions);
          const out = model.forward(tensor(ids, [1, ids.length], { dtype: 'int32' })).logits.toArray(); // (1, T, V)
          const v = out.length / ids.length;
          return Array.from(out.subarray((ids.length - 1) * v));
        }))),
      };
    } finally {
      model.train(wasTraining);
    }
  }

  /** Asks a running train or noise sweep to end; false when nothing is running. */
  stop(): { stopping: boolean } {
    if (!this.abort) return { stopping: false };
    this.abort.abort();
    return { stopping: true };
  }

  /** Frees the model and adapter. */
  dispose(): void {
    this.release();
    this.loaded = null;
  }

  /** The checkpoint as loaded (the task head from its seeded init), from the kept bytes. */
  private freshModel(): Promise<FamilyModel> {
    if (!this.loaded) throw new Error('no checkpoint loaded yet: load one first');
    const l = this.loaded;
    return fromPretrained(l.checkpoint, { architecture: l.architecture, config: l.overrides, freshHead: true });
  }

  private release(): void {
    this.adapted?.remove();
    this.adapted = null;
    this.model?.dispose();
    this.model = null;
  }

  private need(): Loaded {
    if (!this.loaded || !this.model) throw new Error('no checkpoint loaded yet: load one first');
    return this.loaded;
  }

  private idle(op: string): void {
    if (this.busy) throw new Error(`${op}: the worker is busy with ${this.busy}; wait for it or stop it`);
  }

  private async exclusive<T>(op: string, run: () => Promise<T>): Promise<T> {
    this.idle(op);
    this.busy = op;
    try {
      return await run();
    } finally {
      this.busy = null;
    }
  }
}
