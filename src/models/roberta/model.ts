/**
 * RoBERTa encoder (Liu et al. 2019) with Hugging Face names: `embeddings.{word,position,token_type}_embeddings`,
 * `embeddings.LayerNorm`, `encoder.layer.{i}.{attention.self.{query,key,value}, attention.output.{dense,LayerNorm},
 * intermediate.dense, output.{dense,LayerNorm}}`. Post-LN layers; the heads (heads.ts) hold it as `roberta`.
 */
import { fmtShape } from '../../backend/strides.js';
import type { Tensor } from '../../tensor/tensor.js';
import { tidy } from '../../tensor/scope.js';
import { tensor } from '../../ops/create.js';
import { add } from '../../ops/elementwise.js';
import { slice } from '../../ops/shape.js';
import { Generator } from '../../ops/random.js';
import { attentionMask as describeMask, type AttentionMask } from '../../nn/attention.js';
import { Dropout, Embedding, LayerNorm } from '../../nn/layers.js';
import { Module, ModuleList, type PreparedState, type StateValue } from '../../nn/module.js';
import { RobertaConfig, type RobertaConfigData } from './config.js';
import { PostLNBlock } from './layer.js';

export interface RobertaForwardOptions {
  /** (B, T): 1 = attend, 0 = padding. Default: ids != pad_token_id (HF defaults to all ones; pass it to match). */
  attentionMask?: Tensor | null;
  /** (B, T) int32 segment ids; default zeros. */
  tokenTypeIds?: Tensor | null;
  /**
   * Return only position 0 (`<s>`), (B, 1, C): the last layer then computes that row alone after
   * its keys and values (the same values and gradients as slicing the full output, for about a
   * fifth less work in a 4-layer model). Falls back to the full last layer, then the slice, when
   * a hook on it is not row-local (LoRA with dropout while training). Default false (every position).
   */
  firstTokenOnly?: boolean;
}

/**
 * RoBERTa's position ids: padding keeps pad_token_id, real tokens count from pad_token_id + 1 in
 * order (cumsum of the non-pad mask, times the mask, plus pad). Computed on the host from the ids'
 * host copy (Tensor.intValues: no device read).
 */
export function robertaPositionIds(ids: Tensor, padTokenId: number): Tensor {
  const [B, T] = ids.shape;
  const v = ids.intValues();
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let count = 0;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      out[i] = v[i] === padTokenId ? padTokenId : padTokenId + ++count;
    }
  }
  return tensor(out, [B, T], { dtype: 'int32', backend: ids.backend });
}

function resolveConfig(config: RobertaConfig | Partial<RobertaConfigData>): RobertaConfig {
  return config instanceof RobertaConfig ? config.validate() : new RobertaConfig(config);
}

export class RobertaEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(readonly config: RobertaConfig, generator: Generator) {
    super();
    const c = config;
    const init = { generator, std: c.initializer_range };
    this.word_embeddings = new Embedding(c.vocab_size, c.hidden_size, { ...init, paddingIdx: c.pad_token_id });
    this.position_embeddings = new Embedding(c.max_position_embeddings, c.hidden_size, { ...init, paddingIdx: c.pad_token_id });
    this.token_type_embeddings = new Embedding(c.type_vocab_size, c.hidden_size, init);
    this.LayerNorm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.dropout = new Dropout(c.hidden_dropout_prob, generator);
  }

  /** ids (B, T) -> (B, T, C) */
  forward(ids: Tensor, tokenTypeIds?: Tensor | null): Tensor {
    const types = tokenTypeIds ?? tensor(new Int32Array(ids.size), ids.shape, { dtype: 'int32', backend: ids.backend });
    const x = add(
      add(this.word_embeddings.forward(ids), this.token_type_embeddings.forward(types)),
      this.position_embeddings.forward(robertaPositionIds(ids, this.config.pad_token_id)),
    ); // (B, T, C)
    return this.dropout.forward(this.LayerNorm.forward(x));
  }
}

export class RobertaEncoder extends Module {
  readonly layer: ModuleList<PostLNBlock>;

  constructor(c: RobertaConfig, generator: Generator) {
    super();
    const o = {
      generator, std: c.initializer_range, attnPdrop: c.attention_probs_dropout_prob, residPdrop: c.hidden_dropout_prob,
      layerNormEps: c.layer_norm_eps, activation: c.hidden_act,
    };
    this.layer = new ModuleList(
      Array.from({ length: c.num_hidden_layers }, () => new PostLNBlock(c.hidden_size, c.num_attention_heads, c.intermediate_size, o)),
    );
  }

  /** x (B, T, C) -> (B, T, C); with `firstOnly`, (B, 1, C): position 0, the last layer computing only it when it can. */
  forward(x: Tensor, mask: AttentionMask | Tensor | null, firstOnly = false): Tensor {
    const n = this.layer.length;
    // One scope per layer: what its backward does not read is freed as the forward goes.
    for (let i = 0; i < n; i++) {
      const l = this.layer[i];
      const first = firstOnly && i === n - 1;
      const direct = first && l.canComputeFirstOnly();
      x = tidy(() => l.forward(x, mask, direct));
      if (first && !direct) x = slice(x, [0, 0, 0], [x.shape[0], 1, x.shape[2]]);
    }
    if (firstOnly && n === 0) x = slice(x, [0, 0, 0], [x.shape[0], 1, x.shape[2]]);
    return x;
  }
}

/** The bare encoder (HF RobertaModel without the pooler): ids -> last hidden states. */
export class RobertaModel extends Module {
  readonly config: RobertaConfig;
  readonly embeddings: RobertaEmbeddings;
  readonly encoder: RobertaEncoder;

  /** Initialises as HF: normal(0, initializer_range) weights with zero padding rows, zero biases, LN ones/zeros. */
  constructor(config: RobertaConfig | Partial<RobertaConfigData>, opts: { generator?: Generator } = {}) {
    super();
    this.config = resolveConfig(config);
    const generator = opts.generator ?? new Generator(0);
    this.embeddings = new RobertaEmbeddings(this.config, generator);
    this.encoder = new RobertaEncoder(this.config, generator);
  }

  /** ids int32 (B, T) -> (B, T, hidden_size), or (B, 1, hidden_size) with `firstTokenOnly` */
  forward(ids: Tensor, opts: RobertaForwardOptions = {}): Tensor {
    const { x, mask } = this.inputs(ids, opts, 'RobertaModel.forward');
    return this.encoder.forward(x, mask, opts.firstTokenOnly ?? false);
  }

  /**
   * Every layer's hidden states, as HF's `output_hidden_states`: entry 0 is the embeddings' output,
   * entry i the output of layer i (the last equals `forward`). For probing and feature extraction.
   */
  hiddenStates(ids: Tensor, opts: RobertaForwardOptions = {}): Tensor[] {
    const { x, mask } = this.inputs(ids, opts, 'RobertaModel.hiddenStates');
    const out = [x];
    for (const l of this.encoder.layer) out.push(tidy(() => l.forward(out[out.length - 1]!, mask)));
    return out;
  }

  /** Checks ids and options; the embeddings' output and the attention mask. */
  private inputs(ids: Tensor, opts: RobertaForwardOptions, name: string): { x: Tensor; mask: AttentionMask | null } {
    if (ids.rank !== 2 || ids.dtype !== 'int32') throw new Error(`${name}: ids ${ids.describe()} must be int32 [batch, length]`);
    const [B, T] = ids.shape;
    if (T > this.config.maxLength) {
      throw new Error(
        `${name}: length ${T} exceeds ${this.config.maxLength} (max_position_embeddings - pad_token_id - 1); truncate the input`,
      );
    }
    const tt = opts.tokenTypeIds;
    if (tt && (tt.dtype !== 'int32' || tt.rank !== 2 || tt.shape[0] !== B || tt.shape[1] !== T)) {
      throw new Error(`${name}: tokenTypeIds ${tt.describe()} must be int32 with the shape of ids ${fmtShape(ids.shape)}`);
    }
    const pad = this.config.pad_token_id;
    const attentionMask = opts.attentionMask
      ?? tensor(Array.from(ids.intValues(), (id) => (id === pad ? 0 : 1)), [B, T], { dtype: 'int32', backend: ids.backend });
    const mask = describeMask({ batch: B, queryLength: T, causal: false, attentionMask }); // keys of (B, T), read by the attention kernel
    return { x: this.embeddings.forward(ids, tt), mask };
  }

  /** Accepts keys with the `roberta.` prefix of the head checkpoints; drops the pooler and the position_ids buffer. */
  protected override prepareStateDict(state: Map<string, StateValue>): PreparedState {
    const out = new Map<string, StateValue>();
    const ignored: string[] = [];
    for (const [key, t] of state) {
      const k = key.startsWith('roberta.') ? key.slice('roberta.'.length) : key;
      if (k === 'embeddings.position_ids' || k.startsWith('pooler.')) ignored.push(key);
      else out.set(k, t);
    }
    return { state: out, ignored };
  }
}
