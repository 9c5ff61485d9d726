/**
 * Gradient checking for users' own functions: autodiff against central finite differences, in
 * float64 on the reference backend, with a per-input report that says where and by how much they differ.
 */
import type { Backend } from '../backend/kernels.js';
import { createReferenceBackend } from '../backend/reference/index.js';
import { fmtShape, sizeOf } from '../backend/strides.js';
import { noGrad, withBackend } from '../tensor/engine.js';
import { tidy } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { tensor } from '../ops/create.js';
import { Generator } from '../ops/random.js';
import { randn } from '../ops/create.js';
import { backward } from '../autograd/backward.js';
import '../ops/methods.js';

/** An input to check: a tensor (its values, shape, dtype and requiresGrad are used) or plain data. */
export type GradcheckInput =
  | Tensor
  | { data: ArrayLike<number>; shape: readonly number[]; dtype?: 'float' | 'int32'; requiresGrad?: boolean };

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-4). An element passes when |analytic - numeric| <= atol + rtol |numeric|. */
  rtol?: number;
  /** Seed of the random projection that turns a tensor output into a scalar (default 0). */
  seed?: number;
}

export interface InputReport {
  /** Position of the input in the argument list. */
  input: number;
  shape: number[];
  maxAbsError: number;
  maxRelError: number;
  /** Flat index and values at the worst element. */
  worst: { index: number; analytic: number; numeric: number } | null;
  /** Elements outside tolerance. */
  failures: number;
}

export interface GradcheckReport {
  ok: boolean;
  inputs: InputReport[];
  /** Human-readable summary, one line per checked input. */
  summary: string;
}

/** An input normalised to float64 data (used by gradcheck and compareBackends). */
export interface InputSpec {
  data: Float64Array;
  shape: number[];
  int: boolean;
  requiresGrad: boolean;
}

export function toSpec(x: GradcheckInput): InputSpec {
  if (x instanceof Tensor) {
    return { data: Float64Array.from(x.toArray()), shape: [...x.shape], int: x.dtype === 'int32', requiresGrad: x.requiresGrad };
  }
  const int = x.dtype === 'int32';
  if (x.data.length !== sizeOf(x.shape)) {
    throw new Error(`gradcheck: ${x.data.length} values do not fill shape ${fmtShape(x.shape)}`);
  }
  return { data: Float64Array.from(x.data), shape: [...x.shape], int, requiresGrad: x.requiresGrad ?? !int };
}

export function build(backend: Backend, specs: InputSpec[], requiresGrad: boolean): Tensor[] {
  return specs.map((s) =>
    tensor(s.data, s.shape, { backend, dtype: s.int ? 'int32' : undefined, requiresGrad: requiresGrad && s.requiresGrad }),
  );
}

/**
 * Checks d(sum(fn(...inputs) * W))/d(input) for a fixed random W against central differences.
 * `fn` must be deterministic: create any Generator inside it from a fixed seed.
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor, inputs: readonly GradcheckInput[], opts: GradcheckOptions = {},
): GradcheckReport {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-4;
  const specs = inputs.map(toSpec);
  const backend = createReferenceBackend({ dtype: 'float64' });
  return withBackend(backend, () => {
    const analytic: (Float64Array | null)[] = tidy(() => {
      const leaves = build(backend, specs, true);
      const out = fn(...leaves);
      const w = randn(out.shape, { generator: new Generator(opts.seed ?? 0) });
      backward(sum(mul(out, w)));
      return leaves.map((t) => (t.requiresGrad ? (t.grad ? Float64Array.from(t.grad.toArray()) : new Float64Array(t.size)) : null));
    });
    const objective = (vals: InputSpec[]): number =>
      tidy(() =>
        noGrad(() => {
          const out = fn(...build(backend, vals, false));
          const w = randn(out.shape, { generator: new Generator(opts.seed ?? 0) });
          return sum(mul(out, w)).item();
        }),
      );
    const reports: InputReport[] = [];
    specs.forEach((s, i) => {
      const a = analytic[i];
      if (!a) return;
      const rep: InputReport = { input: i, shape: s.shape, maxAbsError: 0, maxRelError: 0, worst: null, failures: 0 };
      let worstScore = -1;
      for (let j = 0; j < s.data.length; j++) {
        const orig = s.data[j];
        s.data[j] = orig + eps;
        const fp = objective(specs);
        s.data[j] = orig - eps;
        const fm = objective(specs);
        s.data[j] = orig;
        const numeric = (fp - fm) / (2 * eps);
        const err = Math.abs(a[j] - numeric);
        const rel = err / Math.max(Math.abs(numeric), 1e-12);
        const bad = !(err <= atol + rtol * Math.abs(numeric));
        if (bad) rep.failures++;
        rep.maxAbsError = Math.max(rep.maxAbsError, err);
        if (Math.abs(numeric) > atol) rep.maxRelError = Math.max(rep.maxRelError, rel);
        const score = err - (atol + rtol * Math.abs(numeric));
        if (score > worstScore || Number.isNaN(err)) {
          worstScore = Number.isNaN(err) ? Infinity : score;
          rep.worst = { index: j, analytic: a[j], numeric };
        }
      }
      reports.push(rep);
    });
    const ok = reports.every((r) => r.failures === 0);
    const summary = reports
      .map((r) => {
        const w = r.worst ? ` worst at flat index ${r.worst.index}: autodiff ${r.worst.analytic}, finite difference ${r.worst.numeric}` : '';
        return `input ${r.input} ${fmtShape(r.shape)}: ${r.failures === 0 ? 'ok' : `${r.failures} element(s) out of tolerance`}, ` +
          `max abs error ${r.maxAbsError.toExponential(2)}, max rel error ${r.maxRelError.toExponential(2)};${w}`;
      })
      .join('\n');
    return { ok, inputs: reports, summary };
  });
}

/** Like gradcheck, but throws an Error carrying the report when any element is out of tolerance. */
export function assertGradcheck(
  fn: (...inputs: Tensor[]) => Tensor, inputs: readonly GradcheckInput[], opts: GradcheckOptions = {},
): GradcheckReport {
  const report = gradcheck(fn, inputs, opts);
  if (!report.ok) throw new Error(`gradcheck failed (atol ${opts.atol ?? 1e-5}, rtol ${opts.rtol ?? 1e-4}):\n${report.summary}`);
  return report;
}
