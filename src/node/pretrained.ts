/**
 * Hugging Face checkpoint directories: `config.json` + `model.safetensors` (+ tokenizer files).
 * Loading is the portable `fromPretrained` (src/models/pretrained.ts) over the directory, so a path
 * and a URL load the same way; `savePretrained(model, dir)` writes both files atomically, so a crash
 * mid-save leaves the previous checkpoint intact.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../backend/kernels.js';
import { tensorsToSafetensors } from '../io/safetensors.js';
import type { FileSource } from '../io/source.js';
import type { Family } from '../models/families.js';
import * as portable from '../models/pretrained.js';
import type { FromPretrainedOptions, PretrainedModel } from '../models/pretrained.js';
import type { Generator } from '../ops/random.js';
import { asDirectorySource } from './directory-source.js';
import { writeFileAtomic } from './files.js';

export type { FromPretrainedOptions, PretrainedModel } from '../models/pretrained.js';

/** The parsed config.json of a checkpoint directory (an error names the file when it is missing or not JSON). */
export async function readPretrainedConfig(dir: string | FileSource): Promise<Record<string, unknown>> {
  return portable.readPretrainedConfig(asDirectorySource(dir));
}

/** Loads a model from a Hugging Face-style directory (or any source: `urlSource`, `mapSource`). */
export async function fromPretrained<M extends PretrainedModel = PretrainedModel>(dir: string | FileSource, opts: FromPretrainedOptions = {}): Promise<M> {
  return portable.fromPretrained<M>(asDirectorySource(dir), opts);
}

/** {@link portable.fromBaseCheckpoint} from a directory: a GPT4TS from a GPT-2 LM checkpoint directory. */
export async function fromBaseCheckpoint<M extends PretrainedModel = PretrainedModel>(
  dir: string | FileSource, family: Family, fields: Record<string, unknown> = {}, opts: { generator?: Generator; backend?: Backend } = {},
): Promise<M> {
  return portable.fromBaseCheckpoint<M>(asDirectorySource(dir), family, fields, opts);
}

export interface SavePretrainedOptions {
  /** Weight dtype in model.safetensors: F32 (default, exact) or F16 (half the size; loading widens it back). */
  dtype?: 'F32' | 'F16';
}

/** Writes config.json and model.safetensors (HF key names) into `dir`, each atomically. */
export async function savePretrained(model: PretrainedModel, dir: string, opts: SavePretrainedOptions = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const bytes = tensorsToSafetensors(model.stateDict(), undefined, { dtype: opts.dtype ?? 'F32' });
  await writeFileAtomic(join(dir, 'model.safetensors'), bytes);
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(model.config.toJSON(), null, 2) + '\n');
}
