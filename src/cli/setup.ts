/**
 * What `finetune`, `eval` and `compare` share before training: read the checkpoint's family from its
 * config.json, check the family serves the task's kind (the family table says which), and build the
 * {@link Task} with the checkpoint's tokenizer and special tokens. Any family x task pair the table
 * allows works; the rest are refused with a message naming what is allowed.
 */
import { resolve } from 'node:path';
import { architectureFor, FAMILIES, FAMILY_NAMES, familyForModelType, tasksOf, type Family, type FamilyModel, type TaskKind } from '../models/families.js';
import { fromPretrained, readPretrainedConfig } from '../node/pretrained.js';
import { resolveModelDir } from '../node/paths.js';
import { loadTask, type LoadedTask, type LoadTaskOptions } from '../node/tasks.js';
import { loadTokenizerFromDirectory } from '../node/tokenizer-files.js';
import { readFileBytes } from '../node/files.js';
import { loadWordNet } from '../node/wordnet.js';
import { readE2E } from '../nlg/e2e.js';
import { splitByMR } from '../nlg/split.js';
import { E2ETask, resolveE2EConfig, type E2ETaskConfig } from '../tasks/e2e.js';
import { encodeExamples } from '../tasks/batches.js';
import { CausalLMTask, promptExamples } from '../tasks/causal-lm.js';
import { SequenceClassificationTask } from '../tasks/classification.js';
import { CAUSAL_TASK_NAMES, CAUSAL_TASKS, isCausalTaskName, TASK_NAMES, type ClassificationExample } from '../tasks/registry.js';
import type { Task } from '../tasks/task.js';
import type { ByteLevelBPETokenizer } from '../tokenizer/tokenizer.js';
import { FINETUNE_DEFAULTS } from '../train/finetune-config.js';

/** Named tasks by kind, for messages. */
const TASKS_BY_KIND: { [K in TaskKind]: readonly string[] } = {
  'sequence-classification': [...TASK_NAMES, '<path to a GLUE-style TSV>'],
  'causal-lm': [...CAUSAL_TASK_NAMES, 'e2e (with --data <E2E CSV>)'],
  'masked-lm': [],
  forecast: ['forecast, forecast-short, anomaly, impute (with --data <csv>)'],
  'series-classification': ['classify-series (with --data <csv>)'],
};

/** The task name that reads E2E NLG data (`--task e2e --data <csv>`). */
export const E2E_TASK = 'e2e';

/** The E2E task's default max tokens per pair (capped by the model's positions): E2E prompt + reference pairs run to ~130 GPT-2 tokens. */
export const E2E_MAX_LENGTH = 160;

export interface PreparedRun {
  dir: string;
  /** The classification or text data read (absent for E2E, which reads its CSV itself). */
  loaded?: LoadedTask;
  /** Where the examples came from and how they were split, for logs and reports. */
  source: string;
  family: Family;
  architecture: string;
  tokenizer: ByteLevelBPETokenizer;
  task: Task;
  /** Max tokens per example (the option, capped by the model's positions). */
  maxLength: number;
  /** Which examples the task's validation batches hold (PrepareOptions.evaluateOn, resolved). */
  evaluatedOn: EvalSplit;
  /**
   * A fresh model of the task's architecture with the checkpoint's weights, loaded strictly except
   * for the task head (the family table's `head`): when the checkpoint lacks it, it starts from its
   * seeded init and `log` says so, naming its keys (also pushed onto `fresh`). Anything else that
   * does not fit raises, naming the keys and the likely cause.
   */
  loadModel: (log?: (message: string) => void, fresh?: string[]) => Promise<FamilyModel>;
}

export interface PrepareOptions extends Pick<LoadTaskOptions, 'datasetsDir' | 'format'> {
  maxLength?: number;
  /** Use at most this many training examples. */
  limitTrain?: number;
  /**
   * Which examples the task's validation batches hold: the validation split (default), the training
   * split, both, or `auto` (`eval`): every row of a lone file, else the validation split.
   */
  evaluateOn?: EvalSplit | 'auto';
  /** The data file of a task that reads one (`e2e`: an E2E CSV). */
  data?: string;
  /** Settings of the E2E task (split, decoding, label smoothing). */
  e2e?: Partial<E2ETaskConfig>;
}

/** `--split` of `eval`: which rows are scored. */
export type EvalSplit = 'train' | 'validation' | 'all';
export const EVAL_SPLITS: readonly EvalSplit[] = ['train', 'validation', 'all'];

/** Checks the family x task pair and builds the task; throws naming the tasks and families that fit. */
export async function prepareRun(modelArg: string, taskArg: string, o: PrepareOptions = {}): Promise<PreparedRun> {
  const dir = resolveModelDir(modelArg);
  const raw = await readPretrainedConfig(dir);
  const family = familyForModelType(raw.model_type, dir);
  if (taskArg !== E2E_TASK && o.data !== undefined) throw new Error(`--data is read by --task ${E2E_TASK}; task ${taskArg} takes its data from --task (a name or a path)`);
  const loaded = taskArg === E2E_TASK ? undefined : await loadTask(taskArg, { datasetsDir: o.datasetsDir, format: o.format });
  const kind: TaskKind = loaded?.kind ?? 'causal-lm';
  const taskName = loaded?.name ?? E2E_TASK;
  if (!tasksOf(family).includes(kind)) {
    const fits = tasksOf(family).flatMap((k) => TASKS_BY_KIND[k]);
    const families = FAMILY_NAMES.filter((f) => tasksOf(f).includes(kind));
    throw new Error(
      `task ${taskName} is ${kind}, which a ${family} model (${dir}) does not serve; ` +
        `${family} can be fine-tuned on: ${fits.join(', ') || 'nothing yet'}. Use a ${families.join(' or ')} checkpoint for ${taskName}`,
    );
  }
  const architecture = architectureFor(family, kind);
  const overrides = loaded?.kind === 'sequence-classification' ? { num_labels: loaded.spec.numLabels } : {};
  const spec = FAMILIES[family];
  const config = spec.parseConfig({ ...raw, ...overrides });
  if (!spec.specialIds) throw new Error(`task ${taskName} reads text, and ${family} models read no tokens`);
  const ids = spec.specialIds(config);
  const maxLength = Math.min(o.maxLength ?? (loaded ? FINETUNE_DEFAULTS.maxLength : E2E_MAX_LENGTH), spec.maxPositions(config));
  const tokenizer = await loadTokenizerFromDirectory(dir);
  const loadModel = (log?: (message: string) => void, fresh?: string[]) =>
    fromPretrained(dir, {
      architecture, freshHead: true, config: overrides,
      onLoad: (r) => {
        fresh?.push(...r.missing);
        if (r.missing.length) log?.(`${architecture} head initialised fresh (not in ${dir}): ${r.missing.join(', ')}`);
        if (r.unexpected.length) log?.(`dropped ${r.unexpected.length} key(s) of another head: ${r.unexpected.join(', ')}`);
      },
    });
  if (!loaded) {
    // E2E holds out MRs of its own file: the validation split is what it scores.
    const { task, source } = await e2eTask(o, tokenizer, ids, maxLength);
    return { dir, family, architecture, tokenizer, task, maxLength, evaluatedOn: 'validation', loadModel, source };
  }
  const trainExamples: ClassificationExample[] = o.limitTrain ? loaded.train.slice(0, o.limitTrain) : loaded.train;
  const on = o.evaluateOn === 'auto' ? (loaded.heldOutFrom ? 'all' : 'validation') : (o.evaluateOn ?? 'validation');
  const evalExamples = on === 'validation' ? loaded.validation : on === 'train' ? loaded.train : [...loaded.train, ...loaded.validation];
  let task: Task;
  if (loaded.kind === 'causal-lm') {
    const promptFraction = isCausalTaskName(loaded.name) ? CAUSAL_TASKS[loaded.name].promptFraction : 0.5;
    const encode = (xs: readonly ClassificationExample[]) =>
      promptExamples(xs.map((e) => tokenizer.encode(e.text)), { bos: ids.bos, eos: ids.eos, maxLength, promptFraction });
    task = new CausalLMTask({ name: loaded.name, train: encode(trainExamples), validation: encode(evalExamples), padId: ids.pad }) as Task;
  } else {
    task = new SequenceClassificationTask({
      name: loaded.name, metric: loaded.spec.metric, padId: ids.pad,
      train: encodeExamples(tokenizer, trainExamples, { maxLength }),
      validation: encodeExamples(tokenizer, evalExamples, { maxLength }),
    }) as Task;
  }
  return { dir, loaded, source: loaded.source, family, architecture, tokenizer, task, maxLength, evaluatedOn: on, loadModel };
}

/** The E2E task from `o.data`: read (errors name the file and line), split by MR, encoded with the checkpoint's tokenizer. */
async function e2eTask(o: PrepareOptions, tokenizer: ByteLevelBPETokenizer, ids: { bos: number; eos: number; pad: number }, maxLength: number): Promise<{ task: Task; source: string }> {
  if (o.data === undefined) throw new Error(`--task ${E2E_TASK} reads an E2E NLG CSV (header mr,ref; one row per reference): pass it with --data <file.csv>`);
  const config = resolveE2EConfig(o.e2e);
  const path = resolve(o.data);
  const instances = readE2E(await readFileBytes(path, { expected: 'an E2E NLG CSV (header mr,ref; one row per reference)' }), { source: path });
  let split;
  try {
    split = splitByMR(instances, { validationFraction: config.validationFraction, seed: config.splitSeed });
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message.replace(/^splitByMR: /, '')}`, { cause: err });
  }
  const train = o.limitTrain ? split.train.slice(0, o.limitTrain) : split.train;
  const task = new E2ETask({ name: E2E_TASK, train, validation: split.validation, tokenizer, bos: ids.bos, eos: ids.eos, padId: ids.pad, maxLength, config, synonyms: loadWordNet() });
  const rows = (xs: readonly { refs: string[] }[]) => xs.reduce((n, x) => n + x.refs.length, 0);
  const notes = [
    task.skippedRows ? `${task.skippedRows} training rows skipped (prompt too long for ${maxLength} tokens)` : '',
    task.truncatedRows ? `${task.truncatedRows} references cut at ${maxLength} tokens` : '',
    task.skippedMRs ? `${task.skippedMRs} validation MRs not decodable within ${maxLength} positions` : '',
  ].filter(Boolean);
  const source =
    `${path}: ${instances.length} MRs; ${train.length} MRs (${rows(train)} rows) for training, ${split.validation.length} MRs (${rows(split.validation)} references) held out ` +
    `(${config.validationFraction * 100}% of the MRs, seed ${config.splitSeed}), the first ${task.validationExamples} of them decoded${notes.length ? `; ${notes.join('; ')}` : ''}`;
  return { task: task as Task, source };
}
