/**
 * The WASM binding table (src/backend/wasm/bindings.ts) and the checks bind.ts derives from its rows:
 * every contract kernel has exactly one binding and one reference implementation, rows that disagree
 * with the kernel binary fail when the backend is created, and bad arguments get errors naming the
 * argument, its size or value and what the kernel needs.
 */
import { describe, expect, it } from 'vitest';
import type { Buf } from '../src/backend/kernels.js';
import { referenceKernels } from '../src/backend/reference/index.js';
import { bindRow, count, f32, scalar, type BindContext } from '../src/backend/wasm/bind.js';
import { BINDINGS } from '../src/backend/wasm/bindings.js';
import { createWasmBackendSync } from '../src/backend/wasm/index.js';

const be = createWasmBackendSync({ variant: 'scalar' });
const floats = (values: number[]): Buf => {
  const b = be.alloc(values.length, 'f');
  be.write(b, values);
  return b;
};
const ints = (values: number[]): Buf => {
  const b = be.alloc(values.length, 'i');
  be.write(b, values);
  return b;
};

describe('binding table', () => {
  it('binds exactly the kernels the reference backend implements', () => {
    expect(Object.keys(BINDINGS).sort()).toEqual(Object.keys(referenceKernels).sort());
    for (const name of Object.keys(BINDINGS)) expect(typeof (be as unknown as Record<string, unknown>)[name]).toBe('function');
  });

  // A context with only what bindRow reads before the first call.
  const fakeContext = (exports: Record<string, unknown>): BindContext => ({ ex: exports } as unknown as BindContext);

  it('refuses a row whose size uses a count that is not one of its arguments', () => {
    const n = count('n');
    const stray = count('n');
    const ex = fakeContext({ axpy: (_a: number, _x: number, _y: number, _n: number) => 0 });
    expect(() => bindRow('axpy', { args: [scalar('alpha'), f32('x', n), f32('y', stray), n] }, ex, false)).toThrow(
      "wasm backend: binding 'axpy': the size of y uses count 'n', which is not one of its arguments",
    );
  });

  it('refuses a row whose argument count differs from the export, or a missing export', () => {
    const n = count('n');
    const row = { args: [scalar('alpha'), f32('x', n), f32('y', n), n] } as const;
    const ex = fakeContext({ axpy: (_a: number, _x: number, _y: number) => 0 });
    expect(() => bindRow('axpy', row, ex, false)).toThrow(
      "wasm backend: binding 'axpy' describes 4 arguments but the kernel binary's export takes 3",
    );
    expect(() => bindRow('axpy', row, fakeContext({}), false)).toThrow(/has no 'axpy' export/);
  });
});

describe('checks derived from the rows', () => {
  it('names the short buffer, its size and the size the kernel needs (a product of counts)', () => {
    const x = floats([1, 2, 3, 4, 5, 6]);
    const y = floats([0, 0, 0, 0, 0]);
    expect(() => be.unary('exp', x, y, 6)).toThrow('wasm backend: out has 5 elements, the kernel needs 6');
    const mean = floats([0, 0]);
    const rstd = floats([0]);
    expect(() => be.layerNorm(x, null, null, floats([0, 0, 0, 0, 0, 0]), mean, rstd, 2, 3, 1e-5)).toThrow(
      'wasm backend: rstd has 1 elements, the kernel needs 2',
    );
    expect(() => be.groupedScaleShift(x, ints([0, 0, 0]), floats([1]), floats([0]), x, 2, 3, 1, floats([0, 0, 0, 0, 0])))
      .toThrow('wasm backend: scratch has 5 elements, the kernel needs 6');
  });

  it('names counts, seeds, op names and buffer kinds', () => {
    const x = floats([1, 2]);
    expect(() => be.axpy(1, x, x, -1)).toThrow('wasm backend: n must be a non-negative integer, got -1');
    expect(() => be.softmax(x, x, 1.5, 2)).toThrow('wasm backend: rows must be a non-negative integer, got 1.5');
    expect(() => be.randn(x, 2, 2 ** 32, 0, 0)).toThrow('wasm backend: seedLo must be an integer in [0, 2^32), got 4294967296');
    expect(() => be.unary('nope' as 'exp', x, x, 2)).toThrow("wasm backend: unknown unary op 'nope'");
    expect(() => be.reduce('min' as 'sum', x, x, 1, 2, 1)).toThrow("wasm backend: unknown reduce op 'min'");
    expect(() => be.sumSquares(ints([1, 2]), 2)).toThrow(new TypeError('wasm backend: x must be a float buffer'));
    expect(() => be.crossEntropy(x, x, x, x, 1, 2, -100, 0)).toThrow(new TypeError('wasm backend: targets must be an int32 buffer'));
  });

  it('takes null only where the contract allows it', () => {
    const x = floats([1, 2, 3, 4]);
    const y = floats([0, 0, 0, 0]);
    be.layerNorm(x, null, null, y, floats([0, 0]), floats([0, 0]), 2, 2, 0);
    expect(Array.from(be.read(y))).toEqual([-1, 1, -1, 1]);
    expect(() => be.softmax(null as unknown as Buf, y, 2, 2)).toThrow(new TypeError('wasm backend: x is not a buffer of this wasm backend'));
  });

  it('refuses freed and foreign handles by name', () => {
    const x = floats([1, 2]);
    const gone = floats([1, 2]);
    be.free(gone);
    expect(() => be.scale(2, gone, x, 2)).toThrow('wasm backend: x is used after free');
    const other = createWasmBackendSync({ variant: 'scalar' });
    expect(() => be.scale(2, x, other.alloc(2, 'f'), 2)).toThrow('wasm backend: out is not a buffer of this wasm backend');
  });

  it('runs the row checks that read memory or relate arguments', () => {
    const x = floats([1, 2, 3, 4]);
    expect(() => be.groupedScaleShift(x, ints([0, 2]), floats([1, 1]), floats([0, 0]), x, 2, 2, 2, floats([0, 0, 0, 0])))
      .toThrow('wasm backend: groupMap[1] = 2 is outside [0, 2)');
    expect(() => be.gatherRows(floats([1, 2, 3, 4]), ints([2]), floats([0, 0]), 1, 2)).toThrow(
      "wasm backend: ids[0] = 2 is outside the table's 2 rows",
    );
    expect(() => be.reduce('max', x, x, 2, 0, 1)).toThrow('wasm backend: reduce max over an empty axis (r = 0) has no identity');
    expect(() => be.sgd(x, x, null, 4, 0.1, 0.9, 0, 0, false, true)).toThrow(new TypeError('wasm backend: sgd with momentum needs a momentum buffer'));
    const logits = floats([0, 0, 0, 0]);
    expect(() => be.crossEntropyBackward(logits, ints([0, 5]), floats([0, 0]), floats([1, 1]), floats([0, 0, 0, 0]), 2, 2, -100, 0))
      .toThrow('wasm backend: crossEntropyBackward target 5 of row 1 is out of range');
  });

  it('passes sgd no momentum buffer when momentum is 0 (plain SGD even with dampening)', () => {
    const p = floats([1, 2]);
    const buf = floats([5, 5]);
    be.sgd(p, floats([1, 1]), buf, 2, 0.5, 0, 0.5, 0, false, false);
    expect(Array.from(be.read(p))).toEqual([0.5, 1.5]);
    expect(Array.from(be.read(buf))).toEqual([5, 5]);
  });
});
