/** GPT-2 configuration: the fields of Hugging Face's GPT2Config (config.json), with its defaults. */

export interface GPT2ConfigData {
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  /** FFN width; null means 4 * n_embd. */
  n_inner: number | null;
  activation_function: 'gelu_new' | 'gelu' | 'relu';
  resid_pdrop: number;
  embd_pdrop: number;
  attn_pdrop: number;
  layer_norm_epsilon: number;
  initializer_range: number;
  bos_token_id: number;
  eos_token_id: number;
}

export const GPT2_DEFAULTS: GPT2ConfigData = {
  vocab_size: 50257,
  n_positions: 1024,
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  n_inner: null,
  activation_function: 'gelu_new',
  resid_pdrop: 0.1,
  embd_pdrop: 0.1,
  attn_pdrop: 0.1,
  layer_norm_epsilon: 1e-5,
  initializer_range: 0.02,
  bos_token_id: 50256,
  eos_token_id: 50256,
};

const ACTIVATIONS = ['gelu_new', 'gelu', 'relu'] as const;

export class GPT2Config implements GPT2ConfigData {
  vocab_size!: number;
  n_positions!: number;
  n_embd!: number;
  n_layer!: number;
  n_head!: number;
  n_inner!: number | null;
  activation_function!: GPT2ConfigData['activation_function'];
  resid_pdrop!: number;
  embd_pdrop!: number;
  attn_pdrop!: number;
  layer_norm_epsilon!: number;
  initializer_range!: number;
  bos_token_id!: number;
  eos_token_id!: number;

  /** Defaults are HF's (GPT-2 small); unknown keys of a config.json (model_type, architectures, ...) are ignored. */
  constructor(fields: Partial<GPT2ConfigData> & Record<string, unknown> = {}) {
    for (const key of Object.keys(GPT2_DEFAULTS) as (keyof GPT2ConfigData)[]) {
      (this as Record<string, unknown>)[key] = fields[key] ?? GPT2_DEFAULTS[key];
    }
    this.validate();
  }

  /** FFN width. */
  get inner(): number {
    return this.n_inner ?? 4 * this.n_embd;
  }

  /** Throws with every problem found and what to change. */
  validate(): this {
    const errs: string[] = [];
    const posInt = (k: 'vocab_size' | 'n_positions' | 'n_embd' | 'n_layer' | 'n_head') => {
      if (!Number.isInteger(this[k]) || this[k] < 1) errs.push(`${k} = ${this[k]} must be a positive integer`);
    };
    (['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head'] as const).forEach(posInt);
    if (this.n_embd % this.n_head !== 0) {
      errs.push(`n_embd = ${this.n_embd} must be divisible by n_head = ${this.n_head} (each head gets n_embd / n_head dims)`);
    }
    if (this.n_inner !== null && (!Number.isInteger(this.n_inner) || this.n_inner < 1)) {
      errs.push(`n_inner = ${this.n_inner} must be a positive integer or null (4 * n_embd)`);
    }
    if (!ACTIVATIONS.includes(this.activation_function)) {
      errs.push(`activation_function '${this.activation_function}' is not supported; use one of ${ACTIVATIONS.join(', ')}`);
    }
    for (const k of ['resid_pdrop', 'embd_pdrop', 'attn_pdrop'] as const) {
      if (!(this[k] >= 0 && this[k] < 1)) errs.push(`${k} = ${this[k]} must be in [0, 1)`);
    }
    if (!(this.layer_norm_epsilon > 0)) errs.push(`layer_norm_epsilon = ${this.layer_norm_epsilon} must be > 0`);
    if (!(this.initializer_range > 0)) errs.push(`initializer_range = ${this.initializer_range} must be > 0`);
    if (errs.length) throw new Error(`GPT2Config: ${errs.join('; ')}`);
    return this;
  }

  /** HF config.json content. */
  toJSON(): GPT2ConfigData & { model_type: 'gpt2'; architectures: string[]; tie_word_embeddings: true } {
    const data = Object.fromEntries(Object.keys(GPT2_DEFAULTS).map((k) => [k, (this as Record<string, unknown>)[k]]));
    return { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], tie_word_embeddings: true, ...(data as unknown as GPT2ConfigData) };
  }
}
