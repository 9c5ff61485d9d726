// Optimizer steps and the simple streaming kernels: fill, axpy, scale, where, sumSquares, adamw, sgd.
import { ldf, ldi, ldv, madd, splat, stf, stv } from './common';

/** Writes the 32-bit pattern `bits` to n elements (f32 or i32 buffers alike). */
export function fill32(out: usize, n: i32, bits: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const v = i32x4.splat(bits);
    for (; i + 4 <= n; i += 4) stv(out, i, v);
  }
  for (; i < n; i++) store<i32>(out + ((<usize>i) << 2), bits);
}

/** y += alpha * x. */
export function axpy(alpha: f32, x: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const a = splat(alpha);
    for (; i + 4 <= n; i += 4) stv(y, i, madd(a, ldv(x, i), ldv(y, i)));
  }
  for (; i < n; i++) stf(y, i, alpha * ldf(x, i) + ldf(y, i));
}

/** out = alpha * x. */
export function scale(alpha: f32, x: usize, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const a = splat(alpha);
    for (; i + 4 <= n; i += 4) stv(out, i, f32x4.mul(a, ldv(x, i)));
  }
  for (; i < n; i++) stf(out, i, alpha * ldf(x, i));
}

/**
 * out = cond != 0 ? a : b. condIsInt selects how cond is read: an i32 buffer, or an f32 buffer (where
 * -0 counts as zero and NaN as nonzero, as `!== 0` does).
 */
export function where(cond: usize, condIsInt: i32, a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  if (condIsInt) {
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= n; i += 4) {
        const zero = i32x4.eq(ldv(cond, i), i32x4.splat(0));
        stv(out, i, v128.bitselect(ldv(b, i), ldv(a, i), zero));
      }
    }
    for (; i < n; i++) stf(out, i, ldi(cond, i) != 0 ? ldf(a, i) : ldf(b, i));
  } else {
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= n; i += 4) {
        const zero = f32x4.eq(ldv(cond, i), splat(0));
        stv(out, i, v128.bitselect(ldv(b, i), ldv(a, i), zero));
      }
    }
    for (; i < n; i++) stf(out, i, ldf(cond, i) != 0 ? ldf(a, i) : ldf(b, i));
  }
}

/** sum x^2 accumulated in f64 (each square is exact in f64, so only the additions round). */
export function sumSquares(x: usize, n: i32): f64 {
  let i = 0;
  let acc: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const v = ldv(x, i);
      const lo = f64x2.promote_low_f32x4(v);
      const hi = f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 0, 1));
      a0 = f64x2.add(a0, f64x2.mul(lo, lo));
      a1 = f64x2.add(a1, f64x2.mul(hi, hi));
    }
    const s = f64x2.add(a0, a1);
    acc = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  }
  for (; i < n; i++) {
    const v = <f64>ldf(x, i);
    acc += v * v;
  }
  return acc;
}

/**
 * AdamW, for i < n:
 * p -= lr wd p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr (m / bc1) / (sqrt(v / bc2) + eps).
 * The per-call scalars (1 - b1, lr / bc1, 1 / bc2, 1 - lr wd) are folded once, in f64. Every build
 * gives every element the same result whatever its position in the call (no fused multiply-add).
 */
export function adamw(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  lr64: f64, beta1_64: f64, beta2_64: f64, eps64: f64, weightDecay: f64, bc1: f64, bc2: f64,
): void {
  // Folded in f64 and rounded once: rounding beta2 = 0.999 to f32 first would make 1 - beta2 off by
  // 1.3e-5 relative.
  const decay = <f32>(1 - lr64 * weightDecay);
  const beta1 = <f32>beta1_64;
  const beta2 = <f32>beta2_64;
  const ob1 = <f32>(1 - beta1_64);
  const ob2 = <f32>(1 - beta2_64);
  const stepSize = <f32>(lr64 / bc1);
  const invBc2 = <f32>(1 / bc2);
  const eps = <f32>eps64;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vDecay = splat(decay);
    const vb1 = splat(beta1);
    const vb2 = splat(beta2);
    const vob1 = splat(ob1);
    const vob2 = splat(ob2);
    const vStep = splat(stepSize);
    const vInvBc2 = splat(invBc2);
    const vEps = splat(eps);
    for (; i + 4 <= n; i += 4) {
      const gi = ldv(g, i);
      // Unfused even in the relaxed build: each lane then rounds exactly like the scalar tail, so an
      // element's update does not depend on where it falls in a call (offloaded moments are updated
      // in pieces; see src/optim/offload.ts). AdamW is bound by memory traffic, not by these adds.
      const mi = f32x4.add(f32x4.mul(vb1, ldv(m, i)), f32x4.mul(vob1, gi));
      const vi = f32x4.add(f32x4.mul(vb2, ldv(v, i)), f32x4.mul(vob2, f32x4.mul(gi, gi)));
      const den = f32x4.add(f32x4.sqrt(f32x4.mul(vi, vInvBc2)), vEps);
      // m / den before the step size: lr m / bc1 underflows for tiny m, and den (>= eps) would
      // scale it back into range
      const pi = f32x4.sub(f32x4.mul(ldv(p, i), vDecay), f32x4.mul(vStep, f32x4.div(mi, den)));
      stv(p, i, pi);
      stv(m, i, mi);
      stv(v, i, vi);
    }
  }
  for (; i < n; i++) {
    const gi = ldf(g, i);
    const mi = beta1 * ldf(m, i) + ob1 * gi;
    const vi = beta2 * ldf(v, i) + ob2 * (gi * gi);
    const den = sqrt<f32>(vi * invBc2) + eps;
    stf(p, i, ldf(p, i) * decay - stepSize * (mi / den));
    stf(m, i, mi);
    stf(v, i, vi);
  }
}

/**
 * SGD with optional momentum (PyTorch semantics); buf is 0 when momentum is 0.
 * g' = g + wd p; buf = first ? g' : momentum buf + (1 - dampening) g'; g' = nesterov ? g' + momentum buf : buf.
 */
export function sgd(
  p: usize, g: usize, buf: usize, n: i32, lr: f32, momentum: f32, dampening: f64,
  weightDecay: f32, nesterov: i32, firstStep: i32,
): void {
  const od = <f32>(1 - dampening);
  let i = 0;
  if (buf == 0) {
    if (ASC_FEATURE_SIMD) {
      const vwd = splat(weightDecay);
      const vlr = splat(lr);
      for (; i + 4 <= n; i += 4) {
        const pi = ldv(p, i);
        const step = madd(vwd, pi, ldv(g, i));
        stv(p, i, f32x4.sub(pi, f32x4.mul(vlr, step)));
      }
    }
    for (; i < n; i++) {
      const pi = ldf(p, i);
      stf(p, i, pi - lr * (ldf(g, i) + weightDecay * pi));
    }
    return;
  }
  if (ASC_FEATURE_SIMD) {
    const vwd = splat(weightDecay);
    const vlr = splat(lr);
    const vmom = splat(momentum);
    const vod = splat(od);
    for (; i + 4 <= n; i += 4) {
      const pi = ldv(p, i);
      let step = madd(vwd, pi, ldv(g, i));
      const b = firstStep ? step : madd(vmom, ldv(buf, i), f32x4.mul(vod, step));
      stv(buf, i, b);
      step = nesterov ? madd(vmom, b, step) : b;
      stv(p, i, f32x4.sub(pi, f32x4.mul(vlr, step)));
    }
  }
  for (; i < n; i++) {
    const pi = ldf(p, i);
    let step = ldf(g, i) + weightDecay * pi;
    const b = firstStep ? step : momentum * ldf(buf, i) + od * step;
    stf(buf, i, b);
    step = nesterov ? step + momentum * b : b;
    stf(p, i, pi - lr * step);
  }
}
