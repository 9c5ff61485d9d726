/**
 * Full fine-tuning and BitFit (Ben Zaken et al. 2022) are trainable-set rules, not layers: full
 * trains every parameter; BitFit trains every bias (attention q/k/v/output, FFN, LayerNorm betas,
 * the LM head's bias) plus the task head. Neither adds hooks, so merging is a no-op; their
 * "adapter file" holds the trained base tensors under PEFT-style names.
 */
import type { Module } from '../nn/module.js';
import { checkKnownFields, checkModulesToSave, defaultModulesToSave } from './targets.js';
import type { AdapterMethod } from './types.js';

const FIELDS = ['peft_type', 'modules_to_save', 'base_model_name_or_path'] as const;

/** Names of the bias parameters BitFit trains (every parameter whose name ends in `bias`). */
export function biasNames(model: Module): string[] {
  return model.namedParameters().map(([n]) => n).filter((n) => n === 'bias' || n.endsWith('.bias'));
}

export const FULL: AdapterMethod<'FULL'> = {
  peftType: 'FULL',
  name: 'full',
  // Chosen on the bundled tiny RoBERTa (sentiment, a coarse sweep of 1e-3..3e-2): full fine-tuning wants the smallest.
  defaultLr: 5e-4,
  describe: () => 'full fine-tuning',
  resolve(config, model) {
    checkKnownFields('full fine-tuning', config, FIELDS);
    return {
      peft_type: 'FULL',
      modules_to_save: checkModulesToSave('full fine-tuning', config.modules_to_save ?? defaultModulesToSave(model)),
      base_model_name_or_path: config.base_model_name_or_path ?? null,
    };
  },
  attach(model) {
    return { layers: [], trainBase: model.namedParameters().map(([n]) => n) };
  },
};

export const BITFIT: AdapterMethod<'BITFIT'> = {
  peftType: 'BITFIT',
  name: 'bitfit',
  defaultLr: 5e-3,
  describe: () => 'BitFit',
  resolve(config, model) {
    checkKnownFields('BitFit', config, FIELDS);
    if (biasNames(model).length === 0) throw new Error('BitFit: the model has no bias parameters to train');
    return {
      peft_type: 'BITFIT',
      modules_to_save: checkModulesToSave('BitFit', config.modules_to_save ?? defaultModulesToSave(model)),
      base_model_name_or_path: config.base_model_name_or_path ?? null,
    };
  },
  attach(model) {
    return { layers: [], trainBase: biasNames(model) };
  },
};
