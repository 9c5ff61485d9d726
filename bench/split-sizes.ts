// Whether splitting the memory-bound kernels over the pool pays at the training step's sizes: each
// op's least wall time over many interleaved repetitions, unsplit (split threshold infinite) and
// split (threshold 0: split into one task per thread at any size), on one 2-thread backend. The least time is what a call
// takes when both cores are free, so the comparison holds on a loaded machine better than means.
//   node dist/bench/split-sizes.js [--reps 200]
import * as W from '../src/index.js';

const i = process.argv.indexOf('--reps');
const reps = i >= 0 ? Number(process.argv[i + 1]) : 200;
const be = await W.createWasmBackend({ threads: 2 });
const pool = be.pool!;
const calibrated = pool.dispatchNs()!;
const r = (shape: number[]) => W.randn(shape, { generator: new W.Generator(1) });

W.withBackend(be, () => {
  const cases: [string, () => W.Tensor | void][] = [];
  for (const [rows, cols] of [[1024, 256], [1024, 1024]] as const) {
    const a = r([rows, cols]);
    const b = r([rows, cols]);
    const bias = r([cols]);
    cases.push([`add ${rows}x${cols}`, () => W.add(a, b)]);
    cases.push([`add bias ${rows}x${cols} + ${cols}`, () => W.add(a, bias)]);
    cases.push([`axpy (grad +=) ${rows * cols}`, () => be.axpy(1, a.buf, b.buf, rows * cols)]);
    const g = W.full([cols], 1);
    const z = W.full([cols], 0);
    const x = W.tensor(a.toArray(), [rows, cols]);
    cases.push([`layerNorm fwd ${rows}x${cols}`, () => W.layerNorm(x, g, z)]);
  }
  const p = r([8, 128, 4, 64]);
  cases.push(['permute 8x128x4x64 -> 8x4x128x64', () => W.permute(p, [0, 2, 1, 3])]);
  const q = r([8, 4, 128, 64]);
  cases.push(['permute 8x4x128x64 -> 8x128x4x64', () => W.permute(q, [0, 2, 1, 3])]);
  const best = new Map<string, [number, number]>();
  for (let rep = 0; rep < reps; rep++) {
    for (const [name, f] of cases) {
      for (const split of [false, true]) {
        pool.setSplitThreshold(split ? 0 : Number.MAX_SAFE_INTEGER);
        const t0 = performance.now();
        W.tidy(() => { f(); });
        const dt = performance.now() - t0;
        const e = best.get(name) ?? [Infinity, Infinity];
        e[split ? 1 : 0] = Math.min(e[split ? 1 : 0], dt);
        best.set(name, e);
      }
    }
  }
  console.log(`dispatch ${calibrated.toFixed(0)} ns; least of ${reps}, us`);
  for (const [name, [one, two]] of best) {
    console.log(`${name.padEnd(40)} unsplit ${(one * 1000).toFixed(0).padStart(6)}  split ${(two * 1000).toFixed(0).padStart(6)}  split/unsplit ${(two / one).toFixed(2)}`);
  }
});
be.dispose();
