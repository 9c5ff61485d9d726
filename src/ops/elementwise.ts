/** Elementwise ops: broadcasting binary arithmetic and unary functions. */
import type { BinaryOp, UnaryOp } from '../backend/kernels.js';
import { broadcastShapes, broadcastStrides, coalesce } from '../backend/strides.js';
import { apply, defineOp, type OpContext } from '../autograd/op.js';
import { emptyTensor, type Tensor } from '../tensor/tensor.js';
import { lift, type TensorLike } from './create.js';
import { where } from './indexing.js';

function requireFloat(op: string, t: Tensor): void {
  if (t.dtype === 'int32') {
    throw new Error(`${op}: ${t.describe()} is int32; elementwise math needs float tensors (ids and targets are not numbers to compute on)`);
  }
}

function runBinary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = emptyTensor(a.backend, shape);
  const c = coalesce(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)]);
  a.backend.binary(op, a.buf, c.strides[0], b.buf, c.strides[1], out.buf, c.shape);
  return out;
}

type BinaryGrad = (a: Tensor, b: Tensor, out: Tensor, dy: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

// d(a op b)/da and /db. Results may keep the broadcast shape: the engine reduces them.
const BINARY_GRADS: { [K in BinaryOp]: BinaryGrad | null } = {
  add: (_a, _b, _o, dy) => [dy, dy],
  sub: (_a, _b, _o, dy, n) => [dy, n[1] ? neg(dy) : null],
  mul: (a, b, _o, dy, n) => [n[0] ? mul(dy, b) : null, n[1] ? mul(dy, a) : null],
  // d(a/b)/db = -a/b^2 = -out/b
  div: (_a, b, out, dy, n) => [n[0] ? div(dy, b) : null, n[1] ? neg(mul(dy, div(out, b))) : null],
  // d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a, taken as 0 where a <= 0 (the limit used for a = 0)
  pow: (a, b, out, dy, n) => [
    n[0] ? mul(dy, mul(b, pow(a, sub(b, 1)))) : null,
    n[1] ? mul(dy, where(gt(a, 0), mul(out, log(a)), 0)) : null,
  ],
  // Ties split the gradient evenly, so max(a, a) passes dy through once.
  max: (a, b, _o, dy) => {
    const tie = mul(binaryNoGrad('eq', a, b), 0.5);
    return [mul(dy, add(binaryNoGrad('gt', a, b), tie)), mul(dy, add(binaryNoGrad('gt', b, a), tie))];
  },
  min: (a, b, _o, dy) => {
    const tie = mul(binaryNoGrad('eq', a, b), 0.5);
    return [mul(dy, add(binaryNoGrad('gt', b, a), tie)), mul(dy, add(binaryNoGrad('gt', a, b), tie))];
  },
  eq: null,
  gt: null,
};

export const binaryOp = defineOp<{ op: BinaryOp }>({
  name: 'binary',
  forward(ctx, [a, b], { op }) {
    requireFloat(op, a);
    requireFloat(op, b);
    const out = runBinary(op, a, b);
    ctx.save(a, b, out);
    return out;
  },
  backward(ctx: OpContext, dy, { op }) {
    const rule = BINARY_GRADS[op];
    if (!rule) return [null, null]; // comparisons are piecewise constant: zero gradient
    const [a, b, out] = ctx.saved;
    return rule(a, b, out, dy, ctx.needsGrad);
  },
});

function binary(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  if (typeof a === 'number' && typeof b === 'number') {
    throw new Error(`${op}: at least one operand must be a tensor`);
  }
  const like = (typeof a === 'number' ? b : a) as Tensor;
  return apply(binaryOp, [lift(a, like), lift(b, like)], { op });
}

/** Comparison results never carry gradients. */
function binaryNoGrad(op: 'eq' | 'gt', a: TensorLike, b: TensorLike): Tensor {
  const out = binary(op, a, b);
  out.requiresGrad = false;
  out.node = null;
  return out;
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('max', a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('min', a, b);
/** 1 where a == b, else 0 (no gradient). */
export const eq = (a: TensorLike, b: TensorLike): Tensor => binaryNoGrad('eq', a, b);
/** 1 where a > b, else 0 (no gradient). */
export const gt = (a: TensorLike, b: TensorLike): Tensor => binaryNoGrad('gt', a, b);
/** 1 where a < b, else 0 (no gradient). */
export const lt = (a: TensorLike, b: TensorLike): Tensor => binaryNoGrad('gt', b, a);

export const unaryOp = defineOp<{ op: UnaryOp }>({
  name: 'unary',
  forward(ctx, [x], { op }) {
    requireFloat(op, x);
    const out = emptyTensor(x.backend, x.shape);
    x.backend.unary(op, x.buf, out.buf, x.size);
    ctx.save(x, out);
    return out;
  },
  backward(ctx, dy, { op }) {
    const [x, y] = ctx.saved;
    const dx = emptyTensor(x.backend, x.shape);
    x.backend.unaryGrad(op, x.buf, y.buf, dy.buf, dx.buf, x.size);
    return [dx];
  },
});

const unary = (op: UnaryOp) => (x: Tensor): Tensor => apply(unaryOp, [x], { op });

export const neg = unary('neg');
export const exp = unary('exp');
export const log = unary('log');
export const sqrt = unary('sqrt');
export const abs = unary('abs');
export const tanh = unary('tanh');
export const sigmoid = unary('sigmoid');
export const relu = unary('relu');
export const softplus = unary('softplus');
export const square = unary('square');
export const reciprocal = unary('recip');
export const sign = unary('sign');

/** GELU: exact erf form by default; `approximate: 'tanh'` is GPT-2's `gelu_new`. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  return apply(unaryOp, [x], { op: approximate === 'tanh' ? 'gelu_tanh' : 'gelu_erf' });
}
