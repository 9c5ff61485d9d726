/** Matrix multiplication (2-D and batched) with transposed operands read in place. */
import { broadcastShapes, fmtShape, shapesEqual, sizeOf } from '../backend/strides.js';
import { apply, defineOp } from '../autograd/op.js';
import { emptyTensor, type Tensor } from '../tensor/tensor.js';
import { add } from './elementwise.js';
import { broadcastTo, reshape } from './shape.js';

export interface MatmulOptions {
  /** Use a's last two dims transposed: a is [..., K, M]. */
  transA?: boolean;
  /** Use b's last two dims transposed: b is [..., N, K] (e.g. a Linear weight [out, in]). */
  transB?: boolean;
}

interface Attrs {
  transA: boolean;
  transB: boolean;
}

function dims(t: Tensor, trans: boolean): [number, number] {
  const r = t.shape[t.rank - 2];
  const c = t.shape[t.rank - 1];
  return trans ? [c, r] : [r, c];
}

/** Operands here have equal batch dims or a single batch (broadcast with stride 0). */
export const matmulOp = defineOp<Attrs>({
  name: 'matmul',
  forward(ctx, [a, b], { transA, transB }) {
    const [M, K] = dims(a, transA);
    const [, N] = dims(b, transB);
    const batchA = sizeOf(a.shape.slice(0, -2));
    const batchB = sizeOf(b.shape.slice(0, -2));
    const batchShape = (batchA === 1 ? b : a).shape.slice(0, -2);
    const batch = Math.max(batchA, batchB);
    const out = emptyTensor(a.backend, [...batchShape, M, N]);
    a.backend.matmul(
      a.buf, 0, b.buf, 0, out.buf, 0, M, N, K, transA, transB,
      batch, batchA === 1 ? 0 : M * K, batchB === 1 ? 0 : K * N, M * N, false,
    );
    // da reads b and db reads a: keep each only if the other's gradient is wanted.
    ctx.save(ctx.needsGrad[1] ? a : null, ctx.needsGrad[0] ? b : null);
    return out;
  },
  flops: ([a], out, { transA }) => 2 * out.size * dims(a, transA)[1],
  // C = op(A) op(B): d op(A) = dC op(B)^T and d op(B) = op(A)^T dC, re-expressed with trans flags
  // so no transpose is ever materialised.
  backward(ctx, dy, { transA, transB }) {
    const da = !ctx.needsGrad[0] ? null
      : transA ? matmul(ctx.get(1, 'matmul'), dy, { transA: transB, transB: true })
      : matmul(dy, ctx.get(1, 'matmul'), { transB: !transB });
    const db = !ctx.needsGrad[1] ? null
      : transB ? matmul(dy, ctx.get(0, 'matmul'), { transA: true, transB: transA })
      : matmul(ctx.get(0, 'matmul'), dy, { transA: !transA });
    return [da, db];
  },
});

/**
 * a @ b over the last two dims, broadcasting batch dims (numpy rules). Both operands need rank >= 2.
 * `transA` / `transB` read an operand transposed without copying it.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  if (a.rank < 2 || b.rank < 2) {
    throw new Error(
      `matmul: operands need rank >= 2, got a${fmtShape(a.shape)} and b${fmtShape(b.shape)}; ` +
        'reshape vectors to [1, n] or [n, 1]',
    );
  }
  const [, Ka] = dims(a, transA);
  const [Kb, N] = dims(b, transB);
  if (Ka !== Kb) {
    throw new Error(
      `matmul: inner dims ${Ka} (a${transA ? '^T' : ''}[..,${Ka}] from ${fmtShape(a.shape)}) and ` +
        `${Kb} (b${transB ? '^T' : ''}[${Kb},..] from ${fmtShape(b.shape)}) differ; ` +
        'transpose an operand (transA/transB) or fix the shapes',
    );
  }
  // A batched activation times a weight matrix is one big 2-D product.
  if (b.rank === 2 && a.rank > 2 && !transA) {
    const lead = a.shape.slice(0, -1);
    const out = apply(matmulOp, [reshape(a, [-1, Ka]), b], { transA, transB });
    return reshape(out, [...lead, N]);
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcastShapes('matmul (batch dims)', batchA, batchB);
  const fit = (t: Tensor, tb: readonly number[]) =>
    shapesEqual(tb, batch) || sizeOf(tb) === 1 ? t : broadcastTo(t, [...batch, ...t.shape.slice(-2)]);
  let a2 = fit(a, batchA);
  let b2 = fit(b, batchB);
  // A single-batch operand is broadcast by the kernel (stride 0); give it the full batch rank.
  if (a2.rank - 2 < batch.length) a2 = reshape(a2, [...batch.map(() => 1), ...a2.shape.slice(-2)]);
  if (b2.rank - 2 < batch.length) b2 = reshape(b2, [...batch.map(() => 1), ...b2.shape.slice(-2)]);
  return apply(matmulOp, [a2, b2], { transA, transB });
}

/** x @ weight^T + bias, with weight stored [out, in] (PyTorch Linear layout). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const y = matmul(x, weight, { transB: true });
  return bias ? add(y, bias) : y;
}
