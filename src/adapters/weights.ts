/**
 * Host-side weight arithmetic for merging and noise: merges run once, not per step, so they read
 * the weights into float64 arrays, fold in float64 and write float32 back (one rounding).
 */
import { tensor } from '../ops/create.js';
import { noGrad } from '../tensor/engine.js';
import { Conv1D, Embedding, Linear } from '../nn/layers.js';
import { parameter } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AdaptableLayer } from './types.js';

export function readF64(t: Tensor): Float64Array {
  return Float64Array.from(t.toArray());
}

export function writeInto(t: Tensor, data: ArrayLike<number>): void {
  if (data.length !== t.size) throw new Error(`writeInto: ${data.length} values for ${t.describe()}`);
  noGrad(() => t.backend.write(t.buf, data));
}

/** A new trainable tensor on the layer's backend. */
export function newParameter(data: ArrayLike<number>, shape: number[], like: Tensor): Tensor {
  return parameter(tensor(Float32Array.from(data), shape, { backend: like.backend }));
}

/** A fixed (non-trainable) float tensor, e.g. a group map. */
export function newBuffer(data: ArrayLike<number>, shape: number[], like: Tensor, dtype: 'float32' | 'int32' = 'float32'): Tensor {
  return tensor(dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data), shape, { backend: like.backend, dtype });
}

/**
 * The layer as y = x W^T + b in the PyTorch Linear layout: in/out sizes and whether the stored
 * weight is transposed ([in, out]: GPT-2's Conv1D; [num, dim]: an Embedding read as ids -> rows).
 */
export function layerGeometry(layer: AdaptableLayer): { inF: number; outF: number; transposed: boolean; kind: 'linear' | 'conv1d' | 'embedding' } {
  if (layer instanceof Linear) return { inF: layer.inFeatures, outF: layer.outFeatures, transposed: false, kind: 'linear' };
  if (layer instanceof Conv1D) return { inF: layer.nx, outF: layer.nf, transposed: true, kind: 'conv1d' };
  if (layer instanceof Embedding) return { inF: layer.num, outF: layer.dim, transposed: true, kind: 'embedding' };
  throw new Error('layerGeometry: not an adaptable layer');
}

/** Index of W[o, i] (Linear layout) in the layer's stored weight. */
export function weightIndex(o: number, i: number, inF: number, outF: number, transposed: boolean): number {
  return transposed ? i * outF + o : o * inF + i;
}

/** The layer's bias, or null (Linear without bias, Embedding). */
export function layerBias(layer: AdaptableLayer): Tensor | null {
  return layer instanceof Embedding ? null : layer.bias;
}

/** Removes `hook` from the layer's adapter list. */
export function detachHook(layer: AdaptableLayer, hook: object): void {
  const i = layer.adapters.indexOf(hook);
  if (i >= 0) layer.adapters.splice(i, 1);
}
