/**
 * `wasmgrad score` end to end on small files: both reference layouts give the same scores, the
 * table and JSON outputs, and the errors for mismatched counts and bad files. The built command
 * line is run as a process too when dist/ has it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScore } from '../src/cli/score.js';
import { scoreGeneration } from '../src/nlg/metrics/index.js';
import { loadWordNet } from '../src/node/wordnet.js';
import { tempDirs } from './helpers.js';

const tmp = tempDirs();

const REFS = [
  ['The Eagle is a cheap coffee shop near Burger King.', 'Near Burger King, The Eagle is a coffee shop with low prices.'],
  ['Blue Spice is a family-friendly pub by the river.', 'By the river there is a pub, Blue Spice, that welcomes children.', 'Blue Spice: a pub for families, riverside.'],
  ['Zizzi serves Italian food for £20-25.'],
];
const HYPS = ['The Eagle is a coffee shop near Burger King.', 'Blue Spice is a pub by the river for families.', 'Zizzi serves Italian food.'];

function files(): { dir: string; text: string; csv: string; hyps: string } {
  const dir = tmp('score');
  const text = join(dir, 'refs.txt');
  const csv = join(dir, 'refs.csv');
  const hyps = join(dir, 'hyps.txt');
  writeFileSync(text, REFS.map((g) => g.join('\n')).join('\n\n') + '\n');
  const mrs = ['name[The Eagle], eatType[coffee shop]', 'name[Blue Spice], eatType[pub]', 'name[Zizzi], food[Italian]'];
  const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
  writeFileSync(csv, ['mr,ref', ...REFS.flatMap((g, i) => g.map((r) => `${q(mrs[i]!)},${q(r)}`))].join('\r\n') + '\r\n');
  writeFileSync(hyps, HYPS.join('\n') + '\n');
  return { dir, text, csv, hyps };
}

describe('wasmgrad score', () => {
  it('scores the text layout and the E2E CSV identically, as scoreGeneration does', async () => {
    const f = files();
    const out: string[] = [];
    const a = await runScore({ refs: f.text, hyps: f.hyps, write: (t) => out.push(t) });
    const b = await runScore({ refs: f.csv, hyps: f.hyps, write: () => {} });
    expect(b).toEqual(a);
    expect(a).toEqual(scoreGeneration(HYPS, REFS, { synonyms: loadWordNet() }));
    expect(a.meteorStages).toEqual(['exact', 'stem', 'synonym']);
    expect(a.instances).toBe(3);
    expect(a.references).toBe(6);
    expect(a.bleu).toBeGreaterThan(0.3);
    expect(a.bleu).toBeLessThan(1);
    const table = out.join('');
    expect(table).toContain('3 instances, 6 references');
    for (const name of ['BLEU', 'NIST', 'METEOR', 'ROUGE-L', 'CIDEr']) expect(table).toMatch(new RegExp(`^${name} +\\d+\\.\\d{4} `, 'm'));
    expect(table).toContain(`BLEU       ${a.bleu.toFixed(4)}`);
    expect(table).toContain('stages exact + stem + synonym (no paraphrase stage)');
  });
  it('leaves out the synonym stage when asked', async () => {
    const f = files();
    const s = await runScore({ refs: f.text, hyps: f.hyps, synonyms: false, write: () => {} });
    expect(s).toEqual(scoreGeneration(HYPS, REFS));
    expect(s.meteorStages).toEqual(['exact', 'stem']);
  });
  it('prints JSON with --json', async () => {
    const f = files();
    let text = '';
    const s = await runScore({ refs: f.csv, hyps: f.hyps, json: true, write: (t) => (text += t) });
    const parsed = JSON.parse(text);
    expect(parsed).toMatchObject({ refs: f.csv, hyps: f.hyps, bleu: s.bleu, nist: s.nist, meteor: s.meteor, rougeL: s.rougeL, cider: s.cider, instances: 3 });
  });
  it('says both counts when outputs and instances differ', async () => {
    const f = files();
    writeFileSync(f.hyps, HYPS.slice(0, 2).join('\n') + '\n');
    await expect(runScore({ refs: f.text, hyps: f.hyps, write: () => {} })).rejects.toThrow(/has 2 output line\(s\) but .*refs\.txt has 3 instance\(s\)/);
  });
  it('reports bad reference files clearly', async () => {
    const f = files();
    writeFileSync(f.csv, 'mr,ref\n"name[A]",the "best" pub\n');
    await expect(runScore({ refs: f.csv, hyps: f.hyps, write: () => {} })).rejects.toThrow(/refs\.csv: line 2, column 15: stray double quote/);
    writeFileSync(f.text, '');
    await expect(runScore({ refs: f.text, hyps: f.hyps, write: () => {} })).rejects.toThrow(/no references/);
    await expect(runScore({ refs: join(f.dir, 'missing.txt'), hyps: f.hyps, write: () => {} })).rejects.toThrow(/cannot read the references file/);
    await expect(runScore({ refs: f.text, hyps: f.hyps, refsFormat: 'tsv' as never, write: () => {} })).rejects.toThrow(/not one of auto, text, csv/);
  });

  const cli = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'index.js');
  // The wiring of the command (options, JSON on stdout, exit status and message); the scores with
  // WordNet are checked in process above, so the child skips parsing WordNet (seconds on a loaded machine).
  it.runIf(existsSync(join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'score.js')))('runs as a command', () => {
    const f = files();
    const json = JSON.parse(execFileSync(process.execPath, [cli, 'score', '--refs', f.csv, '--hyps', f.hyps, '--json', '--no-synonyms'], { encoding: 'utf8' }));
    const want = scoreGeneration(HYPS, REFS);
    expect(json.bleu).toBeCloseTo(want.bleu, 12);
    expect(json.meteor).toBeCloseTo(want.meteor, 12);
    expect(json.meteorStages).toEqual(['exact', 'stem']);
    writeFileSync(f.hyps, 'only one\n');
    const bad = spawnSync(process.execPath, [cli, 'score', '--refs', f.text, '--hyps', f.hyps], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^wasmgrad: .*has 1 output line\(s\) but .* has 3 instance\(s\)/);
  });
});
