/**
 * Special functions a port of PyTorch code reaches for: erf (torch.erf).
 *
 * The forward is composed from existing kernels, so every backend has it without a kernel of its
 * own; the backward is the exact derivative, not the derivative of the composition.
 */
import { defineOp, apply } from '../autograd/op.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { abs, add, div, exp, gelu, gt, lt, mul, neg, sign, square, sub } from './elementwise.js';
import { where } from './indexing.js';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

// Below this |x| the Maclaurin series is used; above it 2 Phi(sqrt(2) x) - 1, whose cancellation
// costs at most log2(1 + 1 / erf(0.5)) ~ 1.5 bits there and less further out.
const SERIES_LIMIT = 0.5;
// erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)). For |x| < 0.5, term n is below
// 0.5^(2n) / (n! (2n+1)) relative to the sum: 13 terms reach float64 rounding (2.5e-18 left), 8 float32's.
const SERIES: readonly number[] = Array.from({ length: 13 }, (_, n) => {
  let factorial = 1;
  for (let k = 2; k <= n; k++) factorial *= k;
  return (TWO_OVER_SQRT_PI * (n % 2 === 0 ? 1 : -1)) / (factorial * (2 * n + 1));
});
const SERIES_TERMS = { float64: 13, float32: 8 } as const;
// erf rounds to +-1 in float64 from |x| = 6 on (1 - erf(6) = 2.2e-17), and in float32 much earlier.
const SATURATION = 6;

/** erf(x) from existing kernels; see the comments above for the pieces. */
function erfForward(x: Tensor): Tensor {
  return tidy(() => {
    const ax = abs(x);
    // Series: x * sum_n c_n (x^2)^n by Horner.
    const x2 = square(x);
    const terms = SERIES_TERMS[x.dtype === 'float64' ? 'float64' : 'float32'];
    let poly = mul(x2, SERIES[terms - 1]);
    for (let n = terms - 2; n >= 1; n--) poly = mul(add(poly, SERIES[n]), x2);
    const small = mul(add(poly, SERIES[0]), x);
    // gelu(z) = z Phi(z) with Phi the standard normal CDF, so Phi(z) = gelu(z) / z and
    // erf(x) = 2 Phi(sqrt(2) x) - 1. (z = 0 gives NaN here, but only where the series is taken.)
    const z = mul(x, Math.SQRT2);
    const tail = sub(mul(div(gelu(z), z), 2), 1);
    // Beyond SATURATION: sign(x), which also maps +-Infinity to +-1. NaN fails both tests and stays NaN.
    return where(gt(ax, SATURATION), sign(x), where(lt(ax, SERIES_LIMIT), small, tail));
  });
}

export const erfOp = defineOp<Record<string, never>>({
  name: 'erf',
  forward(ctx, [x]) {
    if (x.dtype === 'int32') throw new Error(`erf: ${x.describe()} is int32; erf needs a float tensor`);
    const y = erfForward(x);
    ctx.save(x);
    return y;
  },
  // d erf(x) / dx = 2 / sqrt(pi) exp(-x^2)
  backward(ctx, dy) {
    const x = ctx.get(0, 'erf');
    return [mul(dy, mul(exp(neg(square(x))), TWO_OVER_SQRT_PI))];
  },
});

/** The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, elementwise (torch.erf). */
export function erf(x: Tensor): Tensor {
  return apply(erfOp, [x], {});
}
