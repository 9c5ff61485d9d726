/**
 * Architecture: the import graph of src/ has no cycles, and every import points down the layer
 * order (data flows down, imports point down). The order below is the one place it is written.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkLayers, findCycles, importGraph, importsOf, listSources, loadedAtStartup, type ImportEdge, type LayerException,
} from './import-graph.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The layers of src/, lowest first. Each entry names top-level directories (or top-level files,
 * without `.ts`) of equal rank; a file may import from its own rank or below, never above.
 * A new directory under src/ must be placed here (the test names it otherwise).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['backend'], // kernel contract, reference (pure TS) and WebAssembly backends
  ['tensor'], // Tensor = shape + storage handle, scopes, kernel calls on whole tensors
  ['autograd'], // the tape: OpSpec/apply and the backward sweep
  ['ops'], // differentiable ops, forward and backward side by side
  // Building blocks on the ops: modules and layers, optimizers, checkpoint and tokenizer file formats,
  // and the testing toolkit (gradient checks, oracle comparisons) that exercises ops.
  ['nn', 'optim', 'io', 'tokenizer', 'testing'],
  ['models', 'tasks', 'data', 'nlg', 'timeseries'], // model families, heads and generation; task data and metrics; corpora; E2E data and generation metrics; time-series data, metrics and GPT4TS
  ['adapters'], // one file per fine-tuning method
  ['train'], // training loops, checkpoints, metrics
  // What a user runs and reads: experiments, reports, the Node entry (files, pretrained loading) and
  // the web entry (a training worker, its message protocol and the page's client).
  ['experiments', 'report', 'node', 'web'],
  ['index'], // the package's root export
  ['cli'], // the command-line tool, a consumer of the package
];

/** Imports allowed to break the order for now. Each needs a reason; stale entries fail the test. */
const EXCEPTIONS: readonly LayerException[] = [
  {
    from: 'src/cli/index.ts',
    to: 'bench/run.ts',
    reason: '`wasmgrad bench` loads the benchmark harness lazily; bench/ is compiled into dist with src/',
  },
];

const fmtEdge = (e: ImportEdge) => `${e.from} -> ${e.to}${e.typeOnly ? ' (type-only)' : ''}`;

describe('the import graph walker', () => {
  it('finds static, re-export, type-only and dynamic imports, and skips packages', () => {
    const text = [
      "import ts from 'typescript';",
      "import type {\n  A,\n} from './a.js';",
      'import { importB } from "../b/b.js";',
      "export type { C } from './c.js';",
      "export * from './d/index.js';",
      "const e = await import('./e.js');",
      "import 'node:fs';",
    ].join('\n');
    expect(importsOf('src/x/file.ts', text).map((e) => [e.to, e.typeOnly, e.dynamic])).toEqual([
      ['src/x/a.ts', true, false],
      ['src/b/b.ts', false, false],
      ['src/x/c.ts', true, false],
      ['src/x/d/index.ts', false, false],
      ['src/x/e.ts', false, true],
    ]);
    const edges = importsOf('a.ts', "import './b.js';\nimport type { T } from './t.js';\nconst c = () => import('./c.js');")
      .concat(importsOf('b.ts', "export * from './d.js';"));
    expect(loadedAtStartup('a.ts', edges)).toEqual(['a.ts', 'b.ts', 'd.ts']);
  });

  it('finds cycles of any length, self-imports included, and nothing in a DAG', () => {
    const e = (from: string, to: string) => ({ from, to });
    expect(findCycles(['a', 'b', 'c'], [e('a', 'b'), e('b', 'c'), e('a', 'c')])).toEqual([]);
    expect(findCycles(['a', 'b', 'c', 'd'], [e('a', 'b'), e('b', 'c'), e('c', 'a'), e('c', 'd')])).toEqual([
      ['a', 'b', 'c', 'a'],
    ]);
    expect(findCycles(['a'], [e('a', 'a')])).toEqual([['a', 'a']]);
    const two = findCycles(['a', 'b', 'c', 'd'], [e('a', 'b'), e('b', 'a'), e('c', 'd'), e('d', 'c')]);
    expect(two).toHaveLength(2);
  });

  it('reports upward imports, imports leaving the tree, unplaced directories and stale exceptions', () => {
    const edge = (from: string, to: string): ImportEdge => ({ from, to, specifier: '', typeOnly: false, dynamic: false });
    const layers = [['low'], ['mid', 'peer'], ['top']];
    const files = ['s/low/a.ts', 's/mid/b.ts', 's/peer/c.ts', 's/top.ts', 's/new/d.ts'];
    const edges = [
      edge('s/top.ts', 's/low/a.ts'), // down: fine
      edge('s/mid/b.ts', 's/peer/c.ts'), // same rank: fine
      edge('s/low/a.ts', 's/mid/b.ts'), // up
      edge('s/mid/b.ts', 'elsewhere/x.ts'), // out of the tree
      edge('s/peer/c.ts', 's/top.ts'), // up, but excepted
    ];
    const report = checkLayers('s', layers, edges, files, [
      { from: 's/peer/c.ts', to: 's/top.ts', reason: 'r' },
      { from: 's/top.ts', to: 's/mid/b.ts', reason: 'gone' },
    ]);
    expect(report.upward.map((e) => `${e.from} -> ${e.to}`)).toEqual([
      's/low/a.ts -> s/mid/b.ts',
      's/mid/b.ts -> elsewhere/x.ts',
    ]);
    expect(report.unplaced).toEqual(['s/new/d.ts']);
    expect(report.stale.map((x) => x.reason)).toEqual(['gone']);
  });
});

describe('src/ imports', () => {
  const files = listSources(ROOT, 'src');
  const edges = importGraph(ROOT, files);

  it('were found (the walker sees the tree)', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(edges.some((e) => e.from === 'src/ops/matmul.ts' && e.to === 'src/autograd/op.ts')).toBe(true);
  });

  it('have no cycles (type-only imports included)', () => {
    const byPair = new Map(edges.map((e) => [`${e.from}\0${e.to}`, e]));
    const cycles = findCycles(files, edges).map((c) =>
      c.slice(1).map((to, i) => fmtEdge(byPair.get(`${c[i]}\0${to}`)!)).join(', '),
    );
    expect(cycles, 'break each cycle by moving the shared piece down a layer').toEqual([]);
  });

  it('let the command line start without the library: commands load their implementation when they run', () => {
    const loaded = loadedAtStartup('src/cli/index.ts', edges);
    // the tensor engine, kernels, ops, models and methods are what makes a start slow
    const heavy = loaded.filter((f) => /^src\/(index\.ts|backend|tensor|autograd|ops|nn|optim|models|tokenizer|timeseries)\//.test(f + '/') || f === 'src/adapters/registry.ts');
    expect(heavy, 'import these lazily (await import() in the action) or move the constant the options need to a small module').toEqual([]);
    expect(loaded).toContain('src/cli/commands/compare.ts');
  });

  it('point down the layer order', () => {
    const report = checkLayers('src', LAYERS, edges, files, EXCEPTIONS);
    expect(report.unplaced, 'place these directories in LAYERS (test/imports.test.ts)').toEqual([]);
    expect(
      report.upward.map(fmtEdge),
      'an import points up the layers: move what it needs down, or pass it in from above',
    ).toEqual([]);
    expect(report.stale, 'these exceptions no longer apply: delete them from EXCEPTIONS').toEqual([]);
    for (const x of EXCEPTIONS) expect(x.reason.length, `${x.from} -> ${x.to} needs a reason`).toBeGreaterThan(10);
  });
});
