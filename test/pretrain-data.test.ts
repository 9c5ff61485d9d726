/**
 * Pretraining data: text cleaning of the packaged corpora, paragraph deduplication, the split by
 * name, token files read block by block, and F16 weights.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArrayTokenSource, TokenBlocks, tokenCounts, tokenStream } from '../src/data/blocks.js';
import { heldOutNames, ParagraphDeduper, splitDocuments } from '../src/data/corpus.js';
import { brownToText, emailBody } from '../src/data/text-sources.js';
import { f16ToFloat, floatToF16Bits } from '../src/io/dtype.js';
import { parseSafetensors, serializeSafetensors } from '../src/io/safetensors.js';
import { listCorpus } from '../src/node/corpora.js';
import { corpusData } from '../src/node/pretrain-files.js';
import { FileTokenSource, TokenFileWriter } from '../src/node/token-file.js';
import { trainByteLevelBPE } from '../src/tokenizer/train.js';
import { tempDirs } from './helpers.js';

const tmp = tempDirs();

describe('text sources', () => {
  it('brownToText drops tags, attaches punctuation, turns `` and \'\' into quotes, keeps paragraphs', () => {
    const tagged = "\n\n\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, it's/pps+bez true/jj ./.\nIt/pps rained/vbd (/( twice/rb )/) ./.\n\n\n\tNew/jj paragraph/nn ?/.\n";
    expect(brownToText(tagged)).toBe('The jury said "no evidence", it\'s true. It rained (twice).\n\nNew paragraph?');
  });

  it('emailBody keeps the plain-text body without headers, quotes and signature; skips HTML and base64', () => {
    const head = 'From: a@b.c\nSubject: hi\nContent-Type: text/plain; charset=us-ascii\n\n';
    const body = 'Hello there,\n> quoted line\nOn Tue, Bob wrote:\nthe pasta cooks the egg.\n\n\n\nBye\n-- \nsig line\n';
    expect(emailBody(head + body)).toBe('Hello there,\nthe pasta cooks the egg.\n\nBye');
    expect(emailBody('From: a\nContent-Type: text/html\n\n<p>hi</p>')).toBe('');
    expect(emailBody('From: a\nContent-Type: multipart/alternative; boundary=x\n\nhi')).toBe('');
    expect(emailBody('From: a\nContent-Transfer-Encoding: base64\n\naGVsbG8=')).toBe('');
    expect(emailBody('From: a\n\n<html><body>x</body></html>')).toBe('');
    expect(emailBody('no blank line at all')).toBe('');
  });
});

describe('ParagraphDeduper', () => {
  it('keeps the first copy of a paragraph (case and spacing ignored) and every short paragraph', () => {
    const d = new ParagraphDeduper();
    const footer = 'To unsubscribe from this group, send an email to the list owner.';
    expect(d.filter(`First message body here.\n\n${footer}`)).toBe(`First message body here.\n\n${footer}`);
    expect(d.filter(`Thanks.\n\nA different body of text, long enough.\n\n  ${footer.toUpperCase().replace(/ /g, '  ')}  `)).toBe('Thanks.\n\nA different body of text, long enough.');
    expect(d.filter('Thanks.\n\n \n\nThanks.')).toBe('Thanks.\n\nThanks.');
    expect(d.droppedParagraphs).toBe(1);
    expect(d.keptParagraphs).toBe(6);
  });
});

describe('split by name', () => {
  it('heldOutNames is the rule splitDocuments applies, independent of order', () => {
    const docs = Array.from({ length: 40 }, (_, i) => ({ name: `d${i}`, text: `t${i}` }));
    const split = splitDocuments(docs, { validationFraction: 0.1, seed: 3 });
    const held = heldOutNames([...docs].reverse().map((d) => d.name), { validationFraction: 0.1, seed: 3 });
    expect(split.validation.map((d) => d.name).sort()).toEqual([...held].sort());
    expect(split.validation).toHaveLength(4);
    expect(() => heldOutNames(['a', 'a'])).toThrow(/appears twice/);
  });
});

describe('token files', () => {
  for (const dtype of ['u16', 'u32'] as const) {
    it(`${dtype}: written in chunks and read back piecewise equal the ids`, () => {
      const dir = tmp(`tokens-${dtype}`);
      const ids = Int32Array.from({ length: 1000 }, (_, i) => (i * 7919) % (dtype === 'u16' ? 65536 : 1 << 20));
      const w = new TokenFileWriter(join(dir, 't.bin'), dtype, 64);
      w.write(ids.subarray(0, 333));
      w.write(ids.subarray(333));
      expect(existsSync(join(dir, 't.bin'))).toBe(false); // not under its name until closed
      w.close();
      expect(w.length).toBe(1000);
      const src = new FileTokenSource(join(dir, 't.bin'), 1000, dtype);
      const out = new Int32Array(100);
      src.read(450, out);
      expect([...out]).toEqual([...ids.subarray(450, 550)]);
      expect(() => src.read(950, out)).toThrow(/outside \[0, 1000\)/);
      // blocks over the file equal blocks over the array
      const layout = { length: 10, prefix: [1], suffix: [2] };
      const a = new TokenBlocks(ids, layout);
      const b = new TokenBlocks(src, layout);
      expect([...b.batch([0, 17, 124])]).toEqual([...a.batch([0, 17, 124])]);
      src.close();
    });
  }

  it('refuses ids that do not fit', () => {
    const w = new TokenFileWriter(join(tmp('tokens-big'), 't.bin'), 'u16');
    expect(() => w.write([70000])).toThrow(/does not fit u16/);
    w.close();
  });

  it('tokenCounts counts every id of a source in chunks', () => {
    const src = new ArrayTokenSource(tokenStream([[0, 1, 1], [2]], 3));
    expect([...tokenCounts(src, 5, 2)]).toEqual([1, 2, 1, 2, 0]);
    expect(() => tokenCounts(src, 3)).toThrow(/outside the vocabulary/);
  });
});

describe('corpusData', () => {
  it('encodes each split once, deduplicated, separator after every document, and reuses the cache', async () => {
    const dir = tmp('corpus-dedup');
    mkdirSync(dir, { recursive: true });
    const shared = 'This paragraph is repeated in every single document of the corpus.';
    for (let i = 0; i < 10; i++) writeFileSync(join(dir, `doc${i}.txt`), `Document number ${i} says its own thing.\n\n${shared}`);
    const tok = trainByteLevelBPE([readFileSync(join(dir, 'doc0.txt'), 'utf8')], { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
    const cacheDir = join(tmp('corpus-cache'), 'token-cache');
    const data = corpusData(dir, { validationFraction: 0.2, seed: 0, cacheDir });
    expect([...data.trainTexts()].join('\n').split(shared).length - 1).toBeLessThanOrEqual(1); // only the first copy survives
    const enc = await data.encode(tok, 0);
    expect(enc.trainDocs + enc.validationDocs).toBe(10);
    expect(enc.validationDocs).toBe(2);
    expect(enc.notes[0]).toMatch(/dropped 9 repeated/);
    const all = new Int32Array(enc.train.length);
    enc.train.read(0, all);
    expect(all.filter((t) => t === 0)).toHaveLength(enc.trainDocs);
    enc.close();
    const meta = readFileSync(join(cacheDir, 'tokens.json'), 'utf8');
    const again = await data.encode(tok, 0);
    expect(readFileSync(join(cacheDir, 'tokens.json'), 'utf8')).toBe(meta);
    expect(again.train.length).toBe(all.length);
    again.close();
  });

  it('names documents by part when several are given, and rejects an unknown part', () => {
    const a = tmp('part-a');
    const b = tmp('part-b');
    for (const d of [a, b]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'x.txt'), 'x');
    }
    expect(listCorpus(`${a},${b}`).map((e) => e.name)).toEqual([`${a}/x.txt`, `${b}/x.txt`]);
    expect(listCorpus(`${a},${b}`).map((e) => e.read())).toEqual(['x', 'x']);
    expect(() => listCorpus(join(a, 'missing'))).toThrow(/cannot read corpus directory/);
  });
});

describe('F16 weights', () => {
  it('floatToF16Bits rounds to nearest even and round-trips every half value', () => {
    const bad: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const x = f16ToFloat(h);
      const back = floatToF16Bits(x);
      if (Number.isNaN(x) ? !Number.isNaN(f16ToFloat(back)) : back !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
    expect(f16ToFloat(floatToF16Bits(1 + 2 ** -11))).toBe(1); // tie: to even
    expect(f16ToFloat(floatToF16Bits(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9); // tie: to even (up)
    expect(f16ToFloat(floatToF16Bits(1e6))).toBe(Infinity);
    expect(f16ToFloat(floatToF16Bits(2 ** -26))).toBe(0); // half the smallest subnormal: ties to even (0)
    expect(f16ToFloat(floatToF16Bits(3 * 2 ** -26))).toBe(2 ** -24);
  });

  it('serializeSafetensors writes F16 that parses back within half precision, and refuses out-of-range values', () => {
    const data = Float32Array.from([0.1, -2.5, 3e-5, 1234.5]);
    const bytes = serializeSafetensors({ w: { shape: [2, 2], data } }, {}, { dtype: 'F16' });
    const parsed = parseSafetensors(bytes).tensors.get('w')!;
    expect(parsed.dtype).toBe('F16');
    [...parsed.data].forEach((v, i) => expect(Math.abs(v - data[i]!)).toBeLessThanOrEqual(Math.abs(data[i]!) * 2 ** -11 + 2 ** -25));
    expect(bytes.length).toBeLessThan(serializeSafetensors({ w: { shape: [2, 2], data } }).length);
    expect(() => serializeSafetensors({ w: { shape: [1], data: Float32Array.from([7e4]) } }, {}, { dtype: 'F16' })).toThrow(/outside the F16 range/);
  });
});
