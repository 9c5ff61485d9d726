/**
 * The demo's tasks from the sentiment fixtures' bytes (no file system): sentiment classification
 * for a RoBERTa checkpoint, or continuing the same sentences for a GPT-2 one (the `sentiment-lm`
 * task of `wasmgrad finetune`), built with the checkpoint's tokenizer and special tokens.
 */
import { FAMILIES, type Family, type TaskKind } from '../models/families.js';
import { encodeExamples } from '../tasks/batches.js';
import { CausalLMTask, promptExamples } from '../tasks/causal-lm.js';
import { SequenceClassificationTask } from '../tasks/classification.js';
import { CAUSAL_TASKS, TASKS, type ClassificationExample } from '../tasks/registry.js';
import { SENTIMENT_FIXTURES, SENTIMENT_VALIDATION_FRACTION, sentimentExamplesFromFixtures } from '../tasks/sentiment.js';
import { splitExamples } from '../tasks/split.js';
import type { Task } from '../tasks/task.js';
import type { ByteLevelBPETokenizer } from '../tokenizer/tokenizer.js';
import type { DemoTaskName } from './protocol.js';
import { readRequired, type FileSource } from '../io/source.js';

export const DEMO_TASKS: { readonly [N in DemoTaskName]: { kind: TaskKind; description: string } } = {
  sentiment: { kind: 'sequence-classification', description: TASKS.sentiment.description },
  'sentiment-lm': { kind: 'causal-lm', description: CAUSAL_TASKS['sentiment-lm'].description },
};

/** The demo task a family trains by default: the first whose kind the family serves. */
export function defaultDemoTask(family: Family): DemoTaskName {
  const kinds = new Set(Object.values(FAMILIES[family].architectures).map((a) => a.task));
  const name = (Object.keys(DEMO_TASKS) as DemoTaskName[]).find((n) => kinds.has(DEMO_TASKS[n].kind));
  if (!name) throw new Error(`a ${family} model serves none of the demo's tasks (${Object.keys(DEMO_TASKS).join(', ')})`);
  return name;
}

/** The 3,000 labelled sentences, split 80/20 per label as `wasmgrad finetune --task sentiment` splits them (seed 0). */
export async function readSentiment(source: FileSource): Promise<{ train: ClassificationExample[]; validation: ClassificationExample[] }> {
  const all: ClassificationExample[] = [];
  for (const file of SENTIMENT_FIXTURES) {
    const where = source.locate(file);
    const text = new TextDecoder().decode(await readRequired(source, file, 'a sentiment fixture of the npm package "sentiment"'));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`${where}: invalid JSON (${(err as Error).message})`, { cause: err });
    }
    all.push(...sentimentExamplesFromFixtures(json as unknown[], where));
  }
  return splitExamples(all, { validationFraction: SENTIMENT_VALIDATION_FRACTION, seed: 0 });
}

/** Every k-th example so that at most `n` remain: a subset with the whole split's mix of sources and labels. */
export function spread<T>(xs: readonly T[], n: number): T[] {
  if (!(n >= 1)) throw new Error(`evalExamples ${n} must be >= 1`);
  if (xs.length <= n) return [...xs];
  const step = xs.length / n;
  return Array.from({ length: Math.floor(n) }, (_, i) => xs[Math.floor(i * step)]);
}

export interface DemoTaskOptions {
  name: DemoTaskName;
  family: Family;
  /** The checkpoint's parsed config (for its special token ids). */
  config: object;
  tokenizer: ByteLevelBPETokenizer;
  train: readonly ClassificationExample[];
  validation: readonly ClassificationExample[];
  maxLength: number;
}

/** The task, ready for runFinetune. */
export function demoTask(o: DemoTaskOptions): Task {
  const spec = FAMILIES[o.family];
  if (!spec.specialIds) throw new Error(`${o.family} models read no tokens; the demo's tasks are text`);
  const ids = spec.specialIds(o.config);
  if (o.name === 'sentiment') {
    return new SequenceClassificationTask({
      name: o.name, metric: TASKS.sentiment.metric, padId: ids.pad,
      train: encodeExamples(o.tokenizer, o.train, { maxLength: o.maxLength }),
      validation: encodeExamples(o.tokenizer, o.validation, { maxLength: o.maxLength }),
    }) as Task;
  }
  const encode = (xs: readonly ClassificationExample[]) =>
    promptExamples(xs.map((e) => o.tokenizer.encode(e.text)), {
      bos: ids.bos, eos: ids.eos, maxLength: o.maxLength, promptFraction: CAUSAL_TASKS['sentiment-lm'].promptFraction,
    });
  return new CausalLMTask({ name: o.name, train: encode(o.train), validation: encode(o.validation), padId: ids.pad }) as Task;
}
