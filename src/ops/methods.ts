/**
 * Chainable Tensor methods (`x.matmul(w).add(b).relu()`), attached to the prototype so tensor.ts
 * does not depend on the op layer.
 */
import { backward, type BackwardOptions } from '../autograd/backward.js';
import { Tensor } from '../tensor/tensor.js';
import * as ops from './index.js';
import type { TensorLike } from './create.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    add(b: TensorLike): Tensor;
    sub(b: TensorLike): Tensor;
    mul(b: TensorLike): Tensor;
    div(b: TensorLike): Tensor;
    pow(b: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    gelu(approximate?: 'none' | 'tanh'): Tensor;
    softplus(): Tensor;
    square(): Tensor;
    erf(): Tensor;
    matmul(b: Tensor, opts?: ops.MatmulOptions): Tensor;
    sum(axes?: number | readonly number[], keepdim?: boolean): Tensor;
    mean(axes?: number | readonly number[], keepdim?: boolean): Tensor;
    max(axes?: number | readonly number[], keepdim?: boolean): Tensor;
    variance(axes?: number | readonly number[], opts?: { keepdim?: boolean; correction?: number }): Tensor;
    reshape(shape: readonly number[]): Tensor;
    permute(perm: readonly number[]): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    slice(starts: readonly number[], ends?: readonly number[]): Tensor;
    unsqueeze(axis: number): Tensor;
    squeeze(axis?: number): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    broadcastTo(shape: readonly number[]): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    /** Runs reverse-mode autodiff from this tensor (a scalar, or pass the output gradient). */
    backward(grad?: Tensor, opts?: BackwardOptions): void;
    /** Same values, no autograd history. */
    detach(): Tensor;
    /** A copy with its own storage, no autograd history. */
    clone(): Tensor;
  }
}

const p = Tensor.prototype;
p.add = function (b) { return ops.add(this, b); };
p.sub = function (b) { return ops.sub(this, b); };
p.mul = function (b) { return ops.mul(this, b); };
p.div = function (b) { return ops.div(this, b); };
p.pow = function (b) { return ops.pow(this, b); };
p.neg = function () { return ops.neg(this); };
p.exp = function () { return ops.exp(this); };
p.log = function () { return ops.log(this); };
p.sqrt = function () { return ops.sqrt(this); };
p.abs = function () { return ops.abs(this); };
p.tanh = function () { return ops.tanh(this); };
p.sigmoid = function () { return ops.sigmoid(this); };
p.relu = function () { return ops.relu(this); };
p.gelu = function (approximate) { return ops.gelu(this, approximate); };
p.softplus = function () { return ops.softplus(this); };
p.square = function () { return ops.square(this); };
p.erf = function () { return ops.erf(this); };
p.matmul = function (b, opts) { return ops.matmul(this, b, opts); };
p.sum = function (axes, keepdim) { return ops.sum(this, axes, keepdim); };
p.mean = function (axes, keepdim) { return ops.mean(this, axes, keepdim); };
p.max = function (axes, keepdim) { return ops.max(this, axes, keepdim); };
p.variance = function (axes, opts) { return ops.variance(this, axes, opts); };
p.reshape = function (shape) { return ops.reshape(this, shape); };
p.permute = function (perm) { return ops.permute(this, perm); };
p.transpose = function (d0, d1) { return ops.transpose(this, d0, d1); };
p.slice = function (starts, ends) { return ops.slice(this, starts, ends); };
p.unsqueeze = function (axis) { return ops.unsqueeze(this, axis); };
p.squeeze = function (axis) { return ops.squeeze(this, axis); };
p.flatten = function (a, b) { return ops.flatten(this, a, b); };
p.broadcastTo = function (shape) { return ops.broadcastTo(this, shape); };
p.softmax = function (axis) { return ops.softmax(this, axis); };
p.logSoftmax = function (axis) { return ops.logSoftmax(this, axis); };
p.backward = function (grad, opts) { backward(this, grad, opts); };
p.detach = function () { return ops.detach(this); };
p.clone = function () { return ops.clone(this); };
