/**
 * Engine state: the active backend, gradient mode and the stack of memory scopes.
 *
 * Scopes make lifetimes automatic: every tensor created while a scope is open is recorded in it, and
 * `tidy` disposes all of them except what the callback returns (and what backward still needs from
 * it). Tensors created outside any scope, or passed to `keep`, live until `dispose()`.
 */
import type { Backend } from '../backend/kernels.js';
import type { Tensor } from './tensor.js';

let current: Backend | null = null;
let fallbackFactory: (() => Backend) | null = null;
let gradDepth = 0;
const scopes: Set<Tensor>[] = [];

/** Registers how to create a default backend when none was set (the WASM backend, by index.ts). */
export function setDefaultBackendFactory(factory: () => Backend): void {
  fallbackFactory = factory;
}

/** Makes `backend` the one new tensors are created on. */
export function setBackend(backend: Backend): void {
  current = backend;
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
