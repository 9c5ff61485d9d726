/**
 * Fuzz campaign (slow tier): over 100,000 generated malformed safetensors files and over 100,000
 * generated task files. Each must be refused with the documented error type only (SafetensorsError,
 * TaskFileError) and a one-line message, allocate no typed array larger than the file when refused,
 * and finish (vitest's timeout bounds the whole run; the slowest input is printed). Counts are printed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, SafetensorsError, serializeSafetensors } from '../src/io/index.js';
import { loadTask } from '../src/node/tasks.js';
import { decodeTaskText, detectGlueFormat, GLUE_TASKS, parseGlueTsv, TASKS, TaskFileError, type ClassificationExample } from '../src/tasks/index.js';
import { recordAllocations } from './allocations.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100_000); // FUZZ_RUNS=1000 for a quick look
const enc = new TextEncoder();
/** Catches hangs only: each campaign takes well under a minute on a quiet 2-core machine. */
const HANG_LIMIT_MS = 600_000;

// ---- safetensors -------------------------------------------------------------------------------

const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8, F8_E4M3: 1,
};
const DTYPES = Object.keys(DTYPE_BYTES);

/** Values that are not what a field expects, for every field. */
const junk = fc.oneof(
  fc.constantFrom(null, true, '', '2', 'F32', -1, 0.5, -0, 1e300, 2 ** 53 + 2, 2 ** 64, [], {}, [[]], [1, [2]]),
  fc.string({ maxLength: 6 }),
  fc.integer(),
);
const dim = fc.oneof({ weight: 6, arbitrary: fc.nat(5) }, { weight: 1, arbitrary: junk });
const entryArb = fc.record(
  {
    dtype: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...DTYPES) }, { weight: 1, arbitrary: junk }),
    shape: fc.oneof({ weight: 6, arbitrary: fc.array(dim, { maxLength: 3 }) }, { weight: 1, arbitrary: junk }),
    data_offsets: fc.oneof({ weight: 6, arbitrary: fc.tuple(fc.nat(48), fc.nat(48)) }, { weight: 1, arbitrary: fc.array(junk, { maxLength: 3 }) }),
    extra: fc.option(junk, { nil: undefined }),
  },
  { requiredKeys: [] },
);
const nameArb = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__metadata__', '__proto__', 'constructor', 'w', 'w'));

/** A free-form header: any names and entries, offsets unrelated to the data. */
const looseHeader = fc.tuple(fc.array(fc.tuple(nameArb, fc.oneof({ weight: 8, arbitrary: entryArb }, { weight: 1, arbitrary: junk })), { maxLength: 4 }), fc.nat(64))
  .map(([entries, dataLen]) => ({ text: '{' + entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',') + '}', dataLen }));

/**
 * A consistent header (offsets packed from the shapes) with one thing broken, or none: random data
 * bytes still make 64-bit integers out of range and BOOL bytes other than 0/1 most of the time.
 */
const nearValid = fc
  .tuple(
    fc.uniqueArray(fc.tuple(fc.string({ maxLength: 3 }), fc.constantFrom(...DTYPES), fc.array(fc.nat(3), { maxLength: 3 })), { selector: (e) => e[0], maxLength: 4 }),
    fc.constantFrom('none', 'offset+1', 'offset-1', 'swap', 'dup', 'dtype', 'shape', 'cut', 'extra', 'len+', 'len-', 'utf8', 'bom', 'nest'),
    fc.nat(),
  )
  .chain(([entries, flaw, pick]) => {
    let at = 0;
    const header: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }> = {};
    for (const [name, dtype, shape] of entries) {
      const size = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
      header[name] = { dtype, shape, data_offsets: [at, at + size] };
      at += size;
    }
    return fc.uint8Array({ minLength: at, maxLength: at }).map((data) => ({ header, flaw, pick, data }));
  })
  .map(({ header, flaw, pick, data }) => {
    const names = Object.keys(header);
    const victim = names.length ? header[names[pick % names.length]] : undefined;
    let dataLen = data.length;
    if (victim) {
      if (flaw === 'offset+1') victim.data_offsets[pick % 2]++;
      if (flaw === 'offset-1') victim.data_offsets[pick % 2]--;
      if (flaw === 'swap') victim.data_offsets.reverse();
      if (flaw === 'dtype') victim.dtype = ['F4', 'C64', 'I128', 'f32'][pick % 4];
      if (flaw === 'shape') victim.shape = [...victim.shape, 2];
    }
    let text = JSON.stringify(header);
    if (flaw === 'dup' && names.length) text = text.slice(0, -1) + `,${JSON.stringify(names[0])}:${JSON.stringify(header[names[0]])}}`;
    if (flaw === 'nest') text = `{"a":${'['.repeat(pick % 5000)}${']'.repeat(pick % 5000)}}`;
    if (flaw === 'cut') dataLen = Math.max(0, dataLen - 1 - (pick % 8));
    if (flaw === 'extra') dataLen += 1 + (pick % 8);
    let headerBytes = enc.encode(text);
    if (flaw === 'utf8') headerBytes = Uint8Array.from([...headerBytes.subarray(0, -1), 0xff, 0x7d]);
    if (flaw === 'bom') headerBytes = Uint8Array.from([0xef, 0xbb, 0xbf, ...headerBytes]);
    const lenDelta = flaw === 'len+' ? 1 + (pick % 9) : flaw === 'len-' ? -1 - (pick % 9) : 0;
    const out = new Uint8Array(8 + headerBytes.length + dataLen);
    new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, headerBytes.length + lenDelta)), true);
    out.set(headerBytes, 8);
    out.set(data.subarray(0, dataLen), 8 + headerBytes.length);
    return out;
  });

const withLength = (text: string, dataLen: number, declared?: bigint): Uint8Array => {
  const h = enc.encode(text);
  const out = new Uint8Array(8 + h.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(h.length), true);
  out.set(h, 8);
  return out;
};

/** Byte edits, length-field edits and cuts of a valid float file. */
const mutatedValid = fc
  .tuple(
    fc.array(fc.tuple(fc.string({ maxLength: 3 }), fc.array(fc.nat(3), { maxLength: 2 })), { minLength: 1, maxLength: 3 }),
    fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
    fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    fc.nat(40),
  )
  .map(([tensors, edits, len, cut]) => {
    const pairs = new Map(tensors.map(([n, shape]) => [n, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1.5) }]));
    const b = serializeSafetensors(pairs).slice();
    for (const [at, v] of edits) b[at % b.length] = v;
    if (len !== null) new DataView(b.buffer).setBigUint64(0, len, true);
    return b.subarray(0, Math.max(0, b.length - cut));
  });

const safetensorsFile = fc.oneof(
  { weight: 4, arbitrary: nearValid },
  { weight: 3, arbitrary: looseHeader.map(({ text, dataLen }) => withLength(text, dataLen)) },
  { weight: 2, arbitrary: mutatedValid },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.tuple(looseHeader, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map(([{ text, dataLen }, n]) => withLength(text, dataLen, n)) },
);

describe('fuzz: malformed safetensors files', () => {
  it(`refuses ${RUNS.toLocaleString('en')}+ generated files with one-line SafetensorsErrors and no allocation beyond the file`, () => {
    parseSafetensors(withLength('{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}', 2)); // builds the F16 table up front
    let refused = 0;
    let accepted = 0;
    let slowest = 0;
    const firstWords = new Map<string, number>();
    fc.assert(
      fc.property(safetensorsFile, (bytes) => {
        const t0 = performance.now();
        const { error, result, largest } = recordAllocations(() => parseSafetensors(bytes, { file: 'fuzz.safetensors' }));
        slowest = Math.max(slowest, performance.now() - t0);
        if (error === undefined) {
          accepted++;
          let decoded = 0;
          for (const t of result!.tensors.values()) decoded += t.data.length * 4;
          expect(largest).toBeLessThanOrEqual(decoded);
          return;
        }
        refused++;
        expect(error).toBeInstanceOf(SafetensorsError);
        const message = (error as Error).message;
        expect(message.startsWith('safetensors: fuzz.safetensors: ')).toBe(true);
        expect(message).not.toContain('\n');
        expect(largest).toBeLessThanOrEqual(bytes.length);
        const word = message.slice('safetensors: fuzz.safetensors: '.length).split(/[ :(]/)[0]!;
        firstWords.set(word, (firstWords.get(word) ?? 0) + 1);
      }),
      { numRuns: Math.ceil(RUNS * 1.25), seed: 20261201 },
    );
    console.log(
      `safetensors fuzz: ${(refused + accepted).toLocaleString('en')} files, ${refused.toLocaleString('en')} refused, ` +
        `${accepted.toLocaleString('en')} accepted (well formed), slowest ${slowest.toFixed(1)} ms; refusals by first word: ` +
        [...firstWords].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([w, n]) => `${w} ${n}`).join(', '),
    );
    expect(refused).toBeGreaterThanOrEqual(RUNS);
  }, HANG_LIMIT_MS);
});

// ---- task files --------------------------------------------------------------------------------

const sentence = fc.oneof(fc.constantFrom('a fine film', 'dull', 'He said "hi".', '"quoted"', 'caf\u00e9', '\u{1F600}'), fc.string({ maxLength: 8 }));
const label = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('0', '1') }, { weight: 1, arbitrary: fc.constantFrom('2', '-1', 'entailment', 'not_entailment', '', 'x', '01') });
const validTsv = fc.oneof(
  fc.array(fc.tuple(label, sentence).map(([l, s]) => `${l}\t${s}`), { maxLength: 5 }),
  fc.array(fc.tuple(sentence, label).map(([s, l]) => `${s}\t${l}`), { maxLength: 5 }),
  fc.array(fc.tuple(sentence, label, sentence).map(([s, l, m]) => `gj04\t${l}\t${m.slice(0, 1)}\t${s}`), { maxLength: 5 }),
  fc.array(fc.tuple(sentence, sentence, label).map(([a, b, l]) => `${a}\t${b}\t${l}\t0`), { maxLength: 5 }).map((rows) => ['sentence1\tsentence2\tlabel\tidx', ...rows]),
  fc.array(fc.tuple(sentence, label).map(([s, l]) => `${s}\t${l}`), { maxLength: 5 }).map((rows) => ['sentence\tlabel', ...rows]),
).chain((rows) => fc.constantFrom('\n', '\r\n').map((eol) => enc.encode(rows.join(eol) + (rows.length ? eol : ''))));

const SPECIAL_BYTES = [0x09, 0x0a, 0x0d, 0x22, 0x00, 0x20, 0xff, 0xfe, 0xc3, 0xe9, 0xed, 0xf4, 0x80, 0xef, 0xbb, 0xbf];
const taskFile = fc.oneof(
  { weight: 3, arbitrary: validTsv },
  {
    weight: 4,
    arbitrary: fc.tuple(validTsv, fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...SPECIAL_BYTES), fc.nat(255)), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 4 }))
      .map(([file, edits]) => {
        const b = Array.from(file);
        for (const [at, v, op] of edits) {
          const i = b.length ? at % (b.length + 1) : 0;
          if (op === 'insert' || b.length === 0) b.splice(i, 0, v);
          else if (op === 'set') b[Math.min(i, b.length - 1)] = v;
          else b.splice(Math.min(i, b.length - 1), 1);
        }
        return Uint8Array.from(b);
      }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) => enc.encode(s)) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(' ', '\t', '\n', '\r', '\ufeff'), { maxLength: 6 }).map((s) => enc.encode(s.join(''))) },
);

/** What loading a file does, minus the disk: decode, detect the layout, parse as each GLUE layout. */
function readTaskFile(bytes: Uint8Array): { errors: unknown[]; parsed: ClassificationExample[][]; textLength: number } {
  const errors: unknown[] = [];
  const parsed: ClassificationExample[][] = [];
  let text: string;
  try {
    text = decodeTaskText(bytes, 'fuzz.tsv');
  } catch (err) {
    return { errors: [err], parsed, textLength: 0 };
  }
  const detected = detectGlueFormat(text);
  for (const task of detected ? [detected] : GLUE_TASKS) {
    try {
      parsed.push(parseGlueTsv(task, text, 'fuzz.tsv'));
    } catch (err) {
      errors.push(err);
    }
  }
  return { errors, parsed, textLength: text.length };
}

describe('fuzz: malformed task files', () => {
  it(`reads ${RUNS.toLocaleString('en')}+ generated task files: TaskFileError or well-formed examples, nothing else`, () => {
    let files = 0;
    let refused = 0;
    let slowest = 0;
    fc.assert(
      fc.property(taskFile, (bytes) => {
        files++;
        const t0 = performance.now();
        const { error, result, largest } = recordAllocations(() => readTaskFile(bytes));
        slowest = Math.max(slowest, performance.now() - t0);
        expect(error).toBeUndefined(); // readTaskFile itself catches; anything escaping is a crash
        expect(largest).toBeLessThanOrEqual(bytes.length);
        for (const err of result!.errors) {
          expect(err).toBeInstanceOf(TaskFileError);
          expect((err as Error).message.startsWith('fuzz.tsv') || /^(sst2|cola|rte) fuzz\.tsv/.test((err as Error).message)).toBe(true);
          expect((err as Error).message).not.toContain('\n');
        }
        if (result!.parsed.length === 0) refused++;
        for (const examples of result!.parsed) {
          let chars = 0;
          for (const e of examples) {
            expect(e.text.trim()).not.toBe('');
            expect(Number.isInteger(e.label) && e.label >= 0 && e.label < 3).toBe(true);
            expect(e.text).not.toContain('\n');
            chars += e.text.length + (e.textPair?.length ?? 0);
          }
          expect(chars).toBeLessThanOrEqual(result!.textLength);
        }
      }),
      { numRuns: RUNS, seed: 20261202 },
    );
    console.log(`task-file fuzz: ${files.toLocaleString('en')} files, ${refused.toLocaleString('en')} refused by every layout, slowest ${slowest.toFixed(1)} ms`);
    expect(files).toBeGreaterThanOrEqual(RUNS);
  }, HANG_LIMIT_MS);

  it('loadTask on disk: 2,000 generated files give a task or a TaskFileError naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wasmgrad-fuzz-'));
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(taskFile, async (bytes) => {
          const path = join(dir, `f${n++}.tsv`);
          await writeFile(path, bytes);
          const outcome = await loadTask(path).then((t) => t, (e: unknown) => e);
          if (outcome instanceof Error) {
            expect(outcome).toBeInstanceOf(TaskFileError);
            expect(outcome.message).toContain(path);
            expect(outcome.message).not.toContain('\n');
          } else {
            const spec = TASKS[(outcome as { task: keyof typeof TASKS }).task];
            expect(spec).toBeDefined();
          }
          await rm(path);
        }),
        { numRuns: 2000, seed: 20261203 },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    console.log(`task-file fuzz on disk: ${n} files through loadTask`);
  }, HANG_LIMIT_MS);
});
