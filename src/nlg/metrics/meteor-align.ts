/**
 * METEOR's word aligner: candidate matches from the stages (exact, stem, synonym), then the
 * one-to-one alignment with the most matches, then the fewest chunks (runs of matches adjacent on
 * both sides), then the smallest summed distance |i - j| (METEOR 1.5's PARTIAL_COMPARE_TOTAL: the
 * stage of a match does not enter the choice, only the score).
 */
import type { SynonymLookup } from './synonyms.js';

/** METEOR's matching stages, in the order they run. Paraphrase matching is not implemented. */
export type MeteorStage = 'exact' | 'stem' | 'synonym';
export const METEOR_STAGES: readonly MeteorStage[] = ['exact', 'stem', 'synonym'];

/** One possible match: hypothesis word i with reference word j, found by a stage (index into METEOR_STAGES). */
export interface Candidate {
  i: number;
  j: number;
  stage: number;
}

/** What the stem and synonym stages look words up in. */
export interface MatchResources {
  stages: readonly MeteorStage[];
  stem?: (word: string) => string;
  synonyms?: SynonymLookup;
}

/**
 * Candidate matches as METEOR 1.5's matchers find them: exact for equal words; stem for different
 * words with equal stems; synonym for different words sharing a WordNet synset. A pair found by
 * an earlier stage is not repeated by a later one (the earliest stage's weight counts).
 */
export function findCandidates(hyp: readonly string[], ref: readonly string[], res: MatchResources): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<number>();
  const add = (i: number, j: number, stage: MeteorStage) => {
    const key = i * (ref.length + 1) + j;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ i, j, stage: METEOR_STAGES.indexOf(stage) });
  };
  for (const stage of res.stages) {
    if (stage === 'exact') {
      hyp.forEach((h, i) => ref.forEach((r, j) => { if (h === r) add(i, j, stage); }));
    } else if (stage === 'stem') {
      const stem = res.stem;
      if (!stem) throw new Error('METEOR: the stem stage needs a stemmer (params.stem)');
      const hs = hyp.map(stem);
      const rs = ref.map(stem);
      hyp.forEach((h, i) => ref.forEach((r, j) => { if (h !== r && hs[i] === rs[j]) add(i, j, stage); }));
    } else {
      const syn = res.synonyms;
      if (!syn) throw new Error('METEOR: the synonym stage needs WordNet (params.synonyms; in Node: await loadWordNet() from wasmgrad/node)');
      const hs = hyp.map((w) => syn.synsets(w));
      const rs = ref.map((w) => syn.synsets(w));
      hyp.forEach((h, i) => ref.forEach((r, j) => {
        if (h === r) return;
        const [a, b] = hs[i]!.size <= rs[j]!.size ? [hs[i]!, rs[j]!] : [rs[j]!, hs[i]!];
        for (const id of a) if (b.has(id)) { add(i, j, stage); return; }
      }));
    }
  }
  return out;
}

/** One alignment: for each hypothesis position, the matched reference position (or -1) and the stage that matched it (or -1). */
export interface Alignment {
  links: number[];
  stages: number[];
  matches: number;
  chunks: number;
  distance: number;
}

/** Size of a maximum matching of hypothesis positions >= from onto free reference positions (augmenting paths). */
function maxMatching(adj: readonly (readonly number[])[], from: number, used: Uint8Array): number {
  const owner = new Int32Array(used.length).fill(-1);
  let size = 0;
  const seen = new Uint8Array(used.length);
  const augment = (i: number): boolean => {
    for (const j of adj[i]!) {
      if (used[j] || seen[j]) continue;
      seen[j] = 1;
      if (owner[j]! < 0 || augment(owner[j]!)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  for (let i = from; i < adj.length; i++) {
    if (adj[i]!.length === 0) continue;
    seen.fill(0);
    if (augment(i)) size++;
  }
  return size;
}

/**
 * The alignment of the candidates: most matches, then fewest chunks, then smallest summed |i - j|.
 * Beam search left to right over hypothesis positions. A state's bound is its matches plus the
 * largest number of matches the rest can still add (a maximum bipartite matching of the remaining
 * hypothesis words onto the free reference words); states below the best bound are dropped (matches
 * come first), the rest are ranked by chunks, then distance, and the best `beamSize` kept.
 */
export function alignCandidates(hypLength: number, refLength: number, candidates: readonly Candidate[], beamSize: number): Alignment {
  const byHyp: Candidate[][] = Array.from({ length: hypLength }, () => []);
  for (const c of candidates) byHyp[c.i]!.push(c);
  const adj = byHyp.map((cs) => cs.map((c) => c.j));
  interface MatchNode { i: number; j: number; stage: number; prev: MatchNode | null }
  interface State { node: MatchNode | null; used: Uint8Array; matches: number; chunks: number; distance: number; last: number; bound: number }
  const skip = (st: State): State => (st.last === -2 ? st : { ...st, last: -2 });
  let beam: State[] = [{ node: null, used: new Uint8Array(refLength), matches: 0, chunks: 0, distance: 0, last: -2, bound: 0 }];
  for (let i = 0; i < hypLength; i++) {
    const cs = byHyp[i]!;
    if (cs.length === 0) {
      beam = beam.map(skip); // nothing to match: every state moves on unchanged
      continue;
    }
    const next: State[] = [];
    for (const st of beam) {
      next.push(skip(st));
      for (const c of cs) {
        if (st.used[c.j]) continue;
        const used = st.used.slice();
        used[c.j] = 1;
        next.push({
          node: { i, j: c.j, stage: c.stage, prev: st.node }, used, matches: st.matches + 1,
          chunks: st.chunks + (st.last === c.j - 1 ? 0 : 1), distance: st.distance + Math.abs(i - c.j), last: c.j, bound: 0,
        });
      }
    }
    let top = 0;
    for (const st of next) top = Math.max(top, (st.bound = st.matches + maxMatching(adj, i + 1, st.used)));
    const alive = next.filter((st) => st.bound === top);
    alive.sort((a, b) => a.chunks - b.chunks || a.distance - b.distance);
    beam = alive.length > beamSize ? alive.slice(0, beamSize) : alive;
  }
  beam.sort((a, b) => b.matches - a.matches || a.chunks - b.chunks || a.distance - b.distance);
  const best = beam[0]!;
  const links = new Array<number>(hypLength).fill(-1);
  const stages = new Array<number>(hypLength).fill(-1);
  for (let n = best.node; n; n = n.prev) {
    links[n.i] = n.j;
    stages[n.i] = n.stage;
  }
  return { links, stages, matches: best.matches, chunks: best.chunks, distance: best.distance };
}

/** The exact-stage alignment alone (equal words only). */
export function alignExact(hyp: readonly string[], ref: readonly string[], beamSize = 40): Alignment {
  return alignCandidates(hyp.length, ref.length, findCandidates(hyp, ref, { stages: ['exact'] }), beamSize);
}
