/** The TypeScript-side allocator over the WASM memory, and the loader's variant selection. */
import { describe, expect, it } from 'vitest';
import { Allocator, sizeClass } from '../src/backend/wasm/allocator.js';
import { createWasmBackend, createWasmBackendSync, detectFeatures } from '../src/backend/wasm/index.js';
import { decodeBase64 } from '../src/backend/wasm/loader.js';
import { relaxedWasm, simdWasm } from '../src/backend/wasm/binaries.generated.js';

const HEAP_BASE = 1000; // not aligned on purpose

function fresh(initialPages = 1): Allocator {
  return new Allocator(new WebAssembly.Memory({ initial: initialPages, maximum: 65536 }), HEAP_BASE);
}

describe('wasm allocator', () => {
  it('size classes waste at most 25% (64 bytes for small blocks) and are 64-byte multiples', () => {
    for (let b = 0; b < 300000; b += 97) {
      const c = sizeClass(b);
      expect(c % 64).toBe(0);
      expect(c).toBeGreaterThanOrEqual(b);
      expect(c <= 256 ? c - b < 64 || b === 0 : (c - b) / b <= 0.25).toBe(true);
    }
  });

  it('hands out 64-byte aligned blocks after the parameter block', () => {
    const a = fresh();
    expect(a.paramPtr % 64).toBe(0);
    expect(a.paramPtr).toBeGreaterThanOrEqual(HEAP_BASE);
    const ptrs = [1, 7, 64, 65, 1000, 4096, 12345].map((n) => a.alloc(n));
    for (const p of ptrs) {
      expect(p % 64).toBe(0);
      expect(p).toBeGreaterThanOrEqual(a.paramPtr + 256);
    }
    expect(new Set(ptrs).size).toBe(ptrs.length);
  });

  it('reuses freed blocks exactly for repeating shapes (a training step allocates the same sizes)', () => {
    const a = fresh();
    const sizes = [4 * 768, 4 * 3072, 4 * 768 * 64, 100, 4 * 768];
    const step = () => sizes.map((s) => a.alloc(s));
    const first = step();
    const reserved = a.reservedBytes();
    for (const p of first) a.free(p);
    for (let i = 0; i < 5; i++) {
      const again = step();
      expect(new Set(again)).toEqual(new Set(first));
      expect(a.reservedBytes()).toBe(reserved);
      for (const p of again) a.free(p);
    }
    expect(a.highWaterBytes()).toBe(reserved);
    expect(a.reservedBytes()).toBe(0); // everything freed: the top came back down
  });

  it('coalesces freed blocks, so shapes that vary from step to step reuse the same bytes', () => {
    // A step's temporaries for a batch padded to length T (as with dynamic padding): many sizes, each
    // its own size class. Class-only free lists kept every class's blocks: the heap grew to the sum
    // of the steps' footprints. Coalescing keeps it at the largest step's footprint.
    const a = fresh();
    const keep = a.alloc(4 * 1000); // a parameter allocated before training
    const step = (T: number) => {
      const ptrs = [32 * T * 128, 32 * T * 512, 32 * 4 * T * T, 32 * T * 128, 100].map((n) => a.alloc(4 * n));
      for (const p of ptrs) a.free(p);
    };
    step(64);
    const footprint = a.highWaterBytes();
    for (let T = 20; T <= 64; T++) step(T);
    expect(a.highWaterBytes()).toBe(footprint);
    expect(a.reservedBytes()).toBe(sizeClass(4 * 1000));
    a.free(keep);
    expect(a.reservedBytes()).toBe(0);
  });

  it('merges a freed block with both neighbours and splits a larger free block for a smaller request', () => {
    const a = fresh();
    const [p, q, r, guard] = [1024, 2048, 4096, 64].map((n) => a.alloc(n));
    a.free(p);
    a.free(r);
    a.free(q); // joins p and r: one free block of 7,168 bytes at p
    const big = a.alloc(7168);
    expect(big).toBe(p);
    a.free(big);
    const small = a.alloc(3072); // no 3,072 block is free: the front of the merged block
    expect(small).toBe(p);
    expect(a.alloc(4096)).toBe(p + 3072); // the rest of it
    expect(a.reservedBytes()).toBe(7168 + 64);
    expect(guard).toBe(p + 7168);
  });

  it('liveBytes counts live blocks and returns to 0', () => {
    const a = fresh();
    expect(a.liveBytes()).toBe(0);
    const p = a.alloc(100);
    const q = a.alloc(5000);
    expect(a.liveBytes()).toBe(sizeClass(100) + sizeClass(5000));
    a.free(p);
    a.free(q);
    expect(a.liveBytes()).toBe(0);
  });

  it('grows the memory, keeps the data, and refreshes detached views', () => {
    const a = fresh(1);
    const p = a.alloc(4 * 10);
    const before = a.f32();
    before.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], p >> 2);
    const bytes0 = a.memory.buffer.byteLength;
    const big = a.alloc(3 << 20); // forces growth
    expect(a.memory.buffer.byteLength).toBeGreaterThan(bytes0);
    expect(before.buffer.byteLength).toBe(0); // the old view is detached
    const after = a.f32();
    expect(after.buffer).toBe(a.memory.buffer);
    expect(Array.from(after.subarray(p >> 2, (p >> 2) + 10))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(big + (3 << 20)).toBeLessThanOrEqual(a.memory.buffer.byteLength);
  });

  it('rejects double frees and foreign pointers clearly', () => {
    const a = fresh();
    const p = a.alloc(10);
    a.free(p);
    expect(() => a.free(p)).toThrow(/double free/);
    expect(() => a.free(p + 64 * 100)).toThrow(/not a block of this allocator/);
    const q = a.alloc(4096);
    expect(() => a.free(q + 64)).toThrow(/inside the live block .* view pointer/);
    expect(() => a.alloc(-1)).toThrow(/non-negative integer/);
  });

  it('reports the 4 GiB limit clearly', () => {
    const a = fresh();
    expect(() => a.alloc(2 ** 32)).toThrow(/4 GiB/);
  });
});

describe('wasm loader', () => {
  it('auto picks the best variant the runtime validates', () => {
    const f = detectFeatures();
    const be = createWasmBackendSync();
    expect(be.variant).toBe(f.relaxed ? 'relaxed-simd' : f.simd ? 'simd' : 'scalar');
    expect(be.name).toBe('wasm');
    expect(be.dtype).toBe('float32');
  });

  it('auto turns on relaxed SIMD on Node where V8 keeps it behind a flag, and the relaxed binary validates', () => {
    const hasGetBuiltin = typeof (process as { getBuiltinModule?: unknown }).getBuiltinModule === 'function';
    if (!hasGetBuiltin || !detectFeatures().simd) return; // Node < 20.16: only the flag on the command line helps
    expect(detectFeatures().relaxed).toBe(true);
    expect(WebAssembly.validate(decodeBase64(relaxedWasm))).toBe(true);
    expect(createWasmBackendSync().variant).toBe('relaxed-simd');
    expect(createWasmBackendSync({ variant: 'simd' }).variant).toBe('simd');
  });

  it('forces a variant, and errors clearly when the runtime cannot run it', () => {
    expect(createWasmBackendSync({ variant: 'scalar' }).variant).toBe('scalar');
    if (!detectFeatures().relaxed) {
      expect(() => createWasmBackendSync({ variant: 'relaxed-simd' })).toThrow(/relaxed-SIMD/);
    }
    expect(() => createWasmBackendSync({ variant: 'avx' as never })).toThrow(/unknown variant/);
  });

  it('accepts user-provided bytes and compiled modules (async and sync)', async () => {
    const bytes = decodeBase64(simdWasm);
    const fromBytes = await createWasmBackend({ wasm: bytes });
    expect(fromBytes.variant).toBe('simd');
    const fromModule = createWasmBackendSync({ wasm: new WebAssembly.Module(bytes) });
    expect(fromModule.variant).toBe('simd');
    expect(() => createWasmBackendSync({ wasm: bytes, variant: 'scalar' })).toThrow(/given binary is the 'simd' build/);
    expect(() => createWasmBackendSync({ wasm: 'https://example.invalid/k.wasm' })).toThrow(/cannot fetch/);
  });

  it('fetches a URL', async () => {
    const bytes = decodeBase64(simdWasm);
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async () => new Response(bytes, { status: 200 })) as typeof fetch;
    try {
      const be = await createWasmBackend({ wasm: new URL('https://example.invalid/kernels.wasm') });
      expect(be.variant).toBe('simd');
    } finally {
      globalThis.fetch = realFetch;
    }
  });

  it('starts with the requested initial memory', () => {
    const be = createWasmBackendSync({ initialMemoryBytes: 8 << 20 });
    expect(be.memory.buffer.byteLength).toBe(8 << 20);
  });

  it('decodes base64 like the platform does', () => {
    const s = 'AGFzbQEAAAA=';
    expect(Array.from(decodeBase64(s))).toEqual([0, 97, 115, 109, 1, 0, 0, 0]);
    expect(Array.from(decodeBase64('YQ'))).toEqual([97]);
  });
});
