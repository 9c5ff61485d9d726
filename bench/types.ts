/** One row of the benchmark table (also the element type of bench/results/latest.json). */
export interface BenchRow {
  /** Kernel or workload, e.g. "matmul", "layerNorm fwd+bwd". */
  name: string;
  /** Problem size, e.g. "512x768x768" (M x K x N for matmul) or "4096x768". */
  shape: string;
  /** "NN", "NT", "TN" for the raw matmul kernel rows; the binary otherwise, e.g. "simd", "relaxed-simd". */
  variant: string;
  /** Threads the kernels ran on (1: no worker pool). */
  threads?: number;
  /** Throughput of our kernel: gflops for compute-bound kernels, gbps for bandwidth-bound ones. */
  gflops?: number;
  gbps?: number;
  /** Training throughput (tokens per second) for whole-step benchmarks. */
  tokensPerSecond?: number;
  /** Time at this size divided by the time at a tenth of it, same run: ~10 for linear work, ~100 for quadratic. */
  scaling?: number;
  /** Mean time of one call in milliseconds (bundle rows: the esbuild run). */
  ms: number;
  /**
   * 1-thread training-step rows: the least process CPU time of a step in ms. It leaves out the time
   * the thread waited for a core, so it compares binaries fairly on a loaded machine (with more
   * threads it would count the workers' spinning, so it is not recorded there).
   */
  cpuMs?: number;
  /** Bundle rows: bytes that load up front, minified, and the same gzipped (level 9). */
  minBytes?: number;
  gzipBytes?: number;
  /** Our throughput divided by the same work in @tensorflow/tfjs-backend-wasm (1 thread), same run. */
  vsTfjs?: number;
  /** Our throughput divided by a naive TypeScript loop, same run. */
  vsNaive?: number;
  /** Our throughput divided by the pure-TS reference backend, same run. */
  vsReference?: number;
}
