/** Training: the Trainer loop, LR schedules, progress output, JSONL metrics, resumable training state, LM pretraining. */
export { Trainer, type StepInfo, type TrainerOptions } from './trainer.js';
export { checkAndClip, NonFiniteStepError, type FiniteCheckOptions } from './finite.js';
export { cooldownStart, lrAt, validateLrSchedule, type LrScheduleConfig } from './schedule.js';
export { formatDuration, ProgressBar, type ProgressOptions, type ProgressUpdate } from './progress.js';
export {
  metricsLine, parseMetrics, perplexity, truncateMetrics, unigramCrossEntropy, unigramCrossEntropyFromCounts, type ClassificationEvalRecord,
  type EvalRecord, type EventRecord, type MetricsRecord, type TrainRecord,
} from './metrics.js';
export { decodeTrainingState, encodeTrainingState, type TrainingState } from './checkpoint.js';
export {
  buildPretrainModel, maskedLmLoss, PRETRAIN_DEFAULTS, PretrainTask, specialTokensFor, validatePretrainConfig,
  type EvalResult, type PretrainArch, type PretrainConfig, type PretrainHostState, type PretrainModel,
} from './pretrain.js';
export { checkpointReadme, type ModelCardInput, type PretrainSummary } from './model-card.js';
export {
  DEFAULT_HEAD_LR, FINETUNE_DEFAULTS, resolveFinetuneConfig, validateFinetuneConfig, type FinetuneConfig,
} from './finetune-config.js';
export {
  runFinetune, type FinetuneResult, type FinetuneRunOptions, type SequenceClassifier,
} from './finetune.js';
export { runPretrain, type EncodedCorpus, type PretrainData, type PretrainRunOptions, type PretrainStore } from './pretrain-run.js';
export { BinaryDesign, DenseDesign, fitLogistic, predictLogistic, type Design, type LogisticModel, type LogisticOptions } from './logistic.js';
export {
  fitProbe, layerPooledFeatures, linearProbe, pooledFeatures, probeModelLayers, PROBE_POOLINGS, standardize, stratifiedFolds, type FeatureOptions, type LinearProbeResult,
  type ProbeFit, type ProbeFitOptions, type ProbeModel, type ProbePooling,
} from './probe.js';
export { bagOfWordsBaseline, words, type BagOfWordsResult } from './bow.js';
