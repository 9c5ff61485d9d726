/**
 * Which parameters each time-series method trains, as data the adapter framework can map:
 * - GPT4TS (Zhou et al. 2023): the input projection, the output layer, every LayerNorm and `wpe`;
 *   attention and FFN weights stay frozen (a trainable-set rule like BitFit's).
 * - One-for-All (Dey et al. 2026): rsLoRA with a Gaussian-initialised down-projection and a zero
 *   up-projection on `wpe` (embedding form) and the output layer only; everything else frozen.
 *   With n_positions rows of width d in wpe, N patches and horizon H, the trainable count is
 *   r (n_positions + d) + r (N d + H); at r = 16, GPT-2 small (1024 positions, d = 768), L = 336
 *   (N = 42) and H = 96 that is 546,304 (the paper's 0.546M).
 */
import type { Module } from './gpt2-parts.js';
import type { GPT4TSConfig } from './config.js';

/** GPT4TS's trainable parameters by name (the names of {@link GPT4TS}'s state dict). */
export const GPT4TS_TRAINABLE: readonly RegExp[] = [/^in_layer\./, /^out_layer\./, /^gpt2\.wpe\./, /\.ln_(1|2|f)\./];

export function isGPT4TSTrainable(name: string): boolean {
  return GPT4TS_TRAINABLE.some((re) => re.test(name));
}

/** Sets requiresGrad by `rule` on every parameter; returns the trainable names. */
export function applyTrainableRule(model: Module, rule: (name: string) => boolean): string[] {
  const names: string[] = [];
  for (const [name, p] of model.namedParameters()) {
    p.requiresGrad = rule(name);
    if (p.requiresGrad) names.push(name);
  }
  return names;
}

/** One-for-All's adapter as a LoRA config (adapter_config.json fields) for src/adapters (not imported here: it sits above this layer). */
export interface OneForAllLoraConfig {
  peft_type: 'LORA';
  r: number;
  lora_alpha: number;
  use_rslora: true;
  init_lora_weights: 'gaussian';
  lora_dropout: number;
  target_modules: string[];
  modules_to_save: string[];
}

/** alpha 16, r 16, rsLoRA, Gaussian A, dropout 0.01, as the official code. */
export function oneForAllLora(r = 16, alpha = 16): OneForAllLoraConfig {
  return {
    peft_type: 'LORA', r, lora_alpha: alpha, use_rslora: true, init_lora_weights: 'gaussian', lora_dropout: 0.01,
    target_modules: ['gpt2.wpe', 'out_layer'], modules_to_save: [],
  };
}

/** r (n_positions + d) + r (N d + H): One-for-All's trainable count for a GPT4TS geometry. */
export function oneForAllParameterCount(c: Pick<GPT4TSConfig, 'numPatches' | 'dModel' | 'horizon'> & { gpt2: { n_positions: number } }, r = 16): number {
  return r * (c.gpt2.n_positions + c.dModel) + r * (c.numPatches * c.dModel + c.horizon);
}
