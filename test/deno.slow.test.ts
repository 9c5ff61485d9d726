/** The library loads and trains under Deno (the `deno` npm package), with the same numbers as Node. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function denoBinary(): string {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('deno/package.json'));
  const bin = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'deno.cmd' : 'deno');
  if (!existsSync(bin)) throw new Error(`deno launcher not found at ${bin} (package at ${pkgDir}); run npm install`);
  return bin;
}

function runSmoke(variant: string): { variant: string; loss: number; dw: number[]; dgamma: number[]; dbeta: number[] } {
  const out = execFileSync(
    denoBinary(),
    ['run', '--quiet', '--sloppy-imports', '--no-config', '--allow-read', 'test/deno/smoke.ts', variant],
    { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('Deno', () => {
  it('runs a forward/backward on the WASM backend and matches Node', async () => {
    const deno = runSmoke('simd');
    expect(deno.variant).toBe('simd');
    // The same computation in this Node process, with the binary Deno chose.
    const W = await import('../src/index.js');
    const { workload } = await import('./deno/workload.js');
    const { createWasmBackendSync } = await import('../src/backend/wasm/index.js');
    const be = createWasmBackendSync({ variant: deno.variant as 'simd' | 'relaxed-simd' | 'scalar' });
    const node = W.withBackend(be, workload);
    expect(Number.isFinite(deno.loss)).toBe(true);
    // Same binary, same inputs (the RNG is bit-identical across engines): identical float32 results.
    expect(deno.loss).toBe(node.loss);
    expect(deno.dw).toEqual(node.dw);
    expect(deno.dgamma).toEqual(node.dgamma);
    expect(deno.dbeta).toEqual(node.dbeta);
  }, 180_000);

  it('picks the relaxed-SIMD binary where the runtime validates it, with results close to SIMD', () => {
    const auto = runSmoke('auto');
    const simd = runSmoke('simd');
    // Deno's V8 ships relaxed SIMD enabled; fused multiply-add changes only the last bits.
    expect(auto.variant).toBe('relaxed-simd');
    expect(Math.abs(auto.loss - simd.loss)).toBeLessThan(1e-5);
    auto.dw.forEach((v, i) => expect(Math.abs(v - simd.dw[i])).toBeLessThan(1e-5));
  }, 180_000);
});

describe('Deno: the training worker\'s session', () => {
  it('loads tiny-roberta from bytes, trains GRASP (the loss falls), and its adapter bytes reload in Node to the same logits', async () => {
    const fixtures = join(dirname(createRequire(import.meta.url).resolve('sentiment/package.json')), 'test', 'fixtures');
    const out = execFileSync(
      denoBinary(),
      ['run', '--quiet', '--sloppy-imports', '--no-config', '--allow-read', 'test/deno/session.ts', join(root, 'examples', 'checkpoints', 'tiny-roberta'), fixtures],
      { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 300_000, maxBuffer: 64 * 2 ** 20 },
    );
    const r = JSON.parse(out.trim().split('\n').pop()!) as { losses: number[]; texts: string[]; logits: number[][]; files: Record<string, string> };
    expect(r.losses).toHaveLength(40);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // 21 of the 32 sentences are positive: the label prior alone scores 0.644.
    expect(mean(r.losses.slice(-5))).toBeLessThan(0.45);
    expect(mean(r.losses.slice(-5))).toBeLessThan(mean(r.losses.slice(0, 5)) - 0.1);
    // The adapter files, loaded in this Node process onto the checkpoint: the logits Deno computed.
    const W = await import('../src/index.js');
    const { createWasmBackendSync } = await import('../src/backend/wasm/index.js');
    const { fromPretrained, loadTokenizerFromDirectory } = await import('../src/node/index.js');
    const { collateExamples } = await import('../src/tasks/batches.js');
    const { batchTensors } = await import('../src/tasks/classification.js');
    const dir = join(root, 'examples', 'checkpoints', 'tiny-roberta');
    W.setBackend(createWasmBackendSync());
    const model = await fromPretrained(dir, { architecture: 'RobertaForSequenceClassification', freshHead: true, config: { num_labels: 2 } });
    const bytes = (name: string) => new Uint8Array(Buffer.from(r.files[name], 'base64'));
    const adapted = W.loadAdapter(model, new TextDecoder().decode(bytes('adapter_config.json')), bytes('adapter_model.safetensors'));
    const tok = await loadTokenizerFromDirectory(dir);
    model.eval();
    r.texts.forEach((text, i) => {
      const { ids } = tok.encodeForRoberta(text, { maxLength: 64 });
      const t = batchTensors(collateExamples([{ ids, label: 0 }], [0], 1));
      const got = Array.from(model.forward(t.ids, { attentionMask: t.attentionMask }).logits.toArray());
      got.forEach((v, j) => expect(Math.abs(v - r.logits[i][j]), `${text}: logit ${j}`).toBeLessThan(1e-4));
    });
    expect(adapted.method).toBe('grasp');
    adapted.remove();
    model.dispose();
  }, 360_000);
});
