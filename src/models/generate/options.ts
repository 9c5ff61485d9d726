/** Options and results of {@link generate}, and their validation. */
import type { Generator } from '../../ops/random.js';
import type { PenaltyOptions, WarpOptions } from './sampling.js';

export type Strategy = 'greedy' | 'sample' | 'beam';

/** One decoded token, reported as soon as it is chosen. */
export interface TokenEvent {
  /** Index of the prompt (in the input order). */
  prompt: number;
  /**
   * Index of the output sequence (prompt * numReturnSequences + j). In beam search the token is the
   * newest one of the prompt's best running beam: progress only, the final sequence may differ.
   */
  sequence: number;
  token: number;
  /** 0 for the first new token. */
  step: number;
  /** The sequence ended with this token (eos), or beam search finished this prompt. */
  finished: boolean;
}

export interface GenerateOptions extends PenaltyOptions, WarpOptions {
  /** New tokens per sequence at most (default 20). */
  maxNewTokens?: number;
  /** A sequence stops after emitting this token (it is kept at the end of the sequence). */
  eosTokenId?: number | null;
  /** When set, the returned sequences are right-padded with it to a common length. */
  padTokenId?: number | null;
  /** Feed only the new token each step with the KV cache (default true); false re-runs the whole prefix. */
  useCache?: boolean;
  /** Default: 'beam' when numBeams > 1, else 'greedy'. */
  strategy?: Strategy;
  /** Source of the sampling uniforms (one per running sequence per step); default a Generator(0). */
  generator?: Generator;
  numBeams?: number;
  /** Beam score = sum of log-probs / (generated length)^lengthPenalty (default 1; the eos token counts). */
  lengthPenalty?: number;
  /**
   * Beam search stop rule once numBeams hypotheses are finished: true stops at once; false (default)
   * stops when the best running beam can no longer beat them (HF's heuristic, at the current length);
   * 'never' only when no beam can, at any length up to maxNewTokens.
   */
  earlyStopping?: boolean | 'never';
  /** Sequences per prompt: the best ones for beam search (<= numBeams), independent draws for sampling. */
  numReturnSequences?: number;
  onToken?: (e: TokenEvent) => void;
}

export interface GenerateResult {
  /** Prompt + new tokens, numReturnSequences per prompt, in prompt order. */
  sequences: number[][];
  /**
   * Per sequence. Greedy and sampling: the sum of the model's log-probabilities of the new tokens
   * (log-softmax of the raw logits, before any processor). Beam search: the length-penalised beam
   * score (sum of processed log-probs / length^lengthPenalty), best first within each prompt.
   */
  scores: number[];
}

export interface Resolved {
  strategy: Strategy;
  maxNewTokens: number;
  eos: number | null;
  useCache: boolean;
  numBeams: number;
  numReturn: number;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
}

const isPosInt = (x: number) => Number.isInteger(x) && x >= 1;

export function resolveOptions(o: GenerateOptions): Resolved {
  const numBeams = o.numBeams ?? 1;
  if (!isPosInt(numBeams)) throw new Error(`generate: numBeams must be a positive integer, got ${numBeams}`);
  const strategy = o.strategy ?? (numBeams > 1 ? 'beam' : 'greedy');
  if (strategy !== 'beam' && numBeams !== 1) throw new Error(`generate: numBeams = ${numBeams} needs strategy 'beam'`);
  const maxNewTokens = o.maxNewTokens ?? 20;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new Error(`generate: maxNewTokens must be an integer >= 0, got ${maxNewTokens}`);
  const numReturn = o.numReturnSequences ?? 1;
  if (!isPosInt(numReturn)) throw new Error(`generate: numReturnSequences must be a positive integer, got ${numReturn}`);
  if (strategy === 'greedy' && numReturn !== 1) throw new Error('generate: greedy decoding returns one sequence per prompt; use sampling or beam search');
  if (strategy === 'beam' && numReturn > numBeams) throw new Error(`generate: numReturnSequences = ${numReturn} exceeds numBeams = ${numBeams}`);
  if (strategy !== 'sample' && (o.temperature !== undefined || o.topK !== undefined || o.topP !== undefined)) {
    throw new Error(`generate: temperature, topK and topP apply to strategy 'sample', not '${strategy}'`);
  }
  return {
    strategy,
    maxNewTokens,
    eos: o.eosTokenId ?? null,
    useCache: o.useCache ?? true,
    numBeams,
    numReturn,
    lengthPenalty: o.lengthPenalty ?? 1,
    earlyStopping: o.earlyStopping ?? false,
  };
}
