/**
 * Checkpoint directories: save -> load is bit-exact, bad files explain themselves. (PyTorch loading
 * what we save: pretrained-torch.slow.test.ts.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { fromPretrained, savePretrained } from '../src/node/pretrained.js';
import { loadFixture, stateTensors } from './fixtures/models/fixtures.js';
import { rawSafetensors, rawTensorOf, rawTensorsOf, type RawTensor } from './raw-safetensors.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'wasmgrad-ckpt-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function gpt2FromFixture(): W.GPT2LMHeadModel {
  const f = loadFixture('gpt2');
  const model = new W.GPT2LMHeadModel(new W.GPT2Config(f.config));
  const state = stateTensors(f);
  model.loadStateDict(state);
  W.dispose([...state.values()]);
  return model;
}

const logitsOf = (m: W.GPT2LMHeadModel, ids: number[][]) =>
  W.tidy(() => Array.from(m.forward(W.tensor(ids, undefined, { dtype: 'int32' })).logits.toArray()));

describe('fromPretrained / savePretrained', () => {
  it('GPT-2: save -> load is bit-exact (weights and logits)', async () => {
    const model = gpt2FromFixture();
    const dir = tmp();
    await savePretrained(model, dir);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.model_type).toBe('gpt2');
    const loaded = (await fromPretrained(dir)) as W.GPT2LMHeadModel;
    for (const [name, t] of model.stateDict()) {
      expect(Array.from(loaded.stateDict().get(name)!.toArray()), name).toEqual(Array.from(t.toArray()));
    }
    const ids = [[3, 14, 15, 9, 2, 6]];
    expect(logitsOf(loaded, ids)).toEqual(logitsOf(model, ids));
    model.dispose();
    loaded.dispose();
  });

  it('loading writes the weights straight into the parameters: the heap never holds a second copy of the model', async () => {
    const model = gpt2FromFixture();
    const dir = tmp();
    await savePretrained(model, dir);
    const be = W.createWasmBackendSync();
    be.resetPeak();
    const before = be.liveBytes();
    const loaded = await fromPretrained(dir, { backend: be });
    const params = loaded.parameters().reduce((n, p) => n + 4 * p.size, 0);
    expect(loaded.parameters()[0]!.backend).toBe(be);
    // the parameters themselves (size classes round up by at most 25%), no staged copy of the weights
    expect(be.peakBytes() - before).toBeLessThanOrEqual(params * 1.25);
    expect(be.peakBytes() - before).toBeLessThan(2 * params);
    W.withBackend(be, () => {
      for (const [name, t] of model.stateDict()) {
        expect(Array.from(loaded.stateDict().get(name)!.toArray()), name).toEqual(Array.from(t.toArray()));
      }
    });
    model.dispose();
    loaded.dispose();
    be.dispose();
  });

  it('RoBERTa classification: save -> load is bit-exact and keeps the head', async () => {
    const f = loadFixture('roberta_cls');
    const model = new W.RobertaForSequenceClassification(new W.RobertaConfig(f.config));
    const state = stateTensors(f);
    model.loadStateDict(state);
    W.dispose([...state.values()]);
    const dir = tmp();
    await savePretrained(model, dir);
    const loaded = await fromPretrained(dir);
    expect(loaded).toBeInstanceOf(W.RobertaForSequenceClassification);
    for (const [name, t] of model.stateDict()) {
      expect(Array.from(loaded.stateDict().get(name)!.toArray()), name).toEqual(Array.from(t.toArray()));
    }
    model.dispose();
    loaded.dispose();
  });

  it('explains Git LFS pointers, truncated downloads, missing weights and unknown model types', async () => {
    const model = gpt2FromFixture();
    const dir = tmp();
    await savePretrained(model, dir);
    model.dispose();
    const weights = readFileSync(join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'model.safetensors'), weights.subarray(0, weights.length - 100));
    await expect(fromPretrained(dir)).rejects.toThrow(/truncated/);
    writeFileSync(join(dir, 'model.safetensors'), 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n');
    await expect(fromPretrained(dir)).rejects.toThrow(/Git LFS pointer/);
    rmSync(join(dir, 'model.safetensors'));
    await expect(fromPretrained(dir)).rejects.toThrow(/no model.safetensors/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'llama' }));
    await expect(fromPretrained(dir)).rejects.toThrow(/model_type "llama" .* not supported/);
  });

  // Buffers as torch stores them, from test/fixtures/torch-int.safetensors (make_int_safetensors.py).
  const torchInts = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'torch-int.safetensors')));
  const withBuffers = (dir: string, extra: [string, RawTensor][]) => {
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, rawSafetensors([...rawTensorsOf(new Uint8Array(readFileSync(path))), ...extra]));
  };

  it('skips the integer and bool buffers of real checkpoints: RoBERTa int64 position_ids, GPT-2 uint8/bool attn.bias', async () => {
    const gpt2 = gpt2FromFixture();
    const gdir = tmp();
    await savePretrained(gpt2, gdir);
    withBuffers(gdir, [
      ['h.0.attn.bias', rawTensorOf(torchInts, 'h.0.attn.bias')], // uint8
      ['h.1.attn.bias', rawTensorOf(torchInts, 'h.1.attn.bias')], // bool
      ['h.0.attn.masked_bias', { dtype: 'BOOL', shape: [], bytes: Uint8Array.of(1) }],
    ]);
    const g = (await fromPretrained(gdir)) as W.GPT2LMHeadModel;
    const ids = [[3, 14, 15, 9, 2, 6]];
    expect(logitsOf(g, ids)).toEqual(logitsOf(gpt2, ids));
    gpt2.dispose();
    g.dispose();

    const f = loadFixture('roberta_cls');
    const roberta = new W.RobertaForSequenceClassification(new W.RobertaConfig(f.config));
    const state = stateTensors(f);
    roberta.loadStateDict(state);
    W.dispose([...state.values()]);
    const rdir = tmp();
    await savePretrained(roberta, rdir);
    withBuffers(rdir, [['roberta.embeddings.position_ids', rawTensorOf(torchInts, 'roberta.embeddings.position_ids')]]);
    const r = await fromPretrained(rdir);
    for (const [name, t] of roberta.stateDict()) {
      expect(Array.from(r.stateDict().get(name)!.toArray()), name).toEqual(Array.from(t.toArray()));
    }
    roberta.dispose();
    r.dispose();
  });

  it('refuses integer data in place of a float weight, and names the file in safetensors errors', async () => {
    const model = gpt2FromFixture();
    const dir = tmp();
    await savePretrained(model, dir);
    model.dispose();
    const path = join(dir, 'model.safetensors');
    const entries = rawTensorsOf(new Uint8Array(readFileSync(path)));
    const ln = entries.find(([name]) => name === 'transformer.ln_f.bias')!;
    ln[1] = { dtype: 'I8', shape: ln[1].shape, bytes: new Uint8Array(ln[1].shape[0]) }; // a quantized-looking weight
    writeFileSync(path, rawSafetensors(entries));
    await expect(fromPretrained(dir)).rejects.toThrow(/dtype mismatch for transformer\.ln_f\.bias: the model has float32, the state dict int32/);
    writeFileSync(path, rawSafetensors([['x', { dtype: 'I64', shape: [1], bytes: Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 0) }]]));
    await expect(fromPretrained(dir)).rejects.toThrow(`safetensors: ${path}: I64 tensor "x" holds 4294967296 at element 0`);
    writeFileSync(path, 'not safetensors at all');
    await expect(fromPretrained(dir)).rejects.toThrow(`safetensors: ${path}: header length`);
  });
});
