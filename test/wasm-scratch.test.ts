import { test } from 'vitest';
import { createWasmBackendSync } from '../src/backend/wasm/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { UNARY_OPS } from '../src/backend/kernels.js';
const ulpOf = (v: number) => { const a = Math.abs(v); if (a < 2 ** -126) return 2 ** -149; return 2 ** (Math.floor(Math.log2(a)) - 23); };
test('measure', () => {
  const ref = createReferenceBackend({ dtype: 'float64' });
  for (const variant of ['simd'] as const) {
    const be = createWasmBackendSync({ variant });
    const N = 400001;
    const xs = new Float32Array(N);
    for (let i = 0; i < N; i++) xs[i] = Math.fround(-90 + 180 * i / (N - 1));
    const dys = new Float32Array(N).fill(1);
    const x = be.alloc(N, 'f'), y = be.alloc(N, 'f'), dy = be.alloc(N, 'f'), dx = be.alloc(N, 'f');
    const rx = ref.alloc(N, 'f'), ry = ref.alloc(N, 'f'), rdy = ref.alloc(N, 'f'), rdx = ref.alloc(N, 'f');
    be.write(x, xs); ref.write(rx, xs); be.write(dy, dys); ref.write(rdy, dys);
    for (const op of UNARY_OPS) {
      be.unary(op, x, y, N); ref.unary(op, rx, ry, N);
      be.unaryGrad(op, x, y, dy, dx, N); ref.unaryGrad(op, rx, ry, rdy, rdx, N);
      const a = be.read(y), b = ref.read(ry), ga = be.read(dx), gb = ref.read(rdx);
      let mu = 0, at = 0, mg = 0, atg = 0, absg = 0, absAt = 0;
      for (let i = 0; i < N; i++) {
        const bf = Math.fround(b[i]!), gbf = Math.fround(gb[i]!);
        if (!isFinite(bf) || !isFinite(gbf)) continue;
        const u = Math.abs(a[i]! - b[i]!) / ulpOf(b[i]!); if (u > mu) { mu = u; at = i; }
        const g = Math.abs(ga[i]! - gb[i]!) / ulpOf(gb[i]!); if (g > mg) { mg = g; atg = i; }
        const ab = Math.abs(ga[i]! - gb[i]!); if (ab > absg) { absg = ab; absAt = i; }
      }
      console.log(variant, op.padEnd(10), 'fwd', mu.toFixed(2), 'ulp at', xs[at], '| grad', mg.toFixed(2), 'ulp at', xs[atg], gb[atg], ' max abs', absg.toExponential(2), 'at', xs[absAt]);
    }
  }
});
