/**
 * A 30-second tour of the engine: tensors, broadcasting, autodiff, scopes, and the fused ops.
 * Run: npm run tour
 */
import * as W from '../src/index.js';

const backend = await W.init(); // relaxed-SIMD, SIMD or scalar WebAssembly, chosen for this runtime
console.log(`backend: ${backend.name} (${backend.variant})`);

// Leaves that collect gradients.
const w = W.tensor([[0.5, -0.25], [0.1, 0.8]], undefined, { requiresGrad: true, name: 'w' });
const b = W.tensor([0.1, -0.1], [2], { requiresGrad: true, name: 'b' });
const x = W.tensor([[1, 2], [3, 4], [5, 6]]);

// A step inside tidy(): every temporary is freed when it returns; w, b and their .grad survive.
const loss = W.tidy(() => {
  const y = W.linear(x, w, b).tanh(); // (3, 2) = x @ w^T + b, broadcast over rows
  const l = y.square().mean();
  l.backward();
  return l.item();
});
console.log('loss', loss.toFixed(6));
console.log('dL/dw', w.grad!.toNested());
console.log('dL/db', b.grad!.toNested());

// The fused primitives behind GRASP and StochGRASP.
W.tidy(() => {
  const acts = W.randn([4, 6], { generator: new W.Generator(42) });
  const groupMap = W.tensor([0, 1, 2, 0, 1, 2], [6], { dtype: 'int32' }); // g(i): 6 dims in 3 groups
  const gamma = W.tensor([1, 2, 0.5], [3], { requiresGrad: true });
  const beta = W.tensor([0, 0.1, -0.1], [3], { requiresGrad: true });
  const y = W.groupedScaleShift(acts, groupMap, gamma, beta); // (x - beta[g(i)]) / gamma[g(i)]
  y.sum().backward();
  console.log('grouped scale/shift: dgamma', gamma.grad!.toNested(), 'dbeta', beta.grad!.toNested());

  const mu = W.zeros([3], { requiresGrad: true });
  const sigma = W.full([3], 0.1, { requiresGrad: true });
  const sample = W.gaussianSample(mu, sigma, { generator: new W.Generator(7) }); // same seed, same sample on every backend
  console.log('gaussian sample', sample.toNested());
});

// Check the gradient of any function against finite differences (float64, reference backend).
const { assertGradcheck } = await import('../src/testing/index.js');
const report = assertGradcheck((t) => W.softmax(t.mul(t)).mul(t).sum(-1), [{ data: [0.3, -1.2, 0.7, 2.0], shape: [2, 2] }]);
console.log('gradcheck:', report.summary);
