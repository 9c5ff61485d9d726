/**
 * RoBERTa heads with Hugging Face names: RobertaForMaskedLM (`lm_head.{dense,layer_norm,bias}`, the
 * decoder tied to `roberta.embeddings.word_embeddings`) and RobertaForSequenceClassification
 * (`classifier.{dense,out_proj}` on the first token, `<s>`).
 */
import { fmtShape } from '../../backend/strides.js';
import type { Tensor } from '../../tensor/tensor.js';
import { add, gelu, square, sub, tanh } from '../../ops/elementwise.js';
import { matmul } from '../../ops/matmul.js';
import { crossEntropy } from '../../ops/nn.js';
import { Generator } from '../../ops/random.js';
import { mean } from '../../ops/reduce.js';
import { reshape, slice } from '../../ops/shape.js';
import { constParameter, Dropout, LayerNorm, Linear } from '../../nn/layers.js';
import { Module, type PreparedState, type StateValue } from '../../nn/module.js';
import { RobertaConfig, type RobertaConfigData } from './config.js';
import { RobertaModel, type RobertaForwardOptions } from './model.js';

/** Entries of head checkpoints with no parameter here (HF drops the pooler with a warning too). */
function prepareHeadState(state: Map<string, StateValue>, tiedDecoder: boolean): PreparedState {
  const out = new Map<string, StateValue>();
  const ignored: string[] = [];
  for (const [key, t] of state) {
    const dropped = key === 'roberta.embeddings.position_ids' || key.startsWith('roberta.pooler.')
      || (tiedDecoder && key === 'lm_head.decoder.weight')
      // The decoder bias is lm_head.bias itself; take it only from a checkpoint that lacks lm_head.bias.
      || (tiedDecoder && key === 'lm_head.decoder.bias' && state.has('lm_head.bias'));
    if (dropped) ignored.push(key);
    else out.set(tiedDecoder && key === 'lm_head.decoder.bias' ? 'lm_head.bias' : key, t);
  }
  return { state: out, ignored };
}

function resolve(config: RobertaConfig | Partial<RobertaConfigData>, architecture: string): RobertaConfig {
  const c = config instanceof RobertaConfig ? config.validate() : new RobertaConfig(config);
  c.architectures = [architecture];
  return c;
}

/** dense -> gelu -> layer_norm -> decoder (x E^T, E = word embeddings) + bias. */
export class RobertaLMHead extends Module {
  readonly dense: Linear;
  readonly layer_norm: LayerNorm;
  readonly bias: Tensor;

  constructor(c: RobertaConfig, generator: Generator) {
    super();
    this.dense = new Linear(c.hidden_size, c.hidden_size, { generator, std: c.initializer_range });
    this.layer_norm = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.bias = constParameter([c.vocab_size], 0);
  }

  /** features (B, T, C), wordEmbeddings (V, C) -> logits (B, T, V) */
  forward(features: Tensor, wordEmbeddings: Tensor): Tensor {
    const h = this.layer_norm.forward(gelu(this.dense.forward(features), 'none'));
    return add(matmul(h, wordEmbeddings, { transB: true }), this.bias);
  }
}

export class RobertaForMaskedLM extends Module {
  readonly family = 'roberta' as const;
  readonly config: RobertaConfig;
  readonly roberta: RobertaModel;
  readonly lm_head: RobertaLMHead;

  constructor(config: RobertaConfig | Partial<RobertaConfigData>, opts: { generator?: Generator } = {}) {
    super();
    this.config = resolve(config, 'RobertaForMaskedLM');
    const generator = opts.generator ?? new Generator(0);
    this.roberta = new RobertaModel(this.config, { generator });
    this.lm_head = new RobertaLMHead(this.config, generator);
  }

  /** ids (B, T) -> logits (B, T, vocab_size) */
  forward(ids: Tensor, opts: RobertaForwardOptions = {}): { logits: Tensor } {
    return { logits: this.lm_head.forward(this.roberta.forward(ids, opts), this.roberta.embeddings.word_embeddings.weight) };
  }

  /** Masked-LM cross-entropy: labels (B, T) int32 hold the original ids at masked positions and -100 elsewhere. */
  loss(ids: Tensor, labels: Tensor, opts: RobertaForwardOptions = {}): Tensor {
    return crossEntropy(this.forward(ids, opts).logits, labels, { ignoreIndex: -100 });
  }

  protected override prepareStateDict(state: Map<string, StateValue>): PreparedState {
    return prepareHeadState(state, true);
  }
}

/** features[:, 0] -> dropout -> dense -> tanh -> dropout -> out_proj. */
export class RobertaClassificationHead extends Module {
  readonly dense: Linear;
  readonly dropout: Dropout;
  readonly out_proj: Linear;

  constructor(c: RobertaConfig, generator: Generator) {
    super();
    const init = { generator, std: c.initializer_range };
    this.dense = new Linear(c.hidden_size, c.hidden_size, init);
    this.dropout = new Dropout(c.classifier_dropout ?? c.hidden_dropout_prob, generator);
    this.out_proj = new Linear(c.hidden_size, c.num_labels, init);
  }

  /** features (B, T, C) (or just the `<s>` row, (B, 1, C)) -> logits (B, num_labels) */
  forward(features: Tensor): Tensor {
    const [B, , C] = features.shape;
    const first = reshape(slice(features, [0, 0, 0], [B, 1, C]), [B, C]); // the <s> token
    const h = tanh(this.dense.forward(this.dropout.forward(first)));
    return this.out_proj.forward(this.dropout.forward(h));
  }
}

export class RobertaForSequenceClassification extends Module {
  readonly family = 'roberta' as const;
  readonly config: RobertaConfig;
  readonly roberta: RobertaModel;
  readonly classifier: RobertaClassificationHead;
  /**
   * The head reads only `<s>`, so by default the last encoder layer computes only that row after
   * its keys and values (`firstTokenOnly`; same loss and gradients as the full layer). Set false
   * (or pass `firstTokenOnly: false` to forward/loss) to run it over every position.
   */
  firstTokenOnly = true;

  constructor(config: RobertaConfig | Partial<RobertaConfigData>, opts: { generator?: Generator } = {}) {
    super();
    this.config = resolve(config, 'RobertaForSequenceClassification');
    const generator = opts.generator ?? new Generator(0);
    this.roberta = new RobertaModel(this.config, { generator });
    this.classifier = new RobertaClassificationHead(this.config, generator);
  }

  /** ids (B, T) -> logits (B, num_labels) */
  forward(ids: Tensor, opts: RobertaForwardOptions = {}): { logits: Tensor } {
    const firstTokenOnly = opts.firstTokenOnly ?? this.firstTokenOnly;
    return { logits: this.classifier.forward(this.roberta.forward(ids, { ...opts, firstTokenOnly })) };
  }

  /**
   * Cross-entropy against int32 class labels (B); with num_labels = 1, mean squared error against
   * float targets (B) (HF's single_label / regression problem types).
   */
  loss(ids: Tensor, labels: Tensor, opts: RobertaForwardOptions = {}): Tensor {
    const { logits } = this.forward(ids, opts);
    const B = ids.shape[0];
    if (labels.rank !== 1 || labels.shape[0] !== B) {
      throw new Error(`RobertaForSequenceClassification.loss: labels ${fmtShape(labels.shape)} must be [batch] = [${B}]`);
    }
    if (this.config.num_labels === 1) return mean(square(sub(reshape(logits, [B]), labels)));
    return crossEntropy(logits, labels);
  }

  protected override prepareStateDict(state: Map<string, StateValue>): PreparedState {
    return prepareHeadState(state, false);
  }
}
