/** RoBERTa configuration: the fields of Hugging Face's RobertaConfig (config.json), with its defaults (roberta-base). */

export interface RobertaConfigData {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: 'gelu' | 'gelu_new' | 'relu';
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  pad_token_id: number;
  bos_token_id: number;
  eos_token_id: number;
  /** Classes of RobertaForSequenceClassification. */
  num_labels: number;
  /** Dropout of the classification head; null means hidden_dropout_prob. */
  classifier_dropout: number | null;
}

export const ROBERTA_DEFAULTS: RobertaConfigData = {
  vocab_size: 50265,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 514,
  type_vocab_size: 1,
  initializer_range: 0.02,
  layer_norm_eps: 1e-5,
  pad_token_id: 1,
  bos_token_id: 0,
  eos_token_id: 2,
  num_labels: 2,
  classifier_dropout: null,
};

const ACTS = ['gelu', 'gelu_new', 'relu'] as const;

export class RobertaConfig implements RobertaConfigData {
  vocab_size!: number;
  hidden_size!: number;
  num_hidden_layers!: number;
  num_attention_heads!: number;
  intermediate_size!: number;
  hidden_act!: RobertaConfigData['hidden_act'];
  hidden_dropout_prob!: number;
  attention_probs_dropout_prob!: number;
  max_position_embeddings!: number;
  type_vocab_size!: number;
  initializer_range!: number;
  layer_norm_eps!: number;
  pad_token_id!: number;
  bos_token_id!: number;
  eos_token_id!: number;
  num_labels!: number;
  classifier_dropout!: number | null;
  /** HF's `architectures`: the head class the weights belong to (written to config.json). */
  architectures: string[] = ['RobertaForMaskedLM'];

  /** Unknown keys of a config.json (model_type, architectures, id2label, ...) are ignored. */
  constructor(fields: Partial<RobertaConfigData> & Record<string, unknown> = {}) {
    for (const key of Object.keys(ROBERTA_DEFAULTS) as (keyof RobertaConfigData)[]) {
      (this as Record<string, unknown>)[key] = fields[key] ?? ROBERTA_DEFAULTS[key];
    }
    if (Array.isArray(fields.architectures)) this.architectures = fields.architectures.map(String);
    this.validate();
  }

  /** Longest input: positions run from pad_token_id + 1 to pad_token_id + length. */
  get maxLength(): number {
    return this.max_position_embeddings - this.pad_token_id - 1;
  }

  /** Throws with every problem found and what to change. */
  validate(): this {
    const errs: string[] = [];
    const ints = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size',
      'max_position_embeddings', 'type_vocab_size', 'num_labels'] as const;
    for (const k of ints) if (!Number.isInteger(this[k]) || this[k] < 1) errs.push(`${k} = ${this[k]} must be a positive integer`);
    if (this.hidden_size % this.num_attention_heads !== 0) {
      errs.push(`hidden_size = ${this.hidden_size} must be divisible by num_attention_heads = ${this.num_attention_heads}`);
    }
    if (!ACTS.includes(this.hidden_act)) errs.push(`hidden_act '${this.hidden_act}' is not supported; use one of ${ACTS.join(', ')}`);
    for (const k of ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const) {
      if (!(this[k] >= 0 && this[k] < 1)) errs.push(`${k} = ${this[k]} must be in [0, 1)`);
    }
    if (this.classifier_dropout !== null && !(this.classifier_dropout >= 0 && this.classifier_dropout < 1)) {
      errs.push(`classifier_dropout = ${this.classifier_dropout} must be in [0, 1) or null (use hidden_dropout_prob)`);
    }
    for (const k of ['pad_token_id', 'bos_token_id', 'eos_token_id'] as const) {
      if (!Number.isInteger(this[k]) || this[k] < 0 || this[k] >= this.vocab_size) {
        errs.push(`${k} = ${this[k]} must be a token id in [0, vocab_size = ${this.vocab_size})`);
      }
    }
    if (this.pad_token_id + 1 >= this.max_position_embeddings) {
      errs.push(`max_position_embeddings = ${this.max_position_embeddings} leaves no positions after pad_token_id + 1; raise it`);
    }
    if (!(this.layer_norm_eps > 0)) errs.push(`layer_norm_eps = ${this.layer_norm_eps} must be > 0`);
    if (!(this.initializer_range > 0)) errs.push(`initializer_range = ${this.initializer_range} must be > 0`);
    if (errs.length) throw new Error(`RobertaConfig: ${errs.join('; ')}`);
    return this;
  }

  /** HF config.json content. */
  toJSON(): RobertaConfigData & { model_type: 'roberta'; architectures: string[] } {
    const data = Object.fromEntries(Object.keys(ROBERTA_DEFAULTS).map((k) => [k, (this as Record<string, unknown>)[k]]));
    return { model_type: 'roberta', architectures: [...this.architectures], ...(data as unknown as RobertaConfigData) };
  }
}
