// Entry point of the kernel module: re-exports every kernel. Built three ways (asconfig.json).
export function heapBase(): usize {
  return __heap_base;
}
export function simdEnabled(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
