/**
 * What `finetune`, `eval` and `compare` share before training: read the checkpoint's family from its
 * config.json, check the family serves the task's kind (the family table says which), and build the
 * {@link Task} with the checkpoint's tokenizer and special tokens. Any family x task pair the table
 * allows works; the rest are refused with a message naming what is allowed.
 */
import { architectureFor, FAMILIES, FAMILY_NAMES, familyForModelType, tasksOf, type Family, type FamilyModel, type TaskKind } from '../models/families.js';
import { fromPretrained, readPretrainedConfig } from '../node/pretrained.js';
import { resolveModelDir } from '../node/paths.js';
import { loadTask, type LoadedTask, type LoadTaskOptions } from '../node/tasks.js';
import { loadTokenizerFromDirectory } from '../node/tokenizer-files.js';
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
  'causal-lm': CAUSAL_TASK_NAMES,
  'masked-lm': [],
  forecast: ['forecast (with --data <csv>)'],
};

export interface PreparedRun {
  dir: string;
  loaded: LoadedTask;
  family: Family;
  architecture: string;
  tokenizer: ByteLevelBPETokenizer;
  task: Task;
  /** Max tokens per example (the option, capped by the model's positions). */
  maxLength: number;
  /** A fresh model of the task's architecture with the checkpoint's weights (a new head starts from its seeded init). */
  loadModel: () => Promise<FamilyModel>;
}

export interface PrepareOptions extends Pick<LoadTaskOptions, 'datasetsDir' | 'format'> {
  maxLength?: number;
  /** Use at most this many training examples. */
  limitTrain?: number;
}

/** Checks the family x task pair and builds the task; throws naming the tasks and families that fit. */
export async function prepareRun(modelArg: string, taskArg: string, o: PrepareOptions = {}): Promise<PreparedRun> {
  const dir = resolveModelDir(modelArg);
  const raw = await readPretrainedConfig(dir);
  const family = familyForModelType(raw.model_type, dir);
  const loaded = await loadTask(taskArg, { datasetsDir: o.datasetsDir, format: o.format });
  if (!tasksOf(family).includes(loaded.kind)) {
    const fits = tasksOf(family).flatMap((k) => TASKS_BY_KIND[k]);
    const families = FAMILY_NAMES.filter((f) => tasksOf(f).includes(loaded.kind));
    throw new Error(
      `task ${loaded.name} is ${loaded.kind}, which a ${family} model (${dir}) does not serve; ` +
        `${family} can be fine-tuned on: ${fits.join(', ') || 'nothing yet'}. Use a ${families.join(' or ')} checkpoint for ${loaded.name}`,
    );
  }
  const architecture = architectureFor(family, loaded.kind);
  const overrides = loaded.kind === 'sequence-classification' ? { num_labels: loaded.spec.numLabels } : {};
  const spec = FAMILIES[family];
  const config = spec.parseConfig({ ...raw, ...overrides });
  if (!spec.specialIds) throw new Error(`task ${loaded.name} reads text, and ${family} models read no tokens`);
  const ids = spec.specialIds(config);
  const maxLength = Math.min(o.maxLength ?? FINETUNE_DEFAULTS.maxLength, spec.maxPositions(config));
  const tokenizer = await loadTokenizerFromDirectory(dir);
  const declared = Array.isArray(raw.architectures) ? raw.architectures.map(String) : [];
  const loadModel = () => fromPretrained(dir, { architecture, strict: declared.includes(architecture), config: overrides });
  const trainExamples: ClassificationExample[] = o.limitTrain ? loaded.train.slice(0, o.limitTrain) : loaded.train;
  let task: Task;
  if (loaded.kind === 'causal-lm') {
    const promptFraction = isCausalTaskName(loaded.name) ? CAUSAL_TASKS[loaded.name].promptFraction : 0.5;
    const encode = (xs: readonly ClassificationExample[]) =>
      promptExamples(xs.map((e) => tokenizer.encode(e.text)), { bos: ids.bos, eos: ids.eos, maxLength, promptFraction });
    task = new CausalLMTask({ name: loaded.name, train: encode(trainExamples), validation: encode(loaded.validation), padId: ids.pad }) as Task;
  } else {
    task = new SequenceClassificationTask({
      name: loaded.name, metric: loaded.spec.metric, padId: ids.pad,
      train: encodeExamples(tokenizer, trainExamples, { maxLength }),
      validation: encodeExamples(tokenizer, loaded.validation, { maxLength }),
    }) as Task;
  }
  return { dir, loaded, family, architecture, tokenizer, task, maxLength, loadModel };
}
