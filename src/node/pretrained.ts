/**
 * Hugging Face checkpoint directories: `config.json` + `model.safetensors` (+ tokenizer files).
 * `fromPretrained(dir)` picks the model class from the config, loads the weights strictly and reports
 * what did not fit; `savePretrained(model, dir)` writes both files atomically, so a crash mid-save
 * leaves the previous checkpoint intact.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSafetensors, safetensorsToTensors, tensorsToSafetensors } from '../io/safetensors.js';
import { GPT2Config, GPT2LMHeadModel } from '../models/gpt2/index.js';
import { RobertaConfig, RobertaForMaskedLM, RobertaForSequenceClassification } from '../models/roberta/index.js';
import type { Backend } from '../backend/kernels.js';
import { dispose } from '../tensor/scope.js';
import { readFileBytes, writeFileAtomic } from './files.js';

export type PretrainedModel = GPT2LMHeadModel | RobertaForMaskedLM | RobertaForSequenceClassification;

export interface FromPretrainedOptions {
  /** Force a head for RoBERTa checkpoints (default: from config.json `architectures`, else masked LM). */
  architecture?: 'GPT2LMHeadModel' | 'RobertaForMaskedLM' | 'RobertaForSequenceClassification';
  /** Override config fields (e.g. num_labels for a new classification head). */
  config?: Record<string, unknown>;
  /** Fail on missing/unexpected keys (default true). With false, a new head starts from its init. */
  strict?: boolean;
  backend?: Backend;
}

async function readConfig(dir: string): Promise<Record<string, unknown>> {
  const text = new TextDecoder().decode(await readFileBytes(join(dir, 'config.json'), { expected: 'the model configuration (config.json)' }));
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${join(dir, 'config.json')}: invalid JSON (${(err as Error).message}); re-download or re-save the checkpoint`);
  }
}

function chooseArchitecture(cfg: Record<string, unknown>, forced?: FromPretrainedOptions['architecture']): NonNullable<FromPretrainedOptions['architecture']> {
  const type = cfg.model_type;
  const archs = Array.isArray(cfg.architectures) ? (cfg.architectures as unknown[]).map(String) : [];
  if (type === 'gpt2') {
    if (forced && forced !== 'GPT2LMHeadModel') throw new Error(`fromPretrained: a gpt2 checkpoint cannot load as ${forced}`);
    return 'GPT2LMHeadModel';
  }
  if (type === 'roberta') {
    if (forced === 'GPT2LMHeadModel') throw new Error('fromPretrained: a roberta checkpoint cannot load as GPT2LMHeadModel');
    if (forced) return forced;
    return archs.includes('RobertaForSequenceClassification') ? 'RobertaForSequenceClassification' : 'RobertaForMaskedLM';
  }
  throw new Error(`fromPretrained: model_type ${JSON.stringify(type)} in config.json is not supported (supported: "gpt2", "roberta")`);
}

/** Loads a model from a Hugging Face-style directory. */
export async function fromPretrained(dir: string, opts: FromPretrainedOptions = {}): Promise<PretrainedModel> {
  const raw = { ...(await readConfig(dir)), ...(opts.config ?? {}) };
  const arch = chooseArchitecture(raw, opts.architecture);
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
  const model =
    arch === 'GPT2LMHeadModel' ? new GPT2LMHeadModel(new GPT2Config(raw))
      : arch === 'RobertaForSequenceClassification' ? new RobertaForSequenceClassification(new RobertaConfig(raw))
        : new RobertaForMaskedLM(new RobertaConfig(raw));
  try {
    model.loadStateDict(weights, { strict: opts.strict ?? true });
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    dispose([...weights.values()]);
  }
  return model;
}

/** Writes config.json and model.safetensors (float32, HF key names) into `dir`, each atomically. */
export async function savePretrained(model: PretrainedModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const bytes = tensorsToSafetensors(model.stateDict());
  await writeFileAtomic(join(dir, 'model.safetensors'), bytes);
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(model.config.toJSON(), null, 2) + '\n');
}
