/**
 * Buffers above 2 GiB: wasm32 addresses run to 4 GiB, so the host side must treat pointers as
 * unsigned (a signed shift turned them into negative offsets: a write threw, a read returned other memory).
 */
import { describe, expect, it } from 'vitest';
import { createWasmBackendSync, type WasmBackend } from '../src/backend/wasm/index.js';
import type { WasmBuf } from '../src/backend/wasm/bind.js';

describe('wasm backend above 2 GiB', () => {
  it('writes, reads and runs kernels on buffers whose address is >= 2^31', () => {
    const be = createWasmBackendSync() as WasmBackend;
    try {
      // reserve just over 2 GiB (pages the engine zero-fills lazily; nothing is written to them)
      const filler = be.alloc(2 ** 29 + 4096, 'f');
      const x = be.alloc(1000, 'f');
      const ids = be.alloc(1000, 'i');
      expect((x as WasmBuf).ptr).toBeGreaterThanOrEqual(2 ** 31);
      const values = Float32Array.from({ length: 1000 }, (_, i) => i * 0.5 - 100);
      be.write(x, values);
      be.write(ids, Int32Array.from({ length: 1000 }, (_, i) => 999 - i));
      expect(Array.from(be.read(x))).toEqual(Array.from(values));
      expect(be.read(ids)[0]).toBe(999);
      // a view into the high buffer and a kernel reading and writing there
      const y = be.alloc(1000, 'f');
      be.unary('exp', x, y, 1000);
      const e = be.read(y);
      expect(e[200]).toBeCloseTo(1, 6); // exp(0)
      expect(e[202]).toBeCloseTo(Math.exp(1), 5);
      be.free(y);
      be.free(ids);
      be.free(x);
      be.free(filler);
    } finally {
      be.dispose();
    }
  });
});
