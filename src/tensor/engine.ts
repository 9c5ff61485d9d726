/**
 * Engine state: the active backend and gradient mode. (The stack of memory scopes lives with the
 * tensors it tracks, in tensor.ts, so this file needs nothing above the backend.)
 */
import type { Backend } from '../backend/kernels.js';

let current: Backend | null = null;
let fallbackFactory: (() => Backend) | null = null;
let gradDepth = 0;

/** Registers how to create a default backend when none was set (the WASM backend, by index.ts). */
export function setDefaultBackendFactory(factory: () => Backend): void {
  fallbackFactory = factory;
}

/** Makes `backend` the one new tensors are created on. */
export function setBackend(backend: Backend): void {
  current = backend;
}

/** The backend set by `setBackend`/`init`, or null when none is (never creates the default one). */
export function activeBackend(): Backend | null {
  return current;
}

/** The active backend; creates the default one on first use. */
export function getBackend(): Backend {
  if (current) return current;
  if (!fallbackFactory) {
    throw new Error('wasmgrad: no backend is set; call `await init()` (or setBackend) before creating tensors');
  }
  try {
    current = fallbackFactory();
  } catch (err) {
    throw new Error(
      `wasmgrad: could not create the default WebAssembly backend synchronously (${(err as Error).message}); ` +
        'call `await init()` first (browsers do not allow synchronous compilation on the main thread)',
    );
  }
  return current;
}

/** Runs `fn` with `backend` active, restoring the previous one afterwards. */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  const prev = current;
  current = backend;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradDepth === 0;
}

/** Runs `fn` without recording operations for autodiff (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  gradDepth++;
  try {
    return fn();
  } finally {
    gradDepth--;
  }
}
