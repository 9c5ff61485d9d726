/**
 * Saving and loading adapters as a directory (`adapter_config.json` + `adapter_model.safetensors`),
 * each file written atomically so a crash mid-save leaves the previous adapter intact. Loading is the
 * portable loadAdapterFrom over the directory.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { adapterConfigJson, adapterWeights, loadAdapterFrom } from '../adapters/io.js';
import type { AdaptedModel } from '../adapters/model.js';
import type { FileSource } from '../io/source.js';
import type { Module } from '../nn/module.js';
import { asDirectorySource } from './directory-source.js';
import { writeFileAtomic } from './files.js';

export async function saveAdapter(adapted: AdaptedModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Weights first: a config next to stale weights would be caught by the shape checks on load, the reverse would not.
  await writeFileAtomic(join(dir, 'adapter_model.safetensors'), adapterWeights(adapted));
  await writeFileAtomic(join(dir, 'adapter_config.json'), adapterConfigJson(adapted));
}

export async function loadAdapterFromDirectory<M extends Module>(model: M, dir: string | FileSource): Promise<AdaptedModel<M>> {
  return loadAdapterFrom(model, asDirectorySource(dir));
}
