/**
 * The messages between a page and the training worker (src/web/worker.ts). One table, {@link Ops},
 * holds every operation with its arguments and its reply, so the worker's dispatch and the client's
 * calls are typed from the same place and an operation without a handler does not compile.
 *
 * A call is `{ type: 'call', id, op, args }`; the worker answers with any number of
 * `{ type: 'progress', id, event }` and then one `{ type: 'reply', id, ok, ... }`. Everything in
 * these messages is structured-cloneable (no tensors, no functions); bytes travel as Uint8Array and
 * files as Blob/File. `stop` is answered at once, even while a `train` or `noise` call runs.
 */
import type { MethodLabel, MethodName } from '../adapters/registry.js';
import type { TaskKind } from '../models/families.js';

/** Where a checkpoint's or a dataset's files come from: a base URL the worker fetches from, or files the page read. */
export type FilesSpec =
  /** A base URL; `files`, when known, lists the names under it (see UrlSourceOptions.files). */
  | { url: string; files?: string[] }
  /** Names (a dropped folder's relative paths are fine) to bytes, Blobs or Files. */
  | { files: Record<string, Uint8Array | Blob>; label?: string };

/** The kernels the worker runs on. */
export interface RuntimeInfo {
  /** relaxed-simd, simd or scalar. */
  variant: string;
  threads: number;
  /** Whether the page is cross-origin isolated (COOP/COEP), which threads need (SharedArrayBuffer). */
  crossOriginIsolated: boolean;
}

/** The text tasks the demo trains: sentiment classification (RoBERTa), or continuing the sentences (GPT-2). */
export type DemoTaskName = 'sentiment' | 'sentiment-lm';

export interface LoadArgs {
  checkpoint: FilesSpec;
  /** The sentiment fixtures (imdb.json, amazon.json, yelp.json). */
  data: FilesSpec;
  /** Default: the task the checkpoint's family serves (RoBERTa -> sentiment, GPT-2 -> sentiment-lm). */
  task?: DemoTaskName;
  /** Max tokens per example (default 64, capped by the model's positions). */
  maxLength?: number;
  /** Train on the first this many training examples only (default all; a small set shows overfitting quickly). */
  limitTrain?: number;
  /** Evaluate on at most this many validation examples (default 200; the whole split: Infinity). */
  evalExamples?: number;
}

export interface LoadInfo {
  family: string;
  architecture: string;
  task: DemoTaskName;
  taskKind: TaskKind;
  /** The metric the task reports first (accuracy, token_accuracy). */
  metric: string;
  metricNames: string[];
  parameters: number;
  vocabSize: number;
  maxLength: number;
  trainExamples: number;
  validationExamples: number;
  /** Keys of the task head that start from their seeded init (not in the checkpoint). */
  freshKeys: string[];
  /** Where the checkpoint came from. */
  source: string;
  /** The methods that apply to this model, in the library's order, with their defaults. */
  methods: MethodInfo[];
}

export interface MethodInfo {
  name: MethodName;
  /** The method's default peak learning rate. */
  defaultLr: number;
  /** Its default config in words (`LoRA r=8 α=8 (query,value)`). */
  label: string;
}

export interface TrainArgs {
  method: MethodName;
  steps: number;
  /** Peak learning rate (default: the method's). */
  lr?: number;
  /** Peak learning rate of a fresh task head (default: min(lr, 2e-3), as `wasmgrad finetune`). */
  headLr?: number;
  batchSize?: number;
  /** Overrides of the method's adapter config ({ r: 8 }, { num_groups: 16 }). */
  adapter?: Record<string, unknown>;
  seed?: number;
  warmupRatio?: number;
}

export interface TrainSummary {
  /** The trained method as reports name it (`one-for-all (alpha/r)` when the overrides chose that scaling). */
  method: MethodLabel;
  steps: number;
  stopped: boolean;
  /** Per-step training loss, in order (step i + 1 at index i). */
  losses: number[];
  trainSeconds: number;
  tokensPerSecond: number;
  params: { trainable: number; total: number };
  evaluation: EvalSummary;
}

export interface EvalSummary {
  loss: number;
  examples: number;
  metrics: Record<string, number>;
  /** With the adapter trained (or loaded), or the checkpoint as loaded. */
  adapted: boolean;
}

export interface GenerateArgs {
  prompt: string;
  maxNewTokens?: number;
  /** Default greedy; sampling uses `seed`. */
  strategy?: 'greedy' | 'sample';
  temperature?: number;
  topP?: number;
  seed?: number;
}

export interface GenerateReply {
  text: string;
  /** The prompt's tokens and the new ones. */
  promptTokens: number;
  newTokens: number;
  adapted: boolean;
}

export interface NoiseArgs {
  sigmas?: number[];
  /** Draws per sigma > 0 (default 3: a quick sweep; 10 for a stable spread). */
  draws?: number;
  mode?: 'multiplicative' | 'additive';
}

export interface NoisePoint {
  sigma: number;
  mean: number;
  std: number;
  draws: number;
}

export interface NoiseReply {
  metric: string;
  points: NoisePoint[];
  stopped: boolean;
}

/** The two files of a PEFT adapter directory. */
export interface AdapterFiles {
  files: { name: 'adapter_config.json' | 'adapter_model.safetensors'; bytes: Uint8Array }[];
  method: MethodLabel;
}

export interface LogitsReply {
  /** Classification: (texts, classes). Causal LM: the next-token logits after each text. */
  logits: number[][];
}

/** Every operation: its arguments and its reply (a mapped table: the worker must handle each). */
export interface Ops {
  load: { args: LoadArgs; reply: LoadInfo };
  train: { args: TrainArgs; reply: TrainSummary };
  evaluate: { args: Record<string, never>; reply: EvalSummary };
  generate: { args: GenerateArgs; reply: GenerateReply };
  noise: { args: NoiseArgs; reply: NoiseReply };
  saveAdapter: { args: Record<string, never>; reply: AdapterFiles };
  loadAdapter: { args: { files: FilesSpec }; reply: { method: MethodLabel; params: { trainable: number; total: number } } };
  logits: { args: { texts: string[] }; reply: LogitsReply };
  /** Ends a running train (after its current step) or noise sweep (after its current evaluation). */
  stop: { args: Record<string, never>; reply: { stopping: boolean } };
}

export type OpName = keyof Ops;

/** Progress of a long call. */
export type ProgressEvent =
  | { kind: 'train'; step: number; total: number; loss: number; lr: number; tokensPerSecond: number; elapsedSeconds: number }
  | { kind: 'noise'; done: number; total: number; sigma: number }
  | { kind: 'status'; message: string };

export type CallMessage = { [K in OpName]: { type: 'call'; id: number; op: K; args: Ops[K]['args'] } }[OpName];

export interface SerializedError {
  name: string;
  message: string;
}

export type WorkerMessage =
  | { type: 'ready'; runtime: RuntimeInfo }
  | { type: 'fatal'; error: SerializedError }
  | { type: 'progress'; id: number; event: ProgressEvent }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: SerializedError };

const OPS: { readonly [K in OpName]: true } = {
  load: true, train: true, evaluate: true, generate: true, noise: true, saveAdapter: true, loadAdapter: true, logits: true, stop: true,
};
/** Every operation's name (from a mapped table, so none is left out). */
export const OP_NAMES = Object.keys(OPS) as OpName[];

/** An error as it crosses the boundary (name and message; the stack stays in the worker's console). */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}
