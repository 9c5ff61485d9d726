/**
 * Every differentiable op, in one table typed by its name and attributes. Adding an op to `OpAttrs`
 * without an entry here (or the reverse), or an entry whose attributes differ from the declared ones,
 * is a compile error; the test suite iterates this table so every op gets a gradient check.
 */
import type { OpSpec } from '../autograd/op.js';
import type { BinaryOp, UnaryOp } from '../backend/kernels.js';
import { attentionSoftmaxOp } from './attention.js';
import { binaryOp, unaryOp } from './elementwise.js';
import { gaussianSampleOp, groupedScaleShiftOp } from './grouped.js';
import { embeddingOp, whereOp } from './indexing.js';
import { lmHeadCrossEntropyOp } from './lm-head.js';
import { matmulOp } from './matmul.js';
import { crossEntropyOp, layerNormOp, logSoftmaxOp, softmaxOp } from './nn.js';
import type { Generator } from './random.js';
import { maxOp, sumOp } from './reduce.js';
import { broadcastToOp, concatOp, permuteOp, reshapeOp, sliceOp } from './shape.js';
import { erfOp } from './special.js';

/** No attributes: the op is defined by its inputs alone. */
export type NoAttrs = Record<string, never>;

/**
 * The attributes each op takes, by name: the contract `OPS` is checked against. `OpSpec` is
 * invariant in its attributes, so an entry whose op takes other attributes than declared here (a
 * field missing, added or of another type), a missing entry and an extra entry are compile errors.
 */
export interface OpAttrs {
  unary: { op: UnaryOp };
  binary: { op: BinaryOp };
  matmul: { transA: boolean; transB: boolean };
  sum: { axes: number[]; keepdim: boolean };
  max: { axes: number[]; keepdim: boolean };
  reshape: { shape: number[] };
  broadcastTo: { shape: number[] };
  permute: { perm: number[] };
  slice: { starts: number[]; sizes: number[] };
  concat: { axis: number };
  where: NoAttrs;
  embedding: { paddingIdx: number | null };
  softmax: NoAttrs;
  attentionSoftmax: { scale: number; causal: boolean };
  logSoftmax: NoAttrs;
  /** `count` is written by the forward (rows whose target is not ignoreIndex) for the backward. */
  crossEntropy: { ignoreIndex: number; smoothing: number; count?: number };
  /** crossEntropy(hidden @ weight^T, targets) in row chunks of `chunk`; `count` as crossEntropy's. */
  lmHeadCrossEntropy: { ignoreIndex: number; smoothing: number; chunk: number; count?: number };
  layerNorm: { eps: number; hasGamma: boolean; hasBeta: boolean };
  groupedScaleShift: { K: number };
  gaussianSample: { generator: Generator };
  erf: NoAttrs;
}

export type OpName = keyof OpAttrs;

export const OPS: { readonly [K in OpName]: OpSpec<OpAttrs[K]> } = {
  unary: unaryOp,
  binary: binaryOp,
  matmul: matmulOp,
  sum: sumOp,
  max: maxOp,
  reshape: reshapeOp,
  broadcastTo: broadcastToOp,
  permute: permuteOp,
  slice: sliceOp,
  concat: concatOp,
  where: whereOp,
  embedding: embeddingOp,
  softmax: softmaxOp,
  attentionSoftmax: attentionSoftmaxOp,
  logSoftmax: logSoftmaxOp,
  crossEntropy: crossEntropyOp,
  lmHeadCrossEntropy: lmHeadCrossEntropyOp,
  layerNorm: layerNormOp,
  groupedScaleShift: groupedScaleShiftOp,
  gaussianSample: gaussianSampleOp,
  erf: erfOp,
};
