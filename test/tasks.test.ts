/**
 * Classification task data: GLUE and sentiment readers, the task table, the held-out split, encoding
 * and batching, and the Node loader. The GLUE files themselves are not part of the project; the test
 * that reads them runs only when ../shared/datasets is present.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTask } from '../src/node/tasks.js';
import { loadTokenizerFromDirectory } from '../src/node/tokenizer-files.js';
import {
  ClassificationBatches, collateExamples, decodeTaskText, detectGlueFormat, firstInvalidUtf8, TaskFileError, encodeExamples, evaluationBatches, isTaskName, parseGlueTsv,
  sentimentExamplesFromFixtures, splitExamples, TASK_NAMES, TASKS, tsvRows, unquoteField,
  type ClassificationExample, type EncodedExample,
} from '../src/tasks/index.js';
import type { ByteLevelBPETokenizer } from '../src/tokenizer/tokenizer.js';

describe('TSV fields', () => {
  it('unquotes wholly quoted fields with doubled inner quotes, keeps anything else verbatim', () => {
    expect(unquoteField('"say ""hi"" now"')).toBe('say "hi" now');
    expect(unquoteField('"""Quoted"" title"')).toBe('"Quoted" title');
    expect(unquoteField('""')).toBe('');
    expect(unquoteField('plain "inner" quotes')).toBe('plain "inner" quotes');
    expect(unquoteField('"a" and "b"')).toBe('"a" and "b"'); // lone inner quotes: an unquoted original GLUE field
    expect(unquoteField('"')).toBe('"');
  });

  it('skips blank lines, strips a BOM and CR, and numbers lines from 1', () => {
    expect(tsvRows('\ufeffa\tb\r\n\n  \nc\td\n')).toEqual([{ line: 1, fields: ['a', 'b'] }, { line: 4, fields: ['c', 'd'] }]);
  });
});

describe('GLUE readers', () => {
  it('SST-2: label<TAB>sentence without header, and the original sentence<TAB>label with header', () => {
    const expected = [{ text: 'a gorgeous film', label: 1 }, { text: 'dull', label: 0 }];
    expect(parseGlueTsv('sst2', '1\ta gorgeous film\n0\tdull\n')).toEqual(expected);
    expect(parseGlueTsv('sst2', 'sentence\tlabel\na gorgeous film \t1\ndull \t0\n').map((e) => e.label)).toEqual([1, 0]);
  });

  it('CoLA: sentence<TAB>label, and the original four columns source, label, mark, sentence', () => {
    expect(parseGlueTsv('cola', 'the cat sat\t1\ncat the sat\t0\n')).toEqual([{ text: 'the cat sat', label: 1 }, { text: 'cat the sat', label: 0 }]);
    expect(parseGlueTsv('cola', 'gj04\t1\t\tthe cat sat\ngj04\t0\t*\tcat the sat\n')).toEqual([
      { text: 'the cat sat', label: 1 },
      { text: 'cat the sat', label: 0 },
    ]);
  });

  it('RTE: header, quoted fields with doubled quotes, pair and label; also the original index-first layout', () => {
    const tsv = [
      'sentence1\tsentence2\tlabel\tidx',
      '"He called it ""final"", twice."\tHe said something.\t0\t0',
      'Plain premise.\t"""Quoted"" hypothesis."\t1\t1',
      '',
    ].join('\n');
    expect(parseGlueTsv('rte', tsv)).toEqual([
      { text: 'He called it "final", twice.', textPair: 'He said something.', label: 0 },
      { text: 'Plain premise.', textPair: '"Quoted" hypothesis.', label: 1 },
    ]);
    const original = 'index\tsentence1\tsentence2\tlabel\n0\tA "raw" premise.\tA hypothesis.\tnot_entailment\n1\tP.\tH.\tentailment\n';
    expect(parseGlueTsv('rte', original)).toEqual([
      { text: 'A "raw" premise.', textPair: 'A hypothesis.', label: 1 },
      { text: 'P.', textPair: 'H.', label: 0 },
    ]);
  });

  it('errors name the task, the file, the 1-based line and what was expected', () => {
    expect(() => parseGlueTsv('sst2', '1\tok\n\nx\tbad label\n', 'train.tsv')).toThrow('sst2 train.tsv line 3: label "x" is not 0 or 1');
    expect(() => parseGlueTsv('sst2', '1\tok\n2\tthree classes?\n', 'train.tsv')).toThrow('sst2 train.tsv line 2: label "2" is not 0 or 1');
    expect(() => parseGlueTsv('sst2', '1\tok\n0\ttoo\tmany\n', 'dev.tsv')).toThrow(
      'sst2 dev.tsv line 2: expected 2 tab-separated fields (label, sentence), found 3',
    );
    expect(() => parseGlueTsv('cola', 'one\ttwo\tthree\n', 'train.tsv')).toThrow(
      'cola train.tsv line 1: expected 2 tab-separated fields (sentence, label) or 4 (source, label, mark, sentence), found 3',
    );
    expect(() => parseGlueTsv('cola', 'fine\t1\n \t0\n', 'train.tsv')).toThrow('cola train.tsv line 2: the sentence field is empty');
    expect(() => parseGlueTsv('cola', 'fine\t1\n""\t0\n', 'train.tsv')).toThrow('cola train.tsv line 2: the sentence field is empty');
    expect(() => parseGlueTsv('rte', 'a\tb\t0\n', 'train.tsv')).toThrow('rte train.tsv line 1: expected a header naming the columns sentence1, sentence2 and label');
    expect(() => parseGlueTsv('rte', 'sentence1\tlabel\n', 'dev.tsv')).toThrow('rte dev.tsv line 1: the header (sentence1, label) has no sentence2 column');
    expect(() => parseGlueTsv('rte', 'sentence1\tsentence2\tlabel\np\th\tmaybe\n', 'dev.tsv')).toThrow(
      'rte dev.tsv line 2: label "maybe" is not 0 or 1 (nor a label name: entailment, not_entailment)',
    );
    expect(() => parseGlueTsv('sst2', '\n\n', 'train.tsv')).toThrow('sst2 train.tsv: no examples (the file is empty)');
    expect(() => parseGlueTsv('rte', 'sentence1\tsentence2\tlabel\n', 'dev.tsv')).toThrow('rte dev.tsv: no examples after the header');
  });

  it('detects the layout from the first row', () => {
    expect(detectGlueFormat('1\ta film\n')).toBe('sst2');
    expect(detectGlueFormat('a film\t1\n')).toBe('cola');
    expect(detectGlueFormat('gj04\t1\t\ta film\n')).toBe('cola');
    expect(detectGlueFormat('sentence1\tsentence2\tlabel\tidx\n')).toBe('rte');
    expect(detectGlueFormat('sentence\tlabel\n')).toBe('sst2');
    expect(detectGlueFormat('no label here\n')).toBeNull();
    expect(detectGlueFormat('')).toBeNull();
  });
});

describe('task table', () => {
  it('holds every task with a label name per class; pair only for RTE; CoLA reports MCC', () => {
    expect(TASK_NAMES).toEqual(['sentiment', 'sst2', 'cola', 'rte']);
    for (const name of TASK_NAMES) expect(TASKS[name].labelNames).toHaveLength(TASKS[name].numLabels);
    expect(TASK_NAMES.filter((n) => TASKS[n].pair)).toEqual(['rte']);
    expect(TASK_NAMES.map((n) => TASKS[n].metric)).toEqual(['accuracy', 'accuracy', 'mcc', 'accuracy']);
    expect(isTaskName('cola')).toBe(true);
    expect(isTaskName('toString')).toBe(false);
  });
});

describe('task file text', () => {
  const enc = (...parts: (string | number[])[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p)] : p)));

  it('finds the first invalid UTF-8 sequence, agreeing with the platform decoder', () => {
    expect(firstInvalidUtf8(enc('plain ascii'))).toBe(-1);
    expect(firstInvalidUtf8(enc('é€😀 \u{10FFFF}'))).toBe(-1);
    expect(firstInvalidUtf8(enc('ab', [0x80]))).toBe(2); // stray continuation
    expect(firstInvalidUtf8(enc('a', [0xc0, 0xaf]))).toBe(1); // overlong "/"
    expect(firstInvalidUtf8(enc('a', [0xe0, 0x80, 0xaf]))).toBe(1); // overlong
    expect(firstInvalidUtf8(enc([0xed, 0xa0, 0x80]))).toBe(0); // surrogate U+D800
    expect(firstInvalidUtf8(enc([0xf4, 0x90, 0x80, 0x80]))).toBe(0); // U+110000
    expect(firstInvalidUtf8(enc('ok', [0xf0, 0x9f, 0x98]))).toBe(2); // cut short by the end
    expect(firstInvalidUtf8(enc('ok', [0xe2, 0x82, 0x41]))).toBe(2); // cut short by ASCII
    const strictDecoder = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        let valid = true;
        try {
          strictDecoder.decode(bytes);
        } catch {
          valid = false;
        }
        expect(firstInvalidUtf8(bytes) === -1).toBe(valid);
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes UTF-8 (BOM dropped) and refuses invalid bytes with the line, column and a fix', () => {
    expect(decodeTaskText(enc([0xef, 0xbb, 0xbf], '1\tné\n'), 'a.tsv')).toBe('1\tné\n');
    expect(() => decodeTaskText(enc('1\tok\r\n0\tna', [0xef], 've\r\n'), 'my data.tsv')).toThrow(
      `my data.tsv line 2: not valid UTF-8 (byte 0xEF at column 5: "0\\tna\uFFFDve"); task files must be UTF-8 text. ` +
        "Convert the file from its encoding, e.g. from Latin-1: iconv -f latin1 -t utf-8 'my data.tsv' > converted.tsv",
    );
    expect(() => decodeTaskText(new Uint8Array(0), 'e.tsv')).toThrow(TaskFileError);
  });
});

describe('sentiment fixtures', () => {
  it('trims text, skips the empty placeholder entries and rejects bad classes', () => {
    expect(sentimentExamplesFromFixtures([{ text: ' great  ', class: 1 }, { text: '', class: null }], 'f.json')).toEqual([{ text: 'great', label: 1 }]);
    expect(() => sentimentExamplesFromFixtures([{ text: 'ok', class: 1 }, { text: 'meh', class: 2 }], 'f.json')).toThrow(
      'f.json[1]: "class" is 2, expected 0 (negative) or 1 (positive)',
    );
    expect(() => sentimentExamplesFromFixtures([{ class: 1 }], 'f.json')).toThrow('f.json[0]: "text" must be a string');
  });

  it('loadTask("sentiment") reads the installed package: 3,000 sentences, balanced, split 2,400 / 600', async () => {
    const task = await loadTask('sentiment');
    expect(task.spec).toBe(TASKS.sentiment);
    expect(task.train).toHaveLength(2400);
    expect(task.validation).toHaveLength(600);
    for (const part of [task.train, task.validation]) expect(part.filter((e) => e.label === 1).length * 2).toBe(part.length);
    expect(task.train.every((e) => e.text === e.text.trim() && e.text !== '')).toBe(true);
    const trainTexts = new Set(task.train.map((e) => e.text));
    expect(task.validation.some((e) => trainTexts.has(e.text))).toBe(false);
    const again = await loadTask('sentiment');
    expect(again.validation).toEqual(task.validation);
    const reseeded = await loadTask('sentiment', { splitSeed: 1 });
    expect(reseeded.validation).not.toEqual(task.validation);
  });
});

describe('splitExamples', () => {
  const examples: ClassificationExample[] = Array.from({ length: 200 }, (_, i) => ({ text: `sentence ${i % 190}`, label: i % 4 === 0 ? 1 : 0 }));

  it('is stratified, independent of input order, and keeps duplicates on one side', () => {
    const { train, validation } = splitExamples(examples, { validationFraction: 0.2, seed: 3 });
    expect(train.length + validation.length).toBe(200);
    expect(validation.filter((e) => e.label === 1).length).toBeGreaterThanOrEqual(10); // 20% of 50, or a duplicate more
    expect(validation.filter((e) => e.label === 0).length).toBeGreaterThanOrEqual(30); // 20% of 150
    const reversed = splitExamples([...examples].reverse(), { validationFraction: 0.2, seed: 3 });
    const key = (e: ClassificationExample) => `${e.label}:${e.text}`;
    expect(reversed.validation.map(key).sort()).toEqual(validation.map(key).sort());
    const trainKeys = new Set(train.map(key));
    expect(validation.some((e) => trainKeys.has(key(e)))).toBe(false);
  });

  it('rejects fractions outside (0, 1) and splits that leave a side empty', () => {
    expect(() => splitExamples(examples, { validationFraction: 1 })).toThrow('validationFraction 1 must be in (0, 1)');
    expect(() => splitExamples(examples.slice(0, 2), { validationFraction: 0.1 })).toThrow('leaves 2 for training and 0 for validation');
  });
});

describe('encoding and batches', () => {
  let tok: ByteLevelBPETokenizer;
  beforeAll(async () => {
    tok = await loadTokenizerFromDirectory(join(import.meta.dirname, '..', 'examples', 'checkpoints', 'tiny-roberta'));
  });

  it('encodes single sentences and pairs in the RoBERTa layouts, truncated to maxLength', () => {
    const [bos, pad, eos] = ['<s>', '<pad>', '</s>'].map((t) => tok.tokenToId(t)!);
    const [single, pair, long] = encodeExamples(
      tok,
      [{ text: 'The Union is strong.', label: 1 }, { text: 'A premise.', textPair: 'A hypothesis.', label: 0 }, { text: 'word '.repeat(100), label: 0 }],
      { maxLength: 16 },
    );
    expect(single!.ids).toEqual(tok.encodeForRoberta('The Union is strong.', { maxLength: 16 }).ids);
    expect(single!.ids[0]).toBe(bos);
    expect(single!.ids.at(-1)).toBe(eos);
    expect(pair!.ids).toEqual(tok.encodePair('A premise.', 'A hypothesis.', { maxLength: 16 }).ids);
    expect(pair!.ids.filter((id) => id === eos)).toHaveLength(3);
    expect(long!.ids).toHaveLength(16);
    expect([single!.label, pair!.label]).toEqual([1, 0]);
    expect(single!.ids).not.toContain(pad);
    expect(() => encodeExamples(tok, [{ text: 'x', label: -1 }], { maxLength: 8 })).toThrow('example 0 has label -1');
  });

  // Example i has i % 7 + 2 tokens, all equal to 100 + i, so a batch row shows which example it holds.
  const synthetic = (n: number): EncodedExample[] => Array.from({ length: n }, (_, i) => ({ ids: new Array<number>((i % 7) + 2).fill(100 + i), label: i % 3 }));
  const PAD = 1;

  it('pads right with the pad id to the longest sequence in the batch, mask 1 on real tokens', () => {
    const examples = synthetic(10);
    const b = collateExamples(examples, [0, 5, 3], PAD);
    expect([b.batch, b.length]).toEqual([3, 7]); // lengths 2, 7, 5
    expect([...b.ids]).toEqual([100, 100, PAD, PAD, PAD, PAD, PAD, ...new Array(7).fill(105), 103, 103, 103, 103, 103, PAD, PAD]);
    expect([...b.attentionMask]).toEqual([1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    expect([...b.labels]).toEqual([0, 2, 0]);
    expect(b.indices).toEqual([0, 5, 3]);
  });

  it('batchAt(step) is a pure function of (seed, step, batchSize, size): same batch from a fresh instance, any order', () => {
    const examples = synthetic(23);
    const a = new ClassificationBatches(examples, { batchSize: 5, padId: PAD, seed: 7 });
    const forward = Array.from({ length: 12 }, (_, s) => a.batchAt(s));
    const b = new ClassificationBatches(examples, { batchSize: 5, padId: PAD, seed: 7 });
    for (const s of [11, 3, 9, 0, 4]) expect(b.batchAt(s)).toEqual(forward[s]); // resume anywhere, jump back
    const other = new ClassificationBatches(examples, { batchSize: 5, padId: PAD, seed: 8 });
    expect(other.indicesAt(0)).not.toEqual(a.indicesAt(0));
    expect(a.cursorAt(9)).toEqual({ epoch: 1, position: 22 });
    expect(a.stepsPerEpoch).toBeCloseTo(4.6, 12);
  });

  it('visits every example exactly once per epoch, in a different order each epoch, with full batches', () => {
    const n = 23;
    const batches = new ClassificationBatches(synthetic(n), { batchSize: 4, padId: PAD, seed: 1 });
    const stream = Array.from({ length: Math.ceil((3 * n) / 4) }, (_, s) => batches.batchAt(s)).flatMap((b) => {
      expect(b.batch).toBe(4);
      // each row holds the tokens of the example it names
      b.indices.forEach((i, r) => expect(b.ids[r * b.length]).toBe(100 + i));
      return b.indices;
    });
    const epochs = [0, 1, 2].map((e) => stream.slice(e * n, (e + 1) * n));
    for (const epoch of epochs) expect([...epoch].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(epochs[0]).not.toEqual(epochs[1]);
  });

  it('length grouping: every example once per epoch, far less padding than random batches, seeded and resumable', () => {
    // lengths 2..41 in a scattered order, 203 examples (not a multiple of the batch: batches straddle epochs)
    const n = 203;
    const examples: EncodedExample[] = Array.from({ length: n }, (_, i) => ({ ids: new Array<number>(2 + ((i * 17) % 40)).fill(100 + i), label: i % 2 }));
    const padded = (b: ClassificationBatches, steps: number) => {
      let cells = 0;
      let real = 0;
      for (let s = 0; s < steps; s++) {
        const x = b.batchAt(s);
        cells += x.batch * x.length;
        real += x.attentionMask.reduce((a, v) => a + v, 0);
      }
      return cells / real;
    };
    const steps = Math.floor((3 * n) / 8);
    const grouped = new ClassificationBatches(examples, { batchSize: 8, padId: PAD, seed: 3, groupByLength: 4 });
    const stream = Array.from({ length: steps }, (_, s) => grouped.batchAt(s)).flatMap((b) => {
      b.indices.forEach((i, r) => expect(b.ids[r * b.length]).toBe(100 + i));
      return b.indices;
    });
    for (let e = 0; e < 2; e++) expect(stream.slice(e * n, (e + 1) * n).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    const random = new ClassificationBatches(examples, { batchSize: 8, padId: PAD, seed: 3 });
    expect(padded(random, steps)).toBeGreaterThan(1.5);
    expect(padded(grouped, steps)).toBeLessThan(1.3); // measured 1.22
    // a pure function of (seed, step): a fresh instance gives the same batches in any order; another seed others
    const again = new ClassificationBatches(examples, { batchSize: 8, padId: PAD, seed: 3, groupByLength: 4 });
    for (const s of [40, 7, 0, 25]) expect(again.indicesAt(s)).toEqual(grouped.indicesAt(s));
    const other = new ClassificationBatches(examples, { batchSize: 8, padId: PAD, seed: 4, groupByLength: 4 });
    expect(Array.from({ length: 25 }, (_, s) => other.indicesAt(s))).not.toEqual(Array.from({ length: 25 }, (_, s) => grouped.indicesAt(s)));
    // windows of similar lengths are visited in a shuffled order, not shortest first
    const firstLengths = Array.from({ length: 4 }, (_, s) => grouped.batchAt(s).length);
    expect([...firstLengths].sort((x, y) => x - y)).not.toEqual(firstLengths);
    expect(() => new ClassificationBatches(examples, { batchSize: 8, padId: PAD, groupByLength: 1 })).toThrow(/integer >= 2/);
  });

  it('evaluation batches are in order and the last one holds the remainder', () => {
    const examples = synthetic(10);
    const all = [...evaluationBatches(examples, { batchSize: 4, padId: PAD })];
    expect(all.map((b) => b.batch)).toEqual([4, 4, 2]);
    expect(all.flatMap((b) => b.indices)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(all.map((b) => b.length)).toEqual([5, 8, 4]); // dynamic padding: longest of (2..5), (6,7,8,2), (3,4)
  });

  it('rejects bad options on construction', () => {
    expect(() => new ClassificationBatches([], { batchSize: 2, padId: PAD })).toThrow('ClassificationBatches: no examples to batch');
    expect(() => evaluationBatches(synthetic(3), { batchSize: 0, padId: PAD })).toThrow('evaluationBatches: batchSize 0 must be a positive integer');
    expect(() => new ClassificationBatches(synthetic(3), { batchSize: 2, padId: PAD }).batchAt(-1)).toThrow('step -1 must be a non-negative integer');
  });
});

describe('loadTask from paths', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wasmgrad-tasks-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a directory named after a GLUE task, with train.tsv and dev.tsv', async () => {
    const rte = join(dir, 'RTE');
    await mkdir(rte);
    await writeFile(join(rte, 'train.tsv'), 'sentence1\tsentence2\tlabel\tidx\nP1.\tH1.\t0\t0\nP2.\tH2.\t1\t1\n');
    await writeFile(join(rte, 'dev.tsv'), 'sentence1\tsentence2\tlabel\tidx\nP3.\t"H ""3""."\t1\t0\n');
    const task = await loadTask(rte);
    expect([task.task, task.name, task.train.length]).toEqual(['rte', rte, 2]);
    expect(task.validation).toEqual([{ text: 'P3.', textPair: 'H "3".', label: 1 }]);
  });

  it('detects the layout of an unnamed directory from its first row, or takes format', async () => {
    const mine = join(dir, 'reviews');
    await mkdir(mine);
    await writeFile(join(mine, 'train.tsv'), '1\tgood\n0\tbad\n');
    await writeFile(join(mine, 'dev.tsv'), '1\tfine\n');
    expect((await loadTask(mine)).task).toBe('sst2');
    const odd = join(dir, 'odd');
    await mkdir(odd);
    await writeFile(join(odd, 'train.tsv'), 'text\tlabel\ngood\t1\n');
    await expect(loadTask(odd)).rejects.toThrow(/cannot tell the layout of .*train\.tsv.*name the folder SST-2, CoLA or RTE, or pass the format \(--format sst2\|cola\|rte;/);
    await writeFile(join(odd, 'train.tsv'), 'x\ty\n');
    await expect(loadTask(odd, { format: 'sst2' })).rejects.toThrow(/sst2 .*train\.tsv line 1: label "x" is not 0 or 1/);
  });

  it('splits a single .tsv file 90/10 per label', async () => {
    const file = join(dir, 'CoLA-like.tsv');
    const rows = Array.from({ length: 40 }, (_, i) => `sentence number ${i}\t${i % 2}`);
    await writeFile(file, rows.join('\n') + '\n');
    const task = await loadTask(file);
    expect(task.task).toBe('cola');
    expect([task.train.length, task.validation.length]).toEqual([36, 4]);
    expect(task.source).toContain('10% of each label held out, seed 0');
  });

  it('refuses a file that is not UTF-8, naming the line and how to convert it', async () => {
    const file = join(dir, 'latin1.tsv');
    // "café" in Latin-1 on line 3: 0xE9 followed by a tab is no UTF-8 sequence.
    const latin1 = Uint8Array.from([...Buffer.from('1\tgood\n0\tbad\n1\tcaf'), 0xe9, ...Buffer.from(' au lait\n')]);
    await writeFile(file, latin1);
    const err = (await loadTask(file).then(() => null, (e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(TaskFileError);
    expect(err.message).toContain(`${file} line 3: not valid UTF-8 (byte 0xE9 at column 6: "1\\tcaf\uFFFD au lait")`);
    expect(err.message).toContain(`iconv -f latin1 -t utf-8 ${file} > converted.tsv`);
    // In a GLUE directory's dev split too.
    const sst = join(dir, 'SST-2');
    await mkdir(sst);
    await writeFile(join(sst, 'train.tsv'), '1\tgood\n');
    await writeFile(join(sst, 'dev.tsv'), Uint8Array.from([0x31, 0x09, 0xc3, 0x28, 0x0a]));
    await expect(loadTask(sst)).rejects.toThrow(/SST-2\/dev\.tsv line 1: not valid UTF-8 \(byte 0xC3 at column 3/);
  });

  it('says an empty task file is empty', async () => {
    const empty = join(dir, 'empty.tsv');
    await writeFile(empty, '');
    await expect(loadTask(empty)).rejects.toThrow(`${empty}: the file is empty (0 bytes)`);
    await writeFile(empty, '\n  \r\n\t\n');
    await expect(loadTask(empty)).rejects.toThrow(`${empty}: the file is empty (7 bytes of blank lines and spaces)`);
    await expect(loadTask(empty, { format: 'cola' })).rejects.toThrow(TaskFileError);
  });

  it('explains unknown names and missing GLUE data', async () => {
    await expect(loadTask(join(dir, 'nope'))).rejects.toThrow(/unknown task ".*nope": expected one of sentiment, sst2, cola, rte, sentiment-lm, or the path/);
    await expect(loadTask('sst2', { datasetsDir: join(dir, 'empty') })).rejects.toThrow(
      /sst2: cannot read .*glue\/SST-2\/train\.tsv: no such file.*--datasets <dir> or WASMGRAD_DATASETS/,
    );
    await expect(loadTask('sst2', { format: 'mnli' as never })).rejects.toThrow('format "mnli" is not one of sst2, cola, rte');
  });
});

const DATASETS = resolve(process.env.WASMGRAD_DATASETS ?? join(import.meta.dirname, '..', '..', 'shared', 'datasets'));

describe.skipIf(!existsSync(join(DATASETS, 'glue')))('real GLUE files (../shared/datasets)', () => {
  // Row counts from the datasets README, checked against the files.
  const sizes = { sst2: [6920, 1821], cola: [8551, 516], rte: [2490, 277] } as const;
  for (const [name, [train, dev]] of Object.entries(sizes)) {
    it(`${name}: ${train} train / ${dev} dev examples, both labels present`, async () => {
      const task = await loadTask(name, { datasetsDir: DATASETS });
      expect([task.train.length, task.validation.length]).toEqual([train, dev]);
      for (const part of [task.train, task.validation]) {
        expect(new Set(part.map((e) => e.label))).toEqual(new Set([0, 1]));
        expect(part.every((e) => (e.textPair !== undefined) === task.spec.pair)).toBe(true);
      }
      if (name === 'rte') {
        // every quoted field was unescaped: no doubled quotes or wrapping quotes left over
        const texts = task.train.flatMap((e) => [e.text, e.textPair!]);
        expect(texts.filter((t) => t.includes('""'))).toEqual([]);
        expect(texts.some((t) => t.includes('"'))).toBe(true);
      }
    });
  }
});
