// Entry point of the kernel module: re-exports every kernel. Built three ways (asconfig.json):
// simd, scalar and relaxed-simd, from this one source; each kernel branches on ASC_FEATURE_SIMD /
// ASC_FEATURE_RELAXED_SIMD at compile time. All pointers are byte addresses into the imported memory.
export function heapBase(): usize {
  return __heap_base;
}
export function simdEnabled(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
export function relaxedSimdEnabled(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

export { unary, unaryGrad } from './elementwise';
export { binary } from './broadcast';
export { reduce } from './reduce';
export { copyStrided } from './copy';
export { attentionSoftmax, attentionSoftmaxBackward } from './attention';
export { softmax, softmaxBackward, logSoftmax, logSoftmaxBackward, crossEntropy, crossEntropyBackward } from './softmax';
export { layerNorm, layerNormBackward, layerNormParamGrad } from './layernorm';
export { groupedScaleShift, groupedScaleShiftBackward } from './grouped';
export { gaussianSample, gaussianSampleBackward, randn, randu, dropoutMask } from './random';
export { gatherRows, scatterAddRows, oneHot } from './gather';
export { fill32, axpy, scale, where, sumSquares, adamw, sgd } from './optim';
export { matmul, matmulPack, matmulPacked, matmulScratchBytes } from './matmul';
