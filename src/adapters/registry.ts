/**
 * Every method by its PEFT type, as a mapped type: adding a type to AdapterConfig without an
 * implementation here does not compile. `METHOD_NAMES` (presets.ts) maps the CLI/report names to configs.
 */
import { BITFIT, FULL } from './bitfit.js';
import { GRASP } from './grasp.js';
import { GRASS } from './grass.js';
import { LISA } from './lisa.js';
import { IA3 } from './ia3.js';
import { LORA } from './lora.js';
import { NORMS_AND_POSITIONS } from './norms.js';
import { STOCHGRASP } from './stochgrasp.js';
import { METHOD_NAMES, METHOD_PRESETS, type MethodName } from './presets.js';
import type { AdapterConfig, AdapterMethod, PeftType } from './types.js';

export const ADAPTERS: { [T in PeftType]: AdapterMethod<T> } = {
  FULL, BITFIT, GPT4TS: NORMS_AND_POSITIONS, LORA, IA3, GRASP, STOCHGRASP, LISA, GRASS,
};

export { METHOD_NAMES, METHOD_PRESETS, type MethodName } from './presets.js';

/**
 * A resolved config's method as the CLI, reports, the adapter model and the web session all name it:
 * a method name, or `one-for-all (alpha/r)` for One-for-All under LoRA's own scaling.
 */
export type MethodLabel = MethodName | 'one-for-all (alpha/r)';

/**
 * The method of a resolved config: rsLoRA is LoRA with a flag, One-for-All is rsLoRA with Gaussian
 * init, and a Gaussian-initialised LoRA with LoRA's own scaling (`one-for-all:scaling=standard`) is
 * `one-for-all (alpha/r)`, not `lora`: it is One-for-All with the other scaling, which a rank sweep
 * sets side by side with alpha/sqrt(r).
 */
export function methodName(config: AdapterConfig): MethodLabel {
  if (config.peft_type === 'LORA') {
    if (config.init_lora_weights === 'gaussian') return config.use_rslora ? 'one-for-all' : 'one-for-all (alpha/r)';
    return config.use_rslora ? 'rslora' : 'lora';
  }
  return config.peft_type.toLowerCase() as MethodName;
}

export function methodFor<T extends PeftType>(type: T): AdapterMethod<T> {
  const m = ADAPTERS[type];
  if (!m) throw new Error(`unknown peft_type ${JSON.stringify(type)}; known: ${Object.keys(ADAPTERS).join(', ')}`);
  return m;
}

/** The peak learning rate of a method name when the user gives none (its AdapterMethod's). */
export function defaultLr(name: MethodName): number {
  return methodFor(METHOD_PRESETS[name].peft_type).defaultLr;
}

/** A short description of a resolved config, for legends (its AdapterMethod's). */
export function describeConfig(config: AdapterConfig): string {
  return methodFor(config.peft_type).describe(config as never);
}

/** The preset of a method name, or an error listing the names. */
export function presetFor(name: string): Partial<AdapterConfig> {
  if (!Object.hasOwn(METHOD_PRESETS, name)) throw new Error(`unknown method ${JSON.stringify(name)}; choose one of ${METHOD_NAMES.join(', ')}`);
  return { ...METHOD_PRESETS[name as MethodName] } as Partial<AdapterConfig>;
}
