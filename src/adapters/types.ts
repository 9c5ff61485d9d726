import type { Generator } from '../ops/random.js';
/**
 * The contract every fine-tuning method implements. A method is config data (JSON, snake_case like
 * Hugging Face PEFT's adapter_config.json) plus an {@link AdapterMethod} that validates it and
 * attaches it to a model; the registry (registry.ts) is a mapped type over {@link PeftType}, so a
 * method without an implementation does not compile.
 */
import type { Module } from '../nn/module.js';
import type { Conv1D, Embedding, Linear } from '../nn/layers.js';
import type { Tensor } from '../tensor/tensor.js';

/** The layers adapters attach to. */
export type AdaptableLayer = Linear | Conv1D | Embedding;

/** Which layers a method modulates: a list matches module names by suffix (`query` matches `...self.query`), a string is a regex matched against the whole name (PEFT's rules). */
export type TargetModules = string[] | string;

interface ConfigBase {
  /** Modules trained in full and saved with the adapter (the task head), by name suffix. Default: `classifier` when the model has one. */
  modules_to_save: string[];
  /** Where the base model came from (informational, as in PEFT). */
  base_model_name_or_path?: string | null;
}

/** Full fine-tuning: every parameter trains. */
export interface FullConfig extends ConfigBase {
  peft_type: 'FULL';
}

/** BitFit (Ben Zaken et al. 2022): only biases train (attention, FFN, LayerNorm), plus the head. */
export interface BitFitConfig extends ConfigBase {
  peft_type: 'BITFIT';
}

/** LoRA (Hu et al. 2021) and rsLoRA (Kalajdzievski 2023): W x + s B A x with s = alpha/r, or alpha/sqrt(r) with use_rslora. */
export interface LoraConfig extends ConfigBase {
  peft_type: 'LORA';
  r: number;
  lora_alpha: number;
  /** Dropout on the LoRA branch's input. */
  lora_dropout: number;
  target_modules: TargetModules;
  use_rslora: boolean;
  /**
   * true = Kaiming-uniform A (PEFT/loralib default), 'gaussian' = A ~ N(0, 1/r^2) (PEFT's gaussian);
   * B = 0 either way. On Embedding layers true is PEFT's embedding variant (A = 0, B ~ N(0, 1)) and
   * 'gaussian' is Gaussian A with B = 0 (PEFT applies its embedding variant for both).
   */
  init_lora_weights: true | 'gaussian';
  /** Set for GPT-2's Conv1D ([in, out] weights); filled in from the targets. */
  fan_in_fan_out: boolean;
  /** Seed of A's initialisation and of the LoRA dropout masks. */
  seed: number;
}

/**
 * GPT4TS's trainable set (Zhou et al. 2023): every LayerNorm and the positional embedding train, plus
 * the head (modules_to_save: the input and output layers of a GPT4TS); attention and FFN stay frozen.
 */
export interface NormsAndPositionsConfig extends ConfigBase {
  peft_type: 'GPT4TS';
  /** The modules trained in full (default: the family's LayerNorms and positional embedding). */
  target_modules: TargetModules;
}

/** (IA)3 (Liu et al. 2022): learned vectors, initialised to 1, scaling keys, values and FFN activations. */
export interface IA3Config extends ConfigBase {
  peft_type: 'IA3';
  target_modules: TargetModules;
  /** Targets whose input (the FFN activation) is scaled; the others have their output scaled. */
  feedforward_modules: TargetModules;
  fan_in_fan_out: boolean;
}

/**
 * GRASP (Bal and Sengupta): the layer sees (x - beta[g(i)]) / gamma[g(i)], K shared (gamma, beta)
 * per layer, g(i) = perm[i] mod K with a seeded permutation per layer.
 */
export interface GraspConfig extends ConfigBase {
  peft_type: 'GRASP';
  /** K, the number of groups per layer (2K trainable values per layer). */
  num_groups: number;
  target_modules: TargetModules;
  /** Seed of the group permutations (each layer's map is also saved in the adapter file). */
  group_seed: number;
  /**
   * Our choice (the paper leaves it open): scales are clamped to >= min_scale in the forward pass
   * (gradient 0 below), so 1/gamma stays bounded and a group can never be switched off or flipped.
   */
  min_scale: number;
}

/**
 * StochGRASP: each group scale and shift is a Gaussian N(mu, softplus(rho)^2), sampled with one eps
 * per group per forward pass in training; inference uses mu. The loss adds kl_weight * the mean over
 * all group parameters of KL(N(mu, sigma^2) || N(mu, target_sigma^2)), pulling each sigma to the
 * target noise level.
 */
export interface StochGraspConfig extends ConfigBase {
  peft_type: 'STOCHGRASP';
  num_groups: number;
  target_modules: TargetModules;
  group_seed: number;
  min_scale: number;
  /** Initial sigma of every group parameter (rho = softplus^-1 of it). */
  init_sigma: number;
  /** sigma_t, the target noise profile (absolute std for both scales and shifts). */
  target_sigma: number;
  /** lambda, the weight of the KL term in the loss. */
  kl_weight: number;
  /** Sample the shifts too (default true); false keeps beta deterministic. */
  sample_shift: boolean;
  /** Seed of the training-time eps draws. */
  sample_seed: number;
}

/** Config fields both layer-wise methods have. */
export interface LayerwiseFields {
  /** gamma: blocks trained at a time. */
  gamma: number;
  /** T_s: steps between two samplings of the active blocks. */
  switch_interval: number;
  /** Seed of the block sampling. */
  seed: number;
  /** What happens to a deactivated block's AdamW state (TrainableSelector.frozenState). */
  frozen_state: 'drop' | 'keep';
  /** Regex whose first group captures a parameter's block index (default: the family table's). */
  layers_pattern: string;
}

/**
 * LISA (Pan et al. 2024): every parameter outside the transformer blocks (embeddings, final
 * LayerNorm, head) trains every step; `gamma` blocks, drawn uniformly without replacement every
 * `switch_interval` steps, train with them; the other blocks are frozen. Fields: layerwise.ts.
 */
export interface LisaConfig extends ConfigBase, LayerwiseFields {
  peft_type: 'LISA';
}

/**
 * GRASS: LISA's schedule with blocks drawn by gradient importance. A probe of `probe_steps` steps
 * (no updates) measures m_l = mean_t sqrt(||g_l||^2 / N_l); blocks are drawn from
 * p = softmax(normalize(m) / tau); the m of active blocks is refreshed by an EMA every
 * `update_interval` steps (frozen blocks keep theirs); `static` keeps the probe's values. See grass.ts
 * for the defaults and why.
 */
export interface GrassConfig extends ConfigBase, LayerwiseFields {
  peft_type: 'GRASS';
  /** T_p: probe steps (forward + backward, no update) before training. */
  probe_steps: number;
  /** T_u: steps between EMA refreshes of the active blocks' m. */
  update_interval: number;
  /** alpha: m <- alpha m + (1 - alpha) m_new, weight of the old value. */
  alpha: number;
  /** tau: softmax temperature. */
  tau: number;
  /** How m is scaled before the softmax: by its max, its sum, to z-scores, or not at all. */
  normalization: 'max' | 'sum' | 'zscore' | 'none';
  /** Keep the probe's m for the whole run (no EMA refresh). */
  static: boolean;
}

export type AdapterConfig = FullConfig | BitFitConfig | NormsAndPositionsConfig | LoraConfig | IA3Config | GraspConfig | StochGraspConfig | LisaConfig | GrassConfig;
export type PeftType = AdapterConfig['peft_type'];
export type ConfigOf<T extends PeftType> = Extract<AdapterConfig, { peft_type: T }>;

/** One layer a method has attached to. */
export interface AttachedLayer {
  /** The module's dotted name in the model (`roberta.encoder.layer.0.attention.self.query`). */
  readonly name: string;
  readonly layer: AdaptableLayer;
  /** Trainable tensors with their names local to the layer, in PEFT's spelling (`lora_A.weight`). */
  readonly params: readonly [string, Tensor][];
  /** Fixed tensors saved with the adapter (GRASP's group map); loading adopts the file's values. */
  readonly buffers: readonly [string, Tensor][];
  /** Why `data` cannot be buffer `key` of this layer, or null when it can (checked before loading). */
  checkBuffer?(key: string, data: ArrayLike<number>): string | null;
  /** Folds the adapter into the layer's weights; the hook then passes through. */
  merge(): void;
  /** Takes the adapter back out of the weights (exact up to float32 rounding). */
  unmerge(): void;
  /** Extra loss term of this layer (StochGRASP's KL); null when the method has none. */
  regularizer?(): Tensor | null;
  /** Number of elements the regularizer sums over (for a mean across layers). */
  readonly regularizerSize?: number;
  /** Detaches the hook and frees the adapter's tensors. */
  remove(): void;
  /** The random stream the layer draws from in training (StochGRASP's sampling, LoRA's dropout), saved in training states. */
  readonly generator?: Generator;
}

/**
 * A method that chooses, step by step, which of its trainable tensors update (layer-wise selectors
 * such as LISA and GRASS). The training loop asks it before every step; tensors left out get no
 * gradient that step (no gradient buffer is allocated), so the optimizer leaves them as they are.
 * Keys are AdaptedModel.namedTrainable's.
 */
export interface TrainableSelector {
  /**
   * The keys that train at 0-based step `step`. Called once per step in order; the answer depends
   * only on the step and the selector's state ({@link state}), so resuming at a step selects the same set.
   */
  activeAt(step: number, trainable: readonly (readonly [string, Tensor])[]): ReadonlySet<string>;
  /** The selector's own random state, saved in training states for exact resume. */
  readonly generator?: Generator;
  /**
   * What the optimizer does with the state of a tensor that leaves the active set: 'drop' frees it
   * (a re-activated tensor starts from zero moments at step 1), 'keep' keeps it (in the heap, or
   * outside it when the optimizer offloads).
   */
  readonly frozenState: 'drop' | 'keep';
  /** Units that are switched together (transformer blocks): keys grouped, for block-by-block optimizer offloading. */
  groups(trainable: readonly (readonly [string, Tensor])[]): string[][];
  /**
   * Steps of gradient measurement without updates before training starts (GRASS's probe), on the
   * batches of steps 0, 1, ...; 0 = none. During them `probeKeys` get gradients.
   */
  readonly probeSteps: number;
  probeKeys?(trainable: readonly (readonly [string, Tensor])[]): ReadonlySet<string>;
  /**
   * Gradient statistics, after each backward pass and before clipping: `sumSquares(key)` is the
   * squared L2 norm of a tensor's gradient (0 without one). `probe` is the probe step's index
   * during the probe, null in training.
   */
  observe?(step: number, sumSquares: (key: string) => number, probe: number | null): void;
  /** JSON state for training states (with {@link generator}: exact resume); restored by setState. */
  state(): unknown;
  setState(state: unknown): void;
  /** A JSON summary for the metrics log each time the active set changes (e.g. sampling probabilities per block). */
  describe?(): Record<string, unknown>;
  /**
   * The most one training step trains: elements in the tensors every step trains plus the `units`
   * largest of the `of` units switched together (cost reports count this, not every tensor that can train).
   */
  largestStep(trainable: readonly (readonly [string, Tensor])[]): StepShare;
}

/** What one step of a selector-driven method trains at most (see {@link TrainableSelector.largestStep}). */
export interface StepShare {
  /** Elements trained in one step: the always-trained tensors and the `units` largest units. */
  elements: number;
  /** Units (blocks) trained per step. */
  units: number;
  /** Units to choose from. */
  of: number;
}

/** What attaching a method did to a model. */
export interface Attachment {
  layers: AttachedLayer[];
  /** Base-model parameters the method trains itself (BitFit's biases; every one for full fine-tuning). */
  trainBase: string[];
  /** Present for methods whose trainable set changes during training (see {@link TrainableSelector}). */
  selector?: TrainableSelector;
}

/**
 * A fine-tuning method: resolves a partial config against a model (default targets come from the
 * family table: RoBERTa's `query`/`value` vs GPT-2's `c_attn`) and attaches it. Everything the loop,
 * the reports and the adapter files need to know about a method, it says here: adding a method is
 * its file, its config type in {@link AdapterConfig} and one entry in the registry.
 */
export interface AdapterMethod<T extends PeftType> {
  readonly peftType: T;
  /** Short name used by the CLI and reports (`lora`, `grasp`, ...). */
  readonly name: string;
  /** Peak learning rate fine-tuning uses when the user gives none (see each method's file for how it was chosen). */
  readonly defaultLr: number;
  /** A short description of a resolved config for report legends (`LoRA r=8 α=8 (query,value)`). */
  describe(config: ConfigOf<T>): string;
  /**
   * The weight of the method's extra loss term for `config` (StochGRASP's kl_weight); absent or 0
   * when the method has none. The term itself comes from the attached layers' `regularizer()`.
   */
  regularizerWeight?(config: ConfigOf<T>): number;
  /**
   * adapter_config.json quirks. `toFile` edits the fields written (PEFT's own methods drop what PEFT
   * lacks and add what it expects), `fromFile` the fields read before `resolve`. Default: unchanged.
   */
  toFile?(fields: Record<string, unknown>): Record<string, unknown>;
  fromFile?(fields: Record<string, unknown>): Record<string, unknown>;
  /** Fills defaults for `model` and validates every field; errors say which field and what to change. */
  resolve(config: Partial<ConfigOf<T>>, model: Module): ConfigOf<T>;
  /** Attaches to `model` (whose parameters are already frozen). */
  attach(model: Module, config: ConfigOf<T>): Attachment;
}
