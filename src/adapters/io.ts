/**
 * Adapter files: `adapter_config.json` + `adapter_model.safetensors`, as Hugging Face PEFT writes
 * them. LoRA and (IA)3 configs carry only PEFT's own fields (so PEFT can read them); our methods
 * add theirs. Bytes and strings in, bytes and strings out; `loadAdapterFrom` reads them from any
 * FileSource (a URL, files in memory), src/node/adapter-files.ts writes directories.
 */
import { inFile, parseSafetensors, serializeSafetensors } from '../io/safetensors.js';
import { readRequired, type FileSource } from '../io/source.js';
import type { Module } from '../nn/module.js';
import { methodFor } from './registry.js';
import { FAMILIES, familyOf, taskOf, type TaskKind } from '../models/families.js';
import { AdaptedModel, applyAdapter, PEFT_PREFIX } from './model.js';
import type { AdapterConfig } from './types.js';

/** PEFT fields we accept and ignore on load (they do not change what the adapter computes). */
const PEFT_INFORMATIONAL = new Set([
  'task_type', 'inference_mode', 'revision', 'auto_mapping', 'peft_version', 'library_name', 'exclude_modules',
  'megatron_config', 'megatron_core', 'layers_pattern', 'loftq_config', 'eva_config', 'corda_config', 'runtime_config',
  'lora_bias', 'layer_replication', 'target_parameters', 'trainable_token_indices', 'qalora_group_size', 'use_qalora',
  'alora_invocation_tokens', 'arrow_config', 'ensure_weight_tying', 'init_ia3_weights',
]);

/** PEFT fields whose non-default values change the computation and that we do not implement. */
const PEFT_UNSUPPORTED: Record<string, (v: unknown) => boolean> = {
  bias: (v) => v !== undefined && v !== 'none',
  use_dora: (v) => v === true,
  layers_to_transform: (v) => v !== null && v !== undefined,
  rank_pattern: (v) => !!v && typeof v === 'object' && Object.keys(v).length > 0,
  alpha_pattern: (v) => !!v && typeof v === 'object' && Object.keys(v).length > 0,
};

/** PEFT's task_type for each kind of head (a mapped type: a new task kind must say its PEFT name). */
const PEFT_TASK_TYPE: { [K in TaskKind]: string | null } = {
  'sequence-classification': 'SEQ_CLS',
  'causal-lm': 'CAUSAL_LM',
  'masked-lm': null,
  forecast: null,
};

function taskType(model: Module): string | null {
  const task = taskOf(model);
  return task ? PEFT_TASK_TYPE[task] : null;
}

/**
 * The file's key -> ours. Our parameter names are the Hugging Face module paths PEFT writes, so keys
 * normally pass unchanged; keys written without the family's base prefix (adapters of bare GPT2Model
 * checkpoints: `base_model.model.h.0...`) get it back when that names one of ours.
 */
function fromFileKey(key: string, model: Module, own: ReadonlySet<string>): string {
  const family = familyOf(model);
  if (!family || own.has(key) || !key.startsWith(PEFT_PREFIX)) return key;
  const prefixed = PEFT_PREFIX + FAMILIES[family].basePrefix + key.slice(PEFT_PREFIX.length);
  return own.has(prefixed) ? prefixed : key;
}

/** The adapter_config.json text. */
export function adapterConfigJson(adapted: AdaptedModel): string {
  const method = methodFor(adapted.config.peft_type);
  const c: Record<string, unknown> = method.toFile ? method.toFile({ ...adapted.config }) : { ...adapted.config };
  c.task_type = taskType(adapted.base);
  c.inference_mode = true;
  return JSON.stringify(c, null, 2) + '\n';
}

/** The adapter_model.safetensors bytes (group maps stored as float32: exact below 2^24). */
export function adapterWeights(adapted: AdaptedModel): Uint8Array {
  const entries = [...adapted.stateDict()].map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.toArray()) }] as const);
  return serializeSafetensors(entries, { format: 'pt' });
}

/** Parses adapter_config.json, dropping PEFT's informational fields and rejecting features we lack. */
export function parseAdapterConfig(json: string | object, file = 'adapter_config.json'): Partial<AdapterConfig> & { peft_type: AdapterConfig['peft_type'] } {
  let raw: unknown = json;
  if (typeof json === 'string') {
    try {
      raw = JSON.parse(json);
    } catch (err) {
      throw new Error(`${file}: invalid JSON (${(err as Error).message})`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${file}: must be a JSON object`);
  let c = { ...(raw as Record<string, unknown>) };
  if (typeof c.peft_type !== 'string') throw new Error(`${file}: no "peft_type"; is this an adapter config?`);
  const method = methodFor(c.peft_type as AdapterConfig['peft_type']);
  for (const [k, bad] of Object.entries(PEFT_UNSUPPORTED)) {
    if (bad(c[k])) throw new Error(`${file}: ${k} = ${JSON.stringify(c[k])} is not supported by wasmgrad's ${c.peft_type}; retrain without it`);
    delete c[k];
  }
  for (const k of Object.keys(c)) if (PEFT_INFORMATIONAL.has(k)) delete c[k];
  if (method.fromFile) c = method.fromFile(c);
  if (Array.isArray(c.target_modules)) c.target_modules = [...c.target_modules].map(String).sort();
  return c as Partial<AdapterConfig> & { peft_type: AdapterConfig['peft_type'] };
}

/** Attaches the saved adapter to `model` and loads its weights. */
export function loadAdapter<M extends Module>(model: M, configJson: string | object, weights: Uint8Array): AdaptedModel<M> {
  const config = parseAdapterConfig(configJson);
  const adapted = applyAdapter(model, config);
  try {
    const parsed = parseSafetensors(weights);
    const own = new Set(adapted.stateDict().keys());
    adapted.loadStateDict(new Map([...parsed.tensors].map(([k, v]) => [fromFileKey(k, model, own), { shape: v.shape, data: v.data }])));
  } catch (err) {
    adapted.remove();
    throw err;
  }
  return adapted;
}

/** The adapter's two files by name, as PEFT writes them (for a download, a zip, or any store). */
export function adapterFiles(adapted: AdaptedModel): Map<string, Uint8Array> {
  return new Map([
    ['adapter_config.json', new TextEncoder().encode(adapterConfigJson(adapted))],
    ['adapter_model.safetensors', adapterWeights(adapted)],
  ]);
}

/**
 * Attaches the adapter stored in `source` (`adapter_config.json` + `adapter_model.safetensors`) to
 * `model`; errors name the file's location.
 */
export async function loadAdapterFrom<M extends Module>(model: M, source: FileSource): Promise<AdaptedModel<M>> {
  const config = new TextDecoder().decode(await readRequired(source, 'adapter_config.json', 'the adapter configuration (adapter_config.json)'));
  const path = source.locate('adapter_model.safetensors');
  const weights = await readRequired(source, 'adapter_model.safetensors', 'the adapter weights (adapter_model.safetensors)');
  return inFile(path, () => loadAdapter(model, config, weights));
}
