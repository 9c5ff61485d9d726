/**
 * Per-op timing: `profile(fn)` runs fn and returns, for every op name, its calls, forward and backward
 * milliseconds, share of the profiled time and throughput.
 *
 * The op layer (`apply` and the backward closures it records) checks one module variable; when no
 * profile runs, that is the whole cost. Timing is inclusive at the outermost op: an op that calls
 * other ops inside its forward or backward is charged for them (kernels are synchronous, so wall time
 * around a call is the kernel time plus the binding's checks). Work done by the engine between ops
 * (accumulating gradients, reducing broadcasts) appears under the ops it uses (add, sum).
 */

/** What an op reports about one call, for the throughput column. */
export interface OpCost {
  /** Floating-point operations of the forward (matmul: 2 M N K per batch). */
  flops?: number;
}

export interface OpProfile {
  op: string;
  /** Forward calls. */
  calls: number;
  forwardMs: number;
  backwardMs: number;
  /** (forward + backward) / the profiled wall time. */
  share: number;
  /** Over forward + backward, counting the backward as twice the forward's flops (matmul). */
  gflops?: number;
  /** Bytes of inputs and outputs per forward (backward counted as twice that) over the op's time. */
  gbps: number;
}

export interface ProfileResult<T> {
  result: T;
  /** Wall time of fn in milliseconds. */
  totalMs: number;
  /** One row per op name, slowest first. */
  ops: OpProfile[];
  /** The rows as an aligned text table. */
  format(): string;
}

interface Stat {
  calls: number;
  forwardMs: number;
  backwardMs: number;
  flops: number;
  bytes: number;
}

let stats: Map<string, Stat> | null = null;
/** Nesting depth of timed regions: nested ops are charged to the outermost one. */
let depth = 0;

const now = (): number => globalThis.performance?.now?.() ?? Date.now();

function stat(op: string): Stat {
  let s = stats!.get(op);
  if (s === undefined) stats!.set(op, (s = { calls: 0, forwardMs: 0, backwardMs: 0, flops: 0, bytes: 0 }));
  return s;
}

/** True while a profile runs and no op is being timed (the op layer's only check when off). */
export function profilingActive(): boolean {
  return stats !== null && depth === 0;
}

/** Times a forward; `bytes` and `flops` are taken from the finished call. */
export function timeForward<T>(op: string, run: () => T, cost: (out: T) => { bytes: number; flops: number }): T {
  depth++;
  const t0 = now();
  let out: T;
  try {
    out = run();
  } finally {
    depth--;
  }
  const s = stat(op);
  s.forwardMs += now() - t0;
  s.calls++;
  const c = cost(out);
  s.bytes += c.bytes;
  s.flops += c.flops;
  return out;
}

export function timeBackward<T>(op: string, run: () => T): T {
  depth++;
  const t0 = now();
  try {
    return run();
  } finally {
    depth--;
    stat(op).backwardMs += now() - t0;
  }
}

/** Runs fn with per-op timing on and returns its result with the table. Profiles do not nest. */
export function profile<T>(fn: () => T): ProfileResult<T> {
  if (stats !== null) throw new Error('profile: a profile is already running (profiles do not nest)');
  stats = new Map();
  const t0 = now();
  let result: T;
  let collected: Map<string, Stat>;
  try {
    result = fn();
  } finally {
    collected = stats;
    stats = null;
    depth = 0;
  }
  const totalMs = now() - t0;
  const ops: OpProfile[] = [...collected.entries()].map(([op, s]) => {
    const ms = s.forwardMs + s.backwardMs;
    const sec = ms / 1e3;
    const withBackward = s.backwardMs > 0 ? 3 : 1;
    return {
      op, calls: s.calls, forwardMs: s.forwardMs, backwardMs: s.backwardMs, share: totalMs > 0 ? ms / totalMs : 0,
      ...(s.flops > 0 && sec > 0 ? { gflops: (s.flops * withBackward) / sec / 1e9 } : {}),
      gbps: sec > 0 ? (s.bytes * withBackward) / sec / 1e9 : 0,
    };
  });
  ops.sort((a, b) => b.forwardMs + b.backwardMs - (a.forwardMs + a.backwardMs));
  return { result, totalMs, ops, format: () => formatProfile(ops, totalMs) };
}

export function formatProfile(ops: readonly OpProfile[], totalMs: number): string {
  const head = ['op', 'calls', 'fwd ms', 'bwd ms', 'share', 'GFLOP/s', 'GB/s'];
  const rows = ops.map((o) => [
    o.op, String(o.calls), o.forwardMs.toFixed(2), o.backwardMs.toFixed(2), `${(o.share * 100).toFixed(1)}%`,
    o.gflops === undefined ? '' : o.gflops.toFixed(1), o.gbps.toFixed(2),
  ]);
  const timed = ops.reduce((a, o) => a + o.forwardMs + o.backwardMs, 0);
  rows.push(['(all ops)', '', '', '', `${((timed / Math.max(totalMs, 1e-9)) * 100).toFixed(1)}%`, '', '']);
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((x, c) => (c === 0 ? x.padEnd(w[c]!) : x.padStart(w[c]!))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line), `total ${totalMs.toFixed(1)} ms`].join('\n');
}
