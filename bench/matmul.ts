// Matmul benchmarks: our WebAssembly kernel against a naive TypeScript loop and
// @tensorflow/tfjs-backend-wasm (single-threaded), measured side by side in one run.
import Benchmark from 'benchmark';
import { loadKernelsSync } from '../src/backend/wasm/loader.js';
import type { BenchRow } from './types.js';

export interface MatmulBenchOptions {
  /** Fewer shapes and samples, for CI smoke runs. */
  quick?: boolean;
  /** Log lines go here (default console.log). */
  log?: (line: string) => void;
}

type Trans = 'NN' | 'NT' | 'TN';
const FULL_SHAPES: [number, number, number][] = [
  [128, 768, 768], [512, 768, 768], [512, 768, 3072], [1024, 1024, 1024], [64, 64, 64],
];
const QUICK_SHAPES: [number, number, number][] = [[128, 768, 768], [64, 64, 64]];
const TRANS: Trans[] = ['NN', 'NT', 'TN'];

type MatmulFn = (
  a: number, b: number, c: number, M: number, N: number, K: number, transA: number, transB: number,
  batch: number, strideA: number, strideB: number, strideC: number, accumulate: number, scratch: number,
  lda: number, ldb: number, ldc: number,
) => void;

interface Kernel {
  binary: string;
  memory: WebAssembly.Memory;
  matmul: MatmulFn;
  scratch: number;
  heap: number;
}

/** The package's kernel binary (the same bytes the library loads), instantiated on its own memory. */
function loadKernel(binary: 'simd' | 'relaxed'): Kernel | string {
  let loaded;
  try {
    loaded = loadKernelsSync({ variant: binary === 'relaxed' ? 'relaxed-simd' : 'simd' });
  } catch (e) {
    return (e as Error).message;
  }
  const ex = loaded.exports as unknown as Record<string, unknown>;
  const heapBase = typeof ex.heapBase === 'function' ? (ex.heapBase as () => number)() : 0;
  const scratch = align64(Math.max(heapBase, 1024));
  const heap = align64(scratch + (ex.matmulScratchBytes as () => number)());
  return { binary, memory: loaded.memory, matmul: ex.matmul as MatmulFn, scratch, heap };
}

function align64(x: number): number {
  return Math.ceil(x / 64) * 64;
}

function randomArray(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/**
 * The obvious loop: one dot product per output element, operands indexed as stored.
 * Computes rows [0, rows) only, so large shapes can be timed on a row subset.
 */
function naiveMatmul(
  a: Float32Array, b: Float32Array, c: Float32Array, M: number, N: number, K: number,
  transA: boolean, transB: boolean, rows: number,
): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        s += (transA ? a[k * M + i]! : a[i * K + k]!) * (transB ? b[j * K + k]! : b[k * N + j]!);
      }
      c[i * N + j] = s;
    }
  }
}

/** Mean seconds per call, via benchmark.js (one call per sample is plenty at these sizes). */
function measure(name: string, fn: () => void, quick: boolean, slow = false): number {
  const bench = new Benchmark(name, fn, {
    maxTime: quick ? 0.3 : slow ? 1.2 : 0.6,
    minSamples: quick ? 2 : 4,
    initCount: 1,
  });
  bench.run();
  if (bench.error) throw bench.error;
  return bench.stats.mean;
}

/** Seconds per full naive call, timed on a row subset of at least ~0.2 s and scaled to M rows. */
function measureNaive(
  a: Float32Array, b: Float32Array, M: number, N: number, K: number, transA: boolean, transB: boolean,
): number {
  const c = new Float32Array(M * N);
  naiveMatmul(a, b, c, M, N, K, transA, transB, Math.min(M, 2)); // warm up (JIT)
  let rows = Math.min(M, 4);
  for (;;) {
    let best = Infinity;
    // The row loop is uniform, so time per row is representative; best of 2 filters noise spikes.
    for (let rep = 0; rep < 2; rep++) {
      const t0 = performance.now();
      naiveMatmul(a, b, c, M, N, K, transA, transB, rows);
      best = Math.min(best, performance.now() - t0);
    }
    if (best >= 200 || rows === M) return (best / 1000) * (M / rows);
    rows = Math.min(M, Math.max(rows * 2, Math.ceil((rows * 220) / Math.max(best, 1))));
  }
}

export interface Tfjs {
  matMul(a: unknown, b: unknown, ta: boolean, tb: boolean): { dataSync(): unknown; dispose(): void };
  tensor2d(values: Float32Array, shape: [number, number]): { dispose(): void };
}

export async function loadTfjs(log: (line: string) => void): Promise<Tfjs | null> {
  try {
    // Dev dependencies: imported dynamically so the benchmark runs (without the column) when absent.
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setThreadsCount(1); // must precede backend initialisation
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend("wasm") failed');
    await tf.ready();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    log(`tfjs-backend-wasm ${wasm.version_wasm}: 1 thread, ${simd ? 'SIMD' : 'no SIMD'} binary`);
    return tf as unknown as Tfjs;
  } catch (e) {
    log(`vsTfjs skipped: @tensorflow/tfjs-core / tfjs-backend-wasm unavailable (${(e as Error).message})`);
    return null;
  }
}

export async function matmulBenches(opts: MatmulBenchOptions = {}): Promise<BenchRow[]> {
  const quick = opts.quick ?? false;
  const log = opts.log ?? ((line: string) => console.log(line));
  const kernels: Kernel[] = [];
  for (const binary of ['simd', 'relaxed'] as const) {
    const k = loadKernel(binary);
    if (typeof k === 'string') log(`matmul ${binary}: skipped, ${k}`);
    else kernels.push(k);
  }
  if (kernels.length === 0) return [];
  log(`matmul binaries: ${kernels.map((k) => `kernels.${k.binary}.wasm`).join(', ')}`);
  log('matmul naive baseline: i-j-k dot-product loop over Float32Arrays; large shapes are timed on a row '
    + 'subset (>= 0.2 s) and scaled to M rows');
  const tf = await loadTfjs(log);
  const rows: BenchRow[] = [];
  const shapes = quick ? QUICK_SHAPES : FULL_SHAPES;

  for (const k of kernels) warmUp(k);
  for (const [M, K, N] of shapes) {
    const flops = 2 * M * N * K;
    const shape = `${M}x${K}x${N}`;
    for (const trans of TRANS) {
      const transA = trans[0] === 'T', transB = trans[1] === 'T';
      const a = randomArray(M * K, 1), b = randomArray(K * N, 2);
      // Our kernel: operands copied in once, the timed call is the kernel alone.
      const ours = kernels.map((k) => {
        const offA = k.heap, offB = align64(offA + a.byteLength), offC = align64(offB + b.byteLength);
        const need = offC + M * N * 4;
        if (need > k.memory.buffer.byteLength) {
          k.memory.grow(Math.ceil((need - k.memory.buffer.byteLength) / 65536));
        }
        new Float32Array(k.memory.buffer, offA, a.length).set(a);
        new Float32Array(k.memory.buffer, offB, b.length).set(b);
        const call = () => k.matmul(offA, offB, offC, M, N, K, +transA, +transB, 1, 0, 0, 0, 0, k.scratch, transA ? M : K, transB ? K : N, N);
        return { k, call };
      });
      // This machine class is noisy (shared cores, steal time): contenders are measured in
      // alternating rounds and each keeps its best mean, so a slow spell hits all of them alike.
      const rounds = quick ? 1 : 3;
      const big = flops > 3e8;
      let tfSec: number | undefined;
      const ourSec = ours.map(() => Infinity);
      const ta = tf?.tensor2d(a, transA ? [K, M] : [M, K]);
      const tb = tf?.tensor2d(b, transB ? [N, K] : [K, N]);
      for (let round = 0; round < rounds; round++) {
        if (tf) {
          const sec = measure(`tfjs ${shape} ${trans}`, () => {
            const c = tf.matMul(ta, tb, transA, transB);
            c.dataSync();
            c.dispose();
          }, quick, big);
          tfSec = Math.min(tfSec ?? Infinity, sec);
        }
        ours.forEach(({ k, call }, i) => {
          ourSec[i] = Math.min(ourSec[i]!, measure(`${k.binary} ${shape} ${trans}`, call, quick, big));
        });
      }
      ta?.dispose();
      tb?.dispose();
      const naiveSec = measureNaive(a, b, M, N, K, transA, transB);
      ours.forEach(({ k }, i) => {
        const sec = ourSec[i]!;
        rows.push({
          name: k.binary === 'simd' ? 'matmul' : 'matmul relaxed-simd',
          shape,
          variant: trans,
          gflops: flops / sec / 1e9,
          ms: sec * 1000,
          vsNaive: naiveSec / sec,
          ...(tfSec !== undefined ? { vsTfjs: tfSec / sec } : {}),
        });
      });
    }
  }
  return rows;
}

/** Many small calls first, so V8's dynamic tiering has moved every kernel function to TurboFan. */
function warmUp(k: Kernel): void {
  const n = 64;
  const base = k.heap;
  const need = base + 3 * n * n * 4;
  if (need > k.memory.buffer.byteLength) k.memory.grow(Math.ceil((need - k.memory.buffer.byteLength) / 65536));
  new Float32Array(k.memory.buffer, base, 2 * n * n).set(randomArray(2 * n * n, 3));
  for (let rep = 0; rep < 200; rep++) {
    for (const [ta, tb] of [[0, 0], [0, 1], [1, 0]]) {
      k.matmul(base, base + n * n * 4, base + 2 * n * n * 4, n, n, n, ta!, tb!, 1, 0, 0, 0, 0, k.scratch, n, n, n);
    }
  }
}
