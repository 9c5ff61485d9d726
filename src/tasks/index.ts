/** Fine-tuning tasks: the Task contract, sequence classification and causal LM, the task table, GLUE and sentiment readers, splits, batches, metrics. */
export {
  CAUSAL_TASK_NAMES, CAUSAL_TASKS, isCausalTaskName, isTaskName, TASK_NAMES, TASKS, type CausalTaskName, type CausalTaskSpec, type ClassificationExample, type TaskMetric, type TaskName, type TaskSpec } from './registry.js';
export { detectGlueFormat, GLUE_DIRECTORIES, GLUE_TASKS, parseGlueTsv, type GlueTask } from './glue.js';
export { tsvRows, unquoteField, type TsvRow } from './tsv.js';
export { decodeTaskText, firstInvalidUtf8, TaskFileError } from './text.js';
export { SENTIMENT_FIXTURES, SENTIMENT_VALIDATION_FRACTION, sentimentExamplesFromFixtures } from './sentiment.js';
export { splitExamples, type ExampleSplit, type ExampleSplitOptions } from './split.js';
export {
  ClassificationBatches, collateExamples, encodeExamples, evaluationBatches,
  type ClassificationBatchOptions, type ClassificationBatch, type EncodedExample, type EncodeExamplesOptions,
  type ExampleCursor, type ExampleEncoder, type TrainingBatchOptions,
} from './batches.js';
export { ExampleOrder, type LengthGrouping } from './order.js';
export type { Task, TaskEval, TaskGeneration, TaskModel, TrainBatches, TrainBatchOptions } from './task.js';
export { batchTensors, evaluateClassifier, SequenceClassificationTask, type ClassificationTaskOptions, type ClassifierEval } from './classification.js';
export {
  CausalLMTask, collatePrompts, promptExamples, type CausalBatch, type CausalEval, type CausalLMTaskOptions, type PromptExample,
} from './causal-lm.js';
export {
  E2E_DEFAULTS, E2ETask, e2ePairs, e2ePromptIds, resolveE2EConfig, validateE2EConfig,
  type E2EBatch, type E2EEval, type E2ETaskConfig, type E2ETaskOptions, type TextCodec,
} from './e2e.js';
export { accuracy, classificationMetrics, f1, matthewsCorrelation, type ClassificationScores, type ClassLabels } from './metrics.js';
export { evaluateForecaster, ForecastTask, type ForecastBatch, type ForecastEval, type ForecastTaskOptions } from './forecast.js';
export { setOf, windowsInOrder, windowTrainBatches, type WindowBatch } from './windows.js';
export { AnomalyTask, reconstructionScores, type AnomalyEval, type AnomalyTaskOptions, type ReconstructionBatch } from './anomaly.js';
export { ImputeTask, type ImputeEval, type ImputeTaskOptions } from './impute.js';
export { SeriesClassificationTask, type SeriesClassBatch, type SeriesClassEval, type SeriesClassificationTaskOptions } from './series-classification.js';
export { ShortForecastTask, smapeLoss, type ShortForecastBatch, type ShortForecastEval, type ShortForecastTaskOptions } from './forecast-short.js';
