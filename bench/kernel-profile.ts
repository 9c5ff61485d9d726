// Kernel-level profile of the anchor training step: every backend kernel call of a step, grouped by
// kernel and shape (matmul as M x K x N and its transposes), timed at each thread count side by side,
// with the ratio of each count's time to the first's. W.profile (the op table) charges all 34 matmuls
// of the step to one row; this table shows which shapes and kernels gain from a second thread.
import * as W from '../src/index.js';
import { anchorStep } from './train-step.js';

/** Backend members that are not kernels. */
const NOT_KERNELS = new Set([
  'alloc', 'free', 'view', 'read', 'write', 'liveBytes', 'peakBytes', 'resetPeak', 'peakBreakdown',
  'setMemoryCategory', 'tagMemory', 'dispose',
]);

/** A call's row label: the kernel, its op name if any, and its sizes (matmul: batch x M x K x N, transposes). */
function label(kernel: string, args: unknown[]): string {
  if (kernel === 'matmul') {
    const [, , , , , , M, N, K, tA, tB, batch, , , , acc] = args as number[];
    return `matmul ${batch! > 1 ? `${batch}x` : ''}${M}x${K}x${N} ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}${acc ? ' +=' : ''}`;
  }
  const nums = args.filter((x): x is number => typeof x === 'number').slice(0, 3);
  return `${kernel}${typeof args[0] === 'string' ? ` ${args[0]}` : ''} [${nums.join(', ')}]`;
}

interface Entry {
  calls: number;
  ms: number;
}

/** Per-label time of one step on `be`: the least over `steps` steps (after a warm-up step), and the least step time. */
function profileKernels(be: W.WasmBackend, steps: number): { per: Map<string, Entry>; stepMs: number } {
  let current: Map<string, Entry> | null = null;
  const target = be as unknown as Record<string, unknown>;
  const originals = new Map<string, (...a: unknown[]) => unknown>();
  for (const key of Object.keys(be)) {
    const f = target[key];
    if (typeof f !== 'function' || NOT_KERNELS.has(key)) continue;
    const fn = f as (...a: unknown[]) => unknown;
    originals.set(key, fn);
    target[key] = function (this: unknown, ...args: unknown[]) {
      if (current === null) return fn.apply(this, args);
      const t0 = performance.now();
      const r = fn.apply(this, args);
      const dt = performance.now() - t0;
      const l = label(key, args);
      const e = current.get(l);
      if (e === undefined) current.set(l, { calls: 1, ms: dt });
      else {
        e.calls++;
        e.ms += dt;
      }
      return r;
    };
  }
  const run = anchorStep(be);
  try {
    run.step();
    const best = new Map<string, Entry>();
    let stepMs = Infinity;
    for (let s = 0; s < steps; s++) {
      current = new Map();
      const t0 = performance.now();
      run.step();
      stepMs = Math.min(stepMs, performance.now() - t0);
      for (const [l, e] of current) {
        const b = best.get(l);
        if (b === undefined || e.ms < b.ms) best.set(l, e);
      }
      current = null;
    }
    return { per: best, stepMs };
  } finally {
    current = null;
    run.dispose();
    for (const [key, fn] of originals) target[key] = fn;
  }
}

/**
 * The table for one binary at each thread count in `threads` (one backend at a time), rows slowest
 * first at the first count; kernels under 0.05 ms at every count are folded into one row.
 */
export async function kernelProfile(
  variant: 'simd' | 'relaxed-simd', threads: readonly number[], steps = 3,
): Promise<string> {
  const runs: { per: Map<string, Entry>; stepMs: number }[] = [];
  for (const t of threads) {
    const be = await W.createWasmBackend({ variant, threads: t });
    try {
      runs.push(profileKernels(be, steps));
    } finally {
      be.dispose();
    }
  }
  const first = runs[0]!.per;
  const labels = [...first.keys()].sort((a, b) => first.get(b)!.ms - first.get(a)!.ms);
  const head = ['kernel (shape)', 'calls', ...threads.map((t) => `${t}t ms`), ...threads.slice(1).map((t) => `${t}t / ${threads[0]}t`)];
  const rows: string[][] = [];
  const small = threads.map(() => 0);
  const sums = threads.map(() => 0);
  for (const l of labels) {
    const ms = runs.map((r) => r.per.get(l)?.ms ?? 0);
    ms.forEach((m, i) => (sums[i]! += m));
    if (ms.every((m) => m < 0.05)) {
      ms.forEach((m, i) => (small[i]! += m));
      continue;
    }
    rows.push([l, String(first.get(l)!.calls), ...ms.map((m) => m.toFixed(2)), ...ms.slice(1).map((m) => (m / ms[0]!).toFixed(2))]);
  }
  rows.push(['(smaller kernels)', '', ...small.map((m) => m.toFixed(2)), ...small.slice(1).map((m) => (m / small[0]!).toFixed(2))]);
  rows.push(['(all kernels)', '', ...sums.map((m) => m.toFixed(1)), ...sums.slice(1).map((m) => (m / sums[0]!).toFixed(2))]);
  const steps_ = runs.map((r) => r.stepMs);
  rows.push(['(whole step)', '', ...steps_.map((m) => m.toFixed(1)), ...steps_.slice(1).map((m) => (m / steps_[0]!).toFixed(2))]);
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((x, c) => (c === 0 ? x.padEnd(w[c]!) : x.padStart(w[c]!))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}
