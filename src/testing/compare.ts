/**
 * Cross-backend checks: run the same function on a backend under test and on the float64 reference
 * backend, and compare the outputs and every input gradient.
 */
import type { Backend } from '../backend/kernels.js';
import { createReferenceBackend } from '../backend/reference/index.js';
import { fmtShape } from '../backend/strides.js';
import { withBackend } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { randn } from '../ops/create.js';
import { Generator } from '../ops/random.js';
import { backward } from '../autograd/backward.js';
import { build, toSpec, type GradcheckInput } from './gradcheck.js';

export interface CompareOptions {
  /** Elements pass when |x - ref| <= atol + rtol * |ref| (defaults 1e-5 and 1e-4, float32-level). */
  atol?: number;
  rtol?: number;
  seed?: number;
}

export interface CompareResult {
  ok: boolean;
  /** One line per compared array (output, then each gradient) with the worst element. */
  summary: string;
}

interface Run {
  out: Float64Array;
  shape: number[];
  grads: (Float64Array | null)[];
}

function run(backend: Backend, fn: (...xs: Tensor[]) => Tensor, inputs: readonly GradcheckInput[], seed: number): Run {
  return withBackend(backend, () =>
    tidy(() => {
      const leaves = build(backend, inputs.map(toSpec), true);
      const out = fn(...leaves);
      const result: Run = { out: Float64Array.from(out.toArray()), shape: [...out.shape], grads: [] };
      if (out.requiresGrad) {
        const w = randn(out.shape, { generator: new Generator(seed) });
        backward(sum(mul(out, w)));
      }
      result.grads = leaves.map((l) => (l.grad ? Float64Array.from(l.grad.toArray()) : null));
      return result;
    }),
  );
}

function diff(label: string, x: Float64Array, ref: Float64Array, atol: number, rtol: number): { ok: boolean; line: string } {
  let worst = -1;
  let worstScore = -Infinity;
  let bad = 0;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(x[i] - ref[i]);
    const score = err - (atol + rtol * Math.abs(ref[i]));
    const isBad = !(score <= 0) && !(Number.isNaN(x[i]) && Number.isNaN(ref[i])) && x[i] !== ref[i];
    if (isBad) bad++;
    if (isBad && (score > worstScore || Number.isNaN(score))) {
      worstScore = Number.isNaN(score) ? Infinity : score;
      worst = i;
    }
  }
  const line = bad === 0
    ? `${label}: ok (${ref.length} elements)`
    : `${label}: ${bad} of ${ref.length} elements differ; worst at ${worst}: ${x[worst]} vs reference ${ref[worst]}`;
  return { ok: bad === 0, line };
}

/** Compares fn's output and input gradients on `backend` against the float64 reference backend. */
export function compareBackends(
  backend: Backend, fn: (...xs: Tensor[]) => Tensor, inputs: readonly GradcheckInput[], opts: CompareOptions = {},
): CompareResult {
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-4;
  const seed = opts.seed ?? 0;
  const ref = run(createReferenceBackend({ dtype: 'float64' }), fn, inputs, seed);
  const got = run(backend, fn, inputs, seed);
  if (ref.shape.join() !== got.shape.join()) {
    return { ok: false, summary: `output shape ${fmtShape(got.shape)} vs reference ${fmtShape(ref.shape)}` };
  }
  const lines = [diff(`output ${fmtShape(ref.shape)}`, got.out, ref.out, atol, rtol)];
  ref.grads.forEach((g, i) => {
    const h = got.grads[i];
    if (!g && !h) return;
    if (!g || !h) lines.push({ ok: false, line: `grad of input ${i}: present on only one backend` });
    else lines.push(diff(`grad of input ${i}`, h, g, atol, rtol));
  });
  return { ok: lines.every((l) => l.ok), summary: lines.map((l) => l.line).join('\n') };
}
