/**
 * The import graph of a source tree, and the two rules the architecture test holds it to: no cycles,
 * and imports point down a layer order. Pure functions over file texts, so the rules themselves are
 * tested on small made-up graphs before they are run on src/.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One relative import: `from` and `to` are repository-relative paths with forward slashes. */
export interface ImportEdge {
  from: string;
  to: string;
  /** The specifier as written, e.g. '../ops/index.js'. */
  specifier: string;
  /** `import type` / `export type ... from`: erased at runtime, but still a dependency. */
  typeOnly: boolean;
  /** `import('...')` or `require('...')`: loaded when that code runs, not when the importing file loads. */
  dynamic: boolean;
}

const toPosix = (p: string) => p.split(path.sep).join('/');

/** Every `.ts` file under `dir` (repository-relative, sorted). */
export function listSources(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = path.posix.join(rel, e.name);
      if (e.isDirectory()) walk(child);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

/** Source files are ESM with explicit `.js` extensions (NodeNext): `./x.js` is the file `./x.ts`. */
function resolveSpecifier(from: string, specifier: string): string {
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  return joined.replace(/\.(m?)js$/, '.$1ts');
}

/** Start offsets of the specifiers of `import type ... from '...'` and `export type ... from '...'`. */
function typeOnlySpecifiers(text: string): Set<number> {
  const found = new Set<number>();
  const re = /(?:^|[\n;])[ \t]*(?:import|export)\s+type\s[^;'"]*?from\s*(['"])([^'"]+)\1/g;
  for (let m = re.exec(text); m; m = re.exec(text)) found.add(m.index + m[0].length - m[2].length - 2); // the opening quote, where preProcessFile puts pos
  return found;
}

/**
 * The relative imports of one file: static imports and re-exports (`export ... from`), type-only
 * ones included, dynamic `import()` and `require()`. Package imports ('typescript', 'node:fs') are
 * not edges of the source graph and are skipped.
 */
export function importsOf(file: string, text: string): ImportEdge[] {
  const info = ts.preProcessFile(text, true, true);
  const typeOnly = typeOnlySpecifiers(text);
  const edges: ImportEdge[] = [];
  for (const ref of [...info.importedFiles, ...info.referencedFiles]) {
    if (!ref.fileName.startsWith('.')) continue;
    edges.push({
      from: file,
      to: resolveSpecifier(file, ref.fileName),
      specifier: ref.fileName,
      typeOnly: typeOnly.has(ref.pos),
      // the call's opening parenthesis just before the quote
      dynamic: /\b(?:import|require)\s*\(\s*$/.test(text.slice(Math.max(0, ref.pos - 40), ref.pos)),
    });
  }
  return edges;
}

/** All relative imports of the given files (paths relative to `root`). */
export function importGraph(root: string, files: readonly string[]): ImportEdge[] {
  return files.flatMap((f) => importsOf(toPosix(f), fs.readFileSync(path.join(root, f), 'utf8')));
}

/**
 * The import cycles among `nodes`: one cycle (as a closed path a -> b -> ... -> a) per strongly
 * connected component with more than one member or a self-import. Iterative Tarjan, so deep
 * graphs do not overflow the stack.
 */
export function findCycles(nodes: readonly string[], edges: readonly { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const e of edges) if (next.has(e.from) && next.has(e.to)) next.get(e.from)!.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: [string, number][] = [[start, 0]];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1];
      const [v, i] = top;
      const succ = next.get(v)!;
      if (i < succ.length) {
        top[1]++;
        const w = succ[i];
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) {
          low.set(v, Math.min(low.get(v)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent)!, low.get(v)!));
      }
      if (low.get(v) === index.get(v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1 || succ.includes(v)) components.push(comp);
      }
    }
  }
  return components.map((comp) => cycleWithin(comp, next));
}

/** The shortest closed path through the component's first member, for the error message. */
function cycleWithin(comp: readonly string[], next: Map<string, string[]>): string[] {
  const members = new Set(comp);
  const start = [...comp].sort()[0];
  const prev = new Map<string, string>([[start, start]]);
  const queue = [start];
  for (let k = 0; k < queue.length; k++) {
    const v = queue[k];
    for (const w of next.get(v) ?? []) {
      if (w === start) {
        const closed = [start];
        for (let u = v; u !== start; u = prev.get(u)!) closed.unshift(u);
        closed.unshift(start);
        return closed;
      }
      if (!members.has(w) || prev.has(w)) continue;
      prev.set(w, v);
      queue.push(w);
    }
  }
  throw new Error(`findCycles: ${comp.join(', ')} is not strongly connected`);
}

/** An import that is allowed to break the layer order for now, and why. */
export interface LayerException {
  from: string;
  to: string;
  reason: string;
}

export interface LayerReport {
  /** Imports pointing up the order (or out of the tree), not covered by an exception. */
  upward: ImportEdge[];
  /** Files in a directory the layer order does not name. */
  unplaced: string[];
  /** Exceptions that no longer match an import (remove them from the list). */
  stale: LayerException[];
}

/**
 * Checks edges against `layers` (lowest first; each entry lists the top-level names under `dir`
 * that share a rank: a directory, or a file's name without `.ts`). An import may point to its own
 * rank or lower. Imports that leave `dir` count as upward: the library must build from `dir` alone.
 */
export function checkLayers(
  dir: string, layers: readonly (readonly string[])[], edges: readonly ImportEdge[], files: readonly string[],
  exceptions: readonly LayerException[] = [],
): LayerReport {
  const rank = new Map<string, number>();
  layers.forEach((names, r) => names.forEach((n) => rank.set(n, r)));
  const unitOf = (file: string): string | null => {
    const rel = path.posix.relative(dir, file);
    if (rel.startsWith('..')) return null;
    return rel.split('/')[0].replace(/\.ts$/, '');
  };
  const unplaced = files.filter((f) => !rank.has(unitOf(f) ?? ''));
  const used = new Set<LayerException>();
  const upward = edges.filter((e) => {
    const from = unitOf(e.from);
    const to = unitOf(e.to);
    if (from === null || !rank.has(from)) return false; // not ours, or reported as unplaced
    const bad = to === null || (rank.has(to) && rank.get(to)! > rank.get(from)!);
    if (!bad) return false;
    const ex = exceptions.find((x) => x.from === e.from && x.to === e.to);
    if (ex) used.add(ex);
    return !ex;
  });
  return { upward, unplaced, stale: exceptions.filter((x) => !used.has(x)) };
}

/**
 * The files loading `entry` loads before any of its code runs: everything reachable over static
 * imports, without type-only and dynamic ones (sorted; `entry` included).
 */
export function loadedAtStartup(entry: string, edges: readonly ImportEdge[]): string[] {
  const seen = new Set([entry]);
  const queue = [entry];
  while (queue.length) {
    const from = queue.pop()!;
    for (const e of edges) {
      if (e.from !== from || e.typeOnly || e.dynamic || seen.has(e.to)) continue;
      seen.add(e.to);
      queue.push(e.to);
    }
  }
  return [...seen].sort();
}
