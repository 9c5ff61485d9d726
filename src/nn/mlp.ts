/**
 * The feed-forward pieces every transformer family shares: activations by their HF config name, the
 * block options, and GPT-2's MLP (`c_fc`, `c_proj`). The blocks themselves live with their models
 * (src/models/<family>/), named as their checkpoints are.
 */
import type { Tensor } from '../tensor/tensor.js';
import { gelu, relu } from '../ops/elementwise.js';
import type { Generator } from '../ops/random.js';
import { Conv1D, Dropout } from './layers.js';
import { Module } from './module.js';

/** Activations by their HF config name: 'gelu' is the exact erf form, 'gelu_new' the tanh form. */
export type Activation = 'gelu' | 'gelu_new' | 'relu';
export const ACTIVATIONS: { [K in Activation]: (x: Tensor) => Tensor } = {
  gelu: (x) => gelu(x, 'none'),
  gelu_new: (x) => gelu(x, 'tanh'),
  relu,
};

export interface BlockOptions {
  generator?: Generator;
  std?: number;
  projStd?: number;
  attnPdrop?: number;
  residPdrop?: number;
  layerNormEps?: number;
  activation?: Activation;
}

/** GPT-2's feed-forward: c_fc (C -> inner), activation, c_proj (inner -> C), dropout. */
export class MLP extends Module {
  readonly c_fc: Conv1D;
  readonly c_proj: Conv1D;
  readonly dropout: Dropout;

  constructor(nEmbd: number, inner: number, readonly o: BlockOptions = {}) {
    super();
    this.c_fc = new Conv1D(nEmbd, inner, { generator: o.generator, std: o.std });
    this.c_proj = new Conv1D(inner, nEmbd, { generator: o.generator, std: o.projStd ?? o.std });
    this.dropout = new Dropout(o.residPdrop ?? 0, o.generator);
  }

  forward(x: Tensor): Tensor {
    const h = ACTIVATIONS[this.o.activation ?? 'gelu_new'](this.c_fc.forward(x)); // (B, T, inner)
    return this.dropout.forward(this.c_proj.forward(h)); // (B, T, C)
  }
}
