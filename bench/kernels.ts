// Bandwidth-bound kernel benchmarks: layer norm, grouped scale/shift, Gaussian sampling (each
// forward + backward), softmax + cross-entropy, the attention softmax (scale + mask + softmax) and AdamW, on the WASM backend (best variant the
// runtime runs) against the pure-TS reference backend in float32 mode, side by side in one run.
// Throughput is bytes read + written per call (each tensor counted once per pass) over the mean time.
import Benchmark from 'benchmark';
import type { Backend, Buf } from '../src/backend/kernels.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { createWasmBackend } from '../src/backend/wasm/index.js';
import type { BenchRow } from './types.js';

export interface KernelBenchOptions {
  /** Smaller problems and shorter sampling (CI smoke runs). */
  quick?: boolean;
  log?: (line: string) => void;
  /** Runs only the cases whose name this accepts (the others are not even set up). */
  wanted?: (name: string) => boolean;
  /** Thread counts to measure the WASM backend at (default [1]); the reference runs once, beside 1 thread. */
  threads?: number[];
}

interface Case {
  name: string;
  shape: string;
  /** Bytes read + written by one call of `run`. */
  bytes: number;
  /** Allocates inputs on a backend and returns the timed body plus a cleanup. */
  setup(be: Backend): { run: () => void; dispose: () => void };
}

function filled(be: Backend, n: number, f: (i: number) => number): Buf {
  const b = be.alloc(n, 'f');
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = f(i);
  be.write(b, data);
  return b;
}

/** Deterministic pseudo-random values in [-1, 1) without Math.random (reproducible runs). */
const wave = (i: number) => Math.sin(i * 12.9898) * 0.999;

function cases(rows: number, cols: number, K: number): Case[] {
  const N = rows * cols;
  const F = 4;
  return [
    {
      name: 'layerNorm fwd+bwd',
      shape: `${rows}x${cols}`,
      // fwd: x in, y out; bwd: x, dy in, dx out (per-row and per-column vectors are negligible)
      bytes: 5 * N * F,
      setup(be) {
        const x = filled(be, N, wave);
        const dy = filled(be, N, (i) => wave(i + 7));
        const g = filled(be, cols, () => 1.1);
        const b = filled(be, cols, () => 0.1);
        const y = be.alloc(N, 'f');
        const dx = be.alloc(N, 'f');
        const mean = be.alloc(rows, 'f');
        const rstd = be.alloc(rows, 'f');
        const dg = be.alloc(cols, 'f');
        const db = be.alloc(cols, 'f');
        return {
          run: () => {
            be.layerNorm(x, g, b, y, mean, rstd, rows, cols, 1e-5);
            be.layerNormBackward(x, g, mean, rstd, dy, dx, dg, db, rows, cols);
          },
          dispose: () => [x, dy, g, b, y, dx, mean, rstd, dg, db].forEach((t) => be.free(t)),
        };
      },
    },
    {
      name: 'groupedScaleShift fwd+bwd',
      shape: `${rows}x${cols} K=${K}`,
      // fwd: x in, y out; bwd: x, dy in, dx out
      bytes: 5 * N * F,
      setup(be) {
        const x = filled(be, N, wave);
        const dy = filled(be, N, (i) => wave(i + 3));
        const map = be.alloc(cols, 'i');
        be.write(map, Int32Array.from({ length: cols }, (_, i) => (i * K) / cols | 0));
        const g = filled(be, K, (k) => 1 + k / K);
        const b = filled(be, K, (k) => k / K - 0.5);
        const y = be.alloc(N, 'f');
        const dx = be.alloc(N, 'f');
        const dg = be.alloc(K, 'f');
        const db = be.alloc(K, 'f');
        const scratch = be.alloc(4 * cols, 'f');
        return {
          run: () => {
            be.groupedScaleShift(x, map, g, b, y, rows, cols, K, scratch);
            be.groupedScaleShiftBackward(x, map, g, b, dy, dx, dg, db, rows, cols, K, scratch);
          },
          dispose: () => [x, dy, map, g, b, y, dx, dg, db, scratch].forEach((t) => be.free(t)),
        };
      },
    },
    {
      name: 'gaussianSample fwd+bwd',
      shape: `${rows}x${cols}`,
      // fwd: mu, sigma in, eps, out out; bwd: eps, dy in, dmu, dsigma out
      bytes: 8 * N * F,
      setup(be) {
        const mu = filled(be, N, wave);
        const sigma = filled(be, N, (i) => Math.abs(wave(i + 1)));
        const dy = filled(be, N, (i) => wave(i + 2));
        const eps = be.alloc(N, 'f');
        const out = be.alloc(N, 'f');
        const dmu = be.alloc(N, 'f');
        const ds = be.alloc(N, 'f');
        let counter = 0;
        return {
          run: () => {
            be.gaussianSample(mu, sigma, eps, out, N, 1234, 5678, counter);
            be.gaussianSampleBackward(eps, dy, dmu, ds, N);
            counter = (counter + N) % 0x7fffffff;
          },
          dispose: () => [mu, sigma, dy, eps, out, dmu, ds].forEach((t) => be.free(t)),
        };
      },
    },
    {
      name: 'softmax+crossEntropy fwd+bwd',
      shape: `${rows}x${cols}`,
      // softmax: x in, y out; crossEntropy: logits in; its backward: logits in, dlogits out
      bytes: 5 * N * F,
      setup(be) {
        const x = filled(be, N, (i) => 4 * wave(i));
        const y = be.alloc(N, 'f');
        const dx = be.alloc(N, 'f');
        const t = be.alloc(rows, 'i');
        be.write(t, Int32Array.from({ length: rows }, (_, r) => (r * 7919) % cols));
        const loss = be.alloc(rows, 'f');
        const lse = be.alloc(rows, 'f');
        const dl = filled(be, rows, () => 1 / rows);
        return {
          run: () => {
            be.softmax(x, y, rows, cols);
            be.crossEntropy(x, t, loss, lse, rows, cols, -100, 0.1);
            be.crossEntropyBackward(x, t, lse, dl, dx, rows, cols, -100, 0.1);
          },
          dispose: () => [x, y, dx, t, loss, lse, dl].forEach((b) => be.free(b)),
        };
      },
    },
    {
      name: 'attentionSoftmax fwd+bwd',
      // the anchor step's attention: (B 8, heads 4, 128 queries, 128 keys), a padding mask on the keys
      shape: '8x4x128x128',
      // fwd: scores in, weights out; bwd: weights, dy in, dx out (the (B, T) mask is negligible)
      bytes: 5 * 8 * 4 * 128 * 128 * F,
      setup(be) {
        const n = 8 * 4 * 128 * 128;
        const x = filled(be, n, (i) => 4 * wave(i));
        const dy = filled(be, n, (i) => wave(i + 3));
        const y = be.alloc(n, 'f');
        const dx = be.alloc(n, 'f');
        const keep = be.alloc(8 * 128, 'i');
        be.write(keep, Int32Array.from({ length: 8 * 128 }, (_, i) => (i % 128 < 100 + (i >> 7) ? 1 : 0)));
        return {
          run: () => {
            be.attentionSoftmax(x, keep, y, 8, 4, 128, 128, 0.125, false);
            be.attentionSoftmaxBackward(y, dy, dx, keep, 8, 4, 128, 128, 0.125, false);
          },
          dispose: () => [x, dy, y, dx, keep].forEach((b) => be.free(b)),
        };
      },
    },
    {
      name: 'adamw step',
      shape: `${N}`,
      // p, g, m, v in; p, m, v out
      bytes: 7 * N * F,
      setup(be) {
        const p = filled(be, N, wave);
        const g = filled(be, N, (i) => wave(i + 5) * 0.01);
        const m = filled(be, N, () => 0);
        const v = filled(be, N, () => 0);
        let step = 0;
        return {
          run: () => {
            step++;
            be.adamw(p, g, m, v, N, 1e-3, 0.9, 0.999, 1e-8, 0.01, 1 - 0.9 ** step, 1 - 0.999 ** step);
          },
          dispose: () => [p, g, m, v].forEach((b) => be.free(b)),
        };
      },
    },
    {
      name: 'gelu fwd+bwd',
      shape: `${rows}x${cols}`,
      // fwd: x in, y out; bwd: x, y, dy in, dx out
      bytes: 6 * N * F,
      setup(be) {
        const x = filled(be, N, (i) => wave(i) * 4);
        const dy = filled(be, N, (i) => wave(i + 3));
        const y = be.alloc(N, 'f');
        const dx = be.alloc(N, 'f');
        return {
          run: () => {
            be.unary('gelu_tanh', x, y, N);
            be.unaryGrad('gelu_tanh', x, y, dy, dx, N);
          },
          dispose: () => [x, dy, y, dx].forEach((b) => be.free(b)),
        };
      },
    },
  ];
}

/** Mean seconds per call, by benchmark.js. */
function measure(name: string, fn: () => void, maxTime: number): number {
  const bench = new Benchmark(name, fn, { maxTime, minSamples: 5, initCount: 1 });
  bench.run({ async: false });
  if (bench.error) throw bench.error;
  return bench.stats.mean;
}

export async function kernelBenches(opts: KernelBenchOptions = {}): Promise<BenchRow[]> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const [rows, cols, K] = opts.quick ? [512, 768, 64] : [4096, 768, 64];
  const maxTime = opts.quick ? 0.5 : 2;
  const ref = createReferenceBackend({ dtype: 'float32' });
  const out: BenchRow[] = [];
  const wanted = opts.wanted ?? (() => true);
  if (!cases(rows, cols, K).some((c) => wanted(c.name))) return out;
  for (const threads of opts.threads ?? [1]) {
    const wasm = await createWasmBackend({ threads });
    for (const c of cases(rows, cols, K).filter((c) => wanted(c.name))) {
      const timeOn = (be: Backend) => {
        const { run, dispose } = c.setup(be);
        try {
          return measure(`${c.name} ${be.name}`, run, maxTime);
        } finally {
          dispose();
        }
      };
      const tw = timeOn(wasm);
      const tr = threads === 1 ? timeOn(ref) : undefined;
      const gbps = c.bytes / tw / 1e9;
      const row: BenchRow = {
        name: c.name, shape: c.shape, variant: wasm.variant, threads, gbps, ms: tw * 1e3,
        ...(tr !== undefined ? { vsReference: tr / tw } : {}),
      };
      log(`${c.name.padEnd(30)} ${c.shape.padEnd(16)} ${wasm.variant.padEnd(12)} ${String(threads).padStart(2)} thr `
        + `${gbps.toFixed(2).padStart(7)} GB/s ${(tw * 1e3).toFixed(3).padStart(9)} ms`
        + (tr !== undefined ? `  x${(tr / tw).toFixed(1)} vs reference` : ''));
      out.push(row);
    }
    wasm.dispose();
  }
  return out;
}
