/** PyTorch (where python3 has torch) loads a checkpoint directory we save, with the same logits. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { savePretrained } from '../src/node/pretrained.js';
import { loadFixture, stateTensors } from './fixtures/models/fixtures.js';
import { tempDirs } from './helpers.js';

const tmp = tempDirs();

const torchAvailable = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
})();

describe('savePretrained', () => {
  (torchAvailable ? it : it.skip)('a directory we save loads in the fixture script\'s PyTorch GPT-2 with the same logits', async () => {
    const f = loadFixture('gpt2');
    const model = new W.GPT2LMHeadModel(new W.GPT2Config(f.config));
    const state = stateTensors(f);
    model.loadStateDict(state);
    W.dispose([...state.values()]);
    const dir = tmp('ckpt');
    await savePretrained(model, dir);
    const ids = [[3, 14, 15, 9, 2, 6], [7, 7, 1, 0, 5, 11]];
    const out = JSON.parse(execFileSync('/usr/bin/python3', ['test/fixtures/scripts/load_saved_in_torch.py', dir, JSON.stringify(ids)], { encoding: 'utf8', timeout: 120_000 }));
    expect(out.metadata).toEqual({ format: 'pt' });
    const ours = W.tidy(() => Array.from(model.forward(W.tensor(ids, undefined, { dtype: 'int32' })).logits.toArray()));
    const maxAbs = Math.max(...ours.map((v, i) => Math.abs(v - out.logits[i])));
    expect(maxAbs).toBeLessThan(1e-4);
    model.dispose();
  }, 180_000);
});
