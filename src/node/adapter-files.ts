/**
 * Saving and loading adapters as a directory (`adapter_config.json` + `adapter_model.safetensors`),
 * each file written atomically so a crash mid-save leaves the previous adapter intact.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { adapterConfigJson, adapterWeights, loadAdapter } from '../adapters/io.js';
import type { AdaptedModel } from '../adapters/model.js';
import { inFile } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import { readFileBytes, writeFileAtomic } from './files.js';

export async function saveAdapter(adapted: AdaptedModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Weights first: a config next to stale weights would be caught by the shape checks on load, the reverse would not.
  await writeFileAtomic(join(dir, 'adapter_model.safetensors'), adapterWeights(adapted));
  await writeFileAtomic(join(dir, 'adapter_config.json'), adapterConfigJson(adapted));
}

export async function loadAdapterFromDirectory<M extends Module>(model: M, dir: string): Promise<AdaptedModel<M>> {
  const config = new TextDecoder().decode(await readFileBytes(join(dir, 'adapter_config.json'), { expected: 'the adapter configuration (adapter_config.json)' }));
  const path = join(dir, 'adapter_model.safetensors');
  const weights = await readFileBytes(path, { expected: 'the adapter weights (adapter_model.safetensors)' });
  return inFile(path, () => loadAdapter(model, config, weights));
}
