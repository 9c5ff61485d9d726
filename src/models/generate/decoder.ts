/**
 * The model-facing half of generation: a batch of rows (prompts of any lengths, left-padded as
 * Hugging Face generation pads them), stepped one token at a time, with or without the KV cache.
 * A row shorter than the longest gets `pad` leading columns that the attention mask blocks, and
 * position ids that count its real tokens from 0, so it decodes as it would alone. Strategies only see host arrays (last-position logits in, chosen rows
 * and tokens out), so greedy, sampling and beam search share one cache discipline:
 *
 * - every forward runs in `tidy` + `noGrad`, so nothing but the returned cache survives a step, and
 *   parameters that require grad record no graph;
 * - `advance(src, tokens)` builds the next batch from rows of the current one. Beam search reorders
 *   and duplicates rows; finished rows are dropped. The cache follows by gathering along the batch dim.
 */
import { getBackend, noGrad } from '../../tensor/engine.js';
import { dispose, tidy } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import { tensor } from '../../ops/create.js';
import { embedding } from '../../ops/indexing.js';
import { reshape, slice } from '../../ops/shape.js';
import type { LayerPast } from '../../nn/attention.js';

/** Any model with GPT-2's forward signature (ids int32 [B, T] -> logits [B, T, V] and the cache). */
export interface CausalLM {
  forward(
    ids: Tensor,
    opts?: { attentionMask?: Tensor | null; positionIds?: Tensor | null; pastKeyValues?: LayerPast[] | null; useCache?: boolean },
  ): { logits: Tensor; pastKeyValues: LayerPast[] | null };
}

/** Rows `src` of x along dim 0 (repeats allowed): a row-gather through `embedding` on x viewed as [B, rest]. */
export function gatherRows(x: Tensor, src: readonly number[]): Tensor {
  const [B, ...rest] = x.shape;
  const idx = tensor(src, [src.length], { dtype: 'int32', backend: x.backend });
  const rows = embedding(reshape(x, [B, x.size / B]), idx); // [n, prod(rest)]
  return reshape(rows, [src.length, ...rest]);
}

/** The cache of batch rows `src` (beam indices): every layer's keys and values gathered along dim 0. */
export function reorderCache(past: readonly LayerPast[], src: readonly number[]): LayerPast[] {
  return past.map((l) => ({ key: gatherRows(l.key, src), value: gatherRows(l.value, src) }));
}

const isIdentity = (src: readonly number[], n: number) => src.length === n && src.every((s, i) => s === i);

export class Decoder {
  /** Full token sequence of every row (prompt + generated), without padding. */
  tokens: number[][];
  /** Leading padding columns of every row (the longest prompt's length minus this row's). */
  private pad: number[];
  private past: LayerPast[] | null = null;
  /** Whether the cache holds every token but each row's last one (the state after advance). */
  private cacheBehindByOne = false;

  constructor(
    private readonly model: CausalLM,
    rows: readonly (readonly number[])[],
    private readonly useCache: boolean,
  ) {
    this.tokens = rows.map((r) => r.slice());
    const L = Math.max(0, ...this.tokens.map((r) => r.length));
    this.pad = this.tokens.map((r) => L - r.length);
  }

  get rows(): number {
    return this.tokens.length;
  }

  /**
   * Runs the model on what the cache has not seen (the whole rows without cache or on the first
   * call; the last token otherwise) and returns each row's logits at its last position, on the host.
   */
  logits(): Float64Array[] {
    const R = this.rows;
    const incremental = this.useCache && this.cacheBehindByOne && this.past !== null;
    // Left-pad to the longest row (pad id 0: the mask blocks it); the cache already holds the padding.
    const feed = incremental ? this.tokens.map((r) => r.slice(-1)) : this.tokens.map((r, i) => [...Array<number>(this.pad[i]).fill(0), ...r]);
    const T = feed[0].length;
    const past = this.past;
    const padded = this.pad.some((p) => p > 0);
    const out = tidy(() =>
      noGrad(() => {
        const backend = past?.[0].key.backend ?? getBackend();
        const ids = tensor(feed.flat(), [R, T], { dtype: 'int32', backend });
        let attentionMask: Tensor | null = null;
        let positionIds: Tensor | null = null;
        if (padded) {
          // HF: attention_mask 0 on padding; position_ids = cumsum(mask) - 1 (padding gets any position, it is never attended).
          const width = (incremental ? past![0].key.shape[2] : 0) + T;
          const mask = new Int32Array(R * width);
          const pos = new Int32Array(R * T);
          this.tokens.forEach((row, i) => {
            mask.fill(1, i * width + this.pad[i], (i + 1) * width);
            for (let t = 0; t < T; t++) pos[i * T + t] = Math.max(0, row.length - T + t);
          });
          attentionMask = tensor(mask, [R, width], { dtype: 'int32', backend });
          positionIds = tensor(pos, [R, T], { dtype: 'int32', backend });
        }
        const r = this.model.forward(ids, { attentionMask, positionIds, pastKeyValues: incremental ? past : null, useCache: this.useCache });
        const V = r.logits.shape[2];
        const last = slice(r.logits, [0, T - 1, 0], [R, T, V]).toArray();
        return { last, V, present: this.useCache ? r.pastKeyValues : null };
      }),
    );
    dispose(past);
    this.past = out.present;
    this.cacheBehindByOne = false;
    return Array.from({ length: R }, (_, i) => Float64Array.from(out.last.subarray(i * out.V, (i + 1) * out.V)));
  }

  /** The next batch: row i continues current row src[i] with token next[i]. */
  advance(src: readonly number[], next: readonly number[]): void {
    this.tokens = src.map((s, i) => [...this.tokens[s], next[i]]);
    this.pad = src.map((s) => this.pad[s]);
    const past = this.past;
    if (past && src.length === 0) {
      dispose(past);
      this.past = null;
    } else if (past && !isIdentity(src, past[0].key.shape[0])) {
      this.past = tidy(() => noGrad(() => reorderCache(past, src)));
      dispose(past);
    }
    this.cacheBehindByOne = true;
  }

  /** Frees the cache. */
  dispose(): void {
    dispose(this.past);
    this.past = null;
  }
}
