/**
 * The method names users type and the partial config each stands for: plain data with no adapter code
 * behind it, so the command line can list the names without loading the methods.
 */
import type { AdapterConfig } from './types.js';

/** The method names users type (`--method grasp`) and the partial config each stands for. */
export const METHOD_PRESETS = {
  full: { peft_type: 'FULL' },
  bitfit: { peft_type: 'BITFIT' },
  lora: { peft_type: 'LORA' },
  rslora: { peft_type: 'LORA', use_rslora: true },
  /**
   * One-for-All (Dey et al.): Gaussian rsLoRA, r 16, alpha 16, dropout 0.01 as the official code,
   * training its LoRA factors only (no head); targets are the family's LoRA defaults (on a GPT4TS:
   * `gpt2.wpe` and `out_layer`).
   */
  'one-for-all': { peft_type: 'LORA', use_rslora: true, init_lora_weights: 'gaussian', r: 16, lora_alpha: 16, lora_dropout: 0.01, modules_to_save: [] },
  gpt4ts: { peft_type: 'GPT4TS' },
  ia3: { peft_type: 'IA3' },
  grasp: { peft_type: 'GRASP' },
  stochgrasp: { peft_type: 'STOCHGRASP' },
  lisa: { peft_type: 'LISA' },
  grass: { peft_type: 'GRASS' },
} as const satisfies Record<string, Partial<AdapterConfig>>;

export type MethodName = keyof typeof METHOD_PRESETS;
export const METHOD_NAMES = Object.keys(METHOD_PRESETS) as MethodName[];
