/**
 * Demo: a small MLP learns the two-spirals problem on the WASM backend, with a visible loss drop.
 * Run: npm run demo   (about a second on 2 cores)
 */
import * as W from '../src/index.js';

const N = 400; // points per spiral
const EPOCHS = 60;
const BATCH = 100;

/** Two interleaved spirals, generated deterministically (no data files needed). */
function spirals(n: number, gen: W.Generator): { x: Float32Array; y: Int32Array } {
  const noise = W.randn([2 * n, 2], { generator: gen });
  const eps = noise.toArray();
  noise.dispose();
  const x = new Float32Array(4 * n);
  const y = new Int32Array(2 * n);
  for (let i = 0; i < 2 * n; i++) {
    const cls = i % 2;
    const t = ((i >> 1) / n) * 3 * Math.PI + 0.5;
    const r = t / (3 * Math.PI);
    const sgn = cls === 0 ? 1 : -1;
    x[2 * i] = sgn * r * Math.cos(t) + 0.03 * eps[2 * i];
    x[2 * i + 1] = sgn * r * Math.sin(t) + 0.03 * eps[2 * i + 1];
    y[i] = cls;
  }
  return { x, y };
}

function param(shape: number[], std: number, gen: W.Generator): W.Tensor {
  const t = W.tidy(() => W.randn(shape, { generator: gen }).mul(std));
  t.requiresGrad = true;
  return t;
}

const backend = await W.init();
console.log(`wasmgrad demo: two-spirals MLP on ${backend.name} (${backend.variant})`);
const gen = new W.Generator(2024);
const data = spirals(N, gen);
const H = 64;
const params = [
  param([H, 2], Math.sqrt(2 / 2), gen), W.zeros([H], { requiresGrad: true }),
  param([H, H], Math.sqrt(2 / H), gen), W.zeros([H], { requiresGrad: true }),
  param([2, H], Math.sqrt(1 / H), gen), W.zeros([2], { requiresGrad: true }),
];
const [w1, b1, w2, b2, w3, b3] = params;
const forward = (x: W.Tensor) => W.linear(W.gelu(W.linear(W.gelu(W.linear(x, w1, b1)), w2, b2)), w3, b3);
const opt = new W.AdamW(params, { lr: 1e-2, weightDecay: 1e-4 });

const X = W.tensor(data.x, [2 * N, 2]);
const Y = W.tensor(data.y, [2 * N], { dtype: 'int32' });
const evaluate = () =>
  W.tidy(() =>
    W.noGrad(() => {
      const logits = forward(X);
      const loss = W.crossEntropy(logits, Y).item();
      const pred = W.gt(W.slice(logits, [0, 1], [2 * N, 2]), W.slice(logits, [0, 0], [2 * N, 1])).toArray();
      let correct = 0;
      for (let i = 0; i < 2 * N; i++) if ((pred[i] > 0 ? 1 : 0) === data.y[i]) correct++;
      return { loss, acc: correct / (2 * N) };
    }),
  );

const start = evaluate();
console.log(`before training: loss ${start.loss.toFixed(4)}, accuracy ${(100 * start.acc).toFixed(1)}%`);
const t0 = performance.now();
const perm = Array.from({ length: 2 * N }, (_, i) => i);
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  // Deterministic shuffle from the generator.
  const u = W.rand([2 * N], { generator: gen });
  const keys = u.toArray();
  u.dispose();
  perm.sort((a, b) => keys[a] - keys[b]);
  opt.lr = 1e-2 * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / EPOCHS)); // cosine decay
  for (let s = 0; s < 2 * N; s += BATCH) {
    const idx = perm.slice(s, s + BATCH);
    W.tidy(() => {
      const ids = W.tensor(idx, [idx.length], { dtype: 'int32' });
      const xb = W.embedding(X, ids); // gather rows of the dataset
      const yb = W.tensor(idx.map((i) => data.y[i]), [idx.length], { dtype: 'int32' });
      W.crossEntropy(forward(xb), yb).backward();
      W.clipGradNorm(params, 5);
      opt.step();
      opt.zeroGrad();
    });
  }
  if (epoch % 10 === 0) {
    const m = evaluate();
    const bar = '#'.repeat(Math.round((20 * epoch) / EPOCHS)).padEnd(20, '.');
    console.log(`[${bar}] epoch ${String(epoch).padStart(3)}  loss ${m.loss.toFixed(4)}  accuracy ${(100 * m.acc).toFixed(1)}%  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
}
const end = evaluate();
console.log(`after training: loss ${start.loss.toFixed(4)} -> ${end.loss.toFixed(4)}, accuracy ${(100 * start.acc).toFixed(1)}% -> ${(100 * end.acc).toFixed(1)}%`);
console.log(`live WASM memory after training: ${(backend.liveBytes() / 1024).toFixed(1)} KiB (parameters, optimizer state, data)`);
