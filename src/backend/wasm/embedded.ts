/**
 * `wasmgrad/embedded`: the kernel binaries built into the JavaScript as base64 (about 185 KB of
 * text, which is why they are opt-in). `import 'wasmgrad/embedded'` once, before the first tensor or
 * `init()`, and every load without a given binary uses these bytes: for runtimes with neither fetch
 * nor a file system, or bundles that do not ship the `.wasm` files. A side-effect module on purpose
 * (listed in package.json `sideEffects`).
 */
import { relaxedWasm, scalarWasm, simdWasm } from './binaries.generated.js';
import { setEmbeddedKernels, type WasmVariant } from './kernel-files.js';
import { decodeBase64 } from './loader.js';

const decoded = new Map<WasmVariant, Uint8Array<ArrayBuffer>>();

/** The embedded binary of `variant` (decoded once). */
export function embeddedWasm(variant: WasmVariant): Uint8Array<ArrayBuffer> {
  let bytes = decoded.get(variant);
  if (bytes === undefined) {
    bytes = decodeBase64(variant === 'relaxed-simd' ? relaxedWasm : variant === 'simd' ? simdWasm : scalarWasm);
    decoded.set(variant, bytes);
  }
  return bytes;
}

setEmbeddedKernels(embeddedWasm);
