/**
 * `wasmgrad/testing`: tools to check gradients of your own functions and property-test them.
 *
 * ```ts
 * import { assertGradcheck, tensorArb } from 'wasmgrad/testing';
 * assertGradcheck((x) => x.tanh().mul(x), [{ data: [0.3, -1.2], shape: [2] }]);
 * ```
 * The arbitraries need the `fast-check` package (a peer dependency). The pure-TypeScript reference
 * backend (the oracle; float64 available) is exported here, not from the main entry, so bundles that
 * never use it leave it out.
 */
export { createReferenceBackend } from '../backend/reference/index.js';
export * from './gradcheck.js';
export * from './compare.js';
export * from './arbitraries.js';
