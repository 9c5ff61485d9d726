/**
 * GPT4TS checkpoints in Hugging Face layout, as bytes (portable): `config.json` (GPT4TSConfig with
 * model_type "gpt4ts" and the backbone's GPT-2 config under `gpt2`) and `model.safetensors` (float32,
 * keys `in_layer.*`, `gpt2.wpe.weight`, `gpt2.h.{i}.*`, `gpt2.ln_f.*`, `out_layer.*`).
 * src/node/timeseries-files.ts writes and reads them as a directory.
 */
import { parseSafetensors, safetensorsToTensors, tensorsToSafetensors } from '../io/safetensors.js';
import type { Backend } from '../backend/kernels.js';
import { dispose } from '../tensor/scope.js';
import { GPT4TSConfig } from './config.js';
import { GPT4TSForClassification } from './classifier.js';
import { GPT4TS, type GPT4TSBase } from './model.js';

export interface CheckpointFiles {
  /** config.json text */
  config: string;
  /** model.safetensors bytes */
  weights: Uint8Array;
}

export function gpt4tsToFiles(model: GPT4TSBase): CheckpointFiles {
  return { config: JSON.stringify(model.config.toJSON(), null, 2) + '\n', weights: tensorsToSafetensors(model.stateDict()) };
}

/**
 * Parses config.json text (or an object) and loads the weights strictly (a PyTorch GPT4TS's
 * `gpt2.wte.weight` is skipped): a GPT4TS, or a GPT4TSForClassification when num_labels > 0.
 */
export function gpt4tsFromFiles<M extends GPT4TSBase = GPT4TS>(config: string | Record<string, unknown>, weights: Uint8Array, opts: { backend?: Backend; source?: string } = {}): M {
  const where = opts.source ?? 'config.json';
  let raw: Record<string, unknown>;
  if (typeof config === 'string') {
    try {
      raw = JSON.parse(config) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`${where}: invalid JSON (${(err as Error).message}); re-save the checkpoint`);
    }
  } else raw = config;
  if (raw.model_type !== 'gpt4ts') {
    throw new Error(`${where}: model_type ${JSON.stringify(raw.model_type)} is not "gpt4ts"; this loader reads GPT4TS checkpoints only`);
  }
  const c = new GPT4TSConfig(raw as ConstructorParameters<typeof GPT4TSConfig>[0]);
  const model: GPT4TSBase = c.architecture === 'GPT4TSForClassification' ? new GPT4TSForClassification(c) : new GPT4TS(c);
  const state = safetensorsToTensors(parseSafetensors(weights), { backend: opts.backend });
  try {
    model.loadStateDict(state);
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    dispose([...state.values()]);
  }
  return model as M;
}
