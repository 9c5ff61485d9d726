/**
 * Checkpoint files from anywhere a page can get them: a base URL (`fetch`), or a map of names to
 * bytes, Blobs or the Files of an `<input>` / a dropped folder. A source answers `read(name)` with the
 * bytes, or null when it has no such file; loading a model, a tokenizer or an adapter is then the
 * same code for every source. Portable: no Node imports.
 *
 * The main entry's portable loading (`fromPretrained(source)`) has this shape; until it is there,
 * the worker loads through the helpers below.
 */
import { parseSafetensors, safetensorsToTensors } from '../io/safetensors.js';
import { buildModel, chooseArchitecture, familyForModelType, headKeys, type FamilyModel } from '../models/families.js';
import type { LoadReport } from '../nn/module.js';
import { dispose } from '../tensor/scope.js';
import { fromGpt2EncoderFiles, fromTokenizerJson, fromVocabAndMerges } from '../tokenizer/load.js';
import type { ByteLevelBPETokenizer } from '../tokenizer/tokenizer.js';

/** Where the files of one checkpoint (or adapter) come from. */
export interface FileSource {
  /** The file's bytes, or null when the source has no file of that name (other failures throw). */
  read(name: string): Promise<Uint8Array | null>;
  /** How errors name the source (a URL, `dropped folder my-model`). */
  readonly label: string;
}

/** Files under `baseUrl` (a directory URL; a missing trailing slash is added). HTTP 404 is "no such file". */
export function urlSource(baseUrl: string | URL, opts: { fetch?: typeof fetch } = {}): FileSource {
  const base = String(baseUrl).endsWith('/') ? String(baseUrl) : `${String(baseUrl)}/`;
  const get = opts.fetch ?? ((input: RequestInfo | URL) => fetch(input));
  return {
    label: base,
    async read(name: string) {
      const url = new URL(name, base).href;
      let res: Response;
      try {
        res = await get(url);
      } catch (err) {
        throw new Error(`cannot fetch ${url}: ${(err as Error).message}; is the server running and the address right?`, { cause: err });
      }
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`fetching ${url}: HTTP ${res.status} ${res.statusText}`);
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

/**
 * Files given by the page: names (the last path component is enough: `my-model/config.json` is
 * found as `config.json`) to bytes, Blobs or Files.
 */
export function mapSource(files: ReadonlyMap<string, Uint8Array | Blob> | Record<string, Uint8Array | Blob>, label = 'the given files'): FileSource {
  const entries = files instanceof Map ? [...files] : Object.entries(files);
  const byName = new Map<string, Uint8Array | Blob>();
  for (const [name, value] of entries) {
    byName.set(name, value);
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (!byName.has(base)) byName.set(base, value);
  }
  return {
    label,
    async read(name: string) {
      const v = byName.get(name);
      if (v === undefined) return null;
      return v instanceof Uint8Array ? v : new Uint8Array(await v.arrayBuffer());
    },
  };
}

/** Reads a file the caller cannot do without; the error names it, the source and what it is for. */
export async function readRequired(source: FileSource, name: string, what: string): Promise<Uint8Array> {
  const bytes = await source.read(name);
  if (bytes === null) throw new Error(`${source.label}: no ${name} (${what})`);
  return bytes;
}

const utf8 = (b: Uint8Array) => new TextDecoder().decode(b);

/** A file of a source as errors name it: `http://host/checkpoints/tiny-roberta/config.json`, `my-model/config.json`. */
export function fileLabel(label: string, name: string): string {
  return label.endsWith('/') ? `${label}${name}` : `${label}/${name}`;
}

/** The parsed config.json of a checkpoint source. */
export async function readConfig(source: FileSource): Promise<Record<string, unknown>> {
  const text = utf8(await readRequired(source, 'config.json', 'the model configuration'));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${fileLabel(source.label, 'config.json')}: invalid JSON (${(err as Error).message}); re-download or re-save the checkpoint`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${fileLabel(source.label, 'config.json')}: expected a JSON object`);
  return parsed as Record<string, unknown>;
}

/** What the worker keeps of a checkpoint so it can rebuild a fresh model for each run. */
export interface CheckpointFiles {
  config: Record<string, unknown>;
  weights: Uint8Array;
  label: string;
}

/** config.json and model.safetensors of a checkpoint source (pytorch_model.bin alone is named as such). */
export async function readCheckpoint(source: FileSource): Promise<CheckpointFiles> {
  const config = await readConfig(source);
  const weights = await source.read('model.safetensors');
  if (weights === null) {
    const pickle = (await source.read('pytorch_model.bin')) !== null;
    throw new Error(
      `${source.label}: no model.safetensors; ${pickle ? 'it has pytorch_model.bin (pickle): convert it to safetensors in Python with safetensors.torch.save_file' : 'the weights file is missing'}`,
    );
  }
  return { config, weights, label: source.label };
}

/**
 * A model of `architecture` (default: the checkpoint's own) built from checkpoint files, loaded
 * strictly except for the architecture's task head (missing -> seeded init) and other heads (dropped).
 */
export function modelFromCheckpoint(files: CheckpointFiles, opts: { architecture?: string; config?: Record<string, unknown>; onLoad?: (r: LoadReport) => void } = {}): FamilyModel {
  const raw = { ...files.config, ...(opts.config ?? {}) };
  const family = familyForModelType(raw.model_type, fileLabel(files.label, 'config.json'));
  const declared = Array.isArray(raw.architectures) ? (raw.architectures as unknown[]).map(String) : [];
  const arch = chooseArchitecture(family, declared, opts.architecture);
  const file = fileLabel(files.label, 'model.safetensors');
  const weights = safetensorsToTensors(parseSafetensors(files.weights, { file }));
  const model = buildModel(family, arch, raw);
  try {
    const heads = headKeys(family, arch);
    const report = model.loadStateDict(weights, { strict: true, mayMiss: heads.own, mayDrop: heads.other, source: file });
    opts.onLoad?.(report);
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    dispose([...weights.values()]);
  }
  return model;
}

/** The tokenizer of a checkpoint source: tokenizer.json, else vocab.json + merges.txt, else encoder.json + vocab.bpe. */
export async function tokenizerFromSource(source: FileSource): Promise<ByteLevelBPETokenizer> {
  const json = await source.read('tokenizer.json');
  if (json) return fromTokenizerJson(utf8(json), { file: fileLabel(source.label, 'tokenizer.json') });
  for (const [vocab, merges, load] of [
    ['vocab.json', 'merges.txt', fromVocabAndMerges],
    ['encoder.json', 'vocab.bpe', fromGpt2EncoderFiles],
  ] as const) {
    const v = await source.read(vocab);
    if (!v) continue;
    const m = await readRequired(source, merges, `${vocab} is present, and the merges must come with it`);
    return load(utf8(v), utf8(m), { vocabFile: fileLabel(source.label, vocab), mergesFile: fileLabel(source.label, merges) });
  }
  throw new Error(`${source.label}: no tokenizer; expected tokenizer.json, or vocab.json + merges.txt, or encoder.json + vocab.bpe`);
}
