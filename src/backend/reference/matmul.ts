/** Batched matmul with transposition flags, as a plain i-k-j loop. */
import type { Buf } from '../kernels.js';
import { checkCount, fdata } from './buffer.js';

/** Elements an operand of `rows x cols` spans across `batch` steps of `stride` from `offset`. */
function extent(offset: number, batch: number, stride: number, elems: number): number {
  return elems === 0 || batch === 0 ? 0 : offset + (batch - 1) * stride + elems;
}

export function matmul(
  a: Buf, aOffset: number, b: Buf, bOffset: number, c: Buf, cOffset: number,
  M: number, N: number, K: number, transA: boolean, transB: boolean,
  batch: number, strideA: number, strideB: number, strideC: number, accumulate: boolean,
): void {
  for (const [v, name] of [
    [aOffset, 'aOffset'], [bOffset, 'bOffset'], [cOffset, 'cOffset'], [M, 'M'], [N, 'N'], [K, 'K'],
    [batch, 'batch'], [strideA, 'strideA'], [strideB, 'strideB'], [strideC, 'strideC'],
  ] as const) {
    checkCount(v, name);
  }
  const av = fdata(a, 'a', extent(aOffset, batch, strideA, M * K));
  const bv = fdata(b, 'b', extent(bOffset, batch, strideB, K * N));
  const cv = fdata(c, 'c', extent(cOffset, batch, strideC, M * N));
  // Strides of op(A) (M, K) and op(B) (K, N) in storage.
  const aRow = transA ? 1 : K;
  const aCol = transA ? M : 1;
  const bRow = transB ? 1 : N;
  const bCol = transB ? K : 1;
  // One float64 row of C, so float32 buffers are rounded once per element, not once per k.
  const acc = new Float64Array(N);
  for (let t = 0; t < batch; t++) {
    const a0 = aOffset + t * strideA;
    const b0 = bOffset + t * strideB;
    const c0 = cOffset + t * strideC;
    for (let i = 0; i < M; i++) {
      acc.fill(0);
      for (let k = 0; k < K; k++) {
        const aik = av[a0 + i * aRow + k * aCol]!;
        const bk = b0 + k * bRow;
        for (let j = 0; j < N; j++) acc[j] += aik * bv[bk + j * bCol]!;
      }
      const ci = c0 + i * N;
      if (accumulate) for (let j = 0; j < N; j++) cv[ci + j] = cv[ci + j]! + acc[j]!;
      else for (let j = 0; j < N; j++) cv[ci + j] = acc[j]!;
    }
  }
}
