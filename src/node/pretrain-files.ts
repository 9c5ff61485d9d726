/**
 * Node-only: the file side of pretraining. `directoryStore` keeps a run in a Hugging Face-style
 * checkpoint directory; `corpusData` reads a corpus document by document, deduplicates it, and
 * encodes each split once into a token file (`<out>/token-cache/`) that training reads block by block.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { createWasmBackend } from '../backend/wasm/index.js';
import { activeBackend, setBackend } from '../tensor/engine.js';
import { heldOutNames, ParagraphDeduper } from '../data/corpus.js';
import type { ByteLevelBPETokenizer } from '../tokenizer/tokenizer.js';
import { toMergesTxt } from '../tokenizer/serialize.js';
import type { PretrainSummary } from '../train/model-card.js';
import { PRETRAIN_DEFAULTS, validatePretrainConfig, type PretrainConfig } from '../train/pretrain-config.js';
import { parseSafetensors } from '../io/safetensors.js';
import { FAMILIES } from '../models/families.js';
import type { StateValue } from '../nn/module.js';
import { runPretrain, type EncodedCorpus, type PretrainData, type PretrainStore } from '../train/pretrain-run.js';
import { corpusLicences, listCorpus } from './corpora.js';
import { loadPolarityLexicon } from './polarity-lexicon.js';
import { writeFileAtomic } from './files.js';
import { savePretrained } from './pretrained.js';
import { FileTokenSource, TokenFileWriter, tokenDType } from './token-file.js';
import { loadTokenizerFromDirectory, saveTokenizer } from './tokenizer-files.js';

export const STATE_DIR = 'training_state';
export const STATE_FILE = 'state.safetensors';
export const TOKEN_CACHE_DIR = 'token-cache';

export interface DirectoryStoreOptions {
  /** model.safetensors dtype (default F32; the training state always keeps float32). */
  weights?: 'F32' | 'F16';
}

/** A PretrainStore on a checkpoint directory: config.json, model.safetensors, tokenizer files, metrics.jsonl, README.md, training_state/. */
export function directoryStore(dir: string, opts: DirectoryStoreOptions = {}): PretrainStore {
  const out = resolve(dir);
  const statePath = join(out, STATE_DIR, STATE_FILE);
  const metricsPath = join(out, 'metrics.jsonl');
  return {
    loadTokenizer: async () => (existsSync(join(out, 'vocab.json')) || existsSync(join(out, 'tokenizer.json')) ? loadTokenizerFromDirectory(out) : null),
    saveTokenizer: async (t) => {
      await mkdir(out, { recursive: true });
      await saveTokenizer(t, out);
    },
    saveModel: (model) => savePretrained(model, out, { dtype: opts.weights ?? 'F32' }),
    readState: async () => {
      const bytes = await readFile(statePath).catch(() => null);
      return bytes && new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    writeState: async (bytes) => {
      await mkdir(join(out, STATE_DIR), { recursive: true });
      await writeFileAtomic(statePath, bytes);
    },
    removeState: async () => {
      await rm(join(out, STATE_DIR), { recursive: true, force: true });
      await rm(join(out, TOKEN_CACHE_DIR), { recursive: true, force: true });
    },
    readMetrics: () => readFile(metricsPath, 'utf8').catch(() => ''),
    writeMetrics: async (text) => {
      await mkdir(out, { recursive: true });
      await writeFile(metricsPath, text);
    },
    appendMetrics: (text) => appendFile(metricsPath, text),
    writeReadme: (text) => writeFileAtomic(join(out, 'README.md'), text),
  };
}

export interface CorpusDataOptions {
  /** Fraction of documents held out for validation. */
  validationFraction: number;
  /** Seed of the split. */
  seed: number;
  /** Where the token files and their key (tokens.json) go; a later session with the same key reuses them. */
  cacheDir: string;
  /** Paragraph-level exact deduplication (default true). */
  dedup?: boolean;
}

interface CacheMeta {
  key: string;
  train: { length: number; docs: number };
  validation: { length: number; docs: number };
  dtype: 'u16' | 'u32';
  notes: string[];
}

/**
 * A PretrainData over a corpus spec (see listCorpus). Documents are read one at a time in name
 * order; with dedup, a paragraph seen earlier in that order is dropped, so no held-out paragraph
 * is also trained on. Encoded splits are cached under a key of the spec, split, dedup flag and the
 * tokenizer's merges, so a resumed run reads the same tokens without re-encoding.
 */
export function corpusData(spec: string, opts: CorpusDataOptions): PretrainData {
  const entries = listCorpus(spec).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const held = heldOutNames(entries.map((e) => e.name), { validationFraction: opts.validationFraction, seed: opts.seed });
  const dedup = opts.dedup ?? true;
  function* cleaned(stats?: ParagraphDeduper): Generator<{ name: string; text: string; validation: boolean }> {
    const d = stats ?? new ParagraphDeduper();
    for (const e of entries) {
      const raw = e.read();
      const text = dedup ? d.filter(raw) : raw.trim();
      if (text !== '') yield { name: e.name, text, validation: held.has(e.name) };
    }
  }
  return {
    name: spec,
    licences: corpusLicences(spec),
    *trainTexts() {
      for (const d of cleaned()) if (!d.validation) yield d.text;
    },
    async encode(tokenizer: ByteLevelBPETokenizer, separator: number): Promise<EncodedCorpus> {
      const dir = resolve(opts.cacheDir);
      const key = createHash('sha256')
        .update(JSON.stringify({ spec, names: entries.length, fraction: opts.validationFraction, seed: opts.seed, dedup, separator, version: 1 }))
        .update(toMergesTxt(tokenizer))
        .digest('hex');
      const metaPath = join(dir, 'tokens.json');
      let meta: CacheMeta | null = null;
      try {
        meta = JSON.parse(readFileSync(metaPath, 'utf8')) as CacheMeta;
        if (meta.key !== key) meta = null;
      } catch {
        meta = null;
      }
      if (!meta) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        const dtype = tokenDType(tokenizer.vocabSize);
        const train = new TokenFileWriter(join(dir, 'train.bin'), dtype);
        const validation = new TokenFileWriter(join(dir, 'validation.bin'), dtype);
        const stats = new ParagraphDeduper();
        let trainDocs = 0;
        let validationDocs = 0;
        for (const d of cleaned(stats)) {
          const w = d.validation ? validation : train;
          w.write(tokenizer.encode(d.text));
          w.write([separator]);
          if (d.validation) validationDocs++;
          else trainDocs++;
        }
        train.close();
        validation.close();
        const notes = dedup
          ? [`dedup: kept ${stats.keptParagraphs} paragraphs, dropped ${stats.droppedParagraphs} repeated ones (${stats.droppedChars} characters)`]
          : [];
        meta = { key, dtype, notes, train: { length: train.length, docs: trainDocs }, validation: { length: validation.length, docs: validationDocs } };
        writeFileSync(metaPath, JSON.stringify(meta, null, 2) + '\n');
      }
      const m = meta;
      const trainSource = new FileTokenSource(join(dir, 'train.bin'), m.train.length, m.dtype);
      const validationSource = new FileTokenSource(join(dir, 'validation.bin'), m.validation.length, m.dtype);
      return {
        train: trainSource, validation: validationSource, trainDocs: m.train.docs, validationDocs: m.validation.docs, notes: m.notes,
        close: () => {
          trainSource.close();
          validationSource.close();
        },
      };
    },
  };
}

export interface PretrainToDirectoryOptions extends Partial<PretrainConfig> {
  out: string;
  /** Comma-separated corpus names (sotu, brown, spamassassin-ham) and/or directories of .txt files (default sotu). */
  corpus?: string;
  resume?: boolean;
  stopAfter?: number;
  minutes?: number;
  keepState?: boolean;
  /** model.safetensors dtype (default F32). */
  weights?: 'F32' | 'F16';
  /** Paragraph-level deduplication (default true). */
  dedup?: boolean;
  /** Checkpoint name for the README title (default: the directory name). */
  name?: string;
  /** Directory of a tokenizer to use instead of training one (same corpus and vocabulary size recommended). */
  tokenizer?: string;
  /**
   * Continued pretraining: a checkpoint directory of the same architecture whose weights the run
   * starts from (e.g. to adapt a base model to a domain's text). Its config.json sets the shape
   * (vocabulary, layers, widths, block length; a conflicting option is an error) and its tokenizer is
   * used unless `tokenizer` names another of the same size.
   */
  init?: string;
  write?: (text: string) => void;
  tty?: boolean;
  /** The command line to record in README.md (default: rebuilt from the options). */
  command?: string;
  /** Threads of the WebAssembly kernels when no backend is active yet ('auto' = the available cores; default 1). */
  threads?: 'auto' | number;
}

/** Pretrains into a checkpoint directory (what `wasmgrad pretrain` runs). */
export async function pretrainToDirectory(opts: PretrainToDirectoryOptions): Promise<PretrainSummary> {
  await ensureBackend(opts.threads);
  const fields = Object.fromEntries(Object.entries(opts).filter(([k, v]) => k in PRETRAIN_DEFAULTS && v !== undefined)) as Partial<PretrainConfig>;
  const start = opts.init !== undefined ? await initCheckpoint(opts.init, opts.arch ?? PRETRAIN_DEFAULTS.arch, fields, !opts.resume) : null;
  const config = validatePretrainConfig({ ...PRETRAIN_DEFAULTS, ...fields, ...start?.shape });
  const corpus = opts.corpus ?? 'sotu';
  const out = resolve(opts.out);
  const polarity = config.polarityLexicon !== null ? loadPolarityLexicon(config.polarityLexicon) : null;
  const tokenizerDir = opts.tokenizer ?? opts.init;
  const tokenizer = tokenizerDir !== undefined && !opts.resume ? await loadTokenizerFromDirectory(resolve(tokenizerDir)) : undefined;
  if (tokenizer && start && tokenizer.vocabSize !== start.shape.vocabSize) {
    throw new Error(`--tokenizer ${tokenizerDir}: ${tokenizer.vocabSize} tokens, but the --init checkpoint ${opts.init} has a ${start.shape.vocabSize}-token vocabulary; use its own tokenizer (drop --tokenizer)`);
  }
  const data = corpusData(corpus, { validationFraction: config.validationFraction, seed: config.seed, cacheDir: join(out, TOKEN_CACHE_DIR), dedup: opts.dedup });
  return runPretrain({
    config,
    data: polarity?.licences.length ? { ...data, licences: [...data.licences, ...polarity.licences] } : data,
    store: directoryStore(out, { weights: opts.weights }),
    resume: opts.resume,
    stopAfter: opts.stopAfter,
    minutes: opts.minutes,
    keepState: opts.keepState,
    write: opts.write ?? ((s: string) => void process.stderr.write(s)),
    tty: opts.tty ?? process.stderr.isTTY === true,
    command: opts.command ?? pretrainCommandLine(config, corpus, opts.out, { weights: opts.weights, dedup: opts.dedup, tokenizer: opts.tokenizer, init: opts.init }),
    name: opts.name ?? basename(out),
    tokenizer,
    init: start ? { weights: start.weights ?? undefined, source: opts.init! } : undefined,
    lexicon: polarity?.lexicon,
  });
}

const SHAPE_FLAGS = [['vocabSize', '--vocab'], ['layers', '--layers'], ['dModel', '--d-model'], ['heads', '--heads'], ['ffn', '--ffn'], ['seq', '--seq']] as const;

/**
 * The shape (and, unless resuming, the weights) of the checkpoint a continued pretraining run starts
 * from. Options that contradict its config.json are errors: the weights could not load into them.
 */
async function initCheckpoint(dir: string, arch: PretrainConfig['arch'], given: Partial<PretrainConfig>, withWeights: boolean) {
  const root = resolve(dir);
  const spec = FAMILIES[arch]?.pretrain;
  if (!spec) throw new Error(`--init ${dir}: --arch ${arch} is not pretrained here (use roberta or gpt2)`);
  const configPath = join(root, 'config.json');
  const text = await readFile(configPath, 'utf8').catch(() => null);
  if (text === null) throw new Error(`--init ${dir}: no config.json there; give a checkpoint directory (config.json + model.safetensors), e.g. examples/checkpoints/small-roberta`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`--init ${dir}: ${configPath} is not valid JSON (${(err as Error).message})`);
  }
  if (raw.model_type !== FAMILIES[arch].modelType) {
    throw new Error(`--init ${dir}: its model_type is ${JSON.stringify(raw.model_type)}, not ${JSON.stringify(FAMILIES[arch].modelType)} (--arch ${arch}); use the --arch of the checkpoint`);
  }
  const shape = spec.shape(raw);
  const conflicts = SHAPE_FLAGS.filter(([k]) => given[k] !== undefined && given[k] !== shape[k]).map(([k, flag]) => `${flag} ${given[k]} (the checkpoint has ${shape[k]})`);
  if (conflicts.length) throw new Error(`--init ${dir}: ${conflicts.join(', ')}; drop these options: the shape comes from the checkpoint`);
  if (!withWeights) return { shape, weights: null };
  const weightsPath = join(root, 'model.safetensors');
  const bytes = await readFile(weightsPath).catch(() => null);
  if (bytes === null) throw new Error(`--init ${dir}: no model.safetensors there; the run starts from those weights`);
  return { shape, weights: parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { file: weightsPath }).tensors as Map<string, StateValue> };
}

/** The explicit command that reproduces a run (every option spelled out, so defaults may change safely). */
export function pretrainCommandLine(c: PretrainConfig, corpus: string, out: string, extra: { weights?: 'F32' | 'F16'; dedup?: boolean; tokenizer?: string; init?: string } = {}): string {
  return [
    'wasmgrad pretrain', `--arch ${c.arch}`, `--out ${out}`, `--corpus ${corpus}`, `--vocab ${c.vocabSize}`, `--layers ${c.layers}`,
    `--d-model ${c.dModel}`, `--heads ${c.heads}`, `--ffn ${c.ffn}`, `--seq ${c.seq}`, `--batch ${c.batch}`,
    ...(c.accumulate > 1 ? [`--accumulate ${c.accumulate}`] : []), `--steps ${c.steps}`,
    `--lr ${c.lr}`, `--warmup ${c.warmup}`, ...(c.decay !== 'cosine' ? [`--decay ${c.decay}`] : []), ...(c.decay === 'wsd' ? [`--cooldown ${c.cooldown}`] : []), `--seed ${c.seed}`, `--eval-every ${c.evalEvery}`, `--save-every ${c.saveEvery}`, `--log-every ${c.logEvery}`,
    `--eval-blocks ${c.evalBlocks}`, `--dropout ${c.dropout}`, ...(c.unigramBias ? ['--unigram-bias'] : []),
    ...(c.polarityLexicon !== null ? [`--polarity-lexicon ${c.polarityLexicon}`, `--polarity-weight ${c.polarityWeight}`, `--polarity-mask ${c.polarityMask}`, ...(c.polarityTargets !== 'selected' ? [`--polarity-targets ${c.polarityTargets}`] : []), ...(c.polarityNegation > 0 ? [`--polarity-negation ${c.polarityNegation}`] : [])] : []), ...(extra.weights === 'F16' ? ['--weights f16'] : []), ...(extra.dedup === false ? ['--no-dedup'] : []),
    ...(extra.tokenizer !== undefined ? [`--tokenizer ${extra.tokenizer}`] : []),
    ...(extra.init !== undefined ? [`--init ${extra.init}`] : []),
  ].join(' ');
}

/** Uses the active backend if one is set (tests pick theirs), else the fastest WebAssembly build on `threads`. */
async function ensureBackend(threads: 'auto' | number | undefined): Promise<void> {
  if (activeBackend() === null) setBackend(await createWasmBackend({ threads }));
}
