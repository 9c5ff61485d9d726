/**
 * The E2E data-to-text task (src/tasks/e2e.ts) with the bundled tiny GPT-2: the split by MR, the
 * training pairs and label-smoothed loss, batched beam search equal to one prompt at a time on E2E
 * prompts (left padding on the KV cache), and `wasmgrad finetune|compare --task e2e --data <csv>`
 * end to end on a small CSV written here, bad files included.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { runCompare } from '../src/cli/compare.js';
import { runEvalCli, runFinetuneCli } from '../src/cli/finetune.js';
import { prepareRun } from '../src/cli/setup.js';
import { fromPretrained } from '../src/node/pretrained.js';
import { loadTokenizerFromDirectory } from '../src/node/tokenizer-files.js';
import { collatePrompts, IGNORE } from '../src/tasks/causal-lm.js';
import { E2ETask, e2ePairs, e2ePromptIds, resolveE2EConfig } from '../src/tasks/e2e.js';
import type { ByteLevelBPETokenizer } from '../src/tokenizer/tokenizer.js';
import { tempDirs } from './helpers.js';

const TINY = join(import.meta.dirname, '..', 'examples', 'checkpoints', 'tiny-gpt2');
const tmp = tempDirs();
const quiet = () => {};

const NAMES = ['The Eagle', 'Alimentum', 'Zizzi', 'The Mill', 'Aromi', 'Cotto', 'Fitzbillies', 'Giraffe', 'Loch Fyne', 'Strada', 'Wildwood', 'Bibimbap House'];
const FOODS = ['Italian', 'Chinese', 'French', 'English'];
const AREAS = ['riverside', 'city centre'];

/** n MRs of 2-3 short slots, each with 2-3 references, as E2E CSV text (equal MRs adjacent, some fields quoted). */
function e2eCsv(n: number): string {
  const lines = ['mr,ref'];
  for (let i = 0; i < n; i++) {
    const name = NAMES[i % NAMES.length] + (i >= NAMES.length ? ` ${i}` : '');
    const food = FOODS[i % FOODS.length];
    const area = AREAS[i % 2];
    const mr = i % 3 === 0 ? `name[${name}], food[${food}]` : `name[${name}], food[${food}], area[${area}]`;
    const refs = [`${name} serves ${food} food${i % 3 === 0 ? '' : ` in the ${area}`}.`, `${name} is a ${food} place.`];
    if (i % 2 === 0) refs.push(`There is a ${food} restaurant, ${name}.`);
    for (const r of refs) lines.push(`"${mr}","${r}"`);
  }
  return lines.join('\n') + '\n';
}

let tokenizer: ByteLevelBPETokenizer;
let csv: string;

beforeAll(async () => {
  tokenizer = await loadTokenizerFromDirectory(TINY);
  csv = join(tmp('e2e-data'), 'small.csv');
  writeFileSync(csv, e2eCsv(24));
});

describe('E2E task', () => {
  it('splits by MR: no MR on both sides, every row on one side, seeded and sized by --validation-fraction', async () => {
    const rows = W.readE2E(readFileSync(csv));
    const split = async (validationFraction: number, splitSeed: number) => {
      const p = await prepareRun(TINY, 'e2e', { data: csv, e2e: { validationFraction, splitSeed, evalLimit: 0 } });
      const t = p.task as unknown as E2ETask;
      return { train: t.o.train, validation: t.o.validation, task: t };
    };
    const a = await split(0.25, 0);
    const trainMrs = new Set(a.train.map((i) => i.mr));
    expect(a.validation.some((i) => trainMrs.has(i.mr))).toBe(false);
    expect(a.train.length + a.validation.length).toBe(rows.length);
    expect(a.validation.length).toBe(Math.round(0.25 * rows.length));
    // Training pairs: one per reference of the training MRs.
    expect(a.task.trainExamples).toBe(a.train.reduce((n, i) => n + i.refs.length, 0));
    expect(a.task.validationExamples).toBe(a.validation.length);
    const again = await split(0.25, 0);
    expect(again.validation.map((i) => i.mr)).toEqual(a.validation.map((i) => i.mr));
    const other = await split(0.25, 7);
    expect(other.validation.map((i) => i.mr)).not.toEqual(a.validation.map((i) => i.mr));
    expect((await split(0.5, 0)).validation.length).toBe(12);
  });

  it('pairs: prompt = bos + linearised MR, continuation = " " + reference + eos, cut to maxLength', () => {
    const inst = { mr: 'name[Aromi], food[Chinese]', refs: ['Aromi serves Chinese food.', 'A Chinese place called Aromi, and a long reference that runs on and on and on.'], line: 2 };
    const prompt = e2ePromptIds(inst.mr, tokenizer, 0);
    expect(tokenizer.decode(prompt.slice(1))).toBe('name : Aromi | food : Chinese ||');
    const full = e2ePairs([inst], tokenizer, { bos: 0, eos: 0, maxLength: 64 });
    expect(full.pairs[0].continuation).toEqual([...tokenizer.encode(' Aromi serves Chinese food.'), 0]);
    const short = e2ePairs([inst], tokenizer, { bos: 0, eos: 0, maxLength: prompt.length + 6 });
    expect(short.pairs.map((p) => p.continuation.length)).toEqual([6, 6]);
    expect(short.truncated).toBe(2);
    expect(e2ePairs([inst], tokenizer, { bos: 0, eos: 0, maxLength: prompt.length + 1 })).toMatchObject({ pairs: [], skipped: 2 });
  });

  it('label smoothing: the training loss is (1 - s) NLL + s x mean over the vocabulary of -log p, on continuation tokens only', async () => {
    const model = await fromPretrained<W.GPT2LMHeadModel>(TINY);
    try {
      const rows = W.readE2E(readFileSync(csv)).slice(0, 4);
      const mk = (labelSmoothing: number) =>
        new E2ETask({ name: 'e2e', train: rows.slice(0, 3), validation: rows.slice(3), tokenizer, bos: 0, eos: 0, padId: 0, maxLength: 64, config: resolveE2EConfig({ labelSmoothing }) });
      const pairs = e2ePairs(rows.slice(0, 2), tokenizer, { bos: 0, eos: 0, maxLength: 64 }).pairs;
      const b = collatePrompts(pairs, pairs.map((_, i) => i), 0);
      const ids = W.tensor(b.ids, [b.batch, b.length], { dtype: 'int32' });
      const mask = W.tensor(b.attentionMask, [b.batch, b.length], { dtype: 'int32' });
      const logits = W.noGrad(() => model.forward(ids, { attentionMask: mask }).logits).toArray();
      const V = model.config.vocab_size;
      let nll = 0;
      let uniform = 0;
      let n = 0;
      for (let r = 0; r < b.batch; r++) {
        for (let t = 0; t + 1 < b.length; t++) {
          const target = b.labels[r * b.length + t + 1];
          if (target === IGNORE) continue;
          const row = logits.subarray((r * b.length + t) * V, (r * b.length + t + 1) * V);
          let max = -Infinity;
          for (const v of row) max = Math.max(max, v);
          let z = 0;
          for (const v of row) z += Math.exp(v - max);
          const lse = max + Math.log(z);
          nll += lse - row[target];
          let s = 0;
          for (const v of row) s += lse - v;
          uniform += s / V;
          n++;
        }
      }
      const expected = (s: number) => ((1 - s) * nll + s * uniform) / n;
      for (const s of [0, 0.1]) expect(mk(s).loss(model, b).item()).toBeCloseTo(expected(s), 4);
      expect(expected(0.1)).toBeGreaterThan(expected(0) + 1e-3); // the two cases differ
    } finally {
      model.dispose();
    }
  });

  it('beam search (beam 4, length penalty 0.9, no-repeat 4-gram) on E2E prompts of different lengths: batched = one at a time', async () => {
    const model = await fromPretrained<W.GPT2LMHeadModel>(TINY);
    try {
      model.eval();
      const rows = W.readE2E(readFileSync(csv)).slice(0, 5);
      const task = new E2ETask({
        name: 'e2e', train: rows.slice(0, 2), validation: rows, tokenizer, bos: 0, eos: 0, padId: 0, maxLength: 64,
        config: resolveE2EConfig({ numBeams: 4, lengthPenalty: 0.9, noRepeatNgramSize: 4, maxNewTokens: 12 }),
      });
      const prompts = rows.map((r) => e2ePromptIds(r.mr, tokenizer, 0));
      expect(new Set(prompts.map((p) => p.length)).size).toBeGreaterThan(1); // left padding is exercised
      const batched = task.decode(model, prompts, 12);
      const alone = prompts.map((p) => task.decode(model, [p], 12)[0]);
      expect(batched).toEqual(alone);
      expect(batched.every((o) => o.length > 0)).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('finetune --task e2e --data <csv> writes a report with the generation table and sample outputs', async () => {
    const out = tmp('e2e-ft');
    const r = await runFinetuneCli({
      model: TINY, task: 'e2e', data: csv, method: 'lora', out, epochs: 1, batchSize: 16, write: quiet, tty: false,
      e2e: { validationFraction: 0.25, evalLimit: 3, numBeams: 2, maxNewTokens: 8, samples: 2 },
    });
    expect(r.stopped).toBe(false);
    for (const k of ['bleu', 'nist', 'meteor', 'rougeL', 'cider']) expect(Number.isFinite(r[k] as number), k).toBe(true);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Generation');
    expect(md).toMatch(/\| method \| BLEU \| NIST \| METEOR \| ROUGE-L \| CIDEr \| trainable params \| peak memory \| train time \| steps \| decode time \| MRs decoded \|/);
    expect(md).toMatch(/\| lora \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| \d+ \| [\d.]+ MiB \| .+ \| \d+ \| .+ \| 3 \|/);
    expect(md).toContain('## Sample outputs');
    expect(md).toContain('beam 2, length penalty 0.9, no-repeat 4-gram, at most 8 new tokens');
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.generation.instances).toBe(3);
    expect(results.generation.samples).toHaveLength(2);
    expect(results.outputs).toHaveLength(3);
    // The scores are those of the saved outputs against the held-out MRs' references.
    const p = await prepareRun(TINY, 'e2e', { data: csv, e2e: { validationFraction: 0.25 } });
    const held = (p.task as unknown as E2ETask).o.validation.slice(0, 3);
    expect(W.scoreGeneration(results.outputs, held.map((i) => i.refs)).bleu).toBeCloseTo(results.bleu, 12);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<h2>Generation</h2>');
    // `eval` with the saved adapter decodes the same outputs, hence the same scores.
    const e = await runEvalCli({
      model: TINY, adapter: out, task: 'e2e', data: csv, write: quiet, draws: 0,
      e2e: { validationFraction: 0.25, evalLimit: 3, numBeams: 2, maxNewTokens: 8 },
    });
    for (const k of ['bleu', 'nist', 'rougeL']) expect(e[k], k).toBeCloseTo(results[k], 6);
  });

  it('compare --task e2e: one generation row per method, no noise evaluation by default', async () => {
    const out = tmp('e2e-cmp');
    const report = await runCompare({
      model: TINY, task: 'e2e', data: csv, methods: ['lora', 'grasp'], out, epochs: 1, batchSize: 32, write: quiet, tty: false,
      e2e: { validationFraction: 0.25, evalLimit: 2, numBeams: 2, maxNewTokens: 6, samples: 1 },
    });
    expect(report.results.map((r) => r.generation?.instances)).toEqual([2, 2]);
    expect(report.results.every((r) => r.noise.length === 0)).toBe(true);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/\| lora \| [\d.]+ \|/);
    expect(md).toMatch(/\| grasp \| [\d.]+ \|/);
  });

  it('bad E2E files and missing --data fail with the file, the line and the fix', async () => {
    const dir = tmp('e2e-bad');
    const run = (data: string | undefined) =>
      runFinetuneCli({ model: TINY, task: 'e2e', data, method: 'lora', out: join(dir, 'out'), epochs: 1, write: quiet, tty: false });
    const cases: [string, string, RegExp][] = [
      ['noref.csv', 'mr,text\n"name[A]",hello\n', /noref\.csv: line 1: .*no ref column/],
      ['emptymr.csv', 'mr,ref\n"name[A]",hello\n ,there\n', /emptymr\.csv: line 3 has an empty mr/],
      ['quote.csv', 'mr,ref\n"name[A]",hello\nname[B],he said "hi\n', /quote\.csv: line 3/],
      ['fields.csv', 'mr,ref\nname[A],hello,world\n', /fields\.csv: line 2 has 3 field\(s\)/],
    ];
    for (const [name, text, pattern] of cases) {
      const path = join(dir, name);
      writeFileSync(path, text);
      await expect(run(path), name).rejects.toThrow(pattern);
    }
    await expect(run(undefined)).rejects.toThrow(/--task e2e reads an E2E NLG CSV .*--data <file\.csv>/);
    await expect(run(join(dir, 'missing.csv'))).rejects.toThrow(/cannot read .*missing\.csv: no such file/);
  });
});
