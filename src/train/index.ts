/** Training: the Trainer loop, LR schedules, progress output, JSONL metrics, resumable training state, LM pretraining. */
export { Trainer, type StepInfo, type TrainerOptions } from './trainer.js';
export { checkAndClip, NonFiniteStepError, type FiniteCheckOptions } from './finite.js';
export { lrAt, validateLrSchedule, type LrScheduleConfig } from './schedule.js';
export { formatDuration, ProgressBar, type ProgressOptions, type ProgressUpdate } from './progress.js';
export {
  metricsLine, parseMetrics, perplexity, truncateMetrics, unigramCrossEntropy, type ClassificationEvalRecord,
  type EvalRecord, type EventRecord, type MetricsRecord, type TrainRecord,
} from './metrics.js';
export { decodeTrainingState, encodeTrainingState, type TrainingState } from './checkpoint.js';
export {
  buildPretrainModel, PRETRAIN_DEFAULTS, PretrainTask, specialTokensFor, validatePretrainConfig,
  type EvalResult, type PretrainArch, type PretrainConfig, type PretrainHostState, type PretrainModel,
} from './pretrain.js';
export { checkpointReadme, type ModelCardInput, type PretrainSummary } from './model-card.js';
export {
  DEFAULT_HEAD_LR, FINETUNE_DEFAULTS, resolveFinetuneConfig, validateFinetuneConfig, type FinetuneConfig,
} from './finetune-config.js';
export {
  runFinetune, type FinetuneResult, type FinetuneRunOptions, type SequenceClassifier,
} from './finetune.js';
