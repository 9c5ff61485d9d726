/**
 * Tensor = shape + a reference-counted storage handle on one backend, plus autograd bookkeeping.
 *
 * Storage is dense and row-major. Reshapes share storage (the count keeps it alive until the last
 * tensor using it is disposed); every other op writes a fresh buffer. Op methods (`a.add(b)`, ...)
 * are attached by `ops/methods.ts`.
 */
import type { Backend, Buf } from '../backend/kernels.js';
import { fmtShape, sizeOf, type Shape } from '../backend/strides.js';

export type DType = 'float32' | 'float64' | 'int32';

/** A backend buffer shared by the tensors that view it. */
export class Storage {
  refs = 1;
  /**
   * The values of an int32 buffer on the host (ids, masks, labels, group maps), kept from when they
   * were written or first read: int32 storages are written when their tensor is created and never
   * after, so id checks and host-side derivations (position ids, padding flags) read this copy
   * instead of reading the device back on every step. Null for float storages and until needed.
   */
  hostInts: Int32Array | null = null;
  /** Smallest and largest value of `hostInts`, computed once (range checks of ids and group maps). */
  intRange: { min: number; max: number } | null = null;
  constructor(
    readonly backend: Backend,
    readonly buf: Buf,
  ) {}
  release(): void {
    if (--this.refs === 0) this.backend.free(this.buf);
  }
}

/** What backward needs to know about the op that produced a tensor. Set by autograd/op.ts. */
export interface GradNode {
  readonly opName: string;
  readonly inputs: readonly Tensor[];
  /** Computes the gradient of each input (null where not needed) from the output gradient. */
  backward(dy: Tensor): (Tensor | null)[];
  /** Tensors the backward closure reads (kept alive when a scope returns this tensor); null: not kept. */
  readonly saved: readonly (Tensor | null)[];
}

/*
 * The stack of memory scopes. Scopes make lifetimes automatic: every tensor created while a scope is
 * open is recorded in it, and `tidy` (scope.ts) disposes all of them except what the callback returns
 * (and what backward still needs from it). Tensors created outside any scope, or passed to `keep`,
 * live until `dispose()`.
 */
const scopes: Set<Tensor>[] = [];

/** Called by every new tensor: records it in the innermost open scope. */
export function track(t: Tensor): void {
  const scope = scopes[scopes.length - 1];
  if (scope) scope.add(t);
}

/** Removes `t` from every open scope so it outlives them (parameters, optimizer state, results). */
export function untrack(t: Tensor): void {
  for (const s of scopes) s.delete(t);
}

export function pushScope(): Set<Tensor> {
  const s = new Set<Tensor>();
  scopes.push(s);
  return s;
}

export function popScope(): Set<Tensor> {
  const s = scopes.pop();
  if (!s) throw new Error('wasmgrad: scope stack underflow (popScope without pushScope)');
  return s;
}

/** Records `t` in the innermost open scope (used to hand survivors of a scope to its parent). */
export function adoptIntoCurrentScope(t: Tensor): void {
  track(t);
}

export function scopeDepth(): number {
  return scopes.length;
}

let nextId = 1;

/** The id the next tensor will get: ids grow with creation, so a tensor's graph holds only older ones. */
export function nextTensorId(): number {
  return nextId;
}

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype: DType;
  /** Whether gradients flow to (leaf) or through (interior) this tensor. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after `backward()`; kept across scopes until `zeroGrad`. */
  grad: Tensor | null = null;
  /**
   * How many recorded nodes still alive read this tensor as an input (counted once per input slot).
   * Backward compares it with the readers inside the graph it sweeps: a tensor some other live graph
   * also reads keeps its node and saved tensors (see autograd/backward.ts).
   */
  consumers = 0;
  /** Set when a backward without retainGraph consumed the node that produced this tensor. */
  graphConsumed = false;
  private _node: GradNode | null = null;
  /** Optional label used in error messages and reports. */
  name?: string;
  /**
   * Tensors kept alive only because this tensor's autograd graph needs them (set when a tidy()
   * returns it). Released when the graph is consumed by backward() or this tensor is disposed.
   */
  graphRefs: Tensor[] | null = null;
  /** How many returned tensors hold this one in their graphRefs. */
  holds = 0;
  private _storage: Storage | null;

  constructor(storage: Storage, shape: Shape, dtype: DType) {
    this._storage = storage;
    this.shape = Object.freeze(shape.slice());
    this.size = sizeOf(shape);
    this.dtype = dtype;
    if (storage.buf.size !== this.size) {
      throw new Error(`Tensor: storage holds ${storage.buf.size} elements but shape ${fmtShape(shape)} needs ${this.size}`);
    }
    track(this);
  }

  /** The op that produced this tensor, while its graph is alive. */
  get node(): GradNode | null {
    return this._node;
  }

  /** Records the op that produced this tensor (autograd/op.ts); its inputs count one more consumer. */
  attachNode(node: GradNode): void {
    this.dropNode();
    this._node = node;
    for (const t of node.inputs) t.consumers++;
  }

  /** Forgets the producing op (the graph above its inputs is released); `consumed`: backward used it up. */
  dropNode(consumed = false): void {
    const node = this._node;
    if (!node) return;
    this._node = null;
    for (const t of node.inputs) t.consumers--;
    if (consumed) this.graphConsumed = true;
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this._storage === null;
  }

  get storage(): Storage {
    if (!this._storage) {
      throw new Error(
        `${this.describe()} was disposed (its scope ended or dispose() was called); ` +
          'return it from tidy() or keep() it to use it afterwards',
      );
    }
    return this._storage;
  }

  get backend(): Backend {
    return this.storage.backend;
  }

  get buf(): Buf {
    return this.storage.buf;
  }

  /** A short description for error messages, e.g. `tensor#12 "wq" [64, 64] float32`. */
  describe(): string {
    return `tensor#${this.id}${this.name ? ` "${this.name}"` : ''} ${fmtShape(this.shape)} ${this.dtype}`;
  }

  /** Frees the storage (when no reshape shares it) and the gradient. Idempotent. */
  dispose(): void {
    if (this._storage) {
      this._storage.release();
      this._storage = null;
    } else if (this.node === null && this.graphRefs === null && this.grad === null) {
      return;
    }
    this.dropNode();
    this.releaseGraphRefs();
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
    untrack(this);
  }

  /**
   * Frees the storage but keeps the tensor as a vertex of its autograd graph (shape, node): for a
   * tensor no user code can reach any more (its scope ended) whose values no backward rule reads.
   * Reading it afterwards throws as for a disposed tensor; dispose() still finishes it off.
   */
  releaseStorage(): void {
    if (!this._storage) return;
    this._storage.release();
    this._storage = null;
  }

  /** Lets go of the tensors held for this tensor's graph; each is freed when no other holder remains. */
  releaseGraphRefs(): void {
    const refs = this.graphRefs;
    this.graphRefs = null;
    if (refs) for (const t of refs) if (--t.holds === 0) t.dispose();
  }

  /** Copies the values out: Float32Array, Float64Array or Int32Array, row-major. */
  toArray(): Float32Array | Float64Array | Int32Array {
    return this.backend.read(this.buf);
  }

  /**
   * The values of an int32 tensor without a device read after the first: the host copy its storage
   * keeps (see Storage.hostInts). Read-only: the array is shared; copy it to modify.
   */
  intValues(): Int32Array {
    if (this.dtype !== 'int32') throw new Error(`intValues: ${this.describe()} is not int32`);
    const s = this.storage;
    return (s.hostInts ??= this.backend.read(this.buf) as Int32Array);
  }

  /** Smallest and largest value of an int32 tensor (computed once per storage; {min: 0, max: -1} when empty). */
  intRange(): { min: number; max: number } {
    const s = this.storage;
    if (s.intRange === null) {
      const v = this.intValues();
      let min = v.length ? v[0]! : 0;
      let max = v.length ? v[0]! : -1;
      for (let i = 1; i < v.length; i++) {
        if (v[i]! < min) min = v[i]!;
        else if (v[i]! > max) max = v[i]!;
      }
      s.intRange = { min, max };
    }
    return s.intRange;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: ${this.describe()} has ${this.size} elements; item() needs exactly 1`);
    return this.toArray()[0];
  }

  /** Nested arrays of numbers, for printing and tests. */
  toNested(): unknown {
    const flat = Array.from(this.toArray());
    if (this.rank === 0) return flat[0];
    const build = (dim: number, offset: number, stride: number): unknown[] => {
      const n = this.shape[dim];
      const inner = stride / n;
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) {
        out.push(dim === this.rank - 1 ? flat[offset + i] : build(dim + 1, offset + i * inner, inner));
      }
      return out;
    };
    return build(0, 0, this.size);
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  /** A new tensor sharing this one's storage with another shape of the same size (no copy, no grad link). */
  shareStorage(shape: Shape): Tensor {
    const s = this.storage;
    s.refs++;
    return new Tensor(s, shape, this.dtype);
  }
}

/** Allocates a tensor on `backend` (uninitialised contents). */
export function emptyTensor(backend: Backend, shape: Shape, dtype: DType = backend.dtype): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`shape ${fmtShape(shape)}: dims must be non-negative integers`);
  }
  const buf = backend.alloc(sizeOf(shape), dtype === 'int32' ? 'i' : 'f');
  return new Tensor(new Storage(backend, buf), shape, dtype);
}
