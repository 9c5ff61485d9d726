/**
 * How each kernel that runs on several threads is cut into tasks: one table, keyed by the kernel
 * module's export names, from which the pool (pool.ts) describes a parallel call to its workers
 * generically: a task is an export name plus its argument list (byte pointers and sizes), so a worker
 * needs no per-kernel code.
 *
 * Results are bit-identical for any thread count because no split reorders a sum:
 * - elementwise kernels split their index range at multiples of 64 elements, so the SIMD body and
 *   the scalar tail of every element are the same as in one call (random kernels add the task's start
 *   to their counter, which the counter-based streams allow);
 * - row kernels (softmax, cross-entropy, layer norm) split rows; a reduction over rows (the layer-norm
 *   parameter gradients) splits over columns at multiples of 4;
 * - matmul splits the batch, or rows of C at multiples of MR, or columns at multiples of NR: every C
 *   element keeps its K-order sum and its micro-tile shape (see assembly/matmul.ts). A batch-1 product
 *   split by rows shares all of op(B) between its tasks (by columns, all of op(A)); rather than have
 *   every task pack that operand again, it runs in two stages: the threads first pack the shared
 *   operand once into the pool's packing block (matmulPack, split over its panels), then each task
 *   packs only its own rows of A (or columns of B) and reads the shared panels (matmulPacked).
 */
import type { KernelExports } from './loader.js';

/** The exports a pool may run in parallel. */
export type ParallelKernel =
  | 'fill32' | 'unary' | 'unaryGrad' | 'axpy' | 'scale' | 'where'
  | 'attentionSoftmax' | 'attentionSoftmaxBackward' | 'softmax' | 'softmaxBackward' | 'logSoftmax' | 'logSoftmaxBackward' | 'crossEntropy' | 'crossEntropyBackward'
  | 'layerNorm' | 'layerNormBackward' | 'layerNormParamGrad'
  | 'gaussianSample' | 'gaussianSampleBackward' | 'randn' | 'randu' | 'dropoutMask'
  | 'adamw' | 'sgd' | 'matmul' | 'matmulPack' | 'matmulPacked' | 'binary' | 'copyStrided';

/** Arguments of an export, as numbers (pointers are byte addresses; 0 is a null pointer). */
export type KernelArgs<K extends ParallelKernel> = Parameters<NonNullable<KernelExports[K]>>;

/** One piece of a call: which export and its arguments; `base` is the first row or element it covers. */
export interface Task {
  kernel: ParallelKernel;
  args: number[];
  base: number;
}

/** What a split may need beyond the arguments: the memory (to read a parameter block) and per-task blocks. */
export interface SplitContext {
  /** An Int32Array over the current memory. */
  i32(): Int32Array;
  /** Address of a parameter block of PARAM_BYTES for task `t` (t < MAX_TASKS), distinct per task. */
  params(t: number): number;
  /**
   * Address of the pool's packing block, grown to at least `bytes` (64-byte aligned), or 0 when
   * `bytes` exceeds the pool's limit (the caller then splits without it). Valid until the next call.
   */
  packBlock(bytes: number): number;
}

export interface ParallelSpec<K extends ParallelKernel> {
  /** Rough single-thread time of a call in nanoseconds: a call is split only when this exceeds the pool's threshold. */
  cost(a: KernelArgs<K>, ctx: SplitContext): number;
  /** Cuts a call into at most `parts` (>= 2) tasks; one task means "not worth splitting". */
  split(a: KernelArgs<K>, parts: number, ctx: SplitContext): Task[];
  /**
   * When present and not null, used instead of `split`: stages run one after the other (all tasks of
   * a stage finish before the next starts), each cut into at most `parts` tasks.
   */
  stages?(a: KernelArgs<K>, parts: number, ctx: SplitContext): Task[][] | null;
  /** Folds the tasks' return values into the call's (only for kernels that return one). */
  combine?(results: readonly number[], tasks: readonly Task[]): number;
  /** An argument each thread replaces by its own scratch block (matmul packs operands there). */
  scratchArg?: number;
}

/** [start, end) ranges covering [0, total), each starting at a multiple of `align`. */
export function ranges(total: number, parts: number, align: number): [number, number][] {
  const step = Math.max(align, Math.ceil(total / parts / align) * align);
  const out: [number, number][] = [];
  for (let s = 0; s < total; s += step) out.push([s, Math.min(total, s + step)]);
  return out;
}

const ELEMENT_ALIGN = 64;

/** Splits the index range of a kernel whose pointer arguments advance 4 bytes per element. */
function elementwise<K extends ParallelKernel>(
  kernel: K, ptrs: readonly number[], nArg: number, nsPerElement: number, counterArg?: number,
): ParallelSpec<K> {
  return {
    cost: (a) => (a[nArg] as number) * nsPerElement,
    split(a, parts) {
      return ranges(a[nArg] as number, parts, ELEMENT_ALIGN).map(([s, e]) => {
        const args = (a as number[]).slice();
        for (const p of ptrs) if (args[p] !== 0) args[p]! += s * 4;
        args[nArg] = e - s;
        if (counterArg !== undefined) args[counterArg]! += s;
        return { kernel, args, base: s };
      });
    },
  };
}

/** Splits rows of a (rows, cols) kernel: `rowPtrs` advance a row, `perRow` one element per row. */
function rowwise<K extends ParallelKernel>(
  kernel: K, rowPtrs: readonly number[], perRow: readonly number[], rowsArg: number, colsArg: number, nsPerElement: number,
  combine?: ParallelSpec<K>['combine'],
): ParallelSpec<K> {
  return {
    cost: (a) => (a[rowsArg] as number) * (a[colsArg] as number) * nsPerElement,
    split(a, parts) {
      const cols = a[colsArg] as number;
      return ranges(a[rowsArg] as number, parts, 1).map(([s, e]) => {
        const args = (a as number[]).slice();
        for (const p of rowPtrs) if (args[p] !== 0) args[p]! += s * cols * 4;
        for (const p of perRow) if (args[p] !== 0) args[p]! += s * 4;
        args[rowsArg] = e - s;
        return { kernel, args, base: s };
      });
    },
    combine,
  };
}

/** Cross-entropy kernels return a count (forward) or 0, or -1 - r for the first bad row r. */
function rowStatus(sum: boolean): ParallelSpec<'crossEntropy'>['combine'] {
  return (results, tasks) => {
    let total = 0;
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r < 0) return -1 - (tasks[i]!.base + (-1 - r));
      total += r;
    }
    return sum ? total : 0;
  };
}

/** Rows of a matmul tile (assembly/matmul_kernel.ts MR) and a multiple of its columns (NR is 8 or 4). */
const MR = 4;
const N_ALIGN = 64;
const M_ALIGN = 32;

/** Panel widths of packed A (MR) and B (NR in the SIMD builds; 4 in the scalar one, a divisor of 8). */
const PANEL_A = MR;
const PANEL_B = 8;

/**
 * A batch-1 product in two stages (see the header): null when it is batched, empty in K, or its
 * shared operand does not fit the pool's packing block.
 */
function matmulStages(a: KernelArgs<'matmul'>, parts: number, ctx: SplitContext): Task[][] | null {
  const [pa, pb, pc, M, N, K, transA, transB, batch, , , , accumulate, , lda, ldb, ldc] = a;
  if (batch !== 1 || K === 0 || M === 0 || N === 0) return null;
  const byRows = M >= N;
  const dim = byRows ? N : M;
  // the scalar build's B panels are 4 wide: padding to 8 covers both layouts
  const width = byRows ? PANEL_B : PANEL_A;
  const pad = Math.ceil(dim / width) * width;
  const packed = ctx.packBlock(K * pad * 4);
  if (packed === 0) return null;
  const gathered = byRows ? transB : transA ? 0 : 1;
  const src = byRows ? pb : pa;
  const ld = byRows ? ldb : lda;
  const pack = ranges(dim, parts, byRows ? N_ALIGN : M_ALIGN).map(([s, e]): Task => ({
    kernel: 'matmulPack', args: [src, ld, gathered, K, dim, s, e, packed, pad, byRows ? 0 : 1], base: s,
  }));
  const work = (byRows ? ranges(M, parts, M_ALIGN) : ranges(N, parts, N_ALIGN)).map(([s, e]): Task => {
    const rowsOf = byRows ? [s, e] : [0, M];
    const colsOf = byRows ? [0, N] : [s, e];
    return {
      kernel: 'matmulPacked',
      args: [
        pa + (transA ? rowsOf[0]! : rowsOf[0]! * lda) * 4, pb + (transB ? colsOf[0]! * ldb : colsOf[0]!) * 4,
        pc + (rowsOf[0]! * ldc + colsOf[0]!) * 4, rowsOf[1]! - rowsOf[0]!, colsOf[1]! - colsOf[0]!, K,
        transA, transB, accumulate, 0, lda, ldb, ldc, packed, pad, 0, byRows ? 0 : 1,
      ],
      base: s,
    };
  });
  if (work.length <= 1) return null;
  return [pack, work];
}

const matmul: ParallelSpec<'matmul'> = {
  // about 40 GFLOP/s on one core
  cost: (a) => 2 * a[3] * a[4] * a[5] * a[8] * 0.025,
  stages: (a, parts, ctx) => (a[8] >= parts ? null : matmulStages(a, parts, ctx)),
  split(a, parts) {
    const [pa, pb, pc, M, N, , transA, transB, batch, strideA, strideB, strideC, , , lda, ldb, ldc] = a;
    const task = (args: number[], base: number): Task => ({ kernel: 'matmul', args, base });
    if (batch >= parts) {
      return ranges(batch, parts, 1).map(([s, e]) => {
        const args = (a as number[]).slice();
        args[0] = pa + s * strideA * 4;
        args[1] = pb + s * strideB * 4;
        args[2] = pc + s * strideC * 4;
        args[8] = e - s;
        return task(args, s);
      });
    }
    if (M >= N) {
      return ranges(M, parts, Math.max(MR, M_ALIGN)).map(([s, e]) => {
        const args = (a as number[]).slice();
        args[0] = pa + (transA ? s : s * lda) * 4;
        args[2] = pc + s * ldc * 4;
        args[3] = e - s;
        return task(args, s);
      });
    }
    return ranges(N, parts, N_ALIGN).map(([s, e]) => {
      const args = (a as number[]).slice();
      args[1] = pb + (transB ? s * ldb : s) * 4;
      args[2] = pc + s * 4;
      args[4] = e - s;
      return task(args, s);
    });
  },
  scratchArg: 13,
};

/**
 * Attention softmax splits rows like the other row kernels; each task also gets its first global
 * row, from which the kernel finds every row's batch (for the padding mask) and query (causal).
 */
function attentionRows<K extends 'attentionSoftmax' | 'attentionSoftmaxBackward'>(
  kernel: K, rowPtrs: readonly number[], rowsArg: number, nsPerElement: number,
): ParallelSpec<K> {
  const rows = rowwise(kernel, rowPtrs, [], rowsArg, rowsArg + 1, nsPerElement);
  const startArg = rowsArg + 2;
  return {
    ...rows,
    split: (a, parts, ctx) => rows.split(a, parts, ctx).map((t) => {
      (t.args as number[])[startArg]! += t.base;
      return t;
    }),
  };
}

const layerNormBackward: ParallelSpec<'layerNormBackward'> = {
  cost: (a) => a[8] * a[9] * 1.5,
  split(a, parts, ctx) {
    const [x, , mean, rstd, dy, , dgamma, dbeta, rows, cols] = a;
    // dx by rows (without the parameter gradients), the parameter gradients by columns
    const rowTasks = rowwise('layerNormBackward', [0, 4, 5], [2, 3], 8, 9, 0).split(
      [...a.slice(0, 6), 0, 0, rows, cols] as KernelArgs<'layerNormBackward'>, parts, ctx);
    if (dgamma === 0 && dbeta === 0) return rowTasks;
    const colTasks = ranges(cols, Math.max(2, parts >> 1), ELEMENT_ALIGN).map(([s, e]): Task => ({
      kernel: 'layerNormParamGrad',
      args: [x + s * 4, mean, rstd, dy + s * 4, dgamma === 0 ? 0 : dgamma + s * 4, dbeta === 0 ? 0 : dbeta + s * 4, rows, e - s, cols],
      base: s,
    }));
    return [...rowTasks, ...colTasks];
  },
};

/**
 * Strided kernels (binary, copyStrided) read shape and strides from a parameter block
 * [shape | strides of operand 1 | strides of operand 2] (rank i32 each). They split over dim 0 of that
 * (already coalesced) shape: at multiples of 64 when it is the only dim, else anywhere, each task with
 * its own block holding its share of dim 0. `ptrs` are the operands in block order, then the output
 * (contiguous, advancing by the product of the inner dims).
 */
function strided<K extends 'binary' | 'copyStrided'>(
  kernel: K, ptrArgs: readonly [number, number], outArg: number | null, rankArg: number, paramsArg: number,
  nsPerElement: number, splittable: (a: KernelArgs<K>, shape: number[], strides: number[][]) => boolean,
): ParallelSpec<K> {
  const read = (a: KernelArgs<K>, ctx: SplitContext) => {
    const rank = a[rankArg] as number;
    const i32 = ctx.i32();
    const o = (a[paramsArg] as number) >>> 2;
    const list = (k: number) => Array.from(i32.subarray(o + k * rank, o + (k + 1) * rank));
    return { rank, shape: list(0), strides: [list(1), list(2)] };
  };
  return {
    cost(a, ctx) {
      const { shape } = read(a, ctx);
      return shape.reduce((p, d) => p * d, 1) * nsPerElement;
    },
    split(a, parts, ctx) {
      const { rank, shape, strides } = read(a, ctx);
      const whole: Task[] = [{ kernel, args: (a as number[]).slice(), base: 0 }];
      if (!splittable(a, shape, strides)) return whole;
      const inner = shape.slice(1).reduce((p, d) => p * d, 1);
      return ranges(shape[0]!, parts, rank === 1 ? ELEMENT_ALIGN : 1).map(([s, e], t) => {
        const args = (a as number[]).slice();
        args[ptrArgs[0]]! += s * strides[0]![0]! * 4;
        args[ptrArgs[1]]! += s * strides[1]![0]! * 4;
        if (outArg !== null) args[outArg]! += s * inner * 4;
        const p = ctx.params(t);
        const i32 = ctx.i32();
        i32.set([e - s, ...shape.slice(1), ...strides[0]!, ...strides[1]!], p >>> 2);
        args[paramsArg] = p;
        return { kernel, args, base: s };
      });
    },
  };
}

/** Every kernel the pool may split. A kernel missing here does not compile. */
export const PARALLEL: { [K in ParallelKernel]: ParallelSpec<K> } = {
  fill32: elementwise('fill32', [0], 1, 0.1),
  unary: elementwise('unary', [1, 2], 3, 1),
  unaryGrad: elementwise('unaryGrad', [1, 2, 3, 4], 5, 1),
  axpy: elementwise('axpy', [1, 2], 3, 0.3),
  scale: elementwise('scale', [1, 2], 3, 0.3),
  where: elementwise('where', [0, 2, 3, 4], 5, 0.4),
  // attentionSoftmax(x, keep, keepIsInt, out, rows, cols, rowStart, ...); the backward (y, dy, dx, keep, keepIsInt, rows, ...)
  attentionSoftmax: attentionRows('attentionSoftmax', [0, 3], 4, 1.8),
  attentionSoftmaxBackward: attentionRows('attentionSoftmaxBackward', [0, 1, 2], 5, 0.8),
  softmax: rowwise('softmax', [0, 1], [], 2, 3, 1.5),
  softmaxBackward: rowwise('softmaxBackward', [0, 1, 2], [], 3, 4, 0.6),
  logSoftmax: rowwise('logSoftmax', [0, 1], [], 2, 3, 1.5),
  logSoftmaxBackward: rowwise('logSoftmaxBackward', [0, 1, 2], [], 3, 4, 1.5),
  crossEntropy: rowwise('crossEntropy', [0], [1, 2, 3], 4, 5, 1.5, rowStatus(true)),
  crossEntropyBackward: rowwise('crossEntropyBackward', [0, 4], [1, 2, 3], 5, 6, 1.5, rowStatus(false)),
  layerNorm: rowwise('layerNorm', [0, 3], [4, 5], 6, 7, 1),
  layerNormBackward,
  layerNormParamGrad: {
    cost: (a) => a[6] * a[7] * 0.5,
    split: (a) => [{ kernel: 'layerNormParamGrad', args: a.slice(), base: 0 }],
  },
  gaussianSample: elementwise('gaussianSample', [0, 1, 2, 3], 4, 4, 7),
  gaussianSampleBackward: elementwise('gaussianSampleBackward', [0, 1, 2, 3], 4, 0.4),
  randn: elementwise('randn', [0], 1, 4, 4),
  randu: elementwise('randu', [0], 1, 2, 4),
  dropoutMask: elementwise('dropoutMask', [0], 1, 2, 6),
  adamw: elementwise('adamw', [0, 1, 2, 3], 4, 1),
  sgd: elementwise('sgd', [0, 1, 2], 3, 0.5),
  matmul,
  // stages of a split matmul (never called on their own through the pool)
  matmulPack: { cost: () => 0, split: (a) => [{ kernel: 'matmulPack', args: a.slice(), base: 0 }] },
  matmulPacked: { cost: () => 0, split: (a) => [{ kernel: 'matmulPacked', args: a.slice(), base: 0 }], scratchArg: 9 },
  // binary(op, a, b, out, rank, params): out is contiguous
  binary: strided('binary', [1, 2], 3, 4, 5, 0.4, () => true),
  // copyStrided(src, dst, rank, params, accumulate, isInt): dst advances by its own dim-0 stride. An
  // accumulating copy may add into one position from several rows, so it stays on one thread.
  copyStrided: strided('copyStrided', [0, 1], null, 2, 3, 0.5, (a) => a[4] === 0),
};

/** Export names in a fixed order: a task names its kernel by index in this list. */
export const PARALLEL_KERNELS = Object.keys(PARALLEL) as ParallelKernel[];
