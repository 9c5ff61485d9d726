/**
 * Checks what the three kernel binaries actually contain, so a refactor cannot silently lose
 * vectorisation (a hot loop compiled to scalar code still passes every numeric test) or leak SIMD
 * into the scalar fallback (which would then fail to load exactly where it is needed).
 *
 * The embedded binaries are disassembled with binaryen (the AssemblyScript compiler's own backend)
 * and each exported kernel is checked together with the functions it calls.
 */
import binaryen from 'binaryen';
import { describe, expect, it } from 'vitest';
import { relaxedWasm, scalarWasm, simdWasm } from '../src/backend/wasm/binaries.generated.js';
import { decodeBase64 } from '../src/backend/wasm/loader.js';

interface Disassembly {
  /** Function name -> its text. */
  funcs: Map<string, string>;
  /** Export name -> function name. */
  exports: Map<string, string>;
  text: string;
}

function disassemble(b64: string): Disassembly {
  const mod = binaryen.readBinary(decodeBase64(b64));
  const text = mod.emitText();
  mod.dispose();
  const funcs = new Map<string, string>();
  const exports = new Map<string, string>();
  for (const m of text.matchAll(/\(export "([^"]+)" \(func (\$[^\s)]+)\)\)/g)) exports.set(m[1]!, m[2]!);
  // top-level function definitions start on a line of their own at one space of indentation
  const starts = [...text.matchAll(/^ \(func (\$[^\s)]+)/gm)];
  starts.forEach((m, k) => {
    const end = k + 1 < starts.length ? starts[k + 1]!.index! : text.length;
    funcs.set(m[1]!, text.slice(m.index!, end));
  });
  return { funcs, exports, text };
}

/** Text of an exported kernel plus every function reachable from it by direct calls. */
function kernelText(d: Disassembly, exportName: string): string {
  const root = d.exports.get(exportName);
  if (root === undefined) throw new Error(`no export ${exportName}`);
  const seen = new Set<string>([root]);
  const queue = [root];
  let out = '';
  while (queue.length > 0) {
    const f = queue.pop()!;
    const body = d.funcs.get(f) ?? '';
    out += body;
    for (const c of body.matchAll(/\bcall (\$[^\s)]+)/g)) {
      if (!seen.has(c[1]!)) {
        seen.add(c[1]!);
        queue.push(c[1]!);
      }
    }
  }
  return out;
}

const HOT_KERNELS = [
  'unary', 'unaryGrad', 'binary', 'reduce', 'softmax', 'softmaxBackward', 'logSoftmax', 'logSoftmaxBackward',
  'crossEntropy', 'crossEntropyBackward', 'layerNorm', 'layerNormBackward', 'groupedScaleShift',
  'groupedScaleShiftBackward', 'gaussianSample', 'gaussianSampleBackward', 'adamw', 'sgd', 'axpy', 'scale',
  'where', 'copyStrided', 'scatterAddRows',
];

const simd = disassemble(simdWasm);
const scalar = disassemble(scalarWasm);
const relaxed = disassemble(relaxedWasm);

describe('kernel binaries: instruction contents', () => {
  for (const k of HOT_KERNELS) {
    it(`simd build: ${k} uses f32x4 / v128 instructions`, () => {
      expect(kernelText(simd, k)).toMatch(/\b(f32x4|v128|i32x4)\./);
    });
  }

  it('simd build: unary and binary vectorise arithmetic (f32x4.mul / add), not just moves', () => {
    expect(kernelText(simd, 'unary')).toMatch(/f32x4\.mul/);
    expect(kernelText(simd, 'binary')).toMatch(/f32x4\.add/);
    expect(kernelText(simd, 'layerNorm')).toMatch(/f32x4\.(mul|sub)/);
    expect(kernelText(simd, 'groupedScaleShiftBackward')).toMatch(/f32x4\.(mul|add)/);
    expect(kernelText(simd, 'adamw')).toMatch(/f32x4\.sqrt/);
  });

  it('simd build: matmul (once present) is vectorised', () => {
    if (!simd.exports.has('matmul')) return;
    expect(kernelText(simd, 'matmul')).toMatch(/\bf32x4\./);
  });

  it('scalar build contains no v128 instructions or types at all', () => {
    // any v128 use would make the fallback binary invalid on engines without SIMD
    expect(scalar.text).not.toMatch(/\bv128\b|\b[fi](32x4|64x2|8x16|16x8)\./);
    expect(scalar.exports.size).toBe(simd.exports.size);
  });

  it('simd build contains no relaxed-SIMD instructions (they fail to compile where unsupported)', () => {
    expect(simd.text).not.toMatch(/\.relaxed_/);
  });

  it('relaxed build uses relaxed-SIMD multiply-add in the hot loops', () => {
    expect(kernelText(relaxed, 'layerNorm')).toMatch(/f32x4\.relaxed_madd/);
    expect(kernelText(relaxed, 'unary')).toMatch(/f32x4\.relaxed_madd/);
  });

  it('every build exports the same kernels', () => {
    expect([...relaxed.exports.keys()].sort()).toEqual([...simd.exports.keys()].sort());
    expect([...scalar.exports.keys()].sort()).toEqual([...simd.exports.keys()].sort());
  });
});
