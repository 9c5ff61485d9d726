// Shared helpers for the kernels: lane splats, multiply-add, and the parameter block layout.
//
// Every kernel takes byte addresses into the one imported memory; nothing here allocates (the module
// runs on the stub runtime, so the TypeScript side owns all storage).

/** Bytes per f32 / i32 element. */
export const F: usize = 4;

@inline export function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/**
 * a * b + c. The relaxed build uses relaxed_madd (fused where the hardware has FMA, which is both
 * faster and at least as accurate); the plain SIMD build must stay within baseline SIMD.
 */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Horizontal sum of the four lanes, in a fixed order so every build sums the same way. */
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Horizontal max of the four lanes (NaN-propagating, like f32x4.max). */
@inline export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
    max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

@inline export function ldf(p: usize, i: i32): f32 {
  return load<f32>(p + ((<usize>i) << 2));
}
@inline export function stf(p: usize, i: i32, v: f32): void {
  store<f32>(p + ((<usize>i) << 2), v);
}
@inline export function ldi(p: usize, i: i32): i32 {
  return load<i32>(p + ((<usize>i) << 2));
}
@inline export function ldv(p: usize, i: i32): v128 {
  return v128.load(p + ((<usize>i) << 2));
}
@inline export function stv(p: usize, i: i32, v: v128): void {
  v128.store(p + ((<usize>i) << 2), v);
}
