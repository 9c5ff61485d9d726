/**
 * GPT4TS's trainable-set rule (Zhou et al. 2023, "One Fits All"): the LayerNorms and the positional
 * embedding train in full, with the head (a GPT4TS's input and output layers, its modules_to_save);
 * attention and FFN weights stay frozen. Like BitFit it adds no hooks, so merging is a no-op, and its
 * "adapter file" holds the trained base tensors under PEFT-style names. The modules come from the
 * family table (`targets.normsAndPositions`), so the rule applies to every family.
 */
import type { Module } from '../nn/module.js';
import { checkKnownFields, checkModulesToSave, checkTargets, defaultModulesToSave, defaultTargets, matchesTarget } from './targets.js';
import type { AdapterMethod, TargetModules } from './types.js';

const FIELDS = ['peft_type', 'target_modules', 'modules_to_save', 'base_model_name_or_path'] as const;

/** Parameter names of the modules (of any kind: LayerNorm, Embedding, ...) that `targets` match; throws when none does. */
function trainedNames(model: Module, targets: TargetModules): string[] {
  const modules = new Set([...model.namedModules()].filter(([n]) => n && matchesTarget(n, targets)).map(([n]) => n));
  const names = model.namedParameters().map(([n]) => n).filter((n) => modules.has(n.slice(0, n.lastIndexOf('.'))));
  if (names.length === 0) {
    throw new Error(`GPT4TS: target_modules ${JSON.stringify(targets)} match no module with parameters; name LayerNorm / positional-embedding modules or give a regex`);
  }
  return names;
}

export const NORMS_AND_POSITIONS: AdapterMethod<'GPT4TS'> = {
  peftType: 'GPT4TS',
  name: 'gpt4ts',
  // GPT4TS trains fresh input/output layers; on the tiny GPT-2 backbone 1e-3 lowered validation MSE
  // steadily on generated and ETTh1 series (the papers use 1e-4 with 10 epochs on GPT-2 small).
  defaultLr: 1e-3,
  describe: () => 'GPT4TS (LayerNorms, wpe, in/out layers)',
  resolve(config, model) {
    const m = 'GPT4TS';
    checkKnownFields(m, config, FIELDS);
    const target = checkTargets(m, 'target_modules', config.target_modules ?? defaultTargets(model, 'normsAndPositions', m));
    const modulesToSave = checkModulesToSave(m, config.modules_to_save ?? defaultModulesToSave(model));
    trainedNames(model, target); // throws when nothing matches
    return { peft_type: 'GPT4TS', target_modules: target, modules_to_save: modulesToSave, base_model_name_or_path: config.base_model_name_or_path ?? null };
  },
  attach(model, config) {
    return { layers: [], trainBase: trainedNames(model, config.target_modules) };
  },
};
