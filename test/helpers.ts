/**
 * Test helpers: the backends under test and a one-line op check (gradient vs finite differences on
 * the float64 reference backend, then every WASM binary vs the reference).
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import type { Backend } from '../src/backend/kernels.js';
import { createWasmBackendSync, type WasmBackend } from '../src/backend/wasm/index.js';
import type { Tensor } from '../src/tensor/tensor.js';
import type { SeriesTable } from '../src/timeseries/index.js';
import { gradcheck, type GradcheckInput, type GradcheckOptions } from '../src/testing/gradcheck.js';
import { compareBackends, type CompareOptions } from '../src/testing/compare.js';
import * as W from '../src/index.js';

export const relaxedSupported = (() => {
  try {
    createWasmBackendSync({ variant: 'relaxed-simd' });
    return true;
  } catch {
    return false;
  }
})();

const cache = new Map<string, WasmBackend>();

/** The WASM binaries this runtime can run (relaxed only where validated). */
export function wasmBackends(): WasmBackend[] {
  const variants: ('simd' | 'scalar' | 'relaxed-simd')[] = ['simd', 'scalar', ...(relaxedSupported ? ['relaxed-simd' as const] : [])];
  return variants.map((v) => {
    if (!cache.has(v)) cache.set(v, createWasmBackendSync({ variant: v }));
    return cache.get(v)!;
  });
}

export interface OpCheckOptions {
  grad?: GradcheckOptions;
  /** Tolerances of the float32 WASM result against the float64 reference. */
  wasm?: CompareOptions;
  /** Skip the finite-difference check (for functions with no differentiable input). */
  noGradcheck?: boolean;
}

/** Checks fn's gradients by finite differences and its values/gradients on every WASM binary. */
export function checkOp(fn: (...xs: Tensor[]) => Tensor, inputs: GradcheckInput[], opts: OpCheckOptions = {}): void {
  if (!opts.noGradcheck) {
    const report = gradcheck(fn, inputs, opts.grad);
    expect(report.ok, report.summary).toBe(true);
  }
  for (const backend of wasmBackends()) {
    const r = compareBackends(backend, fn, inputs, opts.wasm);
    expect(r.ok, `${backend.variant}:\n${r.summary}`).toBe(true);
  }
}

/** Property runs for checks that do O(n) forward passes (finite differences). */
export const FD_RUNS = { numRuns: 12 };

export function f32round(xs: Float64Array): Float64Array {
  return Float64Array.from(xs, (v) => Math.fround(v));
}

export { fc };

export interface FlatRun {
  first: number;
  last: number;
  /** Backend live bytes after the warm-up steps and after all steps. */
  warm: number;
  after: number;
}

/**
 * Runs `warmup` then `steps` optimizer steps of `loss()` inside tidy (backward, step, zeroGrad) and
 * reports the first and last loss and the live bytes after warm-up and at the end.
 */
export function trainSteps(backend: Backend, opt: { step(): void; zeroGrad(): void }, loss: () => Tensor, warmup: number, steps: number): FlatRun {
  const step = () =>
    W.tidy(() => {
      const l = loss();
      l.backward();
      opt.step();
      opt.zeroGrad();
      return l.item();
    });
  const first = step();
  for (let i = 1; i < warmup; i++) step();
  const warm = backend.liveBytes();
  let last = first;
  for (let i = 0; i < steps; i++) last = step();
  return { first, last, warm, after: backend.liveBytes() };
}

/** A deterministic uniform stream in [0, 1) (mulberry32) for test data; fast-check may pick the seed. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `tmp(prefix)` makes a temporary directory; all of them are removed after the calling file's tests. */
export function tempDirs(): (prefix: string) => string {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  return (prefix: string) => {
    const d = mkdtempSync(join(tmpdir(), `wasmgrad-${prefix}-`));
    dirs.push(d);
    return d;
  };
}

/** A series table as the CSV the series tasks read: a date column, then one column per channel (5 decimals). */
export function seriesCsv(t: SeriesTable): string {
  const lines = [['date', ...t.columns].join(',')];
  t.dates.forEach((d, i) => lines.push([d, ...t.values.map((v) => v[i].toFixed(5))].join(',')));
  return lines.join('\n') + '\n';
}
