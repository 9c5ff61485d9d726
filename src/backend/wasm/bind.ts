/**
 * Kernel bindings derived from argument descriptions: a binding row lists a kernel's arguments in the
 * contract's order (../kernels.ts) as float or int32 buffers with a minimum size (a product of count
 * arguments and constants), counts, scalars, seed words, flags and op names. From a row, {@link bindRow}
 * builds the contract method: it checks every count and handle (ownership, use after free, kind, size)
 * with a few comparisons, turns buffers into byte pointers, booleans into 0/1 and op names into codes,
 * and calls the export of the same name (through the thread pool when parallel.ts splits it).
 *
 * The row type is a mapped type over the contract's parameter list, so a row with a missing, extra or
 * mistyped argument does not compile (a buffer where the contract has a number, a non-null buffer
 * where it allows null, ...). Sizes name count arguments by reference; a size that refers to a count
 * that is not in the row fails when the backend is created.
 *
 * The per-call path allocates nothing: each binding keeps one argument array it refills per call.
 */
import type { Buf, Kernels } from '../kernels.js';
import type { Allocator } from './allocator.js';
import type { KernelExports } from './loader.js';
import type { ParallelKernel } from './parallel.js';
import type { WorkerPool } from './pool.js';

/** Shared by a block and all views of it, so freeing the block invalidates the views. */
export interface BlockState {
  freed: boolean;
}

/** A buffer of the WASM backend: `ptr` is the byte address of element 0. */
export class WasmBuf implements Buf {
  constructor(
    readonly size: number,
    readonly kind: 'f' | 'i',
    readonly ptr: number,
    /** Which backend owns it. */
    readonly owner: object,
    readonly state: BlockState,
    readonly isView: boolean,
  ) {}
}

// ---- argument descriptions ----------------------------------------------------------------------

/** A non-negative integer (element count, rows, ...), passed as is; buffer sizes are products of counts. */
export interface CountArg {
  readonly kind: 'count';
  readonly name: string;
}
/** Any number (a float scalar such as alpha, eps or lr), passed as is. */
export interface ScalarArg {
  readonly kind: 'scalar';
  readonly name: string;
}
/** An integer in [0, 2^32): a seed word or a counter of the counter-based generator. */
export interface U32Arg {
  readonly kind: 'u32';
  readonly name: string;
}
/** A boolean, passed as 1 or 0. */
export interface FlagArg {
  readonly kind: 'flag';
  readonly name: string;
}
/** One of a list of op names, passed as its index in `ops`. */
export interface OpArg<O extends string> {
  readonly kind: 'op';
  /** What the ops are, for the error message ('unary' gives "unknown unary op 'x'"). */
  readonly family: string;
  readonly ops: readonly O[];
}
/** A float ('f') or int32 ('i') buffer of at least `size` elements (a product), or null when `N`. */
export interface BufArg<N extends boolean> {
  readonly kind: 'f' | 'i';
  readonly name: string;
  readonly nullable: N;
  /** Factors of the minimum element count: count arguments of the same row and constants. */
  readonly size: readonly (CountArg | number)[];
}
export type ArgSpec = CountArg | ScalarArg | U32Arg | FlagArg | OpArg<string> | BufArg<boolean>;

export const count = (name: string): CountArg => ({ kind: 'count', name });
export const scalar = (name: string): ScalarArg => ({ kind: 'scalar', name });
export const u32 = (name: string): U32Arg => ({ kind: 'u32', name });
export const flag = (name: string): FlagArg => ({ kind: 'flag', name });
export const op = <O extends string>(family: string, ops: readonly O[]): OpArg<O> => ({ kind: 'op', family, ops });
/** A float buffer of at least the product of `size` elements. */
export const f32 = (name: string, ...size: (CountArg | number)[]): BufArg<false> => ({ kind: 'f', name, nullable: false, size });
/** A float buffer of at least the product of `size` elements, or null (passed as pointer 0). */
export const f32OrNull = (name: string, ...size: (CountArg | number)[]): BufArg<true> => ({ kind: 'f', name, nullable: true, size });
/** An int32 buffer of at least the product of `size` elements. */
export const i32 = (name: string, ...size: (CountArg | number)[]): BufArg<false> => ({ kind: 'i', name, nullable: false, size });

/** The description an argument of contract type T may have. */
type SpecFor<T> =
  null extends T ? ([T] extends [Buf | null] ? BufArg<true> : never)
  : [T] extends [Buf] ? BufArg<false>
  : [T] extends [boolean] ? FlagArg
  : [T] extends [number] ? CountArg | ScalarArg | U32Arg
  : [T] extends [string] ? OpArg<T & string>
  : never;

/** A kernel's arguments, one description per contract parameter, in order. */
export type ArgSpecs<K extends keyof Kernels> = SpecsFor<Parameters<Kernels[K]>>;
/** Mapped over a type parameter, so a parameter tuple maps to a tuple of the same length. */
type SpecsFor<P extends readonly unknown[]> = { readonly [I in keyof P]: SpecFor<P[I]> };

/**
 * A binding row: the export of the same name takes the contract's arguments one for one (buffers as
 * byte pointers). `check` runs after the argument checks, on the export's arguments `a` and the
 * buffers' element counts `size` (0 for numbers and null buffers), for checks that read memory; `after`
 * turns the export's return value into the contract's (e.g. an error status into an exception).
 */
export interface Row<K extends keyof Kernels> {
  readonly args: ArgSpecs<K>;
  check?(a: number[], size: readonly number[], c: BindContext): void;
  after?(r: number, a: readonly number[], c: BindContext): number | void;
}

/** A binding written by hand, for kernels whose export arguments differ from the contract's. */
export interface Custom<K extends keyof Kernels> {
  readonly custom: (c: BindContext) => Kernels[K];
}

/** Every contract kernel's binding. A missing kernel does not compile. */
export type BindingTable = { [K in keyof Kernels]: Row<K> | Custom<K> };

// ---- what bindings run on -----------------------------------------------------------------------

/** The backend internals a binding uses (made once per backend by index.ts). */
export interface BindContext {
  readonly ex: KernelExports;
  readonly heap: Allocator;
  /** Byte address of the parameter block strided kernels read their shape and strides from. */
  readonly paramPtr: number;
  /** The identity every buffer of this backend carries. */
  readonly owner: object;
  /** The pool while one runs (null when single-threaded or disposed). */
  pool(): WorkerPool | null;
  /** Runs a parallel export with the given arguments: through the pool while one runs, else directly. */
  run(kernel: ParallelKernel, args: number[]): number;
  /** The calling thread's matmul packing block (allocated on first use). */
  matmulScratch(): number;
  /** Throws a RangeError prefixed with the backend's name. */
  err(msg: string): never;
  /** The live handle behind `buf` (TypeError if foreign, Error if freed). */
  live(buf: Buf, name: string): WasmBuf;
  /** Pointer of a float buffer holding at least `need` elements. */
  fp(buf: Buf, name: string, need: number): number;
  /** Pointer of an int32 buffer holding at least `need` elements. */
  ip(buf: Buf, name: string, need: number): number;
  /** Throws unless `n` is a non-negative integer. */
  count(n: number, name: string): void;
}

const COUNT = 0, SCALAR = 1, U32 = 2, FLAG = 3, OP = 4, BUF = 5;
const CODE = { count: COUNT, scalar: SCALAR, u32: U32, flag: FLAG, op: OP, f: BUF, i: BUF } as const;

/** The contract method `name` built from its row. */
export function bindRow<K extends keyof Kernels>(name: K, row: Row<K>, c: BindContext, parallel: boolean): Kernels[K] {
  const specs = row.args as unknown as readonly ArgSpec[];
  const n = specs.length;
  const kinds = Int8Array.from(specs, (s) => CODE[s.kind]);
  const names = specs.map((s) => (s.kind === 'op' ? '' : s.name));
  const bufKind = specs.map((s) => (s.kind === 'f' || s.kind === 'i' ? s.kind : ''));
  const nullable = specs.map((s) => (s.kind === 'f' || s.kind === 'i') && s.nullable);
  const opCodes = specs.map((s) => (s.kind === 'op' ? new Map(s.ops.map((o, i) => [o, i])) : null));
  const opFamily = specs.map((s) => (s.kind === 'op' ? s.family : ''));
  // a buffer's minimum size: factor * product of the count arguments at positions sizeAt
  const factor = new Float64Array(n);
  const sizeAt = specs.map((s) => {
    if (s.kind !== 'f' && s.kind !== 'i') return new Int32Array(0);
    let k = 1;
    const at: number[] = [];
    for (const x of s.size) {
      if (typeof x === 'number') {
        k *= x;
        continue;
      }
      const i = specs.indexOf(x);
      if (i < 0) throw new Error(`wasm backend: binding '${name}': the size of ${s.name} uses count '${x.name}', which is not one of its arguments`);
      at.push(i);
    }
    factor[specs.indexOf(s)] = k;
    return Int32Array.from(at);
  });
  const a = packedZeros(n);
  const size = packedZeros(n);
  const fn = c.ex[name as keyof KernelExports] as ((...args: number[]) => number) | undefined;
  if (typeof fn !== 'function') throw new Error(`wasm backend: the kernel binary has no '${name}' export; rebuild it (npm run build:wasm)`);
  // an exported WebAssembly function's length is its parameter count
  if (fn.length !== n) {
    throw new Error(`wasm backend: binding '${name}' describes ${n} arguments but the kernel binary's export takes ${fn.length}`);
  }
  const { check, after } = row;
  const owner = c.owner;
  const exportName = name as keyof KernelExports;

  function bound(this: unknown): number | void {
    // numbers first: buffer sizes depend on the counts
    for (let i = 0; i < n; i++) {
      const k = kinds[i]!;
      if (k === BUF) continue;
      const v = arguments[i];
      if (k === COUNT) {
        if (!(Number.isInteger(v) && v >= 0)) c.err(`${names[i]} must be a non-negative integer, got ${v}`);
        a[i] = v;
      } else if (k === SCALAR) {
        a[i] = v;
      } else if (k === U32) {
        if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) c.err(`${names[i]} must be an integer in [0, 2^32), got ${v}`);
        a[i] = v;
      } else if (k === FLAG) {
        a[i] = v ? 1 : 0;
      } else {
        const code = opCodes[i]!.get(v);
        if (code === undefined) c.err(`unknown ${opFamily[i]} op '${String(v)}'`);
        a[i] = code!;
      }
    }
    for (let i = 0; i < n; i++) {
      if (kinds[i] !== BUF) continue;
      const v = arguments[i];
      if (v === null && nullable[i]) {
        a[i] = 0;
        size[i] = 0;
        continue;
      }
      // live() inlined: this is the hot path of every kernel call
      if (!(v instanceof WasmBuf) || v.owner !== owner || v.state.freed) c.live(v, names[i]!);
      const b = v as WasmBuf;
      if (b.kind !== bufKind[i]) {
        throw new TypeError(`wasm backend: ${names[i]} must be ${b.kind === 'f' ? 'an int32' : 'a float'} buffer`);
      }
      let need = factor[i]!;
      const at = sizeAt[i]!;
      for (let j = 0; j < at.length; j++) need *= a[at[j]!]!;
      if (b.size < need) c.err(`${names[i]} has ${b.size} elements, the kernel needs ${need}`);
      a[i] = b.ptr;
      size[i] = b.size;
    }
    if (check !== undefined) check(a, size, c);
    const pool = parallel ? c.pool() : null;
    const r = pool !== null ? pool.call(exportName as ParallelKernel, a) : callWith(fn!, a);
    return after !== undefined ? after(r, a, c) : r;
  }
  return bound as unknown as Kernels[K];
}

/** A packed array of n float zeros (stores of pointers and scalars then keep its elements kind). */
function packedZeros(n: number): number[] {
  const a: number[] = [];
  for (let i = 0; i < n; i++) a.push(0.5);
  return a.fill(0);
}

/** Calls `fn` with the elements of `a` as arguments: direct calls for the common arities, faster than apply. */
function callWith(fn: (...args: number[]) => number, a: number[]): number {
  switch (a.length) {
    case 2: return fn(a[0]!, a[1]!);
    case 4: return fn(a[0]!, a[1]!, a[2]!, a[3]!);
    case 5: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!);
    case 6: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!);
    case 8: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!);
    case 9: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!);
    case 10: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!);
    case 12: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!);
    default: return fn.apply(undefined, a);
  }
}
