/**
 * GPT-2 (Radford et al. 2019) as its Hugging Face checkpoint is laid out: GPT2LMHeadModel holds the
 * base model as `transformer` (`transformer.{wte,wpe,h.{i}.*,ln_f}`, as in GPT2LMHeadModel's
 * model.safetensors); the LM head is tied to `transformer.wte` (logits = h wte^T), so it has no
 * parameter of its own. Bare GPT2Model checkpoints (`h.0.attn.c_attn.weight`) load too.
 */
import { fmtShape } from '../../backend/strides.js';
import type { Tensor } from '../../tensor/tensor.js';
import { tidy } from '../../tensor/scope.js';
import { full, tensor } from '../../ops/create.js';
import { add } from '../../ops/elementwise.js';
import { matmul } from '../../ops/matmul.js';
import { lmHeadCrossEntropy } from '../../ops/lm-head.js';
import { Generator } from '../../ops/random.js';
import { concat, slice } from '../../ops/shape.js';
import { attentionMask, type AttentionMask, type LayerPast } from '../../nn/attention.js';
import { Dropout, Embedding, LayerNorm } from '../../nn/layers.js';
import { Module, ModuleList, type PreparedState, type StateValue } from '../../nn/module.js';
import { PreLNBlock } from './block.js';
import { GPT2Config, type GPT2ConfigData } from './config.js';

export interface GPT2ForwardOptions {
  /** (B, past + T): 1 = attend, 0 = padding. */
  attentionMask?: Tensor | null;
  /**
   * (B, T) int32 position of each new token. Default: past, past + 1, ... for every row (HF without
   * position_ids). Left-padded rows pass their own (cumsum(mask) - 1, as HF generation does), so
   * their real tokens see the positions they would see alone.
   */
  positionIds?: Tensor | null;
  /** Keys/values of earlier positions, one entry per layer (from a previous call with useCache). */
  pastKeyValues?: LayerPast[] | null;
  /** Return the keys/values of every layer (past + current) for incremental decoding. */
  useCache?: boolean;
}

export interface GPT2Output {
  /** (B, T, vocab_size) */
  logits: Tensor;
  /** Present only with useCache. */
  pastKeyValues: LayerPast[] | null;
}

/** Checkpoint entries with no parameter here: the causal-mask buffers of old checkpoints and the tied head. */
const IGNORED = [/\.attn\.bias$/, /\.attn\.masked_bias$/, /^lm_head\.weight$/];

/** The base model (HF GPT2Model): ids -> last hidden states, after ln_f. */
export class GPT2Model extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly drop: Dropout;
  readonly h: ModuleList<PreLNBlock>;
  readonly ln_f: LayerNorm;

  /** Initialises as HF: normal(0, initializer_range), c_proj weights scaled by 1/sqrt(2 n_layer). */
  constructor(readonly config: GPT2Config, generator: Generator) {
    super();
    const c = config;
    const std = c.initializer_range;
    this.wte = new Embedding(c.vocab_size, c.n_embd, { generator, std });
    this.wpe = new Embedding(c.n_positions, c.n_embd, { generator, std });
    this.drop = new Dropout(c.embd_pdrop, generator);
    const block = {
      generator, std, projStd: std / Math.sqrt(2 * c.n_layer), attnPdrop: c.attn_pdrop, residPdrop: c.resid_pdrop,
      layerNormEps: c.layer_norm_epsilon, activation: c.activation_function,
    };
    this.h = new ModuleList(Array.from({ length: c.n_layer }, () => new PreLNBlock(c.n_embd, c.n_head, c.inner, block)));
    this.ln_f = new LayerNorm(c.n_embd, c.layer_norm_epsilon);
  }

  /** ids int32 (B, T) -> hidden (B, T, C), and the cache when `useCache`. */
  forward(ids: Tensor, opts: GPT2ForwardOptions = {}): { hidden: Tensor; pastKeyValues: LayerPast[] | null } {
    const { x: embedded, mask, past } = this.inputs(ids, opts, 'GPT2Model.forward');
    let x = embedded;
    const presents: LayerPast[] = [];
    this.h.map((block, i) => {
      // One scope per block: what the block's backward does not read is freed as the forward goes
      // (everything, without a graph), not when the whole step ends.
      const r = tidy(() => block.forward(x, { mask, past: past?.[i], useCache: opts.useCache }));
      x = r.hidden;
      if (r.present) presents.push(r.present);
    });
    return { hidden: this.ln_f.forward(x), pastKeyValues: opts.useCache ? presents : null };
  }

  /**
   * Every layer's hidden states, as HF's `output_hidden_states`: entry 0 is the embeddings' output,
   * entry i the output of block i, and the last one has ln_f applied (it equals `forward(...).hidden`).
   * For probing and feature extraction; no key/value cache.
   */
  hiddenStates(ids: Tensor, opts: Pick<GPT2ForwardOptions, 'attentionMask' | 'positionIds'> = {}): Tensor[] {
    const { x, mask } = this.inputs(ids, { attentionMask: opts.attentionMask, positionIds: opts.positionIds }, 'GPT2Model.hiddenStates');
    const out = [x];
    this.h.map((block) => out.push(tidy(() => block.forward(out[out.length - 1]!, { mask }).hidden)));
    out[out.length - 1] = this.ln_f.forward(out[out.length - 1]!);
    return out;
  }

  /** Checks ids and options; the embeddings' output, the attention mask and the cache the call extends. */
  private inputs(ids: Tensor, opts: GPT2ForwardOptions, name: string): { x: Tensor; mask: AttentionMask | null; past: LayerPast[] | null } {
    if (ids.rank !== 2 || ids.dtype !== 'int32') throw new Error(`${name}: ids ${ids.describe()} must be int32 [batch, length]`);
    const [B, T] = ids.shape;
    const past = opts.pastKeyValues ?? null;
    if (past && past.length !== this.config.n_layer) {
      throw new Error(`${name}: pastKeyValues has ${past.length} layers; the model has ${this.config.n_layer}`);
    }
    const pastLength = past ? past[0].key.shape[2] : 0;
    if (pastLength + T > this.config.n_positions) {
      throw new Error(
        `${name}: ${pastLength} cached + ${T} new positions exceed n_positions = ${this.config.n_positions}; shorten the input or drop old cache entries`,
      );
    }
    const pos = opts.positionIds;
    if (pos && (pos.dtype !== 'int32' || pos.rank !== 2 || pos.shape[0] !== B || pos.shape[1] !== T)) {
      throw new Error(`${name}: positionIds ${pos.describe()} must be int32 with the shape of ids ${fmtShape(ids.shape)}`);
    }
    const positions = pos ?? tensor(Array.from({ length: T }, (_, i) => pastLength + i), [T], { dtype: 'int32', backend: ids.backend });
    const x = this.drop.forward(add(this.wte.forward(ids), this.wpe.forward(positions))); // (B, T, C) + (T, C) or (B, T, C)
    const mask = attentionMask({ batch: B, queryLength: T, pastLength, causal: true, attentionMask: opts.attentionMask });
    return { x, mask, past };
  }
}

/** GPT-2 with its tied LM head (HF GPT2LMHeadModel). */
export class GPT2LMHeadModel extends Module {
  readonly family = 'gpt2' as const;
  readonly config: GPT2Config;
  readonly transformer: GPT2Model;

  constructor(config: GPT2Config | Partial<GPT2ConfigData>, opts: { generator?: Generator } = {}) {
    super();
    this.config = config instanceof GPT2Config ? config.validate() : new GPT2Config(config);
    this.transformer = new GPT2Model(this.config, opts.generator ?? new Generator(0));
  }

  /** ids int32 (B, T) -> logits (B, T, V), and the cache when `useCache`. */
  forward(ids: Tensor, opts: GPT2ForwardOptions = {}): GPT2Output {
    const r = this.transformer.forward(ids, opts);
    const logits = matmul(r.hidden, this.transformer.wte.weight, { transB: true }); // (B, T, C) @ (V, C)^T -> (B, T, V)
    return { logits, pastKeyValues: r.pastKeyValues };
  }

  /**
   * Causal-LM loss: logits at position t predict labels[t + 1] (the shift happens here, as in HF);
   * labels default to the ids; -100 marks positions to ignore (padding, a prompt).
   */
  loss(ids: Tensor, labels: Tensor = ids, opts: Pick<GPT2ForwardOptions, 'attentionMask' | 'positionIds'> = {}): Tensor {
    if (labels.dtype !== 'int32' || labels.rank !== 2 || labels.shape[0] !== ids.shape[0] || labels.shape[1] !== ids.shape[1]) {
      throw new Error(`GPT2LMHeadModel.loss: labels ${labels.describe()} must be int32 with the shape of ids ${fmtShape(ids.shape)}`);
    }
    const [B, T] = ids.shape;
    // Position t predicts label t + 1, the last position nothing: shifting the targets on the device
    // (not slicing the logits) keeps a (B, T, V) copy and its zero-padded gradient out of the step.
    const targets = concat([slice(labels, [0, 1], [B, T]), full([B, 1], -100, { dtype: 'int32', backend: ids.backend })], 1);
    return this.lmLoss(ids, targets, { ...opts, ignoreIndex: -100 });
  }

  /**
   * The loss of `targets` (B, T) aligned with the positions (target t is what position t predicts;
   * ignoreIndex skips a position), through the tied head in row chunks (ops/lm-head.ts): the same
   * loss as crossEntropy(forward(ids).logits, targets) without ever holding the (B, T, V) logits or
   * their gradient, the largest tensors of a step.
   */
  lmLoss(
    ids: Tensor, targets: Tensor,
    opts: Pick<GPT2ForwardOptions, 'attentionMask' | 'positionIds'> & { ignoreIndex?: number; reduction?: 'mean' | 'sum'; labelSmoothing?: number } = {},
  ): Tensor {
    const { hidden } = this.transformer.forward(ids, { attentionMask: opts.attentionMask, positionIds: opts.positionIds });
    return lmHeadCrossEntropy(hidden, this.transformer.wte.weight, targets, opts); // (B, T, C) x (V, C) vs (B, T)
  }

  /** Accepts HF keys with or without the `transformer.` prefix; drops the legacy mask buffers and the tied head. */
  protected override prepareStateDict(state: Map<string, StateValue>): PreparedState {
    const out = new Map<string, StateValue>();
    const ignored: string[] = [];
    for (const [key, t] of state) {
      if (IGNORED.some((re) => re.test(key))) ignored.push(key);
      else out.set(key.startsWith('transformer.') ? key : `transformer.${key}`, t);
    }
    return { state: out, ignored };
  }
}
