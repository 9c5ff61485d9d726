// Thread-pool benchmarks: matmul through the backend (so the pool splits it) at each requested thread
// count and binary, the cost of an empty parallel call, and tfjs-wasm (1 thread) on the same shapes,
// all side by side in one run. Rows carry `threads` and `variant` (the binary).
import Benchmark from 'benchmark';
import type { Buf } from '../src/backend/kernels.js';
import { createWasmBackend, type WasmBackend } from '../src/backend/wasm/index.js';
import { loadTfjs } from './matmul.js';
import type { BenchRow } from './types.js';

export interface ThreadBenchOptions {
  quick?: boolean;
  /** Thread counts to measure (1 = no pool). */
  threads: number[];
  log?: (line: string) => void;
}

type Shape = { M: number; K: number; N: number; batch: number; trans: 'NN' | 'NT' | 'TN' };
const FULL: Shape[] = [
  { M: 512, K: 768, N: 768, batch: 1, trans: 'NN' },
  { M: 512, K: 768, N: 768, batch: 1, trans: 'NT' },
  { M: 768, K: 512, N: 768, batch: 1, trans: 'TN' },
  { M: 512, K: 768, N: 3072, batch: 1, trans: 'NN' },
  { M: 128, K: 64, N: 128, batch: 32, trans: 'NT' }, // attention scores, B*heads = 32
];
const QUICK: Shape[] = [FULL[0]!, FULL[4]!];

function measure(name: string, fn: () => void, maxTime: number): number {
  const bench = new Benchmark(name, fn, { maxTime, minSamples: 4, initCount: 1 });
  bench.run({ async: false });
  if (bench.error) throw bench.error;
  return bench.stats.mean;
}

function wave(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin((i + seed) * 12.9898) * 0.5;
  return out;
}

export async function threadBenches(opts: ThreadBenchOptions): Promise<BenchRow[]> {
  const log = opts.log ?? console.log;
  const maxTime = opts.quick ? 0.3 : 1;
  const shapes = opts.quick ? QUICK : FULL;
  const configs: { be: WasmBackend; threads: number }[] = [];
  for (const variant of ['simd', 'relaxed-simd'] as const) {
    for (const threads of opts.threads) {
      try {
        configs.push({ be: await createWasmBackend({ variant, threads }), threads });
      } catch (e) {
        log(`threads ${threads} ${variant}: skipped, ${(e as Error).message}`);
      }
    }
  }
  const tf = await loadTfjs(log);
  const rows: BenchRow[] = [];
  for (const { be, threads } of configs) {
    const d = be.pool?.dispatchNs();
    if (d !== undefined) {
      rows.push({ name: 'dispatch (empty parallel call)', shape: `${threads} threads`, variant: be.variant, threads, ms: d / 1e6 });
      log(`dispatch ${be.variant} ${threads} threads: ${(d / 1000).toFixed(1)} us per empty parallel call`);
    }
  }
  for (const s of shapes) {
    const { M, K, N, batch, trans } = s;
    const tA = trans === 'TN', tB = trans === 'NT';
    const flops = 2 * M * N * K * batch;
    const shape = `${batch > 1 ? `${batch}x` : ''}${M}x${K}x${N} ${trans}`;
    const a = wave(batch * M * K, 1), b = wave(batch * K * N, 2);
    let tfSec: number | undefined;
    if (tf !== null && batch === 1) {
      const ta = tf.tensor2d(a, tA ? [K, M] : [M, K]);
      const tb = tf.tensor2d(b, tB ? [N, K] : [K, N]);
      tfSec = measure(`tfjs ${shape}`, () => {
        const c = tf.matMul(ta, tb, tA, tB);
        c.dataSync();
        c.dispose();
      }, maxTime);
      ta.dispose();
      tb.dispose();
    }
    // alternate the configurations over two rounds and keep each one's best: a slow spell on a
    // shared machine then hits all of them alike
    const best = configs.map(() => Infinity);
    const bufs = configs.map(({ be }) => {
      const A: Buf = be.alloc(a.length, 'f'), B: Buf = be.alloc(b.length, 'f'), C: Buf = be.alloc(batch * M * N, 'f');
      be.write(A, a);
      be.write(B, b);
      return { A, B, C };
    });
    for (let round = 0; round < (opts.quick ? 1 : 2); round++) {
      configs.forEach(({ be }, i) => {
        const { A, B, C } = bufs[i]!;
        const call = () => be.matmul(A, 0, B, 0, C, 0, M, N, K, tA, tB, batch, M * K, K * N, M * N, false);
        call();
        best[i] = Math.min(best[i]!, measure(`${be.variant} ${be.threads} ${shape}`, call, maxTime));
      });
    }
    configs.forEach(({ be, threads }, i) => {
      const sec = best[i]!;
      rows.push({
        name: 'matmul (backend)', shape, variant: be.variant, threads, gflops: flops / sec / 1e9, ms: sec * 1e3,
        ...(tfSec !== undefined ? { vsTfjs: tfSec / sec } : {}),
      });
      const { A, B, C } = bufs[i]!;
      be.free(A);
      be.free(B);
      be.free(C);
    });
  }
  for (const { be } of configs) be.dispose();
  return rows;
}
