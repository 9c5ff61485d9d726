/** Tensor constructors. They create leaves on the active backend (or `opts.backend`). */
import type { Backend } from '../backend/kernels.js';
import { fmtShape, sizeOf, type Shape } from '../backend/strides.js';
import { getBackend } from '../tensor/engine.js';
import { emptyTensor, Tensor, type DType } from '../tensor/tensor.js';
import { defaultGenerator, type Generator } from './random.js';

export interface CreateOptions {
  /** Make the tensor a leaf that collects gradients. */
  requiresGrad?: boolean;
  /** 'int32' for ids, targets and group maps; floats by default (the backend's precision). */
  dtype?: 'float32' | 'float64' | 'int32';
  /** Label used in errors and reports. */
  name?: string;
  /** Backend to create the tensor on (default: the active one). */
  backend?: Backend;
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

type Nested = number | readonly Nested[];

function resolve(opts: CreateOptions): { backend: Backend; dtype: DType } {
  const backend = opts.backend ?? getBackend();
  const dtype: DType = opts.dtype === 'int32' ? 'int32' : backend.dtype;
  return { backend, dtype };
}

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.name) t.name = opts.name;
  if (opts.requiresGrad) {
    if (t.dtype === 'int32') throw new Error(`${t.describe()}: int32 tensors cannot require grad`);
    t.requiresGrad = true;
  }
  return t;
}

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let x: Nested = data;
  while (Array.isArray(x)) {
    shape.push(x.length);
    x = (x as readonly Nested[])[0];
  }
  return shape;
}

function flatten(data: Nested, shape: number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (typeof data !== 'number') throw new Error('tensor: ragged nested array (sub-arrays must have equal lengths)');
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new Error(`tensor: ragged nested array at depth ${depth} (expected length ${shape[depth]})`);
  }
  for (const v of data as readonly Nested[]) flatten(v, shape, depth + 1, out);
}

/**
 * Creates a tensor from a number, nested arrays, or a flat array/typed array with `shape`.
 * `tensor([[1, 2], [3, 4]])`, `tensor(new Float32Array(6), [2, 3])`, `tensor([1, 0, 2], [3], { dtype: 'int32' })`.
 */
export function tensor(data: Nested | ArrayLike<number>, shape?: Shape, opts: CreateOptions = {}): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof data === 'number') {
    flat = [data];
    inferred = [];
  } else if (Array.isArray(data) && data.some((v) => Array.isArray(v))) {
    inferred = inferShape(data as Nested);
    const out: number[] = [];
    flatten(data as Nested, inferred, 0, out);
    flat = out;
  } else {
    flat = data as ArrayLike<number>;
    inferred = [flat.length];
  }
  const finalShape = shape ? [...shape] : inferred;
  if (sizeOf(finalShape) !== flat.length) {
    throw new Error(`tensor: ${flat.length} values do not fill shape ${fmtShape(finalShape)} (${sizeOf(finalShape)} elements)`);
  }
  const { backend, dtype } = resolve(opts);
  if (dtype === 'int32') {
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isInteger(flat[i]) || flat[i] < -2147483648 || flat[i] > 2147483647) {
        throw new Error(`tensor: value ${flat[i]} at index ${i} is not an int32 (dtype 'int32')`);
      }
    }
  }
  const t = emptyTensor(backend, finalShape, dtype);
  backend.write(t.buf, flat);
  // ids and masks come from the host: keep their values so checks never read them back
  if (dtype === 'int32') t.storage.hostInts = Int32Array.from(flat);
  return finish(t, opts);
}

/** A tensor filled with `value`. */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  const { backend, dtype } = resolve(opts);
  const t = emptyTensor(backend, shape, dtype);
  if (dtype === 'int32') backend.write(t.buf, new Int32Array(t.size).fill(value));
  else backend.fill(t.buf, value);
  return finish(t, opts);
}

export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** Same shape, backend and dtype as `t`. */
export function fullLike(t: Tensor, value: number, opts: CreateOptions = {}): Tensor {
  return full(t.shape, value, { dtype: t.dtype, backend: t.backend, ...opts });
}

export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return fullLike(t, 0, opts);
}

export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return fullLike(t, 1, opts);
}

/** [start, start + step, ...) below `end`. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new Error('arange: step must be non-zero');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const data = new Array<number>(n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return tensor(data, [n], opts);
}

/** Standard normal samples from the counter-based stream (same values on every backend). */
export function randn(shape: Shape, opts: RandomOptions = {}): Tensor {
  const { backend } = resolve(opts);
  const t = emptyTensor(backend, shape);
  const s = (opts.generator ?? defaultGenerator()).take(t.size);
  backend.randn(t.buf, t.size, s.seedLo, s.seedHi, s.counter);
  return finish(t, opts);
}

/** Uniform samples in (0, 1), 24-bit resolution. */
export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  const { backend } = resolve(opts);
  const t = emptyTensor(backend, shape);
  const s = (opts.generator ?? defaultGenerator()).take(t.size);
  backend.randu(t.buf, t.size, s.seedLo, s.seedHi, s.counter);
  return finish(t, opts);
}

/** A copy with its own storage; no autograd link (use `.add(0)` style ops for a differentiable copy). */
export function clone(t: Tensor): Tensor {
  const out = emptyTensor(t.backend, t.shape, t.dtype);
  if (t.dtype === 'int32') t.backend.write(out.buf, t.backend.read(t.buf));
  else t.backend.scale(1, t.buf, out.buf, t.size);
  return out;
}

/** A tensor sharing `t`'s values with no autograd history and requiresGrad = false. */
export function detach(t: Tensor): Tensor {
  return t.shareStorage(t.shape);
}

/** A scalar (shape []) on the backend of `like`, used to lift numbers into binary ops. */
export function scalarLike(value: number, like: Tensor): Tensor {
  const t = emptyTensor(like.backend, []);
  like.backend.fill(t.buf, value);
  return t;
}

/** A tensor, or a number that an op lifts to a scalar tensor. */
export type TensorLike = Tensor | number;

/** Lifts a number to a scalar tensor on the backend of `like`. */
export function lift(x: TensorLike, like: Tensor): Tensor {
  return typeof x === 'number' ? scalarLike(x, like) : x;
}
