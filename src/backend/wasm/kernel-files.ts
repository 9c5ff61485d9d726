/**
 * Where the kernel binaries are: `.wasm` files shipped next to this module (the build copies
 * `kernels.{relaxed,simd,scalar}.wasm` into src/backend/wasm and dist/src/backend/wasm), found with
 * `new URL('./kernels.simd.wasm', import.meta.url)`. That literal pattern is the one bundlers (Vite,
 * webpack 5, Parcel, Rollup's URL plugin) recognise: they emit the file as an asset and rewrite the
 * URL, so a browser fetches only the variant it runs. Node, Deno and Bun read the file from disk.
 *
 * An environment with neither a file system nor fetch (or a bundler that drops the files) imports
 * `wasmgrad/embedded` instead, which installs the base64 copies ({@link setEmbeddedKernels}).
 */
/** The three builds of assembly/index.ts. */
export type WasmVariant = 'relaxed-simd' | 'simd' | 'scalar';

/** The URL of a variant's binary, next to this module. One literal `new URL` per file, for bundlers. */
export function kernelUrl(variant: WasmVariant): URL {
  switch (variant) {
    case 'relaxed-simd':
      return new URL('./kernels.relaxed.wasm', import.meta.url);
    case 'simd':
      return new URL('./kernels.simd.wasm', import.meta.url);
    case 'scalar':
      return new URL('./kernels.scalar.wasm', import.meta.url);
  }
}

/** Bytes of each variant, installed by `wasmgrad/embedded` (null: read the .wasm files). */
let embedded: ((variant: WasmVariant) => Uint8Array<ArrayBuffer>) | null = null;

/**
 * Makes every load without a given binary use these bytes instead of the .wasm files (what
 * `import 'wasmgrad/embedded'` does). `null` goes back to the files.
 */
export function setEmbeddedKernels(provider: ((variant: WasmVariant) => Uint8Array<ArrayBuffer>) | null): void {
  embedded = provider;
}

/** The installed embedded bytes of `variant`, or null when none are installed. */
export function embeddedKernel(variant: WasmVariant): Uint8Array<ArrayBuffer> | null {
  return embedded === null ? null : embedded(variant);
}

interface SyncFileSystem {
  readFileSync(path: URL): Uint8Array;
}

/**
 * A synchronous file reader where the runtime has one: Node (and Bun) through
 * `process.getBuiltinModule('node:fs')`, which needs no import statement (bundles for browsers see
 * no `node:` specifier), Deno through `Deno.readFileSync`. Null in browsers and workers.
 */
function fileSystem(): SyncFileSystem | null {
  const g = globalThis as { process?: { getBuiltinModule?: (id: string) => unknown }; Deno?: { readFileSync?: (p: URL) => Uint8Array } };
  const deno = g.Deno;
  if (typeof deno?.readFileSync === 'function') return { readFileSync: (p) => deno.readFileSync!(p) };
  const proc = g.process;
  if (typeof proc?.getBuiltinModule !== 'function') return null;
  const fs = proc.getBuiltinModule('node:fs') as SyncFileSystem | undefined;
  return typeof fs?.readFileSync === 'function' ? fs : null;
}

const REMEDY =
  "pass the binary yourself (init({ wasm: bytesOrUrl })), or import 'wasmgrad/embedded' once to use the binaries built into the package";

/**
 * The binary of `variant` read synchronously: the embedded copy if installed, else the `.wasm` file
 * when it is a local file and the runtime can read files. Null when it has to be fetched (a browser).
 */
export function kernelBytesSync(variant: WasmVariant): Uint8Array | null {
  const installed = embeddedKernel(variant);
  if (installed !== null) return installed;
  const url = kernelUrl(variant);
  const fs = url.protocol === 'file:' ? fileSystem() : null;
  if (fs === null) return null;
  try {
    const b = fs.readFileSync(url);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (err) {
    throw new Error(`wasm backend: cannot read the kernel binary ${url.href} (${(err as Error).message}); was the package built (npm run build) or bundled without its .wasm files? ${REMEDY}`, { cause: err });
  }
}

/**
 * The binary of `variant`: {@link kernelBytesSync} where possible, else read with an imported `fs`
 * on a Node without `process.getBuiltinModule` (before 20.16), else fetched from its URL.
 */
export async function kernelBytes(variant: WasmVariant): Promise<Uint8Array | ArrayBuffer> {
  const local = kernelBytesSync(variant);
  if (local !== null) return local;
  const url = kernelUrl(variant);
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
  if (url.protocol === 'file:' && node !== undefined) {
    // A computed specifier: bundlers for browsers neither resolve nor include it.
    const fs = (await import(['node', 'fs/promises'].join(':'))) as { readFile(p: URL): Promise<Uint8Array> };
    try {
      const b = await fs.readFile(url);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (err) {
      throw new Error(`wasm backend: cannot read the kernel binary ${url.href} (${(err as Error).message}); ${REMEDY}`, { cause: err });
    }
  }
  if (typeof fetch !== 'function') throw new Error(`wasm backend: cannot load ${url.href}: this runtime has no fetch and no file system; ${REMEDY}`);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new Error(`wasm backend: fetching the kernel binary ${url.href} failed (${(err as Error).message}); serve the package's dist/src/backend/wasm/*.wasm files at that URL, or ${REMEDY}`, { cause: err });
  }
  if (!res.ok) {
    throw new Error(`wasm backend: fetching the kernel binary ${url.href} failed: HTTP ${res.status}; serve the package's dist/src/backend/wasm/*.wasm files at that URL (a bundler that understands new URL(..., import.meta.url) does it), or ${REMEDY}`);
  }
  return res.arrayBuffer();
}

/** The error when a synchronous load finds no binary it can read without fetching. */
export function needsFetchError(variant: WasmVariant): Error {
  return new Error(
    `wasm backend: the kernel binary (${kernelUrl(variant).href}) must be fetched in this runtime, which a synchronous load cannot do: ` +
      `call \`await init()\` before creating tensors, or ${REMEDY}`,
  );
}
