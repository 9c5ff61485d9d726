// The WebAssembly matmul kernel (assembly/matmul*.ts) in its simd, scalar and relaxed builds,
// against a float64 naive reference.
//
// Tolerance: every output is a sum of K float32 products (plus the old C when accumulating),
// added in some blocked order. The classic bound for such a sum is
//   |computed - exact| <= gamma_n * (sum_k |a_ik b_kj| + |C_old|),  gamma_n = n u / (1 - n u),
// with u = 2^-24 (f32 unit roundoff) and n = K + 1 rounding steps per term. We use
// (K + 2) * 2^-23, i.e. twice (n + 1) u, which covers the 1 / (1 - n u) factor for every K tested
// and the fused multiply-add of the relaxed build (which only removes roundings). Products that
// underflow to f32 subnormals carry an absolute error of at most 2^-150 each, hence the absolute
// term (K + 1) * 2^-149. The reference itself is float64 on the same f32 inputs, exact to ~2^-50
// relative, negligible here. This is a worst-case bound, not a statistical one: it cannot flake.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mulberry32 as rng } from './helpers.js';
import { isRelaxedOp, simdUsage, type SimdUsage } from './wasm-opcodes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const VARIANTS = ['simd', 'scalar', 'relaxed'] as const;
type Variant = (typeof VARIANTS)[number];

interface MatmulModule {
  memory: WebAssembly.Memory;
  matmul(
    a: number, b: number, c: number, M: number, N: number, K: number, transA: number, transB: number,
    batch: number, strideA: number, strideB: number, strideC: number, accumulate: number, scratch: number,
    lda: number, ldb: number, ldc: number,
  ): void;
  scratch: number;
  heap: number;
}

/** The binaries `npm run build:wasm` writes; WASMGRAD_KERNELS_DIR points elsewhere (e.g. a trial build). */
function loadBytes(variant: Variant): Uint8Array<ArrayBuffer> {
  const dir = process.env.WASMGRAD_KERNELS_DIR ?? join(root, 'build');
  return new Uint8Array(readFileSync(join(dir, `kernels.${variant}.wasm`)));
}

function instantiate(bytes: Uint8Array<ArrayBuffer>): MatmulModule {
  const module = new WebAssembly.Module(bytes);
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536 });
  // Provide the imported memory, and a throwing stub for any other import the module may grow.
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    imports[imp.module] ??= {};
    imports[imp.module]![imp.name] = imp.kind === 'memory' ? memory : () => {
      throw new Error(`unexpected call to import ${imp.module}.${imp.name}`);
    };
  }
  const ex = new WebAssembly.Instance(module, imports).exports as Record<string, unknown>;
  if (typeof ex.matmul !== 'function' || typeof ex.matmulScratchBytes !== 'function') {
    throw new Error('kernel binary lacks matmul/matmulScratchBytes: assembly/index.ts must re-export them '
      + "(export { matmul, matmulScratchBytes } from './matmul';) and `npm run build:wasm` must run first");
  }
  const heapBase = typeof ex.heapBase === 'function' ? (ex.heapBase as () => number)() : 0;
  const scratch = align64(Math.max(heapBase, 1024));
  const heap = align64(scratch + (ex.matmulScratchBytes as () => number)());
  return { memory, matmul: ex.matmul as MatmulModule['matmul'], scratch, heap };
}

function align64(x: number): number {
  return Math.ceil(x / 64) * 64;
}


type Magnitude = 'unit' | 'large' | 'mixed';
function fillValues(out: Float32Array, rand: () => number, mag: Magnitude): void {
  for (let i = 0; i < out.length; i++) {
    const r = rand();
    if (r < 0.03) { out[i] = 0; continue; }
    const u = rand() * 2 - 1;
    if (mag === 'unit') out[i] = u;
    else if (mag === 'large') out[i] = u * 1e4;
    else out[i] = Math.sign(u) * 10 ** (-30 + 34 * rand()); // 1e-30 .. 1e4, products may underflow
  }
}

interface Problem {
  M: number; N: number; K: number; transA: boolean; transB: boolean; batch: number;
  /** Extra elements between batch entries (-1: stride 0, broadcast). C never broadcasts. */
  gapA: number; gapB: number; gapC: number;
  accumulate: boolean; seed: number; mag: Magnitude;
}

const GUARD = 16; // sentinel floats before and after every operand region

function run(mod: MatmulModule, p: Problem): void {
  const { M, N, K, batch } = p;
  const sizeA = M * K, sizeB = K * N, sizeC = M * N;
  const strideA = p.gapA < 0 ? 0 : sizeA + p.gapA;
  const strideB = p.gapB < 0 ? 0 : sizeB + p.gapB;
  const strideC = sizeC + p.gapC;
  const lenA = strideA * (batch - 1) + sizeA, lenB = strideB * (batch - 1) + sizeB;
  const lenC = strideC * (batch - 1) + sizeC;
  // Regions (in floats): [guard | A | guard | B | guard | C | guard], with odd offsets so that
  // operands are not 16-byte aligned (the kernel must not depend on alignment).
  const offA = mod.heap / 4 + GUARD + 1;
  const offB = offA + lenA + GUARD + 3;
  const offC = offB + lenB + GUARD + 1;
  const end = offC + lenC + GUARD;
  const needBytes = end * 4;
  if (needBytes > mod.memory.buffer.byteLength) {
    mod.memory.grow(Math.ceil((needBytes - mod.memory.buffer.byteLength) / 65536));
  }
  const mem = new Float32Array(mod.memory.buffer);
  const rand = rng(p.seed);
  mem.fill(-7.25, mod.heap / 4, end); // sentinel everywhere, including gaps between batch entries
  fillValues(mem.subarray(offA, offA + lenA), rand, p.mag);
  fillValues(mem.subarray(offB, offB + lenB), rand, p.mag);
  if (p.accumulate) fillValues(mem.subarray(offC, offC + lenC), rand, p.mag);
  // Gaps inside A and B are data too (never read); gaps inside C must keep their sentinel.
  for (let t = 0; t < batch - 1; t++) mem.fill(-7.25, offC + t * strideC + sizeC, offC + (t + 1) * strideC);
  const before = mem.slice(mod.heap / 4, end);

  mod.matmul(offA * 4, offB * 4, offC * 4, M, N, K, +p.transA, +p.transB, batch,
    strideA, strideB, strideC, +p.accumulate, mod.scratch, p.transA ? M : K, p.transB ? K : N, N);

  const after = new Float32Array(mod.memory.buffer);
  const u2 = 2 ** -23;
  let failures = 0;
  const report: string[] = [];
  for (let t = 0; t < batch; t++) {
    const a0 = offA + t * strideA, b0 = offB + t * strideB, c0 = offC + t * strideC;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let exact = 0, absSum = 0;
        for (let k = 0; k < K; k++) {
          const av = before[a0 - mod.heap / 4 + (p.transA ? k * M + i : i * K + k)]!;
          const bv = before[b0 - mod.heap / 4 + (p.transB ? j * K + k : k * N + j)]!;
          exact += av * bv;
          absSum += Math.abs(av * bv);
        }
        const old = p.accumulate ? before[c0 - mod.heap / 4 + i * N + j]! : 0;
        exact += old;
        absSum += Math.abs(old);
        const got = after[c0 + i * N + j]!;
        const tol = (K + 2) * u2 * absSum + (K + 1) * 2 ** -149;
        if (!(Math.abs(got - exact) <= tol)) {
          if (failures++ < 5) report.push(`t=${t} (${i},${j}): got ${got}, want ${exact} +- ${tol}`);
        }
      }
    }
  }
  // Everything outside the C entries (inputs, guards, gaps) must be bit-identical to before.
  const inC = (x: number) => {
    const r = x - offC;
    return r >= 0 && r < lenC && r % strideC < sizeC;
  };
  for (let x = mod.heap / 4; x < end; x++) {
    if (!inC(x) && !Object.is(after[x], before[x - mod.heap / 4])) {
      if (failures++ < 5) report.push(`memory outside C changed at float ${x - offC} relative to C`);
    }
  }
  expect(report, JSON.stringify({ ...p, failures })).toEqual([]);
}

const dim = fc.oneof(
  fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9),
  fc.integer({ min: 0, max: 9 }).map((k) => 4 * k + 1),
  fc.integer({ min: 0, max: 9 }).map((k) => 4 * k + 3),
  fc.integer({ min: 1, max: 48 }),
);
const problem: fc.Arbitrary<Problem> = fc.record({
  M: dim, N: dim, K: fc.oneof(dim, fc.constant(0)),
  transA: fc.boolean(), transB: fc.boolean(),
  batch: fc.integer({ min: 1, max: 3 }),
  gapA: fc.constantFrom(-1, 0, 5), gapB: fc.constantFrom(-1, 0, 3), gapC: fc.constantFrom(0, 2),
  accumulate: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  mag: fc.constantFrom<Magnitude>('unit', 'large', 'mixed'),
});

const base: Omit<Problem, 'M' | 'N' | 'K' | 'transA' | 'transB'> = {
  batch: 1, gapA: 0, gapB: 0, gapC: 0, accumulate: false, seed: 1, mag: 'unit',
};
const TRANS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
const name = (ta: boolean, tb: boolean) => (ta ? 'T' : 'N') + (tb ? 'T' : 'N');

for (const variant of VARIANTS) {
  const bytes = loadBytes(variant);
  const supported = WebAssembly.validate(bytes);
  if (!supported) {
    // Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd.
    console.warn(`matmul ${variant}: this runtime does not validate build/kernels.${variant}.wasm; skipping`);
  }
  describe.skipIf(!supported)(`matmul (${variant} build)`, () => {
    const mod = supported ? instantiate(bytes) : (undefined as never);

    it('matches the float64 reference on random shapes, transposes, batches and strides', () => {
      fc.assert(fc.property(problem, (p) => run(mod, p)), { numRuns: 300 });
    });

    it('K = 0 writes zeros, or leaves C unchanged when accumulating', () => {
      for (const accumulate of [false, true]) {
        run(mod, { ...base, M: 5, N: 9, K: 0, transA: false, transB: false, batch: 2, gapC: 3, accumulate });
      }
    });

    for (const [ta, tb] of TRANS) {
      it(`${name(ta, tb)} beyond one cache block (M > MC, N > NC, K > KC)`, () => {
        run(mod, { ...base, M: 133, N: 521, K: 261, transA: ta, transB: tb, seed: 11, mag: 'large' });
      });
      it(`${name(ta, tb)} with K spanning several KC slices, accumulating, batched, broadcast B`, () => {
        run(mod, {
          ...base, M: 9, N: 19, K: 1029, transA: ta, transB: tb, batch: 2, gapA: 1, gapB: -1, gapC: 1,
          accumulate: true, seed: 12, mag: 'mixed',
        });
      });
    }

    it('M = 1 and N = 1 (vector products)', () => {
      for (const [ta, tb] of TRANS) {
        run(mod, { ...base, M: 1, N: 37, K: 300, transA: ta, transB: tb, seed: 3 });
        run(mod, { ...base, M: 37, N: 1, K: 300, transA: ta, transB: tb, seed: 4 });
        run(mod, { ...base, M: 1, N: 1, K: 1, transA: ta, transB: tb, seed: 5 });
      }
    });
  });
}

describe('kernel binaries', () => {
  it('the scalar build contains no SIMD and only the relaxed build uses relaxed SIMD', () => {
    // One source serves all three builds through compile-time feature constants; a v128 op leaking
    // into the scalar binary would make it fail to load on runtimes without SIMD. The binaries'
    // code is decoded instruction by instruction (wasm-opcodes.ts): milliseconds, where loading a
    // disassembler and printing three modules as text took seconds.
    const use = (v: Variant) => simdUsage(loadBytes(v));
    const [scalar, simd, relaxed] = [use('scalar'), use('simd'), use('relaxed')];
    for (const u of [scalar, simd, relaxed]) expect(u.functions).toBeGreaterThan(20);
    expect(scalar.ops.size).toBe(0);
    expect(scalar.v128Types).toBe(false);
    const ops = (u: SimdUsage) => [...u.ops.keys()];
    expect(ops(simd).length).toBeGreaterThan(0);
    expect(ops(simd).filter(isRelaxedOp)).toEqual([]);
    expect(ops(relaxed).filter(isRelaxedOp).length).toBeGreaterThan(0);
    expect(relaxed.ops.get(0x105)).toBeGreaterThan(0); // f32x4.relaxed_madd, the hot loops' multiply-add
  });
});

// Under Node 20 the relaxed build runs only with --experimental-wasm-relaxed-simd: the slow tier
// reruns this file in a Node started with it (test/relaxed-simd.slow.test.ts).
