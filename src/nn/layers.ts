/**
 * Basic layers with PyTorch / Hugging Face parameter names and initialisation
 * (normal(0, 0.02) weights, zero biases, LayerNorm weight 1 and bias 0), drawn from a seeded Generator.
 */
import { fmtShape } from '../backend/strides.js';
import { noGrad } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { full, randn } from '../ops/create.js';
import { add, mul } from '../ops/elementwise.js';
import { embedding } from '../ops/indexing.js';
import { linear, matmul } from '../ops/matmul.js';
import { dropout, layerNorm } from '../ops/nn.js';
import { Generator } from '../ops/random.js';
import { Module, parameter } from './module.js';

/** A parameter drawn from normal(0, std). */
export function normalParameter(shape: readonly number[], std: number, generator: Generator): Tensor {
  // tidy frees the scalar `std` is lifted to (no scope is open while a model is built)
  return parameter(tidy(() => noGrad(() => mul(randn(shape, { generator }), std))));
}

/** A parameter filled with `value`. */
export function constParameter(shape: readonly number[], value: number): Tensor {
  return parameter(full(shape, value));
}

export interface InitOptions {
  /** Source of the initial weights (default: a fresh Generator(0)). */
  generator?: Generator;
  /** Standard deviation of the weights (default 0.02, HF's initializer_range). */
  std?: number;
}

/**
 * A fine-tuning method's change to one layer's computation (see src/adapters). Hooks are plain
 * objects, not Module children, so the base model's parameter names (its checkpoint keys) stay the
 * same with or without adapters; the adapter owns and names its own parameters.
 */
export interface LayerAdapter {
  /**
   * Transforms the layer input before the base computation (GRASP's grouped scale/shift, (IA)3 on FFN
   * inputs). `firstRowOf`: as in {@link Linear.forward}.
   */
  input?(x: Tensor, firstRowOf?: number): Tensor;
  /**
   * Transforms the base output; `x` is the input the base layer saw (LoRA adds B A x, (IA)3 scales).
   * `firstRowOf`: as in {@link Linear.forward}.
   */
  output?(x: Tensor, y: Tensor, firstRowOf?: number): Tensor;
  /**
   * True when the hooks compute each row (position) from that row alone, and any per-element
   * randomness they draw honours `firstRowOf` (the whole tensor's draw, row 0 kept, as the `dropout`
   * op's option), so running the layer on some rows gives exactly those rows of running it on all.
   * A model may then compute only the rows it needs (RoBERTa's classifier: the last layer's `<s>`
   * row); a hook without it makes the model compute every row.
   */
  readonly rowLocal?: boolean;
}

/** Whether every hook on the layer is {@link LayerAdapter.rowLocal}. */
export function rowLocalAdapters(layer: { adapters: readonly LayerAdapter[] }): boolean {
  return layer.adapters.every((a) => a.rowLocal === true);
}

/** Runs `base` between the adapters' input and output hooks, in attachment order. */
function withAdapters(adapters: readonly LayerAdapter[], x: Tensor, base: (x: Tensor) => Tensor, firstRowOf?: number): Tensor {
  if (adapters.length === 0) return base(x);
  for (const a of adapters) if (a.input) x = a.input(x, firstRowOf);
  let y = base(x);
  for (const a of adapters) if (a.output) y = a.output(x, y, firstRowOf);
  return y;
}

/** y = x W^T + b with W stored [out, in] (PyTorch nn.Linear). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  /** Hooks of attached fine-tuning methods (empty for the plain layer). */
  readonly adapters: LayerAdapter[] = [];

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: InitOptions & { bias?: boolean } = {}) {
    super();
    this.weight = normalParameter([outFeatures, inFeatures], opts.std ?? 0.02, opts.generator ?? new Generator(0));
    this.bias = opts.bias === false ? null : constParameter([outFeatures], 0);
  }

  /**
   * (..., in) -> (..., out). With `firstRowOf`, `x` is row 0 (its second-to-last dim of size 1) of an
   * input with that many rows, which a model computing only that row did not build: the hooks draw
   * any per-element randomness for the whole input and keep row 0 (LoRA's dropout), so the result is
   * row 0 of the layer on the whole input.
   */
  forward(x: Tensor, firstRowOf?: number): Tensor {
    // In its own scope: the product before the bias (and an adapter's temporaries) is freed here
    // unless a backward rule reads it.
    return tidy(() => withAdapters(this.adapters, x, (h) => linear(h, this.weight, this.bias), firstRowOf));
  }
}

/** GPT-2's Conv1D: a linear layer with W stored [in, out], y = x W + b. */
export class Conv1D extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly adapters: LayerAdapter[] = [];

  constructor(readonly nx: number, readonly nf: number, opts: InitOptions = {}) {
    super();
    this.weight = normalParameter([nx, nf], opts.std ?? 0.02, opts.generator ?? new Generator(0));
    this.bias = constParameter([nf], 0);
  }

  forward(x: Tensor): Tensor {
    // In its own scope, as Linear's.
    return tidy(() => withAdapters(this.adapters, x, (h) => add(matmul(h, this.weight), this.bias))); // (..., nx) -> (..., nf)
  }
}

/** Lookup table [num, dim]. With `paddingIdx`, that row starts at zero and receives no gradient (as PyTorch). */
export class Embedding extends Module {
  readonly weight: Tensor;
  readonly paddingIdx: number | null;
  /** Output hooks see the ids as `x` (LoRA on embeddings); input hooks are not allowed. */
  readonly adapters: LayerAdapter[] = [];

  constructor(readonly num: number, readonly dim: number, opts: InitOptions & { paddingIdx?: number } = {}) {
    super();
    this.weight = normalParameter([num, dim], opts.std ?? 0.02, opts.generator ?? new Generator(0));
    const pad = opts.paddingIdx ?? null;
    if (pad !== null && !(Number.isInteger(pad) && pad >= -num && pad < num)) {
      throw new Error(`Embedding: paddingIdx ${pad} is outside [-${num}, ${num}) (negative counts from the end, as in PyTorch)`);
    }
    this.paddingIdx = pad !== null && pad < 0 ? pad + num : pad;
    if (this.paddingIdx !== null) {
      const w = this.weight.toArray();
      w.fill(0, this.paddingIdx * dim, (this.paddingIdx + 1) * dim);
      this.weight.backend.write(this.weight.buf, w);
    }
  }

  forward(ids: Tensor): Tensor {
    return withAdapters(this.adapters, ids, (i) => this.lookup(i));
  }

  private lookup(ids: Tensor): Tensor {
    // the padding row gets no gradient: the op clears it in the backward, no ids are read here
    return embedding(this.weight, ids, { paddingIdx: this.paddingIdx }); // (...) -> (..., dim)
  }
}

export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.weight = constParameter([dim], 1);
    this.bias = constParameter([dim], 0);
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.dim) {
      throw new Error(`LayerNorm(${this.dim}): input ${fmtShape(x.shape)} must end in ${this.dim}`);
    }
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** Dropout that is active only in training mode; draws its masks from `generator` (seeded, reproducible). */
export class Dropout extends Module {
  constructor(readonly p: number, readonly generator: Generator = new Generator(0)) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p = ${p} must be in [0, 1)`);
  }

  /** With `firstRowOf`, `x` is row 0 of a tensor with that many rows (see the `dropout` op's option). */
  forward(x: Tensor, firstRowOf?: number): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this.generator, firstRowOf });
  }
}
