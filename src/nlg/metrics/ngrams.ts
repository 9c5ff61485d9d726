/** n-gram counting shared by the scorers. Keys are the tokens joined by a space (tokens hold none). */

/** Counts of every n-gram of `tokens` with n in [minN, maxN]. */
export function ngramCounts(tokens: readonly string[], maxN: number, minN = 1): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = minN; n <= maxN; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = tokens.slice(i, i + n).join(' ');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** The order of an n-gram key. */
export function ngramOrder(key: string): number {
  let n = 1;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 32) n++;
  return n;
}

/** For each n-gram, its largest count in any one of the references. */
export function maxRefCounts(refs: readonly (readonly string[])[], maxN: number): Map<string, number> {
  const max = new Map<string, number>();
  for (const ref of refs) {
    for (const [k, c] of ngramCounts(ref, maxN)) if (c > (max.get(k) ?? 0)) max.set(k, c);
  }
  return max;
}

/** Checks that hypotheses and reference groups line up; names both counts. */
export function checkAligned(metric: string, hyps: readonly unknown[], refs: readonly (readonly unknown[])[]): void {
  if (hyps.length !== refs.length) {
    throw new Error(`${metric}: ${hyps.length} hypotheses but ${refs.length} reference groups; give one hypothesis per instance, in the same order`);
  }
  if (hyps.length === 0) throw new Error(`${metric}: no instances to score`);
  refs.forEach((g, i) => {
    if (g.length === 0) throw new Error(`${metric}: instance ${i + 1} has no reference; every instance needs at least one`);
  });
}
