/**
 * Every differentiable op, in one table typed by its name. Adding a name to `OpName` without an
 * entry here (or the reverse) is a compile error, and the test suite iterates this table so every op
 * gets a gradient check.
 */
import type { OpSpec } from '../autograd/op.js';
import { binaryOp, unaryOp } from './elementwise.js';
import { gaussianSampleOp, groupedScaleShiftOp } from './grouped.js';
import { embeddingOp, whereOp } from './indexing.js';
import { matmulOp } from './matmul.js';
import { crossEntropyOp, layerNormOp, logSoftmaxOp, softmaxOp } from './nn.js';
import { maxOp, sumOp } from './reduce.js';
import { broadcastToOp, concatOp, permuteOp, reshapeOp, sliceOp } from './shape.js';
import { erfOp } from './special.js';

export type OpName =
  | 'unary' | 'binary' | 'matmul' | 'sum' | 'max' | 'reshape' | 'broadcastTo' | 'permute' | 'slice'
  | 'concat' | 'where' | 'embedding' | 'softmax' | 'logSoftmax' | 'crossEntropy' | 'layerNorm'
  | 'groupedScaleShift' | 'gaussianSample'
  | 'erf';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const OPS: { readonly [K in OpName]: OpSpec<any> } = {
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
  logSoftmax: logSoftmaxOp,
  crossEntropy: crossEntropyOp,
  layerNorm: layerNormOp,
  groupedScaleShift: groupedScaleShiftOp,
  gaussianSample: gaussianSampleOp,
  erf: erfOp,
};
