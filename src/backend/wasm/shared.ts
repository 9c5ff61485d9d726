/**
 * Shared memory for the worker pool: the kernel binaries import a plain memory (so they load
 * everywhere, also without cross-origin isolation); threads need the same code on a `shared: true`
 * memory. Rather than shipping three more binaries, the memory import of a binary is rewritten in
 * place: its limits flag goes from "min and max" (0x01) to "min, max, shared" (0x03), same length,
 * nothing else changes. The kernels use no atomics: workers only run them on disjoint ranges, and the
 * pool synchronises through `Atomics` on its own control block.
 *
 * Portable like the loader: no Node-only APIs.
 */

/** Where threads can work: SharedArrayBuffer exists and (in browsers) the page is cross-origin isolated. */
export function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return false;
  // Browsers define crossOriginIsolated; without COOP/COEP it is false and shared memory is refused.
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (isolated === false) return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

function readLeb(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++];
    if (b === undefined) throw new Error('wasm backend: truncated LEB128 in the kernel binary');
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [result, pos];
  }
}

/**
 * A copy of a kernel binary whose imported memory is declared shared. Throws when the binary imports
 * no memory with a maximum (shared memories need one; the wasmgrad binaries declare 65536 pages).
 */
export function withSharedMemoryImport(src: Uint8Array | ArrayBuffer): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(src.byteLength);
  bytes.set(src instanceof Uint8Array ? src : new Uint8Array(src));
  let pos = 8; // magic + version
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const [size, start] = readLeb(bytes, pos);
    pos = start;
    if (id !== 2) {
      pos += size;
      continue;
    }
    let [count, p] = readLeb(bytes, pos);
    for (let i = 0; i < count; i++) {
      let len: number;
      [len, p] = readLeb(bytes, p); // module name
      p += len;
      [len, p] = readLeb(bytes, p); // field name
      p += len;
      const kind = bytes[p++]!;
      if (kind === 0x00) [, p] = readLeb(bytes, p); // function: type index
      else if (kind === 0x01) { // table: reftype + limits
        p++;
        const flags = bytes[p++]!;
        [, p] = readLeb(bytes, p);
        if (flags & 1) [, p] = readLeb(bytes, p);
      } else if (kind === 0x03) p += 2; // global: valtype + mutability
      else if (kind === 0x02) {
        const flags = bytes[p]!;
        if (flags === 0x03) return bytes; // already shared
        if (flags !== 0x01) {
          throw new Error('wasm backend: the kernel binary\'s memory import has no maximum, so it cannot be shared across threads');
        }
        bytes[p] = 0x03;
        return bytes;
      } else throw new Error(`wasm backend: unknown import kind ${kind} in the kernel binary`);
    }
    break;
  }
  throw new Error('wasm backend: the kernel binary imports no memory; is it a wasmgrad kernel binary?');
}
