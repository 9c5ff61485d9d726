/**
 * Checks what the three kernel binaries actually contain, so a refactor cannot silently lose
 * vectorisation (a hot loop compiled to scalar code still passes every numeric test) or leak SIMD
 * into the scalar fallback (which would then fail to load exactly where it is needed).
 *
 * The embedded binaries are decoded instruction by instruction (wasm-opcodes.ts) and each exported
 * kernel is checked together with the functions it calls.
 */
import { describe, expect, it } from 'vitest';
import { relaxedWasm, scalarWasm, simdWasm } from '../src/backend/wasm/binaries.generated.js';
import { decodeBase64 } from '../src/backend/wasm/loader.js';
import { exportUsage, isRelaxedOp, readWasm, SIMD_OPS, simdUsage, type SimdUsage } from './wasm-opcodes.js';

const HOT_KERNELS = [
  'unary', 'unaryGrad', 'binary', 'reduce', 'softmax', 'softmaxBackward', 'logSoftmax', 'logSoftmaxBackward',
  'crossEntropy', 'crossEntropyBackward', 'layerNorm', 'layerNormBackward', 'groupedScaleShift',
  'groupedScaleShiftBackward', 'gaussianSample', 'gaussianSampleBackward', 'adamw', 'sgd', 'axpy', 'scale',
  'where', 'copyStrided', 'scatterAddRows',
];

const read = (b64: string) => {
  const bytes = decodeBase64(b64);
  return { code: readWasm(bytes), all: simdUsage(bytes) };
};
const simd = read(simdWasm);
const scalar = read(scalarWasm);
const relaxed = read(relaxedWasm);

/** The SIMD use of one exported kernel and the functions it calls. */
const kernel = (b: ReturnType<typeof read>, name: string): SimdUsage => exportUsage(b.code, name);
const uses = (u: SimdUsage, op: keyof typeof SIMD_OPS) => (u.ops.get(SIMD_OPS[op]) ?? 0) > 0;
/** SIMD instructions other than whole-vector loads, stores and constants (sub-opcodes 0x00..0x0C): the work done on lanes. */
const laneWork = (u: SimdUsage) => [...u.ops.keys()].filter((op) => op > 0x0c);

describe('kernel binaries: instruction contents', () => {
  for (const k of HOT_KERNELS) {
    it(`simd build: ${k} loads whole vectors and works on their lanes`, () => {
      // no v128.store required: a reduction such as crossEntropy writes one scalar per row
      const u = kernel(simd, k);
      expect(uses(u, 'v128.load'), 'v128.load').toBe(true);
      expect(laneWork(u).length).toBeGreaterThan(0);
    });
  }

  it('simd build: unary and binary vectorise arithmetic (f32x4.mul / add), not just moves', () => {
    expect(uses(kernel(simd, 'unary'), 'f32x4.mul')).toBe(true);
    expect(uses(kernel(simd, 'binary'), 'f32x4.add')).toBe(true);
    const ln = kernel(simd, 'layerNorm');
    expect(uses(ln, 'f32x4.mul') || uses(ln, 'f32x4.sub')).toBe(true);
    const gssb = kernel(simd, 'groupedScaleShiftBackward');
    expect(uses(gssb, 'f32x4.mul') || uses(gssb, 'f32x4.add')).toBe(true);
    expect(uses(kernel(simd, 'adamw'), 'f32x4.sqrt')).toBe(true);
  });

  it('simd build: matmul (once present) is vectorised', () => {
    if (!simd.code.exports.has('matmul')) return;
    const u = kernel(simd, 'matmul');
    expect(uses(u, 'f32x4.mul') || uses(u, 'f32x4.add') || uses(u, 'f32x4.relaxed_madd')).toBe(true);
  });

  it('scalar build contains no v128 instructions or types at all', () => {
    // any v128 use would make the fallback binary invalid on engines without SIMD
    expect(scalar.all.functions).toBe(scalar.code.functions.length);
    expect(scalar.all.functions).toBeGreaterThan(0);
    expect([...scalar.all.ops.keys()]).toEqual([]);
    expect(scalar.all.v128Types).toBe(false);
    expect(scalar.code.exports.size).toBe(simd.code.exports.size);
  });

  it('simd build contains no relaxed-SIMD instructions (they fail to compile where unsupported)', () => {
    expect(simd.all.ops.size).toBeGreaterThan(0);
    expect([...simd.all.ops.keys()].filter(isRelaxedOp)).toEqual([]);
  });

  it('relaxed build uses relaxed-SIMD multiply-add in the hot loops', () => {
    expect(uses(kernel(relaxed, 'layerNorm'), 'f32x4.relaxed_madd')).toBe(true);
    expect(uses(kernel(relaxed, 'unary'), 'f32x4.relaxed_madd')).toBe(true);
  });

  it('every build exports the same kernels', () => {
    expect([...relaxed.code.exports.keys()].sort()).toEqual([...simd.code.exports.keys()].sort());
    expect([...scalar.code.exports.keys()].sort()).toEqual([...simd.code.exports.keys()].sort());
  });
});
