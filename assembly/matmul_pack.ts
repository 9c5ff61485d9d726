// Packing for the GEMM: copies an operand block into micro-panels of width W (MR for A, NR for B)
// laid out k-major (W consecutive values per k step), zero-padding the last panel to full width.
// Transposition is absorbed here: depending on how the operand is stored, a panel is either
// "contiguous" (the W values of one k step are adjacent in memory) or "gathered" (each of the W
// lanes is a row that runs along k), and both produce the same packed layout, so NN, NT and TN
// all feed the same micro-kernel.

/**
 * Contiguous case: packed[k*W + w] = src[k*ld + w] for w < width, 0 for width <= w < W.
 * `src`, `dst` are byte addresses; `ld` is in bytes.
 */
export function packContiguous(src: usize, ld: usize, width: i32, kc: i32, dst: usize, W: i32): void {
  if (ASC_FEATURE_SIMD) {
    if (width == W && W == 8) {
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += ld;
        dst += 32;
      }
      return;
    }
    if (width == W && W == 4) {
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        src += ld;
        dst += 16;
      }
      return;
    }
  }
  for (let k = 0; k < kc; k++) {
    let w = 0;
    for (; w < width; w++) store<f32>(dst + (<usize>w << 2), load<f32>(src + (<usize>w << 2)));
    for (; w < W; w++) store<f32>(dst + (<usize>w << 2), 0);
    src += ld;
    dst += <usize>W << 2;
  }
}

/**
 * Gathered case: packed[k*W + w] = src[w*ld + k] for w < width, 0 for width <= w < W.
 * With SIMD and a full panel, 4 rows x 4 k steps are transposed in registers at a time, so the
 * transposed operand (B in NT, A in NN) packs at nearly the speed of a copy.
 */
export function packGathered(src: usize, ld: usize, width: i32, kc: i32, dst: usize, W: i32): void {
  const dstStep = <usize>W << 2;
  if (ASC_FEATURE_SIMD) {
    if (width == W && (W & 3) == 0) {
      for (let w0 = 0; w0 < W; w0 += 4) {
        const r0 = src + <usize>w0 * ld, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld;
        let d = dst + (<usize>w0 << 2);
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const off = <usize>k << 2;
          const x0 = v128.load(r0 + off), x1 = v128.load(r1 + off);
          const x2 = v128.load(r2 + off), x3 = v128.load(r3 + off);
          // 4x4 transpose: interleave row pairs, then combine the halves.
          const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
          const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
          v128.store(d + dstStep, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
          v128.store(d + 2 * dstStep, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
          v128.store(d + 3 * dstStep, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
          d += dstStep << 2;
        }
        for (; k < kc; k++) {
          const off = <usize>k << 2;
          store<f32>(d, load<f32>(r0 + off));
          store<f32>(d, load<f32>(r1 + off), 4);
          store<f32>(d, load<f32>(r2 + off), 8);
          store<f32>(d, load<f32>(r3 + off), 12);
          d += dstStep;
        }
      }
      return;
    }
  }
  // Edge panels (and the scalar build): one lane at a time, reading each source row sequentially.
  for (let w = 0; w < W; w++) {
    let d = dst + (<usize>w << 2);
    if (w < width) {
      const row = src + <usize>w * ld;
      for (let k = 0; k < kc; k++) {
        store<f32>(d, load<f32>(row + (<usize>k << 2)));
        d += dstStep;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        store<f32>(d, 0);
        d += dstStep;
      }
    }
  }
}
