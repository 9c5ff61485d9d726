// Deno side of the thread-pool test: Web Workers on a shared memory give the same bits as one thread,
// and the script exits without disposing the pool.
import { createWasmBackend } from '../../src/backend/wasm/index.js';

const one = await createWasmBackend({ threads: 1 });
const two = await createWasmBackend({ threads: 2 });
two.pool!.setSplitThreshold(0);
function run(be: typeof one): number[] {
  const M = 67, K = 50, N = 130;
  const a = be.alloc(M * K, 'f'), b = be.alloc(K * N, 'f'), c = be.alloc(M * N, 'f');
  be.write(a, Array.from({ length: M * K }, (_, i) => Math.sin(i)));
  be.write(b, Array.from({ length: K * N }, (_, i) => Math.cos(i)));
  be.matmul(a, 0, b, 0, c, 0, M, N, K, false, false, 1, 0, 0, 0, false);
  const y = be.alloc(M * N, 'f');
  be.unary('gelu_erf', c, y, M * N);
  const sm = be.alloc(M * N, 'f');
  be.softmax(y, sm, M, N);
  return [...new Int32Array(be.read(sm).buffer)];
}
const r1 = run(one);
const r2 = run(two);
const same = r1.length === r2.length && r1.every((v, i) => v === r2[i]);
console.log(JSON.stringify({ threads: two.threads, ready: two.pool!.readyWorkers(), same, dispatchNs: two.pool!.dispatchNs() }));

