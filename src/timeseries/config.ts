/**
 * GPT4TS configuration (config.json): the forecasting geometry plus the GPT-2 backbone's config.
 * `gpt_layers` blocks of the backbone are kept (GPT4TS uses the first 6 of GPT-2 small).
 */
import { GPT2Config, type GPT2ConfigData } from './gpt2-parts.js';
import { patchCount } from './pipeline.js';

export interface GPT4TSConfigData {
  /** Input window length L (default 336). */
  input_length: number;
  /** Output length H (default 96). For reconstruction (anomaly detection) H = L. */
  horizon: number;
  /** Patch length (default 16). */
  patch_size: number;
  /** Patch stride, also the right replication padding (default 8). */
  stride: number;
  /** Backbone blocks kept, the first k of the pretrained GPT-2 (default 6). */
  gpt_layers: number;
  /** eps of the instance normalisation (default 1e-5). */
  norm_eps: number;
  /**
   * Classes of a classifier (GPT4TSForClassification, whose output layer is Linear(N d, num_labels));
   * 0 for the forecasting/reconstruction head (default).
   */
  num_labels: number;
  /** The backbone's GPT-2 config (n_embd is d; n_positions bounds the number of patches). */
  gpt2: GPT2ConfigData;
  /** A classifier's class names by index (`{"0": "walk", ...}`), written to config.json when set. */
  id2label?: Record<string, string>;
  /**
   * The task the model was fine-tuned for (`forecast`, `impute`, ...), written to config.json when
   * set, so a tool can refuse a model trained for another task (a reconstruction model has
   * horizon = input length and would pass for a forecaster).
   */
  series_task?: SeriesTaskName;
}

/** The series tasks a GPT4TS is trained for. */
export const SERIES_TASK_NAMES = ['forecast', 'forecast-short', 'impute', 'anomaly', 'classify-series'] as const;
export type SeriesTaskName = (typeof SERIES_TASK_NAMES)[number];

export const GPT4TS_DEFAULTS: Omit<GPT4TSConfigData, 'gpt2' | 'id2label' | 'series_task'> = {
  input_length: 336, horizon: 96, patch_size: 16, stride: 8, gpt_layers: 6, norm_eps: 1e-5, num_labels: 0,
};

export class GPT4TSConfig implements GPT4TSConfigData {
  input_length!: number;
  horizon!: number;
  patch_size!: number;
  stride!: number;
  gpt_layers!: number;
  norm_eps!: number;
  num_labels!: number;
  gpt2: GPT2ConfigData;
  id2label?: Record<string, string>;
  series_task?: SeriesTaskName;

  /** Unknown keys (model_type, architectures) are ignored; gpt2 defaults to GPT-2 small. */
  constructor(fields: Partial<Omit<GPT4TSConfigData, 'gpt2' | 'id2label' | 'series_task'>> & { id2label?: Record<string, string>; series_task?: SeriesTaskName } & { gpt2?: Partial<GPT2ConfigData> | GPT2Config } & Record<string, unknown> = {}) {
    for (const key of Object.keys(GPT4TS_DEFAULTS) as (keyof typeof GPT4TS_DEFAULTS)[]) {
      (this as Record<string, unknown>)[key] = fields[key] ?? GPT4TS_DEFAULTS[key];
    }
    const g = fields.gpt2 instanceof GPT2Config ? fields.gpt2 : new GPT2Config((fields.gpt2 ?? {}) as Record<string, unknown>);
    this.gpt2 = { ...(g.toJSON() as GPT2ConfigData) };
    for (const k of ['model_type', 'architectures', 'tie_word_embeddings']) delete (this.gpt2 as unknown as Record<string, unknown>)[k];
    if (fields.gpt_layers === undefined) this.gpt_layers = Math.min(GPT4TS_DEFAULTS.gpt_layers, this.gpt2.n_layer);
    if (fields.id2label !== undefined) this.id2label = { ...(fields.id2label as Record<string, string>) };
    if (fields.series_task !== undefined) this.series_task = fields.series_task;
    this.validate();
  }

  /** Patches per series: floor((L - patch) / stride) + 2. */
  get numPatches(): number {
    return patchCount(this.input_length, this.patch_size, this.stride);
  }

  /** d, the backbone width. */
  get dModel(): number {
    return this.gpt2.n_embd;
  }

  validate(): this {
    const errs: string[] = [];
    for (const k of ['input_length', 'horizon', 'patch_size', 'stride', 'gpt_layers'] as const) {
      if (!Number.isInteger(this[k]) || this[k] < 1) errs.push(`${k} = ${this[k]} must be a positive integer`);
    }
    if (!(Number.isInteger(this.num_labels) && (this.num_labels === 0 || this.num_labels >= 2))) {
      errs.push(`num_labels = ${this.num_labels} must be 0 (forecasting head) or an integer >= 2 (a classifier)`);
    }
    if (this.id2label !== undefined && Object.keys(this.id2label).length !== this.num_labels) {
      errs.push(`id2label names ${Object.keys(this.id2label).length} classes but num_labels = ${this.num_labels}; name every class once`);
    }
    if (this.series_task !== undefined && !(SERIES_TASK_NAMES as readonly string[]).includes(this.series_task)) {
      errs.push(`series_task = ${JSON.stringify(this.series_task)} is not one of ${SERIES_TASK_NAMES.join(', ')}`);
    }
    if (!(this.norm_eps > 0)) errs.push(`norm_eps = ${this.norm_eps} must be > 0`);
    if (this.patch_size > this.input_length) errs.push(`patch_size = ${this.patch_size} exceeds input_length = ${this.input_length}; use a longer input or a smaller patch`);
    if (this.gpt_layers > this.gpt2.n_layer) errs.push(`gpt_layers = ${this.gpt_layers} exceeds the backbone's n_layer = ${this.gpt2.n_layer}`);
    if (errs.length === 0 && this.numPatches > this.gpt2.n_positions) {
      const longest = (this.gpt2.n_positions - 1) * this.stride + this.patch_size - 1; // floor((L - P) / S) + 2 <= n_positions
      errs.push(
        `input_length = ${this.input_length} makes ${this.numPatches} patches (patch ${this.patch_size}, stride ${this.stride}), but the backbone's positional embedding wpe has ` +
          `n_positions = ${this.gpt2.n_positions} rows; use an input of at most ${longest} steps, a larger stride, or a GPT-2 with more positions`,
      );
    }
    if (errs.length) throw new Error(`GPT4TSConfig: ${errs.join('; ')}`);
    return this;
  }

  /** The architecture this config builds: a classifier when num_labels > 0, else the forecaster. */
  get architecture(): 'GPT4TS' | 'GPT4TSForClassification' {
    return this.num_labels > 0 ? 'GPT4TSForClassification' : 'GPT4TS';
  }

  toJSON(): GPT4TSConfigData & { model_type: 'gpt4ts'; architectures: string[] } {
    const data = Object.fromEntries(Object.keys(GPT4TS_DEFAULTS).map((k) => [k, (this as Record<string, unknown>)[k]]));
    return {
      model_type: 'gpt4ts', architectures: [this.architecture], ...(data as Omit<GPT4TSConfigData, 'gpt2'>),
      ...(this.id2label ? { id2label: { ...this.id2label } } : {}), ...(this.series_task ? { series_task: this.series_task } : {}), gpt2: { ...this.gpt2 },
    };
  }
}
