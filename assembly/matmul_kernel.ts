// GEMM micro-kernels: C_tile (=, or +=) Apanel @ Bpanel over kc steps, on packed operands.
//
// Packed layouts (see matmul_pack.ts): the A micro-panel holds MR values per k step, the B
// micro-panel NR values per k step, both zero-padded to full width, so the kernels never branch on
// edges; the driver sends partial tiles through a scratch tile instead.

/** Rows of a micro-tile. */
export const MR: i32 = 4;
/**
 * Columns of a micro-tile. SIMD: 4x8 = 8 f32x4 accumulators + 2 B vectors + 1 broadcast A + 1
 * product temporary = 12 of the 15 xmm registers V8 allocates on x64 (xmm15 is its scratch).
 * Larger tiles (5x8, 6x8, 3x12, 4x12, 3x16) were measured: they either spill accumulators to the
 * stack inside the k loop (6x8, 4x12, 3x16: V8 emitted vmovups to [rbp-..] per iteration) or ran no
 * faster, since with mul+add the loop is bound by the two FP ports, not by loads.
 * Scalar: 4x4 = 16 f32 accumulators, which V8 mostly keeps in registers.
 */
export const NR: i32 = ASC_FEATURE_SIMD ? 8 : 4;

// a * b + c; one fused instruction (vfmadd231ps) in the relaxed build. Relaxed madd may or may not
// round the product separately; either result is within the tolerance the tests state.
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(c, f32x4.mul(a, b));
  }
}

/**
 * Full MR x NR tile: C[r][j] (= or += when `add`) sum_k pa[k*MR + r] * pb[k*NR + j].
 * `c` is a byte address, `ldc` the byte distance between rows of C.
 */
export function microKernel(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, add: bool): void {
  if (ASC_FEATURE_SIMD) {
    kernel4x8(pa, pb, kc, c, ldc, add);
  } else {
    kernel4x4Scalar(pa, pb, kc, c, ldc, add);
  }
}

// @ts-ignore: decorator
@inline function kernel4x8(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // Not unrolled: unrolling by 2 or 4 measured slower, because the unrolled body's hoisted
  // loads raise register pressure past 15 and V8 starts spilling.
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    // load32_splat from memory is a single vbroadcastss (a load-port uop, no shuffle port).
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  if (add) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c1)); c11 = f32x4.add(c11, v128.load(c1, 16));
    c20 = f32x4.add(c20, v128.load(c2)); c21 = f32x4.add(c21, v128.load(c2, 16));
    c30 = f32x4.add(c30, v128.load(c3)); c31 = f32x4.add(c31, v128.load(c3, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c1, c10); v128.store(c1, c11, 16);
  v128.store(c2, c20); v128.store(c2, c21, 16);
  v128.store(c3, c30); v128.store(c3, c31, 16);
}

// @ts-ignore: decorator
@inline function kernel4x4Scalar(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, add: bool): void {
  let c00: f32 = 0, c01: f32 = 0, c02: f32 = 0, c03: f32 = 0;
  let c10: f32 = 0, c11: f32 = 0, c12: f32 = 0, c13: f32 = 0;
  let c20: f32 = 0, c21: f32 = 0, c22: f32 = 0, c23: f32 = 0;
  let c30: f32 = 0, c31: f32 = 0, c32: f32 = 0, c33: f32 = 0;
  for (let k = 0; k < kc; k++) {
    const b0 = load<f32>(pb), b1 = load<f32>(pb, 4), b2 = load<f32>(pb, 8), b3 = load<f32>(pb, 12);
    let a = load<f32>(pa);
    c00 += a * b0; c01 += a * b1; c02 += a * b2; c03 += a * b3;
    a = load<f32>(pa, 4);
    c10 += a * b0; c11 += a * b1; c12 += a * b2; c13 += a * b3;
    a = load<f32>(pa, 8);
    c20 += a * b0; c21 += a * b1; c22 += a * b2; c23 += a * b3;
    a = load<f32>(pa, 12);
    c30 += a * b0; c31 += a * b1; c32 += a * b2; c33 += a * b3;
    pa += 16;
    pb += 16;
  }
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  if (add) {
    c00 += load<f32>(c); c01 += load<f32>(c, 4); c02 += load<f32>(c, 8); c03 += load<f32>(c, 12);
    c10 += load<f32>(c1); c11 += load<f32>(c1, 4); c12 += load<f32>(c1, 8); c13 += load<f32>(c1, 12);
    c20 += load<f32>(c2); c21 += load<f32>(c2, 4); c22 += load<f32>(c2, 8); c23 += load<f32>(c2, 12);
    c30 += load<f32>(c3); c31 += load<f32>(c3, 4); c32 += load<f32>(c3, 8); c33 += load<f32>(c3, 12);
  }
  store<f32>(c, c00); store<f32>(c, c01, 4); store<f32>(c, c02, 8); store<f32>(c, c03, 12);
  store<f32>(c1, c10); store<f32>(c1, c11, 4); store<f32>(c1, c12, 8); store<f32>(c1, c13, 12);
  store<f32>(c2, c20); store<f32>(c2, c21, 4); store<f32>(c2, c22, 8); store<f32>(c2, c23, 12);
  store<f32>(c3, c30); store<f32>(c3, c31, 4); store<f32>(c3, c32, 8); store<f32>(c3, c33, 12);
}
