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
});
