/**
 * LISA (Pan et al. 2024, "Layerwise Importance Sampled AdamW"): the embeddings, the final LayerNorm
 * and the head train every step; of the transformer blocks, `gamma` drawn uniformly without
 * replacement train, and the draw is repeated every `switch_interval` steps. Frozen blocks get no
 * gradient buffers; their AdamW state is dropped by default (frozen_state, layerwise.ts).
 */
import { LayerwiseSelector, resolveLayerwise } from './layerwise.js';
import { checkKnownFields, checkModulesToSave, defaultModulesToSave } from './targets.js';
import type { AdapterMethod, LisaConfig } from './types.js';

const FIELDS = ['peft_type', 'modules_to_save', 'base_model_name_or_path', 'gamma', 'switch_interval', 'seed', 'frozen_state', 'layers_pattern'] as const;

/** Uniform block weights. */
export class LisaSelector extends LayerwiseSelector {
  private readonly count: number;

  constructor(c: LisaConfig, blocks: number) {
    super(c);
    this.count = blocks;
  }

  protected weights(): number[] {
    return new Array<number>(this.count).fill(1);
  }
}

export const LISA: AdapterMethod<'LISA'> = {
  peftType: 'LISA',
  name: 'lisa',
  // The blocks it trains are trained as in full fine-tuning, so it takes full fine-tuning's rate.
  defaultLr: 5e-4,
  describe: (c) => `LISA γ=${c.gamma} T_s=${c.switch_interval}`,
  resolve(config, model) {
    checkKnownFields('LISA', config, FIELDS);
    const { blocks: _, ...fields } = resolveLayerwise('LISA', config, model);
    return {
      peft_type: 'LISA',
      modules_to_save: checkModulesToSave('LISA', config.modules_to_save ?? defaultModulesToSave(model)),
      base_model_name_or_path: config.base_model_name_or_path ?? null,
      ...fields,
    };
  },
  attach(model, config) {
    const { blocks } = resolveLayerwise('LISA', config, model);
    return { layers: [], trainBase: model.namedParameters().map(([n]) => n), selector: new LisaSelector(config, blocks) };
  },
};
