// One training step (forward, backward, AdamW) of a 4-layer post-LN encoder with a classification
// head: d 256, 4 heads, FFN 1024, vocab 5000, batch 8 x 128 tokens. Ours (RobertaForSequenceClassification
// on the WASM backend) against the same architecture written with @tensorflow/tfjs ops on
// tfjs-backend-wasm (1 thread), measured side by side in one run.
import * as W from '../src/index.js';
import type { BenchRow } from './types.js';

const CFG = {
  vocab_size: 5000, hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 1024,
  max_position_embeddings: 136, num_labels: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0,
};
const B = 8;
const T = 128;

function batch(gen: W.Generator): { ids: number[]; labels: number[] } {
  const u = W.rand([B * T + B], { generator: gen });
  const v = u.toArray();
  u.dispose();
  const ids = Array.from(v.slice(0, B * T), (x) => 3 + Math.floor(x * (CFG.vocab_size - 3)));
  for (let b = 0; b < B; b++) ids[b * T] = 0; // <s>
  return { ids, labels: Array.from(v.slice(B * T), (x) => (x < 0.5 ? 0 : 1)) };
}

/** CPU time of this process in ms (all its threads). */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Mean wall time of a step, and the least CPU time of a step (after one warm-up step). */
async function timeStepsCpu(step: () => Promise<void> | void, quick: boolean): Promise<{ ms: number; cpuMs: number }> {
  await step(); // warm-up: compilation, allocation, optimizer state
  const n = quick ? 2 : 5;
  let cpu = Infinity;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const c0 = cpuMs();
    await step();
    cpu = Math.min(cpu, cpuMs() - c0);
  }
  return { ms: (performance.now() - t0) / n, cpuMs: cpu };
}

async function timeSteps(step: () => Promise<void> | void, quick: boolean): Promise<number> {
  return (await timeStepsCpu(step, quick)).ms;
}

/**
 * The anchor step's model, optimizer and batch on `be`; `step()` runs one training step, `dispose()`
 * frees it all. `firstTokenOnly: false` makes the last layer compute every position (as before the
 * classifier's `<s>`-only last layer), for side-by-side comparisons. With `adapter`, that method is
 * attached and only its trainable tensors are updated.
 */
export function anchorStep(be: W.Backend, o: { firstTokenOnly?: boolean; adapter?: Parameters<typeof W.applyAdapter>[1] } = {}): { step: () => void; dispose: () => void } {
  return W.withBackend(be, () => {
    const gen = new W.Generator(1);
    const model = new W.RobertaForSequenceClassification(CFG, { generator: gen });
    model.firstTokenOnly = o.firstTokenOnly ?? true;
    const adapted = o.adapter ? W.applyAdapter(model, o.adapter) : null;
    const opt = new W.AdamW(adapted ? adapted.namedTrainable().map(([, p]) => p) : model.parameters(), { lr: 1e-4 });
    const { ids, labels } = batch(gen);
    const idsT = W.tensor(ids, [B, T], { dtype: 'int32' });
    const labelsT = W.tensor(labels, [B], { dtype: 'int32' });
    return {
      step: () => W.withBackend(be, () => W.tidy(() => {
        model.loss(idsT, labelsT).backward();
        opt.step();
        opt.zeroGrad();
      })),
      dispose: () => W.withBackend(be, () => {
        opt.dispose();
        model.dispose();
        W.dispose([idsT, labelsT]);
      }),
    };
  });
}

async function oursMs(be: W.Backend, quick: boolean): Promise<{ ms: number; cpuMs: number; variant: string }> {
  const run = anchorStep(be);
  const { ms, cpuMs } = await timeStepsCpu(run.step, quick);
  run.dispose();
  return { ms, cpuMs, variant: be.variant };
}

/** The per-op profile (W.profile) of one training step after a warm-up step, as a text table. */
export function profileTrainStep(be: W.Backend): string {
  const run = anchorStep(be);
  run.step();
  const p = W.withBackend(be, () => W.profile(run.step));
  run.dispose();
  return p.format();
}

/* eslint-disable @typescript-eslint/no-explicit-any */
async function tfjsMs(quick: boolean): Promise<number | string> {
  let tf: any;
  try {
    // The umbrella package registers the gradient functions (tfjs-core alone does not).
    tf = await import('@tensorflow/tfjs');
    const wasm: any = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) return 'tfjs setBackend("wasm") failed';
    await tf.ready();
  } catch (e) {
    return `tfjs unavailable (${(e as Error).message})`;
  }
  const { hidden_size: C, intermediate_size: F, num_attention_heads: H, vocab_size: V } = CFG;
  const hs = C / H;
  const vars: any[] = [];
  const v = (shape: number[], init: 'n' | 'z' | 'o') => {
    const t = init === 'n' ? tf.randomNormal(shape, 0, 0.02) : init === 'z' ? tf.zeros(shape) : tf.ones(shape);
    const variable = tf.variable(t);
    vars.push(variable);
    return variable;
  };
  const dense = (i: number, o: number) => ({ w: v([i, o], 'n'), b: v([o], 'z') });
  const norm = () => ({ g: v([C], 'o'), b: v([C], 'z') });
  // tfjs-backend-wasm has no UnsortedSegmentSum kernel (the gradient of gather), so the tfjs step
  // leaves the two embedding tables out of the trained variables: it does slightly less work than ours.
  const word = tf.variable(tf.randomNormal([V, C], 0, 0.02));
  const pos = tf.variable(tf.randomNormal([CFG.max_position_embeddings, C], 0, 0.02));
  const emb = { word, pos, ln: norm() };
  const layers = Array.from({ length: CFG.num_hidden_layers }, () => ({
    q: dense(C, C), k: dense(C, C), v: dense(C, C), o: dense(C, C), ln1: norm(), fc: dense(C, F), out: dense(F, C), ln2: norm(),
  }));
  const head = { dense: dense(C, C), out: dense(C, 2) };
  const lin = (x: any, d: { w: any; b: any }) => tf.add(tf.matMul(x, d.w), d.b);
  const layerNorm = (x: any, p: { g: any; b: any }) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), p.g), p.b);
  };
  const gelu = (x: any) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1));
  const split = (x: any) => tf.transpose(tf.reshape(x, [B, T, H, hs]), [0, 2, 1, 3]);
  const { ids, labels } = batch(new W.Generator(1));
  const idsT = tf.tensor2d(ids, [B, T], 'int32');
  const posT = tf.tensor1d(Array.from({ length: T }, (_, i) => i + 2), 'int32');
  const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);
  const opt = tf.train.adam(1e-4);
  const loss = () => {
    let x = layerNorm(tf.add(tf.gather(emb.word, idsT), tf.gather(emb.pos, posT)), emb.ln); // (B, T, C)
    x = tf.reshape(x, [B * T, C]);
    for (const L of layers) {
      const q = split(lin(x, L.q));
      const k = split(lin(x, L.k));
      const val = split(lin(x, L.v));
      const att = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(hs))); // (B, H, T, T)
      const ctx = tf.reshape(tf.transpose(tf.matMul(att, val), [0, 2, 1, 3]), [B * T, C]);
      x = layerNorm(tf.add(x, lin(ctx, L.o)), L.ln1);
      x = layerNorm(tf.add(x, lin(gelu(lin(x, L.fc)), L.out)), L.ln2);
    }
    const first = tf.reshape(tf.slice(tf.reshape(x, [B, T, C]), [0, 0, 0], [B, 1, C]), [B, C]);
    const logits = lin(tf.tanh(lin(first, head.dense)), head.out);
    return tf.losses.softmaxCrossEntropy(onehot, logits);
  };
  try {
    return await timeSteps(() => {
      tf.tidy(() => {
        opt.minimize(loss, false, vars);
      });
    }, quick);
  } catch (e) {
    return `tfjs step failed (${(e as Error).message})`;
  } finally {
    tf.dispose([...vars, word, pos, idsT, posT, onehot]);
    opt.dispose();
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * ms/step and tokens/s for ours at each binary (SIMD, relaxed SIMD where the runtime runs it) and
 * thread count, with `vsTfjs` = tfjs ms / our ms (same run; tfjs-wasm on 1 thread).
 */
export async function trainStepBenches(
  opts: { quick?: boolean; log?: (s: string) => void; threads?: number[] } = {},
): Promise<BenchRow[]> {
  const log = opts.log ?? console.log;
  const quick = opts.quick ?? false;
  const tokens = B * T;
  const rows: BenchRow[] = [];
  const results: { variant: string; threads: number; ms: number; cpuMs: number }[] = [];
  for (const variant of ['simd', 'relaxed-simd'] as const) {
    for (const threads of opts.threads ?? [1]) {
      let be: W.WasmBackend;
      try {
        be = await W.createWasmBackend({ variant, threads });
      } catch (e) {
        log(`train step ${variant} ${threads} threads: skipped, ${(e as Error).message}`);
        continue;
      }
      const ours = await oursMs(be, quick);
      be.dispose();
      results.push({ variant: ours.variant, threads, ms: ours.ms, cpuMs: ours.cpuMs });
      log(`train step ${ours.variant} ${threads} thread(s): ${ours.ms.toFixed(0)} ms/step` +
        (threads === 1 ? `, least CPU time ${ours.cpuMs.toFixed(0)} ms` : ''));
    }
  }
  const tf = await tfjsMs(quick);
  const base = results.find((r) => r.variant === 'simd' && r.threads === 1);
  log(`train step (4-layer encoder, d 256, FFN 1024, vocab 5000, batch ${B}x${T})` +
    (typeof tf === 'number' ? `: tfjs-wasm ${tf.toFixed(0)} ms/step` : `; ${tf}`));
  for (const r of results) {
    if (base !== undefined) {
      log(`  ${r.variant} ${r.threads} thread(s): ${(r.ms / base.ms).toFixed(2)}x the 1-thread SIMD step` +
        (r.threads === 1 ? ` (CPU time ${(r.cpuMs / base.cpuMs).toFixed(2)}x)` : ''));
    }
    rows.push({
      name: 'train step encoder',
      shape: `L4 d256 ffn1024 V5000 ${B}x${T}`,
      variant: r.variant,
      threads: r.threads,
      ms: r.ms,
      tokensPerSecond: (tokens / r.ms) * 1000,
      ...(r.threads === 1 ? { cpuMs: r.cpuMs } : {}),
      vsTfjs: typeof tf === 'number' ? tf / r.ms : undefined,
    });
  }
  return rows;
}
