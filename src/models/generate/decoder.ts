/**
 * The model-facing half of generation: a batch of rows of equal length, stepped one token at a time,
 * with or without the KV cache. Strategies only see host arrays (last-position logits in, chosen rows
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
    opts?: { attentionMask?: Tensor | null; pastKeyValues?: LayerPast[] | null; useCache?: boolean },
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
  /** Full token sequence of every row (prompt + generated). */
  tokens: number[][];
  private past: LayerPast[] | null = null;
  /** Whether the cache holds every token but each row's last one (the state after advance). */
  private cacheBehindByOne = false;

  constructor(
    private readonly model: CausalLM,
    rows: readonly (readonly number[])[],
    private readonly useCache: boolean,
  ) {
    this.tokens = rows.map((r) => r.slice());
    const L = this.tokens[0]?.length ?? 0;
    if (this.tokens.some((r) => r.length !== L)) throw new Error('Decoder: rows must have equal lengths');
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
    const feed = incremental ? this.tokens.map((r) => r.slice(-1)) : this.tokens;
    const T = feed[0].length;
    const past = this.past;
    const out = tidy(() =>
      noGrad(() => {
        const ids = tensor(feed.flat(), [R, T], { dtype: 'int32', backend: past?.[0].key.backend ?? getBackend() });
        const r = this.model.forward(ids, { pastKeyValues: incremental ? past : null, useCache: this.useCache });
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
