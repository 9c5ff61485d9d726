// Runs under Deno (see test/deno.test.ts): the shared workload on the WebAssembly backend, printed
// as JSON (with the binary Deno chose) for the Node side to compare.
import * as W from '../../src/index.js';
import { workload } from './workload.js';

declare const Deno: { args: string[] };
const variant = (Deno.args[0] ?? 'auto') as 'auto' | 'simd' | 'scalar' | 'relaxed-simd';
const backend = await W.init({ variant });
console.log(JSON.stringify({ variant: backend.variant, ...workload() }));
