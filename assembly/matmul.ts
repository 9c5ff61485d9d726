// Batched GEMM: C_t (=, or +=) op(A_t) @ op(B_t), cache-blocked in the GotoBLAS style.
//
// Loop nest (outer to inner): NC columns of C -> KC slice of K (pack op(B) block, KC x NC) ->
// MC rows of C (pack op(A) block, MC x KC) -> NR-column micro-panel of B -> MR-row micro-panel
// of A -> micro-kernel over KC. The B micro-panel (KC x NR, 8 KiB) stays in L1 while the kernel
// walks every A micro-panel of the block; the packed A block (MC x KC, 128 KiB) stays in L2; the
// packed B block (KC x NC, 512 KiB) is re-read once per MC block from L2/L3.
// All packing goes into the caller's scratch block: the runtime is `stub`, nothing is allocated.

import { MR, NR, microKernel } from './matmul_kernel';
import { packContiguous, packGathered } from './matmul_pack';

/** Depth of one packed slice. 256 x NR floats of B = 8 KiB keeps the B micro-panel in L1. */
const KC: i32 = 256;
/** Rows of the packed A block (multiple of MR): 128 x 256 floats = 128 KiB, sized for L2. */
const MC: i32 = 128;
/** Columns of the packed B block (multiple of NR). Wider blocks only re-pack A less often. */
const NC: i32 = 512;

const PACK_A_BYTES: usize = <usize>(MC * KC) << 2;
const PACK_B_BYTES: usize = <usize>(KC * NC) << 2;
const TILE_BYTES: usize = <usize>(MR * NR) << 2;

/** Bytes of the scratch block `matmul` needs; fixed, independent of the problem. */
export function matmulScratchBytes(): i32 {
  return <i32>(PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES);
}

/**
 * For t < batch: C_t (= or += when accumulate) op(A_t) @ op(B_t), op(A_t) (M,K), op(B_t) (K,N).
 * A_t is stored (M,K), or (K,M) when transA; B_t is (K,N), or (N,K) when transB; C_t is (M,N).
 * a, b, c are byte addresses of operand 0; strides are in elements (0 broadcasts an operand).
 * lda, ldb, ldc are the elements between stored rows (K or M for A, N or K for B, N for C when the
 * operands are whole matrices; larger when a row or column block of a bigger matrix is passed, which
 * is how a call is split across threads: every C element is summed over K in the same order, since
 * K blocking does not depend on the block, and the micro-tile grid stays aligned when blocks start at
 * multiples of MR rows and NR columns).
 * `scratch` is a 64-byte-aligned block of matmulScratchBytes() bytes.
 */
export function matmul(
  a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, transA: i32, transB: i32,
  batch: i32, strideA: i32, strideB: i32, strideC: i32, accumulate: i32, scratch: usize,
  lda: i32, ldb: i32, ldc: i32,
): void {
  if (M <= 0 || N <= 0) return;
  for (let t = 0; t < batch; t++) {
    const at = a + ((<usize>t * <usize>strideA) << 2);
    const bt = b + ((<usize>t * <usize>strideB) << 2);
    const ct = c + ((<usize>t * <usize>strideC) << 2);
    if (K <= 0) {
      // An empty sum: C = 0, or C unchanged when accumulating.
      if (accumulate == 0) {
        for (let r = 0; r < M; r++) memory.fill(ct + ((<usize>r * <usize>ldc) << 2), 0, (<usize>N) << 2);
      }
      continue;
    }
    gemm(at, bt, ct, M, N, K, transA != 0, transB != 0, accumulate != 0, scratch, lda, ldb, ldc, 0, 0, 0, 0, 0, 0);
  }
}

/**
 * Packs one operand of a (non-batched) product for every K slice, for the panels covering
 * [d0, d1) of its free dimension (`dim`: M for A, N for B; d0 a multiple of the panel width), into
 * `dst`, laid out as gemm reads a pre-packed operand: slice pc (KC deep, kc = min(KC, K - pc)) starts
 * at element pc * pad, and the panel of free index d (a multiple of the width) at d * kc within it.
 * `isA` picks the panel width (MR for A, NR for B); `gathered` says how the operand is stored (A not
 * transposed or B transposed: each free index is a stored row running along K; otherwise the values
 * of one k step are adjacent). `ld` is in elements. Several calls over disjoint [d0, d1) may run at
 * once (threads): each writes only its own panels.
 */
export function matmulPack(
  src: usize, ld: i32, gathered: i32, K: i32, dim: i32, d0: i32, d1: i32, dst: usize, pad: i32, isA: i32,
): void {
  const W = isA != 0 ? MR : NR;
  const ldBytes = <usize>ld << 2;
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const slice = dst + ((<usize>pc * <usize>pad) << 2);
    for (let d = d0; d < d1; d += W) {
      const width = min(W, dim - d);
      const out = slice + ((<usize>d * <usize>kc) << 2);
      if (gathered != 0) {
        packGathered(src + ((<usize>d * <usize>ld + <usize>pc) << 2), ldBytes, width, kc, out, W);
      } else {
        packContiguous(src + ((<usize>pc * <usize>ld + <usize>d) << 2), ldBytes, width, kc, out, W);
      }
    }
  }
}

/**
 * One (non-batched) product like `matmul` with batch 1, with op(A) (packedIsA != 0) or op(B) read
 * pre-packed by matmulPack from `packed` (`pad` as given there; this call's rows of A, or columns
 * of B, start at `off` in it, a multiple of the panel width); the other operand is packed into
 * `scratch` as usual. When a product is split over threads by rows (or columns), the operand every
 * task shares is packed once instead of once per task. Results are bit-identical to `matmul`.
 */
export function matmulPacked(
  a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, transA: i32, transB: i32, accumulate: i32,
  scratch: usize, lda: i32, ldb: i32, ldc: i32, packed: usize, pad: i32, off: i32, packedIsA: i32,
): void {
  if (M <= 0 || N <= 0 || K <= 0) return;
  if (packedIsA != 0) {
    gemm(a, b, c, M, N, K, transA != 0, transB != 0, accumulate != 0, scratch, lda, ldb, ldc, packed, pad, off, 0, 0, 0);
  } else {
    gemm(a, b, c, M, N, K, transA != 0, transB != 0, accumulate != 0, scratch, lda, ldb, ldc, 0, 0, 0, packed, pad, off);
  }
}

/**
 * The blocked product. An operand whose `pre` pointer is non-zero was packed beforehand by matmulPack
 * (all of K, panels `pad` wide per K slice, this call's rows or columns starting at panel offset `off`)
 * and is read from there instead of being packed into the scratch block: the packed values, the
 * micro-kernel calls and their order are the same either way.
 */
function gemm(
  a: usize, b: usize, c: usize, M: i32, N: i32, K: i32,
  transA: bool, transB: bool, accumulate: bool, scratch: usize, lda: i32, ldb: i32, ldcElems: i32,
  preA: usize, padM: i32, offA: i32, preB: usize, padN: i32, offB: i32,
): void {
  const packA = scratch;
  const packB = scratch + PACK_A_BYTES;
  const tile = packB + PACK_B_BYTES;
  const ldc = <usize>ldcElems << 2;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      let blockB = packB;
      if (preB != 0) {
        blockB = preB + ((<usize>pc * <usize>padN + <usize>(offB + jc) * <usize>kc) << 2);
      } else {
        packBBlock(b, ldb, transB, pc, kc, jc, nc, packB);
      }
      // The first K slice overwrites C unless the caller asked to accumulate; later slices add.
      const add = accumulate || pc > 0;
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        let blockA = packA;
        if (preA != 0) {
          blockA = preA + ((<usize>pc * <usize>padM + <usize>(offA + ic) * <usize>kc) << 2);
        } else {
          packABlock(a, lda, transA, ic, mc, pc, kc, packA);
        }
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = blockB + ((<usize>jr * <usize>kc) << 2);
          let cp = c + <usize>ic * ldc + (<usize>(jc + jr) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const pa = blockA + ((<usize>ir * <usize>kc) << 2);
            if (mr == MR && nr == NR) {
              microKernel(pa, pb, kc, cp, ldc, add);
            } else {
              // Partial tile: compute the full zero-padded tile aside, write back only what exists.
              microKernel(pa, pb, kc, tile, <usize>NR << 2, false);
              writePartial(tile, cp, ldc, mr, nr, add);
            }
            cp += <usize>MR * ldc;
          }
        }
      }
    }
  }
}

/** Packs op(A)[ic:ic+mc, pc:pc+kc] into MR-row micro-panels, each kc x MR. */
function packABlock(
  a: usize, lda: i32, transA: bool, ic: i32, mc: i32, pc: i32, kc: i32, dst: usize,
): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const d = dst + ((<usize>ir * <usize>kc) << 2);
    const i = ic + ir;
    if (transA) {
      // A stored (K, M): the MR rows of one k step are adjacent.
      packContiguous(a + ((<usize>pc * <usize>lda + <usize>i) << 2), <usize>lda << 2, rows, kc, d, MR);
    } else {
      // A stored (M, K): each of the MR rows runs along k.
      packGathered(a + ((<usize>i * <usize>lda + <usize>pc) << 2), <usize>lda << 2, rows, kc, d, MR);
    }
  }
}

/** Packs op(B)[pc:pc+kc, jc:jc+nc] into NR-column micro-panels, each kc x NR. */
function packBBlock(
  b: usize, ldb: i32, transB: bool, pc: i32, kc: i32, jc: i32, nc: i32, dst: usize,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const d = dst + ((<usize>jr * <usize>kc) << 2);
    const j = jc + jr;
    if (transB) {
      // B stored (N, K): each of the NR columns runs along k.
      packGathered(b + ((<usize>j * <usize>ldb + <usize>pc) << 2), <usize>ldb << 2, cols, kc, d, NR);
    } else {
      // B stored (K, N): the NR columns of one k step are adjacent.
      packContiguous(b + ((<usize>pc * <usize>ldb + <usize>j) << 2), <usize>ldb << 2, cols, kc, d, NR);
    }
  }
}

function writePartial(tile: usize, c: usize, ldc: usize, mr: i32, nr: i32, add: bool): void {
  for (let r = 0; r < mr; r++) {
    const src = tile + ((<usize>r * <usize>NR) << 2);
    const dst = c + <usize>r * ldc;
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      const v = load<f32>(src + o);
      store<f32>(dst + o, add ? load<f32>(dst + o) + v : v);
    }
  }
}
