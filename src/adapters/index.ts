/** Fine-tuning methods: full, BitFit, GPT4TS's norms-and-positions rule, LoRA/rsLoRA/One-for-All, (IA)3, GRASP, StochGRASP, LISA, GRASS; adapter files; noise robustness. */
export type {
  AdaptableLayer, AdapterConfig, AdapterMethod, AttachedLayer, Attachment, BitFitConfig, ConfigOf, FullConfig, GraspConfig,
  IA3Config, LoraConfig, NormsAndPositionsConfig, PeftType, StochGraspConfig, TargetModules, TrainableSelector, StepShare, LisaConfig, GrassConfig, LayerwiseFields,
} from './types.js';
export { ADAPTERS, defaultLr, describeConfig, METHOD_NAMES, METHOD_PRESETS, methodFor, methodName, presetFor, type MethodLabel, type MethodName } from './registry.js';
export { AdaptedModel, applyAdapter, PEFT_PREFIX, validateAdapterConfig, type ParameterCounts } from './model.js';
export { defaultTargets, findTargets, matchesTarget, modelFamily, seededPermutation, type ModelFamily } from './targets.js';
export { loraParameterCount, loraScaling } from './lora.js';
export { graspGroupMap } from './grasp.js';
export { gaussianKL, inverseSoftplus, klToTarget } from './stochgrasp.js';
export { biasNames } from './bitfit.js';
export { NORMS_AND_POSITIONS } from './norms.js';
export { adapterConfigJson, adapterFiles, adapterWeights, loadAdapter, loadAdapterFrom, parseAdapterConfig } from './io.js';
export {
  DEFAULT_NOISE_SIGMAS, evaluateUnderNoise, meanStd, perturbWeight, type NoiseModel, type NoiseOptions, type NoiseResult,
} from './noise.js';
export { LisaSelector } from './lisa.js';
export { GrassSelector, grassProbabilities, normalizeImportance } from './grass.js';
export { blockIndices, sampleWithoutReplacement, splitBlocks } from './layerwise.js';
