/**
 * Hugging Face checkpoints from any {@link FileSource} (a URL, files in memory, a directory through
 * `wasmgrad/node`): `config.json` + `model.safetensors`. `fromPretrained(source)` picks the model
 * class from the config (the family table), loads the weights strictly and reports what did not fit.
 * Portable: the bytes come from the source, never from a file system here.
 */
import type { Backend } from '../backend/kernels.js';
import { parseSafetensors } from '../io/safetensors.js';
import { readJsonObject, urlSource, type FileSource } from '../io/source.js';
import type { LoadReport } from '../nn/module.js';
import type { Generator } from '../ops/random.js';
import { withBackend } from '../tensor/engine.js';
import { buildModel, chooseArchitecture, FAMILIES, familyForModelType, headKeys, type Family, type FamilyModel } from './families.js';

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

/** A source, or a base URL (string or URL) read with fetch. */
export type SourceLike = FileSource | string | URL;

/** The source a {@link SourceLike} names: strings and URLs are base URLs ({@link urlSource}). */
export function asSource(from: SourceLike): FileSource {
  return typeof from === 'string' || from instanceof URL ? urlSource(from) : from;
}

/** The parsed config.json of a checkpoint (an error names the file when it is missing or not JSON). */
export async function readPretrainedConfig(from: SourceLike): Promise<Record<string, unknown>> {
  return readJsonObject(asSource(from), 'config.json', 'the model configuration (config.json)');
}

/**
 * Loads a model from a Hugging Face-style checkpoint: `fromPretrained(urlSource(base))`,
 * `fromPretrained(mapSource(files))`, or `fromPretrained('https://host/tiny-roberta/')`.
 * In Node, `wasmgrad/node`'s fromPretrained also takes a directory path.
 */
export async function fromPretrained<M extends PretrainedModel = PretrainedModel>(from: SourceLike, opts: FromPretrainedOptions = {}): Promise<M> {
  const source = asSource(from);
  const raw = { ...(await readPretrainedConfig(source)), ...(opts.config ?? {}) };
  const family = familyForModelType(raw.model_type, source.locate('config.json'));
  const declared = Array.isArray(raw.architectures) ? (raw.architectures as unknown[]).map(String) : [];
  const arch = chooseArchitecture(family, declared, opts.architecture);
  const path = source.locate('model.safetensors');
  const bytes = await readWeights(source);
  // The parsed entries stay on the host (F32 ones are views of the file bytes when aligned) and are
  // written straight into the parameters: one copy across the boundary, no second model on the heap.
  // Integer and bool entries (position ids, causal-mask buffers) are Int32Array; the model's
  // loadStateDict drops the ones it knows and refuses any other in place of a float weight.
  const weights = parseSafetensors(bytes, { file: path }).tensors;
  const build = () => buildModel(family, arch, raw);
  const model = opts.backend ? withBackend(opts.backend, build) : build();
  try {
    const heads = opts.freshHead ? headKeys(family, arch) : null;
    const report = model.loadStateDict(weights, {
      strict: opts.strict ?? true, mayMiss: heads?.own, mayDrop: heads?.other, source: path,
    });
    opts.onLoad?.(report);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model as M;
}

/** model.safetensors, or an error that says what the checkpoint has instead (a pickle needs converting). */
async function readWeights(source: FileSource): Promise<Uint8Array> {
  const files = source.list ? await source.list().catch(() => [] as string[]) : null;
  const bytes = files === null || files.includes('model.safetensors') ? await source.read('model.safetensors') : null;
  if (bytes !== null) return bytes;
  const hint = files?.includes('pytorch_model.bin')
    ? 'it has pytorch_model.bin (pickle): convert it to safetensors in Python with safetensors.torch.save_file'
    : 'the weights file is missing';
  throw new Error(`fromPretrained: ${source.describe} has no model.safetensors; ${hint}`);
}

/**
 * A model of `family` built from a checkpoint of its base family (the table's `fromBase`: a GPT4TS
 * from a GPT-2 LM checkpoint). `fields` are the new family's own config fields; the modules the base
 * lacks start from their seeded init. The loaded base is freed.
 */
export async function fromBaseCheckpoint<M extends PretrainedModel = PretrainedModel>(
  from: SourceLike, family: Family, fields: Record<string, unknown> = {}, opts: { generator?: Generator; backend?: Backend; architecture?: string } = {},
): Promise<M> {
  const source = asSource(from);
  const recipe = FAMILIES[family].fromBase;
  if (!recipe) throw new Error(`fromBaseCheckpoint: ${family} models are not built from another family's checkpoint; load ${source.describe} with fromPretrained`);
  const base = await fromPretrained(source, { backend: opts.backend });
  try {
    if (base.family !== recipe.family) throw new Error(`fromBaseCheckpoint: a ${family} model is built from a ${recipe.family} checkpoint, and ${source.describe} holds a ${base.family} model`);
    return recipe.build(base, fields, { generator: opts.generator, architecture: opts.architecture }) as M;
  } finally {
    base.dispose();
  }
}
