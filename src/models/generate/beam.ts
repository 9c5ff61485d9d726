/**
 * Beam search over a batch of prompts (left-padded by the Decoder), as Hugging Face's BeamSearchScorer: each step
 * every running beam is extended by every token, the 2 * numBeams best candidates of each prompt
 * are walked best first, an eos candidate among the first numBeams becomes a finished hypothesis,
 * and the first numBeams non-eos candidates are the next beams. The cache is gathered by the beam
 * each new beam came from.
 */
import { Decoder, type CausalLM } from './decoder.js';
import type { GenerateOptions, Resolved } from './options.js';
import { applyPenalties, logSoftmax } from './sampling.js';

interface Hypothesis {
  tokens: number[];
  score: number;
}

/** The best `numBeams` finished hypotheses of one prompt. */
class Hypotheses {
  list: Hypothesis[] = [];
  constructor(private readonly numBeams: number, private readonly lengthPenalty: number) {}

  penalised(sumLogProbs: number, generated: number): number {
    return sumLogProbs / Math.pow(Math.max(generated, 1), this.lengthPenalty);
  }

  add(tokens: number[], sumLogProbs: number, generated: number): void {
    const score = this.penalised(sumLogProbs, generated);
    if (this.list.length >= this.numBeams && score <= this.worst()) return;
    this.list.push({ tokens, score });
    this.list.sort((a, b) => b.score - a.score);
    if (this.list.length > this.numBeams) this.list.pop();
  }

  worst(): number {
    return this.list.length ? this.list[this.list.length - 1].score : -Infinity;
  }

  /** Whether no running beam (best sum of log-probs `best`) can enter the list any more. */
  isDone(best: number, generated: number, maxNew: number, early: boolean | 'never'): boolean {
    if (this.list.length < this.numBeams) return false;
    if (early === true) return true;
    // Log-probs only decrease the sum; the length divisor can still grow it when lengthPenalty > 0.
    const len = early === 'never' && this.lengthPenalty > 0 ? maxNew : generated;
    return this.worst() >= this.penalised(best, len);
  }
}

interface Candidate {
  row: number;
  token: number;
  score: number;
}

/** The k best (score, row, token) of one prompt's rows, best first; ties by row then token. */
function topCandidates(rows: number[], logp: Float64Array[], beamScores: number[], k: number): Candidate[] {
  const best: Candidate[] = [];
  const worse = (a: Candidate, b: Candidate) => a.score < b.score || (a.score === b.score && (a.row > b.row || (a.row === b.row && a.token > b.token)));
  for (const row of rows) {
    const lp = logp[row];
    for (let token = 0; token < lp.length; token++) {
      const score = beamScores[row] + lp[token];
      if (score === -Infinity) continue;
      const c = { row, token, score };
      if (best.length === k && !worse(best[k - 1], c)) continue;
      let i = best.length === k ? k - 1 : best.length;
      while (i > 0 && worse(best[i - 1], c)) {
        best[i] = best[i - 1];
        i--;
      }
      best[i] = c;
    }
  }
  return best;
}

/** Returns, per prompt, the hypotheses best first. */
export function beamSearch(model: CausalLM, prompts: number[][], r: Resolved, o: GenerateOptions, firstIndex: number[]): Hypothesis[][] {
  const K = r.numBeams;
  const hyps = prompts.map(() => new Hypotheses(K, r.lengthPenalty));
  // Each prompt starts as one row (its single live beam): the prompt runs through the model once,
  // not K times, and step 0's 2K best tokens of that row become the K beams (advance copies its cache).
  let owner = prompts.map((_, p) => p); // prompt of each row
  let beamScores = prompts.map(() => 0);
  const dec = new Decoder(model, prompts, r.useCache);
  try {
    for (let step = 0; step < r.maxNewTokens && dec.rows > 0; step++) {
      const logp = dec.logits().map((l, i) => applyPenalties(logSoftmax(l), dec.tokens[i], o));
      const src: number[] = [];
      const next: number[] = [];
      const nextScores: number[] = [];
      const nextOwner: number[] = [];
      const last = step === r.maxNewTokens - 1;
      for (let p = 0; p < prompts.length; p++) {
        const rows = owner.flatMap((q, i) => (q === p ? [i] : []));
        if (rows.length === 0) continue;
        const beams: Candidate[] = [];
        topCandidates(rows, logp, beamScores, 2 * K).forEach((c, rank) => {
          if (beams.length === K) return;
          if (r.eos !== null && c.token === r.eos) {
            // An eos outside the first K would not have survived as a beam either (HF).
            if (rank < K) hyps[p].add([...dec.tokens[c.row], c.token], c.score, step + 1);
          } else beams.push(c);
        });
        const best = beams.length ? beams[0].score : -Infinity;
        const done = beams.length === 0 || hyps[p].isDone(best, step + 1, r.maxNewTokens, r.earlyStopping);
        if (!done && last) for (const c of beams) hyps[p].add([...dec.tokens[c.row], c.token], c.score, step + 1);
        if (o.onToken) {
          const top = beams[0] ?? { token: hyps[p].list[0]?.tokens.at(-1) ?? -1 };
          o.onToken({ prompt: firstIndex[p], sequence: firstIndex[p] * r.numReturn, token: top.token, step, finished: done || last });
        }
        if (done || last) continue;
        for (const c of beams) {
          src.push(c.row);
          next.push(c.token);
          nextScores.push(c.score);
          nextOwner.push(p);
        }
      }
      if (last) break;
      dec.advance(src, next);
      beamScores = nextScores;
      owner = nextOwner;
    }
  } finally {
    dec.dispose();
  }
  // maxNewTokens = 0: the prompts themselves.
  return hyps.map((h, p) => (h.list.length ? h.list : [{ tokens: prompts[p].slice(), score: 0 }]));
}
