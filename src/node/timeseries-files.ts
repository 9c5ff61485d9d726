/** GPT4TS checkpoint directories (config.json + model.safetensors, written atomically) and a GPT4TS built on a GPT-2 checkpoint. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GPT2LMHeadModel } from '../models/gpt2/model.js';
import type { GPT4TSConfigData } from '../timeseries/config.js';
import { gpt4tsFromFiles, gpt4tsToFiles } from '../timeseries/io.js';
import { GPT4TS } from '../timeseries/model.js';
import type { Generator } from '../ops/random.js';
import { readFileBytes, writeFileAtomic } from './files.js';
import { fromPretrained } from './pretrained.js';

export async function saveGPT4TS(model: GPT4TS, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files = gpt4tsToFiles(model);
  await writeFileAtomic(join(dir, 'model.safetensors'), files.weights);
  await writeFileAtomic(join(dir, 'config.json'), files.config);
}

export async function loadGPT4TS(dir: string): Promise<GPT4TS> {
  const config = new TextDecoder().decode(await readFileBytes(join(dir, 'config.json'), { expected: 'the model configuration (config.json)' }));
  const weights = await readFileBytes(join(dir, 'model.safetensors'), { expected: 'the weights (model.safetensors)' });
  return gpt4tsFromFiles(config, weights, { source: join(dir, 'config.json') });
}

/** A GPT4TS whose backbone is the first `gpt_layers` blocks of the GPT-2 checkpoint in `gpt2Dir`. */
export async function gpt4tsFromGPT2Checkpoint(
  gpt2Dir: string, config: Partial<Omit<GPT4TSConfigData, 'gpt2'>> = {}, opts: { generator?: Generator } = {},
): Promise<GPT4TS> {
  const lm = await fromPretrained(gpt2Dir);
  if (!(lm instanceof GPT2LMHeadModel)) {
    lm.dispose();
    throw new Error(`gpt4tsFromGPT2Checkpoint: ${gpt2Dir} is not a GPT-2 checkpoint`);
  }
  try {
    return GPT4TS.fromGPT2(lm, config, opts);
  } finally {
    lm.dispose();
  }
}
