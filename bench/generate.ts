// Text generation speed of a tiny GPT-2 (n_embd 128, 4 layers, 4 heads, vocab 5000): greedy decoding of
// 64 new tokens after an 8-token prompt, with the KV cache and without it (full prefix every step).
import * as W from '../src/index.js';
import type { BenchRow } from './types.js';

const CFG = { vocab_size: 5000, n_positions: 128, n_embd: 128, n_layer: 4, n_head: 4, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 };
const NEW = 64;

export async function generateBenches(opts: { quick?: boolean; log?: (s: string) => void } = {}): Promise<BenchRow[]> {
  const log = opts.log ?? console.log;
  const model = new W.GPT2LMHeadModel(CFG, { generator: new W.Generator(5) });
  model.eval();
  const prompt = [[11, 402, 87, 1500, 3, 999, 42, 7]];
  const rows: BenchRow[] = [];
  const reps = opts.quick ? 1 : 3;
  for (const useCache of [true, false]) {
    W.generate(model, prompt, { maxNewTokens: 4, useCache }); // warm-up
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      W.generate(model, prompt, { maxNewTokens: NEW, useCache });
      best = Math.min(best, performance.now() - t0);
    }
    rows.push({
      name: `generate greedy ${useCache ? 'kv-cache' : 'no-cache'}`,
      shape: `gpt2 d128 L4 V5000, 8+${NEW} tokens`,
      variant: W.getBackend().variant,
      ms: best,
      tokensPerSecond: (NEW / best) * 1000,
    });
  }
  log(`generation: ${rows.map((r) => `${r.name} ${r.tokensPerSecond!.toFixed(0)} tokens/s`).join(', ')}`);
  model.dispose();
  return rows;
}
