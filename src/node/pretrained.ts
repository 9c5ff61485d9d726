/**
 * Hugging Face checkpoint directories: `config.json` + `model.safetensors` (+ tokenizer files).
 * `fromPretrained(dir)` picks the model class from the config, loads the weights strictly and reports
 * what did not fit; `savePretrained(model, dir)` writes both files atomically, so a crash mid-save
 * leaves the previous checkpoint intact.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSafetensors, safetensorsToTensors, tensorsToSafetensors } from '../io/safetensors.js';
import { buildModel, chooseArchitecture, FAMILIES, familyForModelType, headKeys, type Family, type FamilyModel } from '../models/families.js';
import type { LoadReport } from '../nn/module.js';
import type { Generator } from '../ops/random.js';
import type { Backend } from '../backend/kernels.js';
import { dispose } from '../tensor/scope.js';
import { readFileBytes, writeFileAtomic } from './files.js';

/** Any model of the family table (src/models/families.ts): GPT2LMHeadModel, RobertaForMaskedLM, RobertaForSequenceClassification, ... */
export type PretrainedModel = FamilyModel;

export interface FromPretrainedOptions {
  /**
   * Load as this architecture of the checkpoint's family (e.g. RobertaForSequenceClassification for
   * a masked-LM checkpoint). Default: the first of config.json's `architectures` the family knows,
   * else the family's default.
   */
  architecture?: string;
  /** Override config fields (e.g. num_labels for a new classification head). */
  config?: Record<string, unknown>;
  /** Fail on missing/unexpected keys (default true). With false, anything missing starts from its init: prefer `freshHead`. */
  strict?: boolean;
  /**
   * Strict, except that the architecture's task head (the family table's `head`) may be missing, and
   * then starts from its seeded init, and other architectures' heads in the file are dropped: loading
   * a masked-LM checkpoint as a classifier. Anything else missing, unexpected or mis-shaped raises.
   */
  freshHead?: boolean;
  /** Receives what the loading did (which keys were missing, hence fresh, and which were dropped). */
  onLoad?: (report: LoadReport) => void;
  backend?: Backend;
}

/** The parsed config.json of a checkpoint directory (an error names the file when it is missing or not JSON). */
export async function readPretrainedConfig(dir: string): Promise<Record<string, unknown>> {
  const text = new TextDecoder().decode(await readFileBytes(join(dir, 'config.json'), { expected: 'the model configuration (config.json)' }));
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${join(dir, 'config.json')}: invalid JSON (${(err as Error).message}); re-download or re-save the checkpoint`);
  }
}

/** Loads a model from a Hugging Face-style directory. */
export async function fromPretrained<M extends PretrainedModel = PretrainedModel>(dir: string, opts: FromPretrainedOptions = {}): Promise<M> {
  const raw = { ...(await readPretrainedConfig(dir)), ...(opts.config ?? {}) };
  const family = familyForModelType(raw.model_type, join(dir, 'config.json'));
  const declared = Array.isArray(raw.architectures) ? (raw.architectures as unknown[]).map(String) : [];
  const arch = chooseArchitecture(family, declared, opts.architecture);
  const files = await readdir(dir).catch(() => [] as string[]);
  if (!files.includes('model.safetensors')) {
    const hint = files.includes('pytorch_model.bin')
      ? 'it has pytorch_model.bin (pickle): convert it to safetensors in Python with safetensors.torch.save_file'
      : 'the weights file is missing';
    throw new Error(`fromPretrained: ${dir} has no model.safetensors; ${hint}`);
  }
  const path = join(dir, 'model.safetensors');
  const bytes = await readFileBytes(path, { expected: 'the weights (model.safetensors)' });
  // Integer and bool entries (position ids, causal-mask buffers) become int32 tensors; the model's
  // loadStateDict drops the ones it knows and refuses any other in place of a float weight.
  const weights = safetensorsToTensors(parseSafetensors(bytes, { file: path }), { backend: opts.backend });
  const model = buildModel(family, arch, raw);
  try {
    const heads = opts.freshHead ? headKeys(family, arch) : null;
    const report = model.loadStateDict(weights, {
      strict: opts.strict ?? true, mayMiss: heads?.own, mayDrop: heads?.other, source: path,
    });
    opts.onLoad?.(report);
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    dispose([...weights.values()]);
  }
  return model as M;
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

/**
 * A model of `family` built from a checkpoint of its base family (the table's `fromBase`: a GPT4TS
 * from a GPT-2 LM checkpoint). `fields` are the new family's own config fields; the modules the base
 * lacks start from their seeded init. The loaded base is freed.
 */
export async function fromBaseCheckpoint<M extends PretrainedModel = PretrainedModel>(
  dir: string, family: Family, fields: Record<string, unknown> = {}, opts: { generator?: Generator; backend?: Backend; architecture?: string } = {},
): Promise<M> {
  const from = FAMILIES[family].fromBase;
  if (!from) throw new Error(`fromBaseCheckpoint: ${family} models are not built from another family's checkpoint; load ${dir} with fromPretrained`);
  const base = await fromPretrained(dir, { backend: opts.backend });
  try {
    if (base.family !== from.family) throw new Error(`fromBaseCheckpoint: a ${family} model is built from a ${from.family} checkpoint, and ${dir} holds a ${base.family} model`);
    return from.build(base, fields, { generator: opts.generator, architecture: opts.architecture }) as M;
  } finally {
    base.dispose();
  }
}
