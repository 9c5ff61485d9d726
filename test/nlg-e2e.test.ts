/**
 * The E2E reader (RFC 4180 CSV, grouping by MR, errors that name the line), MR prompts and the
 * split by MR. The real development set is checked too when it is present.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../src/nlg/csv.js';
import { readE2E } from '../src/nlg/e2e.js';
import { e2ePrompt, parseMR } from '../src/nlg/mr.js';
import { splitByMR } from '../src/nlg/split.js';
import { decodeUtf8 } from '../src/nlg/utf8.js';
import { firstInvalidUtf8 } from '../src/tasks/text.js';
import { parseHypothesisLines, parseReferenceGroups } from '../src/nlg/references.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and CRLF', () => {
    const text = 'a,b\r\n"x, y","say ""hi"""\r\n"multi\nline",plain\n\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['multi\nline', 'plain'] },
    ]);
  });
  it('keeps empty fields and a quoted empty line', () => {
    expect(parseCsv('a,,c\n""\n,\n')).toEqual([
      { line: 1, fields: ['a', '', 'c'] },
      { line: 2, fields: [''] },
      { line: 3, fields: ['', ''] },
    ]);
  });
  it('counts lines inside quoted fields for later errors; a lone CR is data', () => {
    expect(() => parseCsv('mr,ref\n"multi\nline",ok\nbad,x"y\n')).toThrow(/line 4, column 6: stray double quote/);
    expect(parseCsv('a\rb,c\n')).toEqual([{ line: 1, fields: ['a\rb', 'c'] }]);
  });
  it('rejects a stray quote in an unquoted field, naming line and column', () => {
    expect(() => parseCsv('mr,ref\nabc,the "Eagle" pub\n', 'f.csv')).toThrow(/f\.csv: line 2, column 9: stray double quote/);
  });
  it('rejects text after a closing quote', () => {
    expect(() => parseCsv('mr,ref\n"abc"x,ref\n')).toThrow(/line 2, column 6: unexpected "x" after the closing quote/);
  });
  it('rejects an unbalanced quote, naming the line where the field opened', () => {
    expect(() => parseCsv('mr,ref\nok,fine\n"name[A]","never closed\nmore\n')).toThrow(/line 3, column 11: a quoted field opened here never closes/);
  });
});

describe('UTF-8', () => {
  it('finds the first ill-formed byte (bad lead, truncation, overlong, surrogate)', () => {
    expect(firstInvalidUtf8(enc('£ café 😀'))).toBe(-1);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xff]))).toBe(1);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xc2]))).toBe(1);
    expect(firstInvalidUtf8(new Uint8Array([0xc0, 0xaf]))).toBe(0);
    expect(firstInvalidUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe(0);
  });
  it('names the line of a Latin-1 byte', () => {
    const bytes = new Uint8Array([...enc('mr,ref\nname[A],ok\nname[B],costs '), 0xa3, ...enc('20\n')]);
    expect(() => decodeUtf8(bytes, 'dev.csv')).toThrow(/dev\.csv: line 3 is not valid UTF-8 \(byte 0xa3/);
  });
});

describe('readE2E', () => {
  const csv = [
    'mr,ref',
    '"name[The Eagle], eatType[coffee shop]","The Eagle is a coffee shop."',
    '"name[Blue Spice], area[riverside]",Blue Spice is by the river.',
    '"name[The Eagle], eatType[coffee shop]","There is a coffee shop, The Eagle."',
    '',
  ].join('\n');
  it('groups references by MR in order of first appearance', () => {
    expect(readE2E(enc(csv))).toEqual([
      { mr: 'name[The Eagle], eatType[coffee shop]', refs: ['The Eagle is a coffee shop.', 'There is a coffee shop, The Eagle.'], line: 2 },
      { mr: 'name[Blue Spice], area[riverside]', refs: ['Blue Spice is by the river.'], line: 3 },
    ]);
  });
  it('accepts columns in any order and case, and a byte-order mark', () => {
    expect(readE2E('\ufeffREF,MR\nhello,name[A]\n')).toEqual([{ mr: 'name[A]', refs: ['hello'], line: 2 }]);
  });
  it('reads an MR-only file when refs are not required', () => {
    expect(readE2E('mr\nname[A]\nname[B]\n', { requireRefs: false }).map((i) => i.refs)).toEqual([[], []]);
  });
  it.each([
    ['', /the file is empty/],
    ['\n\n', /the file is empty/],
    ['mr,text\nname[A],hi\n', /line 1: the header "mr,text" has no ref column/],
    ['meaning,ref\nname[A],hi\n', /has no mr column/],
    ['mr,ref\n', /has a header but no rows/],
    ['mr,ref\nname[A],hi\n,hello\n', /line 3 has an empty mr/],
    ['mr,ref\nname[A],hi\nname[B], \n', /line 3 has an empty ref/],
    ['mr,ref\nname[A],hi,extra\n', /line 2 has 3 field\(s\) but the header has 2/],
    ['mr,ref\n"name[A]",the "best" one\n', /line 2, column 15: stray double quote/],
    ['mr,ref\n"name[A],hi\n', /line 2, column 1: a quoted field opened here never closes/],
  ])('rejects %j', (text, msg) => {
    expect(() => readE2E(enc(text), { source: 'data.csv' })).toThrow(msg);
  });
  it('rejects invalid UTF-8 naming the line', () => {
    expect(() => readE2E(new Uint8Array([...enc('mr,ref\nname[A],caf'), 0xe9, 0x0a]))).toThrow(/line 2 is not valid UTF-8/);
  });
});

describe('MR prompts', () => {
  it('parses slots and linearises them', () => {
    expect(parseMR('name[The Eagle], eatType[coffee shop], priceRange[£20-25]')).toEqual([
      { attribute: 'name', value: 'The Eagle' },
      { attribute: 'eatType', value: 'coffee shop' },
      { attribute: 'priceRange', value: '£20-25' },
    ]);
    expect(e2ePrompt('name[The Eagle], eatType[coffee shop]')).toBe('name : The Eagle | eatType : coffee shop ||');
  });
  it.each(['', 'name The Eagle', 'name[The Eagle] eatType[pub]', '[x]', 'name[open'])('rejects %j', (mr) => {
    expect(() => parseMR(mr)).toThrow(/parseMR/);
  });
});

describe('splitByMR', () => {
  const instances = Array.from({ length: 50 }, (_, i) => ({ mr: `name[R${i}]`, refs: [`r${i}a`, `r${i}b`], line: i + 2 }));
  it('holds out whole MRs, deterministically, keeping input order', () => {
    const a = splitByMR(instances, { validationFraction: 0.2, seed: 3 });
    const b = splitByMR([...instances].reverse(), { validationFraction: 0.2, seed: 3 });
    expect(a.validation.length).toBe(10);
    expect(a.train.length).toBe(40);
    expect(new Set(a.validation.map((i) => i.mr))).toEqual(new Set(b.validation.map((i) => i.mr)));
    const trainMrs = new Set(a.train.map((i) => i.mr));
    expect(a.validation.every((i) => !trainMrs.has(i.mr) && i.refs.length === 2)).toBe(true);
    expect(a.train.map((i) => i.line)).toEqual([...a.train.map((i) => i.line)].sort((x, y) => x - y));
    const c = splitByMR(instances, { validationFraction: 0.2, seed: 4 });
    expect(c.validation.map((i) => i.mr)).not.toEqual(a.validation.map((i) => i.mr));
  });
  it('rejects bad fractions, duplicate MRs and empty parts', () => {
    expect(() => splitByMR(instances, { validationFraction: 1 })).toThrow(/must be in \(0, 1\)/);
    expect(() => splitByMR([instances[0]!, instances[0]!], { validationFraction: 0.5 })).toThrow(/appears twice/);
    expect(() => splitByMR(instances.slice(0, 1), { validationFraction: 0.1 })).toThrow(/leaves 1 for training and 0 for validation/);
  });
});

describe('official text layouts', () => {
  it('reads blank-line separated reference groups and one-per-line outputs', () => {
    expect(parseReferenceGroups('\na1\na2\n\n\nb1\r\n\n')).toEqual([['a1', 'a2'], ['b1']]);
    expect(parseReferenceGroups('x\ny\n')).toEqual([['x'], ['y']]);
    expect(parseHypothesisLines('h1\r\n\nh3\n\n')).toEqual(['h1', '', 'h3']);
  });
});

const DEVSET = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'e2e', 'devset.csv');
describe.runIf(existsSync(DEVSET))('the E2E development set', () => {
  it('has 4,672 references over 547 MRs, each MR a valid slot list', () => {
    const data = readE2E(readFileSync(DEVSET), { source: DEVSET });
    expect(data.reduce((a, i) => a + i.refs.length, 0)).toBe(4672);
    expect(data.length).toBe(547);
    for (const inst of data) expect(parseMR(inst.mr)[0]!.attribute).toBe('name');
    const { train, validation } = splitByMR(data, { validationFraction: 0.1 });
    expect(train.length + validation.length).toBe(547);
  });
});
