/**
 * The model families wasmgrad knows, as one typed table: every fact the rest of the library needs
 * about a family (which `architectures` of a config.json it builds, how it parses its config, which
 * weights are tied, where adapters attach by default, how PEFT spells its keys, which tasks it
 * serves, how pretraining sizes it). `fromPretrained`, the adapters, fine-tuning and the model card
 * read this table; nothing else switches on a family. Adding a family is its model files plus one
 * entry here (a mapped type: a `Family` without an entry does not compile).
 */
import type { Module } from '../nn/module.js';
import type { Generator } from '../ops/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { GPT2Config } from './gpt2/config.js';
import { GPT2LMHeadModel } from './gpt2/model.js';
import { RobertaConfig } from './roberta/config.js';
import { RobertaForMaskedLM, RobertaForSequenceClassification } from './roberta/heads.js';
import { GPT4TSConfig } from '../timeseries/config.js';
import { GPT4TSForClassification } from '../timeseries/classifier.js';
import { GPT4TS } from '../timeseries/model.js';

export type Family = 'gpt2' | 'roberta' | 'gpt4ts';

/**
 * What a model head is trained for: the link between a family's architectures and a fine-tuning
 * task (src/tasks/task.ts). `forecast` is regression over float series: windows (B, L, M) in, H
 * steps (B, H, M) out: the next H steps (long- and short-term forecasting), or the window itself
 * with H = L (reconstruction: imputation and anomaly detection). `series-classification`: windows
 * (B, L, M) in, class logits (B, C) out.
 */
export type TaskKind = 'sequence-classification' | 'causal-lm' | 'masked-lm' | 'forecast' | 'series-classification';

/** Layer names (matched by suffix) or one full-match regex, PEFT's `target_modules` rule. */
export type LayerPattern = string[] | string;

/** Where each built-in method attaches when the user gives no target_modules. */
export interface DefaultTargets {
  /** LoRA (Hu et al.): the query and value projections. */
  lora: LayerPattern;
  /** GRASP / StochGRASP and the noise model: every attention projection and both FFN layers. */
  grasp: LayerPattern;
  /** (IA)3: keys, values and the FFN output layer... */
  ia3: LayerPattern;
  /** ... of which these have their input (the FFN activation) scaled. */
  ia3Feedforward: LayerPattern;
  /**
   * The `gpt4ts` trainable-set rule (Zhou et al. 2023): modules trained in full besides the head,
   * every LayerNorm and the positional embedding.
   */
  normsAndPositions: LayerPattern;
}

/**
 * A model built from the table: it knows its family, writes its config.json, and its forward returns
 * the same shape of result in every family (`{ logits, ... }`).
 */
export interface FamilyModel extends Module {
  readonly family: Family;
  readonly config: { toJSON(): object };
  /**
   * `input` is token ids (B, T) for text families and float values (B, L, M) for series families;
   * `logits` is the head's raw output (class or token scores; the forecast itself for regression,
   * as Hugging Face's regression heads return it).
   */
  forward(input: Tensor, opts?: { attentionMask?: Tensor | null }): { logits: Tensor };
}

export interface ArchitectureSpec {
  /** The task this head serves. */
  readonly task: TaskKind;
  /**
   * The modules this architecture puts on top of the base model (its task head), by top-level name:
   * the only keys a checkpoint of another architecture may lack when loaded with `freshHead` (they
   * start from their seeded init), and the keys a checkpoint of this architecture carries that others
   * drop. Empty when the head has no weights of its own (GPT-2's output projection is tied to `wte`).
   */
  readonly head: readonly string[];
  /** The class (to recognise a model's architecture; the table is the one place that tests classes). */
  readonly cls: abstract new (...args: never[]) => Module;
  /** A fresh model from config.json fields (unknown keys ignored; the config class validates). */
  build(config: Record<string, unknown>, opts?: { generator?: Generator }): FamilyModel;
}

/** Model sizes a pretraining run chooses; the family turns them into its config.json fields. */
export interface PretrainShape {
  vocabSize: number;
  layers: number;
  dModel: number;
  heads: number;
  ffn: number;
  /** Tokens per block, special tokens included. */
  seq: number;
  dropout: number;
}

export interface FamilySpec {
  /** `model_type` in config.json. */
  readonly modelType: string;
  /** One line for messages and model cards. */
  readonly description: string;
  /** config.json `architectures` names -> how to build them. */
  readonly architectures: Readonly<Record<string, ArchitectureSpec>>;
  /** Used when config.json names none of `architectures`. */
  readonly defaultArchitecture: string;
  /** Parses and validates config.json fields (throws naming the field and what to change). */
  parseConfig(raw: Record<string, unknown>): { toJSON(): object };
  /**
   * Token ids text tasks need from a config: begin/end of text, and the id padded positions hold
   * (masked out anyway). Absent for families that read no tokens (a model of float series).
   */
  specialIds?(config: object): { bos: number; eos: number; pad: number };
  /** The longest input (positions) the config allows. */
  maxPositions(config: object): number;
  /** Embedding tables the model also uses as its output projection (merging an adapter into them would change the head). */
  tiedWeights(model: Module): Tensor[];
  readonly targets: DefaultTargets;
  /**
   * A regex whose first group captures the block (layer) index in a parameter name: the units
   * layer-wise methods (LISA, GRASS) sample and optimizer-state offloading moves.
   */
  readonly blockPattern: string;
  /**
   * The module prefix of the base model inside its head class (`transformer.`, `roberta.`). Parameter
   * names carry it as the Hugging Face checkpoints do; checkpoint and adapter keys without it (bare
   * base-model checkpoints such as GPT2Model's `h.0.attn.c_attn.weight`) are accepted on loading.
   */
  readonly basePrefix: string;
  /**
   * Modules a fine-tuning run trains in full by default as the task head (modules_to_save), when the
   * model has them: RoBERTa's `classifier`; GPT4TS's fresh `in_layer` and `out_layer`.
   */
  readonly headModules: readonly string[];
  /**
   * For families whose models start from another family's pretrained checkpoint (GPT4TS: the first
   * blocks and `wpe` of a GPT-2 LM, fresh input/output layers): the base family and how to build a
   * model from a loaded base. `fields` are this family's own config.json fields (input_length,
   * horizon, ...); the base is left untouched (weights are copied).
   */
  readonly fromBase?: {
    readonly family: Family;
    /** `opts.architecture`: which of this family's architectures to build (default: the family's default). */
    build(base: FamilyModel, fields: Record<string, unknown>, opts?: { generator?: Generator; architecture?: string }): FamilyModel;
  };
  /** Pretraining (`wasmgrad pretrain --arch <family>`): the architecture it trains, its objective, the tokenizer's special tokens in id order, and the config for a shape. Absent for families that are not pretrained here. */
  readonly pretrain?: {
    readonly architecture: string;
    readonly objective: Extract<TaskKind, 'causal-lm' | 'masked-lm'>;
    readonly specialTokens: readonly (string | { content: string; lstrip: boolean })[];
    /** config.json fields for `shape`; `id` looks up a special token's id in the trained tokenizer. */
    config(shape: PretrainShape, id: (token: string) => number): Record<string, unknown>;
    /** The inverse of `config`: the shape a checkpoint's config.json describes (continued pretraining starts from it). */
    shape(raw: Record<string, unknown>): Omit<PretrainShape, 'dropout'>;
  };
}

const ROBERTA_LAYER = '(?:.*\\.)?layer\\.\\d+\\.';
const GPT2_BLOCK = '(?:.*\\.)?h\\.\\d+\\.';
const GPT2_NORMS_AND_POSITIONS = '(?:.*\\.)?(wpe|ln_f|h\\.\\d+\\.ln_(1|2))';

export const FAMILIES: { readonly [F in Family]: FamilySpec } = {
  gpt2: {
    modelType: 'gpt2',
    description: 'GPT-2 causal language model (Radford et al. 2019)',
    architectures: {
      GPT2LMHeadModel: { task: 'causal-lm', head: [], cls: GPT2LMHeadModel, build: (c, o) => new GPT2LMHeadModel(new GPT2Config(c), o) },
    },
    defaultArchitecture: 'GPT2LMHeadModel',
    parseConfig: (raw) => new GPT2Config(raw),
    specialIds: (c) => {
      const g = c as GPT2Config;
      return { bos: g.bos_token_id, eos: g.eos_token_id, pad: g.eos_token_id }; // GPT-2 has no pad token
    },
    maxPositions: (c) => (c as GPT2Config).n_positions,
    tiedWeights: (m) => (m instanceof GPT2LMHeadModel ? [m.transformer.wte.weight] : []),
    targets: {
      lora: ['c_attn'],
      grasp: `${GPT2_BLOCK}(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)`,
      ia3: `${GPT2_BLOCK}(attn\\.c_attn|mlp\\.c_proj)`,
      ia3Feedforward: `${GPT2_BLOCK}mlp\\.c_proj`,
      normsAndPositions: GPT2_NORMS_AND_POSITIONS,
    },
    blockPattern: '(?:^|\\.)h\\.(\\d+)\\.',
    basePrefix: 'transformer.',
    headModules: [],
    pretrain: {
      architecture: 'GPT2LMHeadModel',
      objective: 'causal-lm',
      specialTokens: ['<|endoftext|>'],
      config: (s, id) => ({
        vocab_size: s.vocabSize, n_positions: s.seq, n_embd: s.dModel, n_layer: s.layers, n_head: s.heads, n_inner: s.ffn,
        resid_pdrop: s.dropout, embd_pdrop: s.dropout, attn_pdrop: s.dropout, bos_token_id: id('<|endoftext|>'), eos_token_id: id('<|endoftext|>'),
      }),
      shape: (raw) => {
        const c = new GPT2Config(raw);
        return { vocabSize: c.vocab_size, layers: c.n_layer, dModel: c.n_embd, heads: c.n_head, ffn: c.inner, seq: c.n_positions };
      },
    },
  },
  roberta: {
    modelType: 'roberta',
    description: 'RoBERTa encoder (Liu et al. 2019)',
    architectures: {
      RobertaForMaskedLM: { task: 'masked-lm', head: ['lm_head'], cls: RobertaForMaskedLM, build: (c, o) => new RobertaForMaskedLM(new RobertaConfig(c), o) },
      RobertaForSequenceClassification: {
        task: 'sequence-classification', head: ['classifier'], cls: RobertaForSequenceClassification, build: (c, o) => new RobertaForSequenceClassification(new RobertaConfig(c), o),
      },
    },
    defaultArchitecture: 'RobertaForMaskedLM',
    parseConfig: (raw) => new RobertaConfig(raw),
    specialIds: (c) => {
      const r = c as RobertaConfig;
      return { bos: r.bos_token_id, eos: r.eos_token_id, pad: r.pad_token_id };
    },
    maxPositions: (c) => (c as RobertaConfig).maxLength,
    tiedWeights: (m) => (m instanceof RobertaForMaskedLM ? [m.roberta.embeddings.word_embeddings.weight] : []),
    targets: {
      lora: ['query', 'value'],
      grasp: `${ROBERTA_LAYER}(attention\\.self\\.(query|key|value)|attention\\.output\\.dense|intermediate\\.dense|output\\.dense)`,
      ia3: `${ROBERTA_LAYER}(attention\\.self\\.(key|value)|output\\.dense)`,
      ia3Feedforward: `${ROBERTA_LAYER}output\\.dense`,
      normsAndPositions: '(?:.*\\.)?(position_embeddings|LayerNorm)',
    },
    blockPattern: '(?:^|\\.)layer\\.(\\d+)\\.',
    basePrefix: 'roberta.',
    headModules: ['classifier'],
    pretrain: {
      architecture: 'RobertaForMaskedLM',
      objective: 'masked-lm',
      specialTokens: ['<s>', '<pad>', '</s>', '<unk>', { content: '<mask>', lstrip: true }],
      config: (s, id) => ({
        vocab_size: s.vocabSize, hidden_size: s.dModel, num_hidden_layers: s.layers, num_attention_heads: s.heads, intermediate_size: s.ffn,
        // positions run from pad + 1 to pad + seq
        max_position_embeddings: s.seq + id('<pad>') + 1, hidden_dropout_prob: s.dropout, attention_probs_dropout_prob: s.dropout,
        pad_token_id: id('<pad>'), bos_token_id: id('<s>'), eos_token_id: id('</s>'),
      }),
      shape: (raw) => {
        const c = new RobertaConfig(raw);
        return { vocabSize: c.vocab_size, layers: c.num_hidden_layers, dModel: c.hidden_size, heads: c.num_attention_heads, ffn: c.intermediate_size, seq: c.maxLength };
      },
    },
  },
  gpt4ts: {
    modelType: 'gpt4ts',
    description: 'GPT4TS time-series model (forecasting, reconstruction, classification) on the first blocks of a pretrained GPT-2 (Zhou et al. 2023)',
    architectures: {
      GPT4TS: { task: 'forecast', head: ['in_layer', 'out_layer'], cls: GPT4TS, build: (c, o) => new GPT4TS(new GPT4TSConfig(c), o) },
      GPT4TSForClassification: {
        task: 'series-classification', head: ['in_layer', 'out_layer'], cls: GPT4TSForClassification,
        // Two classes unless the config says otherwise (Hugging Face's num_labels default).
        build: (c, o) => new GPT4TSForClassification(new GPT4TSConfig({ ...c, num_labels: (c.num_labels as number | undefined) ?? 2 }), o),
      },
    },
    defaultArchitecture: 'GPT4TS',
    parseConfig: (raw) => new GPT4TSConfig(raw),
    maxPositions: (c) => (c as GPT4TSConfig).input_length,
    tiedWeights: () => [],
    targets: {
      // One-for-All's placement (Dey et al.): the positional embedding and the output layer.
      lora: ['gpt2.wpe', 'out_layer'],
      grasp: `gpt2\\.h\\.\\d+\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)`,
      ia3: `gpt2\\.h\\.\\d+\\.(attn\\.c_attn|mlp\\.c_proj)`,
      ia3Feedforward: `gpt2\\.h\\.\\d+\\.mlp\\.c_proj`,
      normsAndPositions: GPT2_NORMS_AND_POSITIONS,
    },
    blockPattern: '(?:^|\\.)h\\.(\\d+)\\.', // gpt2.h.<i>.
    basePrefix: '',
    headModules: ['in_layer', 'out_layer'],
    fromBase: {
      family: 'gpt2',
      build: (base, fields, o) => {
        if (!(base instanceof GPT2LMHeadModel)) throw new Error(`a gpt4ts model is built from a GPT-2 LM checkpoint, not a ${base.family} model`);
        const f = fields as ConstructorParameters<typeof GPT4TSConfig>[0];
        const arch = o?.architecture ?? 'GPT4TS';
        if (arch === 'GPT4TSForClassification') return GPT4TSForClassification.fromGPT2(base, f, o);
        if (arch !== 'GPT4TS') throw new Error(`a gpt4ts model has no architecture ${arch}; use GPT4TS or GPT4TSForClassification`);
        return GPT4TS.fromGPT2(base, f, o);
      },
    },
  },
};

export const FAMILY_NAMES = Object.keys(FAMILIES) as Family[];

export function isFamily(name: unknown): name is Family {
  return typeof name === 'string' && Object.hasOwn(FAMILIES, name);
}

/** The family of a model built from the table, or null for any other module (custom models in tests and apps). */
export function familyOf(model: Module): Family | null {
  const f = (model as unknown as Partial<FamilyModel>).family;
  return isFamily(f) ? f : null;
}

/** The architecture name of a model built from the table (`GPT2LMHeadModel`, ...), or null. */
export function architectureOf(model: Module): string | null {
  const family = familyOf(model);
  if (!family) return null;
  return Object.entries(FAMILIES[family].architectures).find(([, a]) => model instanceof a.cls)?.[0] ?? null;
}

/** The task a model's head serves, or null for modules outside the table. */
export function taskOf(model: Module): TaskKind | null {
  const family = familyOf(model);
  const arch = architectureOf(model);
  return family && arch ? FAMILIES[family].architectures[arch].task : null;
}

/**
 * Which keys of a checkpoint an architecture of `family` may do without: its own head's (missing
 * ones start fresh), and the other architectures' heads (present ones are dropped). From the table's
 * `head` lists, never from the key names.
 */
export function headKeys(family: Family, architecture: string): { own: (key: string) => boolean; other: (key: string) => boolean } {
  const archs = FAMILIES[family].architectures;
  const under = (mods: readonly string[]) => (key: string) => mods.some((m) => key === m || key.startsWith(`${m}.`));
  const own = archs[architecture]?.head ?? [];
  const others = Object.entries(archs).filter(([a]) => a !== architecture).flatMap(([, s]) => s.head.filter((m) => !own.includes(m)));
  return { own: under(own), other: under(others) };
}

/** The family whose `model_type` a config.json declares, or an error listing the supported ones. */
export function familyForModelType(modelType: unknown, where = 'config.json'): Family {
  const f = FAMILY_NAMES.find((n) => FAMILIES[n].modelType === modelType);
  if (!f) {
    throw new Error(`model_type ${JSON.stringify(modelType)} in ${where} is not supported (supported: ${FAMILY_NAMES.map((n) => JSON.stringify(FAMILIES[n].modelType)).join(', ')})`);
  }
  return f;
}

/** The families built from a checkpoint of `base` (fromBase) whose architectures serve `task`. */
export function familiesBuiltOn(base: Family, task: TaskKind): Family[] {
  return FAMILY_NAMES.filter((f) => FAMILIES[f].fromBase?.family === base && tasksOf(f).includes(task));
}

/** The tasks a family's architectures serve. */
export function tasksOf(family: Family): TaskKind[] {
  return [...new Set(Object.values(FAMILIES[family].architectures).map((a) => a.task))];
}

/** The family's architecture for a task, or an error naming the tasks it serves. */
export function architectureFor(family: Family, task: TaskKind): string {
  const arch = Object.entries(FAMILIES[family].architectures).find(([, a]) => a.task === task)?.[0];
  if (!arch) throw new Error(`a ${family} model cannot be fine-tuned for ${task}; ${family} serves: ${tasksOf(family).join(', ')}`);
  return arch;
}

/**
 * The architecture a checkpoint loads as: `forced` when given (it must be one of the family's), else
 * the first of config.json's `architectures` the family knows, else the family's default.
 */
export function chooseArchitecture(family: Family, declared: readonly string[], forced?: string): string {
  const spec = FAMILIES[family];
  const known = Object.keys(spec.architectures);
  if (forced !== undefined) {
    if (!known.includes(forced)) throw new Error(`a ${family} checkpoint cannot load as ${forced}; ${family} architectures: ${known.join(', ')}`);
    return forced;
  }
  return declared.find((a) => known.includes(a)) ?? spec.defaultArchitecture;
}

/** A fresh model of `family` and `architecture` from config.json fields (pretraining, tests, fromPretrained). */
export function buildModel(family: Family, architecture: string, config: Record<string, unknown>, opts: { generator?: Generator } = {}): FamilyModel {
  const spec = FAMILIES[family].architectures[architecture];
  if (!spec) throw new Error(`buildModel: ${family} has no architecture ${architecture}; known: ${Object.keys(FAMILIES[family].architectures).join(', ')}`);
  return spec.build(config, opts);
}
