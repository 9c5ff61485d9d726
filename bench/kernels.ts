import type { BenchRow } from './types.js';

/** Layer norm, grouped scale/shift, Gaussian sampling (fwd+bwd) in GB/s against the reference backend. */
export async function kernelBenches(): Promise<BenchRow[]> {
  // Filled in by the kernel benchmarks work; returns no rows until then.
  return [];
}
