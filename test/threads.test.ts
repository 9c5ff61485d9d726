/**
 * The worker pool: every kernel it splits gives bitwise-identical outputs (and gradients) at 1, 2 and
 * 3 threads; an error inside a worker reaches the caller and the pool keeps working; a script using
 * threads exits on its own. Thread-specific, so CI can run this file at several thread counts
 * (WASMGRAD_TEST_THREADS=2 adds that count to the ones below) without re-running the whole suite.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend, Buf } from '../src/backend/kernels.js';
import { createWasmBackend, sharedMemoryAvailable, type WasmBackend } from '../src/backend/wasm/index.js';
import type { ParallelKernel } from '../src/backend/wasm/parallel.js';
import * as W from '../src/index.js';
import { mulberry32 } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const extra = Number(process.env.WASMGRAD_TEST_THREADS ?? 0);
const COUNTS = [...new Set([1, 2, 3, ...(extra > 0 ? [extra] : [])])];
const RUNS = 12;

const backends = new Map<number, WasmBackend>();
async function backend(threads: number): Promise<WasmBackend> {
  let be = backends.get(threads);
  if (be === undefined) {
    be = await createWasmBackend({ threads });
    // split every call that has more than one task, however small, so small shapes exercise the splits
    be.pool?.setSplitThreshold(0);
    backends.set(threads, be);
  }
  return be;
}
afterAll(() => {
  for (const be of backends.values()) be.dispose();
});

type Rand = () => number;
const floats = (b: Backend, n: number, r: Rand, scale = 1): Buf => {
  const buf = b.alloc(n, 'f');
  b.write(buf, Array.from({ length: n }, () => (r() * 2 - 1) * scale));
  return buf;
};
const ints = (b: Backend, vals: number[]): Buf => {
  const buf = b.alloc(vals.length, 'i');
  b.write(buf, vals);
  return buf;
};
const zeros = (b: Backend, n: number): Buf => {
  const buf = b.alloc(n, 'f');
  b.fill(buf, 0);
  return buf;
};

/** Sizes that hit tails: 1, 3, 5, 4k+1 and a few above the 64-element split alignment. */
const sizeArb = fc.oneof(fc.constantFrom(1, 3, 5, 63, 64, 65, 129, 257), fc.integer({ min: 0, max: 200 }).map((k) => 4 * k + 1));
const rowsArb = fc.integer({ min: 1, max: 9 });

interface Case {
  /** Runs the kernel on fresh buffers made from `seed` and returns every output, read back. */
  (b: Backend, seed: number, n: number, rows: number): (Float32Array | Float64Array | Int32Array | number)[];
}

/** Kernels of the Backend contract that the pool splits (a missing one does not compile). */
type Threaded = Exclude<ParallelKernel, 'fill32' | 'layerNormParamGrad' | 'matmulPack' | 'matmulPacked'> | 'fill';

const CASES: { [K in Threaded]: Case } = {
  fill(b, _s, n) {
    const o = b.alloc(n, 'f');
    b.fill(o, 0.375);
    return [b.read(o)];
  },
  unary(b, s, n) {
    const r = mulberry32(s);
    const x = floats(b, n, r, 4);
    return (['gelu_tanh', 'gelu_erf', 'exp', 'tanh', 'sigmoid', 'log'] as const).map((op) => {
      const o = zeros(b, n);
      b.unary(op, x, o, n);
      return b.read(o);
    });
  },
  unaryGrad(b, s, n) {
    const r = mulberry32(s);
    const x = floats(b, n, r, 4);
    const y = zeros(b, n);
    b.unary('gelu_tanh', x, y, n);
    const dy = floats(b, n, r);
    const dx = zeros(b, n);
    b.unaryGrad('gelu_tanh', x, y, dy, dx, n);
    return [b.read(dx)];
  },
  binary(b, s, n, rows) {
    const r = mulberry32(s);
    const x = floats(b, rows * n, r);
    const y = floats(b, rows * n, r);
    const row = floats(b, n, r);
    const col = floats(b, rows, r);
    const out: (Float32Array | Float64Array | Int32Array)[] = [];
    const run = (op: 'add' | 'mul' | 'div' | 'pow', bb: Buf, bStrides: number[], shape: number[], aStrides = [n, 1]) => {
      const o = zeros(b, shape.reduce((p, d) => p * d, 1));
      b.binary(op, x, aStrides, bb, bStrides, o, shape);
      out.push(b.read(o));
    };
    run('add', y, [n, 1], [rows, n]); // equal shapes: one contiguous dim
    run('mul', row, [0, 1], [rows, n]); // a broadcast row
    run('div', col, [1, 0], [rows, n]); // a broadcast column
    run('pow', y, [1, n], [n, rows], [1, n]); // transposed operands: a strided walk
    if (rows > 1) run('add', row, [0, 0, 1], [rows, 1, n], [n, n, 1]); // a size-1 dim, coalesced away
    return out;
  },
  copyStrided(b, s, n, rows) {
    const r = mulberry32(s);
    const x = floats(b, rows * n * 3, r);
    const t = zeros(b, rows * n * 3);
    // permute (rows, n, 3) -> (3, rows, n), and back with accumulation
    b.copyStrided(x, 0, [3 * n, 3, 1], t, 0, [n, 1, rows * n], [rows, n, 3], false);
    const back = floats(b, rows * n * 3, r);
    b.copyStrided(t, 0, [n, 1, rows * n], back, 0, [3 * n, 3, 1], [rows, n, 3], true);
    const flat = zeros(b, rows * n * 3);
    b.copyStrided(x, 0, [1], flat, 0, [1], [rows * n * 3], false);
    return [b.read(t), b.read(back), b.read(flat)];
  },
  axpy(b, s, n) {
    const r = mulberry32(s);
    const x = floats(b, n, r);
    const y = floats(b, n, r);
    b.axpy(0.3, x, y, n);
    return [b.read(y)];
  },
  scale(b, s, n) {
    const r = mulberry32(s);
    const x = floats(b, n, r);
    const o = zeros(b, n);
    b.scale(-1.7, x, o, n);
    return [b.read(o)];
  },
  where(b, s, n) {
    const r = mulberry32(s);
    const c = ints(b, Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0)));
    const x = floats(b, n, r);
    const y = floats(b, n, r);
    const o = zeros(b, n);
    b.where(c, x, y, o, n);
    return [b.read(o)];
  },
  attentionSoftmax(b, s, n, rows) {
    // rows batches of 2 heads x Tq queries over n keys, with a padding mask and, every other seed, causal
    const r = mulberry32(s);
    const Tq = Math.min(3, n);
    const x = floats(b, rows * 2 * Tq * n, r, 10);
    const keep = ints(b, Array.from({ length: rows * n }, () => (r() < 0.3 ? 0 : 1)));
    const o = zeros(b, rows * 2 * Tq * n);
    b.attentionSoftmax(x, keep, o, rows, 2, Tq, n, 0.125, s % 2 === 0);
    return [b.read(o)];
  },
  attentionSoftmaxBackward(b, s, n, rows) {
    const r = mulberry32(s);
    const Tq = Math.min(3, n);
    const y = floats(b, rows * 2 * Tq * n, r);
    const dy = floats(b, rows * 2 * Tq * n, r);
    const keep = ints(b, Array.from({ length: rows * n }, () => (r() < 0.3 ? 0 : 1)));
    const dx = zeros(b, rows * 2 * Tq * n);
    b.attentionSoftmaxBackward(y, dy, dx, keep, rows, 2, Tq, n, 0.125, s % 2 === 0);
    return [b.read(dx)];
  },
  softmax(b, s, n, rows) {
    const r = mulberry32(s);
    const x = floats(b, rows * n, r, 10);
    const o = zeros(b, rows * n);
    b.softmax(x, o, rows, n);
    return [b.read(o)];
  },
  softmaxBackward(b, s, n, rows) {
    const r = mulberry32(s);
    const y = floats(b, rows * n, r);
    const dy = floats(b, rows * n, r);
    const dx = zeros(b, rows * n);
    b.softmaxBackward(y, dy, dx, rows, n);
    return [b.read(dx)];
  },
  logSoftmax(b, s, n, rows) {
    const r = mulberry32(s);
    const x = floats(b, rows * n, r, 10);
    const o = zeros(b, rows * n);
    b.logSoftmax(x, o, rows, n);
    return [b.read(o)];
  },
  logSoftmaxBackward(b, s, n, rows) {
    const r = mulberry32(s);
    const y = floats(b, rows * n, r);
    const dy = floats(b, rows * n, r);
    const dx = zeros(b, rows * n);
    b.logSoftmaxBackward(y, dy, dx, rows, n);
    return [b.read(dx)];
  },
  crossEntropy(b, s, n, rows) {
    const r = mulberry32(s);
    const x = floats(b, rows * n, r, 10);
    const t = ints(b, Array.from({ length: rows }, (_, i) => (i % 3 === 2 ? -1 : Math.floor(r() * n))));
    const loss = zeros(b, rows);
    const lse = zeros(b, rows);
    const count = b.crossEntropy(x, t, loss, lse, rows, n, -1, 0.1);
    // a bad target in a late row: every thread count reports the same first bad row
    const bad = ints(b, Array.from({ length: rows }, (_, i) => (i >= rows >> 1 ? n + 3 : 0)));
    const rc = b.crossEntropy(x, bad, loss, lse, rows, n, -1, 0);
    return [count, rc, b.read(lse)];
  },
  crossEntropyBackward(b, s, n, rows) {
    const r = mulberry32(s);
    const x = floats(b, rows * n, r, 10);
    const t = ints(b, Array.from({ length: rows }, (_, i) => (i % 3 === 2 ? -1 : Math.floor(r() * n))));
    const loss = zeros(b, rows);
    const lse = zeros(b, rows);
    b.crossEntropy(x, t, loss, lse, rows, n, -1, 0.1);
    const dl = floats(b, rows, r);
    const dx = zeros(b, rows * n);
    b.crossEntropyBackward(x, t, lse, dl, dx, rows, n, -1, 0.1);
    return [b.read(loss), b.read(dx)];
  },
  layerNorm(b, s, n, rows) {
    const r = mulberry32(s);
    const x = floats(b, rows * n, r, 3);
    const g = floats(b, n, r);
    const be = floats(b, n, r);
    const y = zeros(b, rows * n);
    const mean = zeros(b, rows);
    const rstd = zeros(b, rows);
    b.layerNorm(x, g, be, y, mean, rstd, rows, n, 1e-5);
    const y2 = zeros(b, rows * n);
    b.layerNorm(x, null, null, y2, mean, rstd, rows, n, 1e-5);
    return [b.read(y), b.read(y2), b.read(mean), b.read(rstd)];
  },
  layerNormBackward(b, s, n, rows) {
    const r = mulberry32(s);
    const x = floats(b, rows * n, r, 3);
    const g = floats(b, n, r);
    const y = zeros(b, rows * n);
    const mean = zeros(b, rows);
    const rstd = zeros(b, rows);
    b.layerNorm(x, g, null, y, mean, rstd, rows, n, 1e-5);
    const dy = floats(b, rows * n, r);
    const dx = zeros(b, rows * n);
    const dg = zeros(b, n);
    const db = zeros(b, n);
    b.layerNormBackward(x, g, mean, rstd, dy, dx, dg, db, rows, n);
    const dx2 = zeros(b, rows * n);
    b.layerNormBackward(x, null, mean, rstd, dy, dx2, null, null, rows, n);
    return [b.read(dx), b.read(dg), b.read(db), b.read(dx2)];
  },
  gaussianSample(b, s, n) {
    const r = mulberry32(s);
    const mu = floats(b, n, r);
    const sg = floats(b, n, r);
    const eps = zeros(b, n);
    const o = zeros(b, n);
    b.gaussianSample(mu, sg, eps, o, n, s >>> 0, 77, 0xffffff00);
    return [b.read(eps), b.read(o)];
  },
  gaussianSampleBackward(b, s, n) {
    const r = mulberry32(s);
    const eps = floats(b, n, r);
    const dy = floats(b, n, r);
    const dmu = zeros(b, n);
    const dsg = zeros(b, n);
    b.gaussianSampleBackward(eps, dy, dmu, dsg, n);
    return [b.read(dmu), b.read(dsg)];
  },
  randn(b, s, n) {
    const o = zeros(b, n);
    b.randn(o, n, s >>> 0, 5, 12345);
    return [b.read(o)];
  },
  randu(b, s, n) {
    const o = zeros(b, n);
    b.randu(o, n, s >>> 0, 5, 0xfffffff0);
    return [b.read(o)];
  },
  dropoutMask(b, s, n) {
    const o = zeros(b, n);
    b.dropoutMask(o, n, 0.3, s >>> 0, 9, 3);
    return [b.read(o)];
  },
  adamw(b, s, n) {
    const r = mulberry32(s);
    const p = floats(b, n, r);
    const g = floats(b, n, r);
    const m = floats(b, n, r, 0.1);
    const v = b.alloc(n, 'f');
    b.write(v, Array.from({ length: n }, () => r() * 0.01));
    b.adamw(p, g, m, v, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, 0.1, 0.001);
    return [b.read(p), b.read(m), b.read(v)];
  },
  sgd(b, s, n) {
    const r = mulberry32(s);
    const p = floats(b, n, r);
    const g = floats(b, n, r);
    const buf = floats(b, n, r);
    b.sgd(p, g, buf, n, 0.1, 0.9, 0, 0.01, true, false);
    const p2 = floats(b, n, r);
    b.sgd(p2, g, null, n, 0.1, 0, 0, 0, false, true);
    return [b.read(p), b.read(buf), b.read(p2)];
  },
  matmul(b, s, n, rows) {
    const r = mulberry32(s);
    const out: Float32Array[] = [];
    // (M, K, N) from the drawn sizes, every transpose, a batch with a broadcast operand, accumulating
    const M = rows * 7 + (n % 5);
    const K = (n % 37) + 1;
    const N = n;
    for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const a = floats(b, 2 * M * K, r);
      const bb = floats(b, K * N, r);
      const c = floats(b, 2 * M * N, r);
      b.matmul(a, 0, bb, 0, c, 0, M, N, K, tA, tB, 2, M * K, 0, M * N, tA);
      out.push(b.read(c) as Float32Array);
    }
    return out;
  },
};

function bits(v: Float32Array | Float64Array | Int32Array | number): number[] {
  if (typeof v === 'number') return [v];
  return Array.from(new Int32Array(v.buffer, v.byteOffset, v.byteLength >> 2));
}

describe.skipIf(!sharedMemoryAvailable())('worker pool', () => {
  for (const name of Object.keys(CASES) as Threaded[]) {
    it(`${name}: bitwise identical at ${COUNTS.join(', ')} threads`, async () => {
      const bes = await Promise.all(COUNTS.map(backend));
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), sizeArb, rowsArb, (seed, n, rows) => {
          const outs = bes.map((b) => {
            return W.withBackend(b, () => CASES[name](b, seed, n, rows)).map(bits);
          });
          for (let t = 1; t < outs.length; t++) expect(outs[t], `${COUNTS[t]} threads`).toEqual(outs[0]);
        }),
        { numRuns: RUNS },
      );
    }, 120_000);
  }

  // A batch-1 product split over threads packs the operand its tasks share once (matmulPack), then
  // each task reads it (matmulPacked): by rows when M >= N (B shared), by columns otherwise (A shared).
  it('batch-1 matmul split in two stages: bitwise identical on thin, wide and tail shapes', async () => {
    const bes = await Promise.all(COUNTS.map(backend));
    const dimArb = fc.oneof(
      fc.constantFrom(1, 3, 5, 7, 8, 9, 31, 33, 63, 64, 65, 129, 257),
      fc.integer({ min: 0, max: 80 }).map((k) => 4 * k + 1),
      fc.integer({ min: 1, max: 700 }),
    );
    // K beyond one 256-deep slice, and N beyond one 512-wide block, on some draws
    const kArb = fc.oneof(fc.constantFrom(1, 3, 5, 255, 256, 257, 300), fc.integer({ min: 0, max: 90 }).map((k) => 4 * k + 1));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }), dimArb, kArb, dimArb, fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(),
        (seed, M, K, N, tA, tB, acc, thin) => {
          // thin: one side small (the shapes of a projection on few rows, or a narrow output)
          const m = thin ? Math.min(M, 9) : M;
          const outs = bes.map((b) => {
            const r = mulberry32(seed);
            const a = floats(b, m * K, r);
            const bb = floats(b, K * N, r);
            const c = floats(b, m * N, r);
            b.matmul(a, 0, bb, 0, c, 0, m, N, K, tA, tB, 1, 0, 0, 0, acc);
            const out = bits(b.read(c));
            for (const x of [a, bb, c]) b.free(x);
            return out;
          });
          for (let t = 1; t < outs.length; t++) expect(outs[t], `${COUNTS[t]} threads, ${m}x${K}x${N}`).toEqual(outs[0]);
        },
      ),
      { numRuns: 2 * RUNS },
    );
  }, 120_000);

  it('batch-1 matmul whose shared operand exceeds the packing block limit still splits, bitwise identical', async () => {
    const bes = await Promise.all(COUNTS.map(backend));
    // K = 65600: the shared operand (K x 72 or K x 68 packed) exceeds PACK_BLOCK_LIMIT (16 MiB), so
    // each task packs it itself
    const K = 65600;
    const wave = (b: Backend, n: number, phase: number): Buf => {
      const buf = b.alloc(n, 'f');
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = ((i * 7 + phase) % 101) / 101 - 0.5;
      b.write(buf, v);
      return buf;
    };
    const res = bes.map((b) => {
      const a = wave(b, 72 * K, 0);
      const bb = wave(b, K * 72, 1);
      const c = zeros(b, 72 * 72);
      // 72 x 65: split by rows, B shared; 65 x 72: split by columns, A shared
      b.matmul(a, 0, bb, 0, c, 0, 72, 65, K, false, true, 1, 0, 0, 0, false);
      const byRows = bits(b.read(c));
      b.matmul(a, 0, bb, 0, c, 0, 65, 72, K, false, false, 1, 0, 0, 0, false);
      const byCols = bits(b.read(c));
      for (const x of [a, bb, c]) b.free(x);
      return [byRows, byCols];
    });
    for (let t = 1; t < res.length; t++) expect(res[t]).toEqual(res[0]);
  }, 120_000);

  it('splits large calls across the workers (bitwise identical; the matmul work really is shared)', async () => {
    const bes = await Promise.all(COUNTS.map(backend));
    const M = 300, K = 200, N = 260;
    const res = bes.map((b) => {
      const r = mulberry32(7);
      const a = floats(b, M * K, r);
      const bb = floats(b, K * N, r);
      const c = zeros(b, M * N);
      b.matmul(a, 0, bb, 0, c, 0, M, N, K, false, false, 1, 0, 0, 0, false);
      return bits(b.read(c));
    });
    for (let t = 1; t < res.length; t++) expect(res[t]).toEqual(res[0]);
    const two = await backend(2);
    expect(two.pool!.readyWorkers()).toBe(1);
    expect(two.pool!.dispatchNs()).toBeGreaterThan(0);
  });

  it('gives identical losses and gradients for a small network at every thread count', async () => {
    const bes = await Promise.all(COUNTS.map(backend));
    const results = bes.map((b) => W.withBackend(b, () => W.tidy(() => {
      const r = mulberry32(11);
      const x = W.tensor(Array.from({ length: 37 * 70 }, () => r() - 0.5), [37, 70]);
      const w1 = W.tensor(Array.from({ length: 70 * 130 }, () => (r() - 0.5) * 0.2), [70, 130], { requiresGrad: true });
      const w2 = W.tensor(Array.from({ length: 130 * 11 }, () => (r() - 0.5) * 0.2), [130, 11], { requiresGrad: true });
      const g = W.tensor(Array.from({ length: 130 }, () => 1 + r() * 0.1), [130], { requiresGrad: true });
      const y = W.tensor(Array.from({ length: 37 }, (_, i) => i % 11), [37], { dtype: 'int32' });
      const h = W.gelu(W.layerNorm(W.matmul(x, w1), g, null), 'tanh');
      const loss = W.crossEntropy(W.matmul(h, w2), y);
      W.backward(loss);
      return [loss.toArray(), w1.grad!.toArray(), w2.grad!.toArray(), g.grad!.toArray()].map(bits);
    })));
    for (let t = 1; t < results.length; t++) expect(results[t]).toEqual(results[0]);
  });

  it('an error inside a worker reaches the caller naming the kernel, and the pool keeps working', async () => {
    const be = await backend(2);
    const pool = be.pool!;
    const outOfBounds = 0xf000_0000; // far beyond the memory's current size
    // a few milliseconds of work for whichever thread takes the first task
    const block = be.alloc(4 << 20, 'f') as unknown as { ptr: number };
    const big = { kernel: 'fill32' as const, args: [block.ptr, 4 << 20, 0], base: 0 };
    let fromWorker = false;
    for (let attempt = 0; attempt < 50 && !fromWorker; attempt++) {
      // the caller takes the first task; a worker is then likely to take the trapping one
      const tasks = [big, { kernel: 'fill32' as const, args: [outOfBounds, 1024, 0], base: 0 }];
      let msg = '';
      try {
        pool.runTasks(tasks, 'fill');
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg).toMatch(/kernel 'fill32'.*failed: .*(out of bounds|memory)/i);
      fromWorker = /worker thread/.test(msg);
    }
    expect(fromWorker, 'a worker ran the trapping task at least once').toBe(true);
    // still usable: a split call gives the single-threaded result
    const one = await backend(1);
    const run = (b: Backend) => {
      const r = mulberry32(3);
      const x = floats(b, 5000, r, 4);
      const o = zeros(b, 5000);
      b.unary('gelu_erf', x, o, 5000);
      return bits(b.read(o));
    };
    expect(run(be)).toEqual(run(one));
  });

  it('rejects bad thread counts with a clear message', async () => {
    await expect(createWasmBackend({ threads: 0 })).rejects.toThrow(/threads must be 'auto' or an integer/);
    await expect(createWasmBackend({ threads: 2.5 })).rejects.toThrow(/threads must be/);
    const auto = await createWasmBackend({ threads: 'auto' });
    expect(auto.threads).toBeGreaterThanOrEqual(1);
    expect(auto.threads).toBeLessThanOrEqual(8);
    auto.dispose();
    // after dispose the backend runs on the calling thread
    const b = auto;
    const x = floats(b, 1000, mulberry32(1));
    const o = zeros(b, 1000);
    b.unary('exp', x, o, 1000);
    expect(b.read(o)[0]).toBeGreaterThan(0);
  });

  it('Deno: Web Workers give the single-threaded bits, and the script exits on its own', () => {
    const deno = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'deno.cmd' : 'deno');
    if (!existsSync(deno)) throw new Error(`deno launcher not found at ${deno}; run npm install`);
    const out = execFileSync(deno, ['run', '--quiet', '--sloppy-imports', '--no-config', '--allow-read', 'test/deno/threads.ts'], {
      cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000,
    });
    const res = JSON.parse(out.trim().split('\n').pop()!);
    expect(res).toMatchObject({ threads: 2, ready: 1, same: true });
    expect(res.dispatchNs).toBeGreaterThan(0);
  }, 130_000);

  it('a script that uses threads exits on its own', () => {
    const entry = join(root, 'dist', 'src', 'backend', 'wasm', 'index.js');
    if (!existsSync(entry)) throw new Error('dist/ is missing: run npm run build:ts first');
    const script = `
      import { createWasmBackend } from ${JSON.stringify(entry)};
      const be = await createWasmBackend({ threads: 2 });
      const a = be.alloc(512 * 512, 'f'); be.fill(a, 0.5);
      const c = be.alloc(512 * 512, 'f');
      be.matmul(a, 0, a, 0, c, 0, 512, 512, 512, false, false, 1, 0, 0, 0, false);
      console.log(JSON.stringify({ threads: be.threads, c0: be.read(c)[0] }));
    `;
    const t0 = Date.now();
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(out.trim())).toEqual({ threads: 2, c0: 128 });
    expect(Date.now() - t0).toBeLessThan(60_000);
  }, 70_000);
});
