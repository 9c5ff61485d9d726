/**
 * wasmgrad: reverse-mode autodiff tensors on WebAssembly SIMD kernels.
 *
 * ```ts
 * import { init, tensor, tidy, AdamW } from 'wasmgrad';
 * await init(); // picks relaxed-SIMD, SIMD or scalar WebAssembly for this runtime
 * const w = tensor([[0.5, -0.2]], undefined, { requiresGrad: true });
 * ```
 */
import type { Backend } from './backend/kernels.js';
import { createWasmBackend, createWasmBackendSync, type WasmBackend, type WasmBackendOptions } from './backend/wasm/index.js';
import { getBackend, setBackend, setDefaultBackendFactory } from './tensor/engine.js';
import './ops/methods.js';

setDefaultBackendFactory(() => createWasmBackendSync());

export interface InitOptions extends WasmBackendOptions {
  /** 'wasm' (default) or 'reference' (pure TypeScript, the oracle; float64 available). */
  backend?: 'wasm' | 'reference';
  /** Precision of the reference backend (default float32). */
  dtype?: 'float32' | 'float64';
}

/**
 * Creates and activates a backend. Call once before creating tensors (optional in Node and Deno; in
 * a browser it fetches the kernel binary). The reference backend is imported on demand, so bundles
 * that never ask for it leave it out (a separate chunk where the bundler splits code).
 */
export async function init(opts: InitOptions = {}): Promise<Backend> {
  const backend =
    opts.backend === 'reference'
      ? (await import('./backend/reference/index.js')).createReferenceBackend({ dtype: opts.dtype })
      : await createWasmBackend(opts);
  setBackend(backend);
  return backend;
}

export type { Backend, Buf, Kernels, UnaryOp, BinaryOp } from './backend/kernels.js';
// The reference backend is not exported here (a static export would put it in every bundle): use
// init({ backend: 'reference' }), or createReferenceBackend from 'wasmgrad/testing'.
export { createWasmBackend, createWasmBackendSync, getBackend, setBackend };
export type { WasmBackend, WasmBackendOptions };
export { MEMORY_CATEGORIES, type MemoryBreakdown, type MemoryCategory } from './backend/memory.js';
export { broadcastShapes, contiguousStrides, sizeOf, type Shape } from './backend/strides.js';
export { withBackend, noGrad, isGradEnabled } from './tensor/engine.js';
export { Tensor, type DType } from './tensor/tensor.js';
export { tidy, keep, dispose } from './tensor/scope.js';
export { backward, type BackwardOptions } from './autograd/backward.js';
export { profile, formatProfile, type OpProfile, type ProfileResult } from './autograd/profile.js';
export { apply, defineOp, OpContext, type OpSpec } from './autograd/op.js';
export { AnomalyError, isAnomalyEnabled, NON_FINITE_CAUSES } from './autograd/anomaly.js';
export * from './ops/index.js';
export * from './optim/index.js';
export * from './nn/index.js';
export * from './models/index.js';
export * from './io/index.js';
export * from './models/generate/index.js';
export * from './tokenizer/index.js';
export * from './train/index.js';
export * from './data/index.js';
export * from './adapters/index.js';
export * from './report/index.js';
export * from './tasks/index.js';
export * from './nlg/index.js';
export * from './experiments/index.js';
export * from './timeseries/index.js';
