/**
 * GPT-2's decoder block as its checkpoint names it (`h.{i}.{ln_1,attn.c_attn,attn.c_proj,ln_2,mlp.c_fc,mlp.c_proj}`):
 * pre-LN, x + attn(ln_1(x)), then + mlp(ln_2(.)). The attention core and the MLP are shared (src/nn).
 */
import type { Tensor } from '../../tensor/tensor.js';
import { tidy } from '../../tensor/scope.js';
import { add } from '../../ops/elementwise.js';
import { slice } from '../../ops/shape.js';
import {
  appendPast, attend, mergeHeads, splitHeads, type AttentionCall, type AttentionOptions, type LayerPast,
} from '../../nn/attention.js';
import { MLP, type BlockOptions } from '../../nn/mlp.js';
import { Conv1D, Dropout, LayerNorm } from '../../nn/layers.js';
import { Module } from '../../nn/module.js';

/** GPT-2 attention: `c_attn` projects to q, k, v at once (Conv1D C -> 3C), `c_proj` back to C. */
export class CausalSelfAttention extends Module {
  readonly c_attn: Conv1D;
  readonly c_proj: Conv1D;
  readonly attn_dropout: Dropout;
  readonly resid_dropout: Dropout;

  constructor(readonly nEmbd: number, readonly nHead: number, o: AttentionOptions = {}) {
    super();
    if (nEmbd % nHead !== 0) throw new Error(`CausalSelfAttention: n_embd ${nEmbd} is not divisible by n_head ${nHead}`);
    this.c_attn = new Conv1D(nEmbd, 3 * nEmbd, { generator: o.generator, std: o.std });
    this.c_proj = new Conv1D(nEmbd, nEmbd, { generator: o.generator, std: o.projStd ?? o.std });
    this.attn_dropout = new Dropout(o.attnPdrop ?? 0, o.generator);
    this.resid_dropout = new Dropout(o.residPdrop ?? 0, o.generator);
  }

  /** x (B, T, C) -> (B, T, C), and the updated cache when `useCache`. */
  forward(x: Tensor, call: AttentionCall = {}): { out: Tensor; present: LayerPast | null } {
    const [B, T, C] = x.shape;
    const qkv = this.c_attn.forward(x); // (B, T, 3C)
    const part = (i: number) => splitHeads(slice(qkv, [0, 0, i * C], [B, T, (i + 1) * C]), this.nHead); // (B, nh, T, hs)
    const q = part(0);
    const all = appendPast(call.past, part(1), part(2)); // (B, nh, Tpast + T, hs)
    const y = mergeHeads(attend(q, all.key, all.value, call.mask ?? null, this.attn_dropout)); // (B, T, C)
    const out = this.resid_dropout.forward(this.c_proj.forward(y));
    return { out, present: call.useCache ? all : null };
  }
}

/** Pre-LN decoder block (GPT-2's `h.{i}`). */
export class PreLNBlock extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLP;

  constructor(nEmbd: number, nHead: number, inner: number, o: BlockOptions = {}) {
    super();
    this.ln_1 = new LayerNorm(nEmbd, o.layerNormEps);
    this.attn = new CausalSelfAttention(nEmbd, nHead, o);
    this.ln_2 = new LayerNorm(nEmbd, o.layerNormEps);
    this.mlp = new MLP(nEmbd, inner, o);
  }

  forward(x: Tensor, call: AttentionCall = {}): { hidden: Tensor; present: LayerPast | null } {
    // Attention and MLP each in a scope: their temporaries go before the next one's are made.
    const a = tidy(() => this.attn.forward(this.ln_1.forward(x), call));
    const h = add(x, a.out); // (B, T, C)
    return { hidden: add(h, tidy(() => this.mlp.forward(this.ln_2.forward(h)))), present: a.present };
  }
}
