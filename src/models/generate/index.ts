/**
 * Text generation for causal language models: greedy decoding, sampling (temperature, top-k, top-p,
 * repetition penalty, no-repeat n-grams) and beam search, with or without the KV cache.
 *
 * Prompts of different lengths run as one batch, left-padded as Hugging Face generation pads them:
 * padding is masked out and each row's position ids count its own tokens from 0, so every prompt
 * decodes as it would alone (up to float rounding in the longer reductions). Sampling draws one
 * uniform per running row per step, rows in prompt order.
 */
import { Generator } from '../../ops/random.js';
import { rand } from '../../ops/create.js';
import { dispose, tidy } from '../../tensor/scope.js';
import { beamSearch } from './beam.js';
import { Decoder, type CausalLM } from './decoder.js';
import { resolveOptions, type GenerateOptions, type GenerateResult, type Resolved } from './options.js';
import { applyPenalties, applyWarpers, argmax, logSoftmax, sampleFromScores } from './sampling.js';

export type { CausalLM } from './decoder.js';
export { reorderCache } from './decoder.js';
export type { GenerateOptions, GenerateResult, Strategy, TokenEvent } from './options.js';
// The processors, for custom decoding loops. The host softmax helpers stay internal: the package
// root already exports the tensor ops softmax / logSoftmax.
export {
  applyNoRepeatNgram, applyPenalties, applyRepetitionPenalty, applyTemperature, applyWarpers, noRepeatNgramBans,
  sampleFromScores, topKFilter, topPFilter, type PenaltyOptions, type WarpOptions,
} from './sampling.js';

interface Finished {
  tokens: number[];
  score: number;
}

/** Uniforms in (0, 1) from the generator's stream, one per running row. */
function uniforms(n: number, generator: Generator): Float32Array | Float64Array | Int32Array {
  return tidy(() => {
    const u = rand([n], { generator });
    const values = u.toArray();
    dispose(u);
    return values;
  });
}

/** Greedy or sampled decoding of a batch of prompts; returns each row's sequence. */
function decodeBatch(model: CausalLM, prompts: number[][], r: Resolved, o: GenerateOptions, firstIndex: number[], generator: Generator): Finished[][] {
  const copies = r.numReturn;
  const out: Finished[][] = prompts.map(() => []);
  let rowId = prompts.flatMap((_, p) => Array.from({ length: copies }, (_, j) => p * copies + j)); // output slot per row
  const logProb = new Float64Array(prompts.length * copies);
  const done: Finished[] = [];
  const dec = new Decoder(model, prompts.flatMap((p) => Array.from({ length: copies }, () => p)), r.useCache);
  try {
    for (let step = 0; step < r.maxNewTokens && dec.rows > 0; step++) {
      const logits = dec.logits();
      const u = r.strategy === 'sample' ? uniforms(dec.rows, generator) : null;
      const src: number[] = [];
      const next: number[] = [];
      const last = step === r.maxNewTokens - 1;
      for (let i = 0; i < dec.rows; i++) {
        const lp = logSoftmax(logits[i]);
        const scores = applyPenalties(logits[i], dec.tokens[i], o);
        const token = u ? sampleFromScores(applyWarpers(scores, o), u[i]) : argmax(scores);
        const id = rowId[i];
        logProb[id] += lp[token];
        const finished = r.eos !== null && token === r.eos;
        o.onToken?.({ prompt: firstIndex[Math.floor(id / copies)], sequence: firstIndex[Math.floor(id / copies)] * copies + (id % copies), token, step, finished: finished || last });
        if (finished || last) done[id] = { tokens: [...dec.tokens[i], token], score: logProb[id] };
        else {
          src.push(i);
          next.push(token);
        }
      }
      if (last) break;
      rowId = src.map((i) => rowId[i]);
      dec.advance(src, next);
    }
  } finally {
    dec.dispose();
  }
  prompts.forEach((p, k) => {
    for (let j = 0; j < copies; j++) out[k].push(done[k * copies + j] ?? { tokens: p.slice(), score: 0 });
  });
  return out;
}

/**
 * Generates continuations of `inputIds` (one prompt, or several of any lengths) with `model`.
 *
 * ```ts
 * const { sequences } = generate(model, [[464, 3290]], { maxNewTokens: 16, strategy: 'sample', topP: 0.9, generator: new Generator(1) });
 * ```
 *
 * Runs synchronously on the model's backend (the active one, as for the model's own tensors); every
 * tensor it creates is freed before it returns, including the KV cache. Put the model in eval() mode
 * first, or dropout will stay active.
 */
export function generate(model: CausalLM, inputIds: number[] | number[][], opts: GenerateOptions = {}): GenerateResult {
  const r = resolveOptions(opts);
  const prompts: number[][] = inputIds.length > 0 && typeof inputIds[0] === 'number' ? [inputIds as number[]] : (inputIds as number[][]);
  prompts.forEach((p, i) => {
    if (!Array.isArray(p) || p.length === 0) throw new Error(`generate: prompt ${i} is empty (start it with a BOS token)`);
    if (!p.every((t) => Number.isInteger(t) && t >= 0)) throw new Error(`generate: prompt ${i} has a token that is not a non-negative integer`);
  });
  const generator = opts.generator ?? new Generator(0);

  const indices = prompts.map((_, i) => i);
  const results: Finished[][] =
    r.strategy === 'beam'
      ? beamSearch(model, prompts, r, opts, indices).map((h) => h.slice(0, r.numReturn))
      : decodeBatch(model, prompts, r, opts, indices, generator);

  const flat = results.flat();
  const sequences = flat.map((f) => f.tokens);
  if (opts.padTokenId != null) {
    const L = Math.max(...sequences.map((s) => s.length));
    for (const s of sequences) while (s.length < L) s.push(opts.padTokenId);
  }
  return { sequences, scores: flat.map((f) => f.score) };
}
