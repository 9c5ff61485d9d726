/**
 * Process-level memory figures, next to the tensor heap's peak: what a device must actually hold.
 * The tensor peak counts live tensor bytes only; the process also holds the runtime, the tokenizer,
 * the task's data and the WebAssembly memory, which grows and never shrinks.
 */
import { getBackend } from '../tensor/engine.js';

export interface ProcessMemory {
  /** Peak resident set size of this process so far (Node's maxRSS), in bytes. */
  process_peak_rss_bytes: number;
  /** Size of the backend's WebAssembly memory (0 on the reference backend), in bytes. */
  wasm_memory_bytes: number;
}

export function processMemory(): ProcessMemory {
  const memory = (getBackend() as { memory?: WebAssembly.Memory }).memory;
  return { process_peak_rss_bytes: process.resourceUsage().maxRSS * 1024, wasm_memory_bytes: memory?.buffer.byteLength ?? 0 };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** One labelled line: the process peak and the WebAssembly memory. */
export function formatProcessMemory(m: ProcessMemory): string {
  return `process memory: peak resident ${mib(m.process_peak_rss_bytes)}, WebAssembly memory ${mib(m.wasm_memory_bytes)} (size a device from these, not from the tensor peak)`;
}
