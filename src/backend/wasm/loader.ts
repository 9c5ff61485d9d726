/**
 * Loads the kernel module: picks one of the three binaries by feature detection (or takes
 * user-provided bytes, a compiled module or a URL), and instantiates it on an imported memory.
 *
 * Portable on purpose: no Node-only APIs (no Buffer, fs or `node:` imports), so the same code loads in
 * Node, Deno, browsers and bundlers. The binaries are `.wasm` files next to kernel-files.ts (read from
 * disk where there is one, fetched elsewhere), or the base64 copies `wasmgrad/embedded` installs.
 */
import type { Kernels } from '../kernels.js';
import { kernelBytes, kernelBytesSync, needsFetchError, type WasmVariant } from './kernel-files.js';
import { withSharedMemoryImport } from './shared.js';

export type { WasmVariant } from './kernel-files.js';
/** A kernel binary: bytes, a compiled module, or where to fetch it. */
export type WasmSource = ArrayBuffer | Uint8Array | WebAssembly.Module | URL | string;

export interface LoadOptions {
  /** 'auto' (default) picks the best variant the runtime validates; a named one is forced. */
  variant?: 'auto' | WasmVariant;
  /** Use this binary instead of the package's .wasm files (or the embedded ones). */
  wasm?: WasmSource;
  /** Initial size of the memory in bytes (rounded up to 64 KiB pages); default 4 MiB. */
  initialMemoryBytes?: number;
  /**
   * Instantiate on a shared memory (for worker threads): the binary's memory import is rewritten to
   * shared (see shared.ts), so a given precompiled WebAssembly.Module cannot be used.
   */
  shared?: boolean;
}

/**
 * Contract kernels whose export takes other arguments than the contract (or returns a status): their
 * export types are written out in {@link KernelExports}, their bindings by hand in bindings.ts.
 */
export type WrittenOutKernel =
  | 'fill' | 'binary' | 'where' | 'copyStrided' | 'matmul' | 'dropoutMask' | 'crossEntropyBackward'
  | 'attentionSoftmax' | 'attentionSoftmaxBackward';
type Numbers<P extends readonly unknown[]> = { [I in keyof P]: number };
/**
 * Every other kernel's export takes the contract's arguments one for one as numbers (buffers as byte
 * pointers, 0 for null; booleans as 0/1; op names as their index), so its type is derived here.
 */
type RowExports = {
  [K in Exclude<keyof Kernels, WrittenOutKernel>]: (...a: Numbers<Parameters<Kernels[K]>>) => ReturnType<Kernels[K]>;
};

/** The exports of assembly/index.ts (byte pointers are numbers). */
export interface KernelExports extends RowExports {
  heapBase(): number;
  simdEnabled(): number;
  relaxedSimdEnabled?(): number;
  fill32(out: number, n: number, bits: number): void;
  binary(op: number, a: number, b: number, out: number, rank: number, params: number): void;
  where(cond: number, condIsInt: number, a: number, b: number, out: number, n: number): void;
  copyStrided(src: number, dst: number, rank: number, params: number, accumulate: number, isInt: number): void;
  /** Returns 0, or -1 - r for the first row r whose target is out of range. */
  crossEntropyBackward(
    logits: number, targets: number, lse: number, dloss: number, dlogits: number, rows: number,
    cols: number, ignoreIndex: number, smoothing: number,
  ): number;
  /** Rows rowStart .. rowStart + rows - 1 of the (B H Tq, Tk) problem; keep points at batch 0 of the mask. */
  attentionSoftmax(
    x: number, keep: number, keepIsInt: number, out: number, rows: number, cols: number, rowStart: number,
    queryLen: number, rowsPerBatch: number, scale: number, causal: number,
  ): void;
  attentionSoftmaxBackward(
    y: number, dy: number, dx: number, keep: number, keepIsInt: number, rows: number, cols: number, rowStart: number,
    queryLen: number, rowsPerBatch: number, scale: number, causal: number,
  ): void;
  /** layerNormBackward's parameter gradients alone, over a column range (`ld` is the row stride). */
  layerNormParamGrad(
    x: number, mean: number, rstd: number, dy: number, dgamma: number, dbeta: number, rows: number,
    cols: number, ld: number,
  ): void;
  /** `keep` = 1 / (1 - p), computed by the caller in float64. */
  dropoutMask(out: number, n: number, p: number, keep: number, seedLo: number, seedHi: number, counter: number): void;
  /** Present once assembly/matmul.ts is part of the build. */
  matmul?(
    a: number, b: number, c: number, M: number, N: number, K: number, transA: number, transB: number,
    batch: number, strideA: number, strideB: number, strideC: number, accumulate: number, scratch: number,
    lda: number, ldb: number, ldc: number,
  ): void;
  matmulScratchBytes?(): number;
  /** Packs op(A) (isA) or op(B) for all of K, free indices [d0, d1), for matmulPacked (assembly/matmul.ts). */
  matmulPack?(
    src: number, ld: number, gathered: number, K: number, dim: number, d0: number, d1: number, dst: number,
    pad: number, isA: number,
  ): void;
  /** A batch-1 matmul reading op(A) (packedIsA) or op(B) pre-packed by matmulPack. */
  matmulPacked?(
    a: number, b: number, c: number, M: number, N: number, K: number, transA: number, transB: number,
    accumulate: number, scratch: number, lda: number, ldb: number, ldc: number, packed: number, pad: number,
    off: number, packedIsA: number,
  ): void;
}

export interface LoadedModule {
  exports: KernelExports;
  memory: WebAssembly.Memory;
  variant: WasmVariant;
  /** The compiled module (workers instantiate it again on the same memory). */
  module: WebAssembly.Module;
}

const PAGE = 65536;
/** wasm32 addresses 4 GiB: 65536 pages. */
export const MAX_PAGES = 65536;
const DEFAULT_INITIAL_BYTES = 4 << 20;
/** The memory minimum the kernel binaries declare (asconfig.json initialMemory). */
const MODULE_MIN_PAGES = 1;

// ---- feature detection ------------------------------------------------------------------------------

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
// One function type () -> v128, one function of that type.
const V128_FUNC = [0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00];

/** A module whose only function returns i8x16.splat(0): validates iff SIMD is supported. */
const SIMD_PROBE = new Uint8Array([
  ...HEADER, ...V128_FUNC,
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b,
]);

/**
 * i8x16.relaxed_swizzle(splat 0, splat 0): validates iff relaxed SIMD is supported (a module
 * containing one relaxed instruction fails to compile where it is not).
 */
const RELAXED_PROBE = new Uint8Array([
  ...HEADER, ...V128_FUNC,
  0x0a, 0x0f, 0x01, 0x0d, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x41, 0x00, 0xfd, 0x0f, 0xfd, 0x80, 0x02, 0x0b,
]);

let detected: { simd: boolean; relaxed: boolean } | undefined;
let flagTried = false;

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

/**
 * Node 20 ships relaxed SIMD behind `--experimental-wasm-relaxed-simd`. V8 reads the flag at compile
 * time, so setting it in-process before the kernel module is compiled is enough: the relaxed binary
 * then validates and compiles. Only on Node (where `process.versions.node` exists) and only through
 * `process.getBuiltinModule` (Node >= 20.16), which needs no import statement, so browsers and
 * bundlers never see a `node:` specifier. Returns whether the flag could be set.
 */
export function enableNodeRelaxedSimd(): boolean {
  if (flagTried) return false;
  flagTried = true;
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (proc?.versions?.node === undefined || typeof proc.getBuiltinModule !== 'function') return false;
  try {
    const v8 = proc.getBuiltinModule('node:v8') as { setFlagsFromString?: (flags: string) => void } | undefined;
    if (typeof v8?.setFlagsFromString !== 'function') return false;
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    return true;
  } catch {
    return false;
  }
}

/**
 * Which SIMD features this runtime's WebAssembly engine validates (cached). On Node it first turns on
 * relaxed SIMD where V8 still keeps it behind a flag ({@link enableNodeRelaxedSimd}), so `variant:
 * 'auto'` gets the relaxed build there too; `variant: 'simd'` still loads the plain SIMD build.
 */
export function detectFeatures(): { simd: boolean; relaxed: boolean } {
  if (detected === undefined) {
    const simd = safeValidate(SIMD_PROBE);
    let relaxed = simd && safeValidate(RELAXED_PROBE);
    if (simd && !relaxed && enableNodeRelaxedSimd()) relaxed = safeValidate(RELAXED_PROBE);
    detected = { simd, relaxed };
  }
  return detected;
}

function safeValidate(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

function supports(variant: WasmVariant): boolean {
  const f = detectFeatures();
  return variant === 'scalar' ? true : variant === 'simd' ? f.simd : f.relaxed;
}

function unsupported(variant: WasmVariant): Error {
  const hint =
    variant === 'relaxed-simd'
      ? ' (Node before 20.16 needs the --experimental-wasm-relaxed-simd flag); use variant \'simd\' or \'auto\''
      : '; use variant \'scalar\' or \'auto\'';
  return new Error(
    `wasm backend: variant '${variant}' was requested but this runtime cannot run ${
      variant === 'relaxed-simd' ? 'relaxed-SIMD' : 'SIMD'
    } WebAssembly${hint}`,
  );
}

/**
 * The variant 'auto' resolves to here: relaxed-simd if valid, else simd, else scalar. */
export function bestVariant(): WasmVariant {
  const f = detectFeatures();
  return f.relaxed ? 'relaxed-simd' : f.simd ? 'simd' : 'scalar';
}

function resolveVariant(requested: LoadOptions['variant']): WasmVariant {
  const v = requested ?? 'auto';
  if (v === 'auto') return bestVariant();
  if (v !== 'relaxed-simd' && v !== 'simd' && v !== 'scalar') {
    throw new RangeError(
      `wasm backend: unknown variant '${String(v)}' (use 'auto', 'relaxed-simd', 'simd' or 'scalar')`,
    );
  }
  if (!supports(v)) throw unsupported(v);
  return v;
}

// ---- base64 (the embedded binaries of wasmgrad/embedded) --------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

/** Standard base64 (with or without padding) to bytes, without atob or Buffer. */
export function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  let len = s.length;
  while (len > 0 && s.charCodeAt(len - 1) === 61 /* '=' */) len--;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c]! : -1;
    if (v < 0) throw new Error(`wasm backend: invalid base64 character at ${i} in an embedded binary`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

// ---- instantiation ----------------------------------------------------------------------------------

function createMemory(initialBytes: number | undefined, minPages: number, shared = false): WebAssembly.Memory {
  const bytes = initialBytes ?? DEFAULT_INITIAL_BYTES;
  if (!(Number.isFinite(bytes) && bytes >= 0)) {
    throw new RangeError(`wasm backend: initialMemoryBytes must be a non-negative number, got ${bytes}`);
  }
  if (bytes > MAX_PAGES * PAGE) {
    throw new RangeError(`wasm backend: initialMemoryBytes ${bytes} exceeds the 4 GiB of 32-bit WebAssembly`);
  }
  const initial = Math.max(minPages, Math.ceil(bytes / PAGE));
  return new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared });
}

function finish(
  instance: WebAssembly.Instance, module: WebAssembly.Module, memory: WebAssembly.Memory, requested: LoadOptions['variant'], given: boolean,
): LoadedModule {
  const exports = instance.exports as unknown as KernelExports;
  for (const name of ['heapBase', 'simdEnabled', 'unary', 'binary', 'layerNorm', 'gaussianSample'] as const) {
    if (typeof exports[name] !== 'function') {
      throw new Error(`wasm backend: the kernel module does not export '${name}'; is it a wasmgrad kernel binary?`);
    }
  }
  const actual: WasmVariant =
    exports.relaxedSimdEnabled?.() === 1 ? 'relaxed-simd' : exports.simdEnabled() === 1 ? 'simd' : 'scalar';
  if (given && requested !== undefined && requested !== 'auto' && requested !== actual) {
    throw new Error(`wasm backend: variant '${requested}' was requested but the given binary is the '${actual}' build`);
  }
  return { exports, memory, variant: actual, module };
}

/**
 * The binary to compile: given bytes or module, the package's binary when it can be read without
 * fetching, or neither (bytes and module null) when it must be fetched: opts.wasm's URL, or `fetchVariant`.
 */
function pickBytes(opts: LoadOptions): { bytes: Uint8Array | ArrayBuffer | null; module: WebAssembly.Module | null; fetchVariant?: WasmVariant } {
  const src = opts.wasm;
  if (src === undefined) {
    const variant = resolveVariant(opts.variant);
    const bytes = kernelBytesSync(variant);
    return bytes === null ? { bytes: null, module: null, fetchVariant: variant } : { bytes: sharedIf(opts, bytes), module: null };
  }
  if (src instanceof WebAssembly.Module) {
    if (opts.shared === true) {
      throw new TypeError('wasm backend: threads need the kernel binary as bytes or a URL (its memory import is made shared), not a compiled WebAssembly.Module');
    }
    return { bytes: null, module: src };
  }
  if (src instanceof Uint8Array || src instanceof ArrayBuffer) return { bytes: sharedIf(opts, src), module: null };
  return { bytes: null, module: null };
}

function sharedIf(opts: LoadOptions, bytes: Uint8Array | ArrayBuffer): Uint8Array | ArrayBuffer {
  return opts.shared === true ? withSharedMemoryImport(bytes) : bytes;
}

function checkGivenVariant(opts: LoadOptions): void {
  // A forced variant must also be runnable when the binary comes from the caller.
  if (opts.wasm !== undefined && opts.variant !== undefined) resolveVariant(opts.variant);
}

function instantiateSync(module: WebAssembly.Module, opts: LoadOptions): LoadedModule {
  const memory = createMemory(opts.initialMemoryBytes, MODULE_MIN_PAGES, opts.shared === true);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return finish(instance, module, memory, opts.variant, opts.wasm !== undefined);
}

/**
 * Synchronous load: bytes, a compiled module, or the package's binary where it can be read without
 * fetching (Node, Deno, or after `import 'wasmgrad/embedded'`); no URLs.
 */
export function loadKernelsSync(opts: LoadOptions = {}): LoadedModule {
  checkGivenVariant(opts);
  const { bytes, module, fetchVariant } = pickBytes(opts);
  if (module !== null) return instantiateSync(module, opts);
  if (fetchVariant !== undefined) throw needsFetchError(fetchVariant);
  if (bytes === null) {
    throw new TypeError('wasm backend: createWasmBackendSync cannot fetch a URL; use createWasmBackend (async) or pass the bytes');
  }
  return instantiateSync(new WebAssembly.Module(bytes as BufferSource), opts);
}

/** Asynchronous load: everything loadKernelsSync takes, plus a URL (string or URL) fetched with fetch. */
export async function loadKernels(opts: LoadOptions = {}): Promise<LoadedModule> {
  checkGivenVariant(opts);
  const picked = pickBytes(opts);
  let { bytes, module } = picked;
  if (picked.fetchVariant !== undefined) {
    bytes = sharedIf(opts, await kernelBytes(picked.fetchVariant));
  } else if (module === null && bytes === null) {
    const url = opts.wasm as URL | string;
    if (typeof fetch !== 'function') throw new Error('wasm backend: fetch is not available to load the kernel binary from a URL');
    const res = await fetch(url);
    if (!res.ok) throw new Error(`wasm backend: fetching ${String(url)} failed: HTTP ${res.status} ${res.statusText}`);
    bytes = sharedIf(opts, await res.arrayBuffer());
  }
  if (module === null) module = await WebAssembly.compile(bytes as BufferSource);
  const memory = createMemory(opts.initialMemoryBytes, MODULE_MIN_PAGES, opts.shared === true);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return finish(instance, module, memory, opts.variant, opts.wasm !== undefined);
}
