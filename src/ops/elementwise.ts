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

/**
 * A binary op's backward and what it reads: `saves(needs)` says which of a, b and out the
 * gradients asked for (`needs` = needsGrad of a and b) read, so forward keeps nothing else
 * (add and sub keep nothing; `x * w` with w frozen keeps w, not x). `grad` reads only those.
 */
interface BinaryRule {
  saves: (needs: readonly boolean[]) => readonly [boolean, boolean, boolean];
  grad: BinaryGrad;
}

const NOTHING = () => [false, false, false] as const;
const BOTH = () => [true, true, false] as const;

const BINARY_GRADS: { [K in BinaryOp]: BinaryRule | null } = {
  add: { saves: NOTHING, grad: (_a, _b, _o, dy) => [dy, dy] },
  sub: { saves: NOTHING, grad: (_a, _b, _o, dy, n) => [dy, n[1] ? neg(dy) : null] },
  mul: {
    saves: (n) => [n[1], n[0], false],
    grad: (a, b, _o, dy, n) => [n[0] ? mul(dy, b) : null, n[1] ? mul(dy, a) : null],
  },
  div: {
    saves: (n) => [false, true, n[1]],
    grad: (_a, b, out, dy, n) => [n[0] ? div(dy, b) : null, n[1] ? neg(mul(dy, div(out, b))) : null],
  },
  pow: {
    saves: (n) => [true, true, n[1]],
    grad: (a, b, out, dy, n) => [
      n[0] ? mul(dy, mul(b, pow(a, sub(b, 1)))) : null,
      n[1] ? mul(dy, where(gt(a, 0), mul(out, log(a)), 0)) : null,
    ],
  },
  max: {
    saves: BOTH,
    grad: (a, b, _o, dy) => {
      const tie = mul(binaryNoGrad('eq', a, b), 0.5);
      return [mul(dy, add(binaryNoGrad('gt', a, b), tie)), mul(dy, add(binaryNoGrad('gt', b, a), tie))];
    },
  },
  min: {
    saves: BOTH,
    grad: (a, b, _o, dy) => {
      const tie = mul(binaryNoGrad('eq', a, b), 0.5);
      return [mul(dy, add(binaryNoGrad('gt', b, a), tie)), mul(dy, add(binaryNoGrad('gt', a, b), tie))];
    },
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
    const keep = BINARY_GRADS[op]?.saves(ctx.needsGrad) ?? NOTHING();
    ctx.save(keep[0] ? a : null, keep[1] ? b : null, keep[2] ? out : null);
    return out;
  },
  backward(ctx: OpContext, dy, { op }) {
    const rule = BINARY_GRADS[op];
    if (!rule) return [null, null]; // comparisons are piecewise constant: zero gradient
    // Positions forward did not keep are never read by the rule (saves and grad agree).
    const [a, b, out] = ctx.saved as Tensor[];
    return rule.grad(a, b, out, dy, ctx.needsGrad);
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
  out.dropNode();
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

/**
 * What each unary op's gradient reads: both backends take f'(x) from x except that the WASM
 * kernels use y for exp and sqrt (kernels.ts lets a kernel read either); neg and sign read neither.
 * The buffer not kept is replaced by one of the same size the kernel does not read.
 */
const UNARY_READS: { [K in UnaryOp]: 'x' | 'xy' | 'none' } = {
  neg: 'none', sign: 'none', exp: 'xy', sqrt: 'xy', log: 'x', abs: 'x', tanh: 'x', sigmoid: 'x', relu: 'x',
  gelu_tanh: 'x', gelu_erf: 'x', softplus: 'x', square: 'x', recip: 'x',
};

export const unaryOp = defineOp<{ op: UnaryOp }>({
  name: 'unary',
  forward(ctx, [x], { op }) {
    requireFloat(op, x);
    const out = emptyTensor(x.backend, x.shape);
    x.backend.unary(op, x.buf, out.buf, x.size);
    const reads = UNARY_READS[op];
    ctx.save(reads === 'none' ? null : x, reads === 'xy' ? out : null);
    return out;
  },
  backward(ctx, dy, { op }) {
    const [x, y] = ctx.saved;
    const dx = emptyTensor(dy.backend, dy.shape);
    const xb = (x ?? dy).buf;
    dy.backend.unaryGrad(op, xb, (y ?? x ?? dy).buf, dy.buf, dx.buf, dy.size);
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
