/**
 * `wasmgrad score --refs <file> --hyps <file> [--json]`: the E2E NLG challenge's five metrics for
 * any system's outputs. References: the official scorer's text layout (one per line, the groups
 * of one instance separated by a blank line) or an E2E CSV (`mr,ref`, grouped by MR; chosen by a
 * .csv extension or `--refs-format`). Outputs: one line per instance, in the references' order.
 */
import { readFile } from 'node:fs/promises';
import { readE2E } from '../nlg/e2e.js';
import { scoreGeneration, type GenerationScores } from '../nlg/metrics/index.js';
import { parseHypothesisLines, parseReferenceGroups } from '../nlg/references.js';
import { decodeUtf8 } from '../nlg/utf8.js';
import { loadWordNet } from '../node/wordnet.js';

export type RefsFormat = 'auto' | 'text' | 'csv';

export interface ScoreCliOptions {
  refs: string;
  hyps: string;
  refsFormat?: RefsFormat;
  json?: boolean;
  /** false: METEOR without its WordNet synonym stage (exact and stem only). */
  synonyms?: boolean;
  /** Where the table or JSON goes (default stdout). */
  write?: (text: string) => void;
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`cannot read the ${what} file ${path}: ${(err as Error).message}`);
  }
}

/** Reads the reference groups in either layout. */
export async function readReferences(path: string, format: RefsFormat = 'auto'): Promise<string[][]> {
  if (!['auto', 'text', 'csv'].includes(format)) throw new Error(`--refs-format ${format} is not one of auto, text, csv`);
  const bytes = await readBytes(path, 'references');
  const csv = format === 'csv' || (format === 'auto' && /\.csv$/i.test(path));
  if (csv) return readE2E(bytes, { source: path }).map((i) => i.refs);
  const groups = parseReferenceGroups(decodeUtf8(bytes, path));
  if (groups.length === 0) throw new Error(`${path}: no references; write one reference per line, the groups of one instance separated by a blank line`);
  return groups;
}

/** A fixed-width table of the five metrics. */
export function formatScores(s: GenerationScores): string {
  const rows: [string, number, string][] = [
    ['BLEU', s.bleu, 'mteval-v13a, corpus, 4-gram'],
    ['NIST', s.nist, 'mteval-v13a, corpus, 5-gram'],
    ['METEOR', s.meteor, `METEOR 1.5 en, stages ${s.meteorStages.join(' + ')} (no paraphrase stage)`],
    ['ROUGE-L', s.rougeL, 'COCO, F beta 1.2, mean over instances'],
    ['CIDEr', s.cider, 'COCO CIDEr-D, mean over instances'],
  ];
  return [
    `${s.instances} instances, ${s.references} references`,
    'metric    score    notes',
    ...rows.map(([name, v, note]) => `${name.padEnd(8)}  ${v.toFixed(4).padStart(7)}  ${note}`),
  ].join('\n') + '\n';
}

export async function runScore(opts: ScoreCliOptions): Promise<GenerationScores> {
  const write = opts.write ?? ((t: string) => process.stdout.write(t));
  const refs = await readReferences(opts.refs, opts.refsFormat);
  const hyps = parseHypothesisLines(decodeUtf8(await readBytes(opts.hyps, 'outputs'), opts.hyps));
  if (hyps.length !== refs.length) {
    throw new Error(
      `${opts.hyps} has ${hyps.length} output line(s) but ${opts.refs} has ${refs.length} instance(s); ` +
        'write exactly one output per line, in the order of the reference groups (MRs)',
    );
  }
  const scores = scoreGeneration(hyps, refs, { synonyms: opts.synonyms === false ? undefined : loadWordNet() });
  write(opts.json ? JSON.stringify({ refs: opts.refs, hyps: opts.hyps, ...scores }, null, 2) + '\n' : formatScores(scores));
  return scores;
}
