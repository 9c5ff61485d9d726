/** safetensors: format pin, round trips, half-float decoding, and hostile-input rejection. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { bf16ToFloat, f16ToFloat } from '../src/io/dtype.js';
import {
  inFile,
  parseSafetensors,
  safetensorsToTensors,
  SafetensorsError,
  serializeSafetensors,
  tensorsToSafetensors,
  type SafetensorsInput,
} from '../src/io/index.js';
import { tensor } from '../src/ops/create.js';
import { recordAllocations } from './allocations.js';

const enc = new TextEncoder();

/** A file from a header (object or literal JSON text), its declared length, and raw data bytes. */
function build(header: object | string, data: ArrayLike<number> = [], declaredLen?: bigint): Uint8Array {
  const text =
    header instanceof Uint8Array ? header : enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declaredLen ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(Array.from(data), 8 + text.length);
  return out;
}

const bitsOf = (a: Float32Array): Uint32Array => new Uint32Array(Float32Array.from(a).buffer);
const f32 = (...xs: number[]): Float32Array => Float32Array.from(xs);
const hex = (s: string): number[] => s.match(/../g)!.map((b) => parseInt(b, 16));

function expectSafetensorsError(bytes: Uint8Array, message?: RegExp | string): void {
  let caught: unknown;
  try {
    parseSafetensors(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected the parser to reject this input').toBeInstanceOf(SafetensorsError);
  if (message) expect((caught as Error).message).toMatch(message);
}

describe('safetensors format pin', () => {
  // Written out by hand from the format description: u64 LE header length (0x90 = 144), the JSON
  // (metadata first, then names in sorted order) padded with 6 spaces, then float32 LE values.
  const expected = Uint8Array.from([
    ...hex('9000000000000000'),
    ...enc.encode(
      '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
        '"z":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}      ',
    ),
    ...hex('0000003f'), // a = 0.5
    ...hex('0000803f' + '000000c0'), // z = [1, -2]
  ]);

  it('serializes a tiny file byte for byte', () => {
    const out = serializeSafetensors({ z: { shape: [2], data: f32(1, -2) }, a: { shape: [], data: f32(0.5) } });
    expect(Array.from(out)).toEqual(Array.from(expected));
  });

  it('parses the hand-built file', () => {
    const { tensors, metadata } = parseSafetensors(expected);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['a', 'z']);
    expect(tensors.get('a')).toEqual({ dtype: 'F32', shape: [], data: f32(0.5) });
    expect(tensors.get('z')).toEqual({ dtype: 'F32', shape: [2], data: f32(1, -2) });
  });

  it('reads F32 data at an unaligned position (unpadded header from another writer)', () => {
    const file = build('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', hex('0000803f' + '000000c0'));
    expect((8 + 55) % 4).not.toBe(0); // 55-byte header: data starts off a 4-byte boundary
    expect(parseSafetensors(file).tensors.get('x')!.data).toEqual(f32(1, -2));
    // The same bytes inside a larger buffer at an odd byte offset.
    const host = new Uint8Array(file.length + 3);
    host.set(file, 3);
    expect(parseSafetensors(host.subarray(3)).tensors.get('x')!.data).toEqual(f32(1, -2));
  });
});

describe('half-float decoding', () => {
  it('decodes hand-computed F16 bit patterns', () => {
    expect(f16ToFloat(0x3c00)).toBe(1);
    expect(f16ToFloat(0xc000)).toBe(-2);
    expect(f16ToFloat(0x7bff)).toBe(65504);
    expect(f16ToFloat(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16ToFloat(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16ToFloat(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16ToFloat(0x3555)).toBe(0.333251953125);
    expect(f16ToFloat(0x7c00)).toBe(Infinity);
    expect(f16ToFloat(0xfc00)).toBe(-Infinity);
    expect(f16ToFloat(0x7e00)).toBeNaN();
    expect(f16ToFloat(0xfc01)).toBeNaN();
    expect(Object.is(f16ToFloat(0x8000), -0)).toBe(true);
  });

  it('decodes hand-computed BF16 bit patterns', () => {
    expect(bf16ToFloat(0x3f80)).toBe(1);
    expect(bf16ToFloat(0xc000)).toBe(-2);
    expect(bf16ToFloat(0x3eaa)).toBe(0.33203125); // 1/3 truncated to 8 significant bits
    expect(bf16ToFloat(0x0001)).toBe(2 ** -133); // smallest bf16 subnormal (a float32 subnormal)
    expect(bf16ToFloat(0x7f80)).toBe(Infinity);
    expect(bf16ToFloat(0xff80)).toBe(-Infinity);
    expect(bf16ToFloat(0x7fc0)).toBeNaN();
    expect(Object.is(bf16ToFloat(0x8000), -0)).toBe(true);
  });

  it('agrees with the arithmetic definition of binary16 on all 65536 patterns', () => {
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >> 10) & 0x1f;
      const mant = h & 0x3ff;
      const want =
        exp === 0x1f ? (mant ? NaN : sign * Infinity) : exp === 0 ? sign * mant * 2 ** -24 : sign * (1 + mant / 1024) * 2 ** (exp - 15);
      if (!Object.is(f16ToFloat(h), want)) wrong.push(`0x${h.toString(16)}: ${f16ToFloat(h)} vs ${want}`);
    }
    expect(wrong).toEqual([]);
  });

  it('decodes F16 and BF16 tensors from a file, including odd data positions', () => {
    // A 1-element F16 first pushes the next tensor to an odd offset relative to the 4-byte grid.
    const header =
      '{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},' +
      '"g":{"dtype":"F16","shape":[2,2],"data_offsets":[2,10]},' +
      '"b":{"dtype":"BF16","shape":[3],"data_offsets":[10,16]}}';
    const data = hex('003c' + '00c0' + 'ff7b' + '0100' + '007c' + '803f' + 'aa3e' + 'c07f');
    const { tensors } = parseSafetensors(build(header, data));
    expect(tensors.get('h')).toEqual({ dtype: 'F16', shape: [1], data: f32(1) });
    expect(tensors.get('g')!.data).toEqual(f32(-2, 65504, 2 ** -24, Infinity));
    const b = tensors.get('b')!;
    expect(b.dtype).toBe('BF16');
    expect(Array.from(b.data.subarray(0, 2))).toEqual([1, 0.33203125]);
    expect(b.data[2]).toBeNaN();
  });
});

// Float32 values given by bit pattern: every class (denormals, -0, inf, NaN payloads) appears.
const f32Bits = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.constantFrom(0, 0x80000000, 1, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffffffff),
);
const entry: fc.Arbitrary<SafetensorsInput> = fc
  .array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 })
  .chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.array(f32Bits, { minLength: n, maxLength: n }).map((bits) => ({ shape, data: new Float32Array(Uint32Array.from(bits).buffer) }));
  });
const names = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => s !== '__metadata__');
const checkpoint = fc.uniqueArray(fc.tuple(names, entry), { selector: ([n]) => n, maxLength: 6 });

describe('safetensors round trip', () => {
  it('serialize -> parse is bit-exact and the layout follows the format', () => {
    fc.assert(
      fc.property(checkpoint, fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), (pairs, meta) => {
        const bytes = serializeSafetensors(pairs, meta);
        const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(n % 8).toBe(0);
        expect(bytes[8]).toBe(0x7b);
        const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
        expect(header.__metadata__).toEqual({ format: 'pt', ...meta });
        const parsed = parseSafetensors(bytes);
        expect(parsed.metadata).toEqual({ format: 'pt', ...meta });
        expect(parsed.tensors.size).toBe(pairs.length);
        for (const [name, t] of pairs) {
          const got = parsed.tensors.get(name)!;
          expect(got.dtype).toBe('F32');
          expect(got.shape).toEqual(t.shape);
          expect(bitsOf(got.data as Float32Array)).toEqual(bitsOf(t.data));
        }
        // Deterministic: input order does not matter.
        expect(serializeSafetensors([...pairs].reverse(), meta)).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('sorts names by code point like the reference writer', () => {
    const t = { shape: [1], data: f32(0) };
    const bytes = serializeSafetensors([['\u{1F600}', t], ['\uFFFD', t], ['b', t], ['B', t], ['a', t]]);
    expect([...parseSafetensors(bytes).tensors.keys()]).toEqual(['B', 'a', 'b', '\uFFFD', '\u{1F600}']);
  });

  it('rejects what cannot be written', () => {
    const ok = { shape: [2], data: f32(1, 2) };
    expect(() => serializeSafetensors({ w: { shape: [3], data: f32(1, 2) } })).toThrow(/needs 3 values but data has 2/);
    expect(() => serializeSafetensors({ w: { shape: [-1], data: f32() } })).toThrow(SafetensorsError);
    expect(() => serializeSafetensors({ w: { shape: [2], data: [1, 2] as unknown as Float32Array } })).toThrow(/Float32Array/);
    expect(() => serializeSafetensors([['__metadata__', ok]])).toThrow(/reserved/);
    expect(() => serializeSafetensors([['w', ok], ['w', ok]])).toThrow(/given twice/);
    expect(() => serializeSafetensors({ w: ok }, { n: 1 as unknown as string })).toThrow(/must be a string/);
  });

  it('converts engine tensors both ways', () => {
    const backend = createReferenceBackend({ dtype: 'float64' });
    const w = tensor([[1.5, -2], [0.1, 3]], undefined, { backend });
    const s = tensor(7, undefined, { backend });
    const bytes = tensorsToSafetensors({ w, s }, { note: 'x' });
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt', note: 'x' });
    const back = safetensorsToTensors(parsed, { backend: createReferenceBackend() });
    expect(back.get('w')!.shape).toEqual([2, 2]);
    expect(Array.from(back.get('w')!.toArray())).toEqual(Array.from(f32(1.5, -2, 0.1, 3)));
    expect(back.get('w')!.name).toBe('w');
    expect(back.get('s')!.shape).toEqual([]);
    expect(back.get('s')!.item()).toBe(7);
    const ids = tensor([1, 2], [2], { dtype: 'int32', backend });
    expect(() => tensorsToSafetensors({ ids })).toThrow(/int32/);
  });
});

/** A valid file with at least one non-empty tensor, so every strict prefix is missing bytes. */
const validFile = checkpoint
  .filter((pairs) => pairs.some(([, t]) => t.data.length > 0))
  .map((pairs) => serializeSafetensors(pairs));

describe('safetensors rejects malformed input', () => {
  it('diagnoses a Git LFS pointer', () => {
    const pointer =
      'version https://git-lfs.github.com/spec/v1\n' +
      'oid sha256:248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707\nsize 548105171\n';
    expectSafetensorsError(enc.encode(pointer), /Git LFS pointer, not the weights: run `git lfs pull`/);
  });

  it('diagnoses a truncated download', () => {
    const file = serializeSafetensors({ w: { shape: [4], data: f32(1, 2, 3, 4) } });
    expectSafetensorsError(file.subarray(0, file.length - 6), /file is truncated: expected 16 bytes of tensor data, found 10; re-download/);
  });

  it('rejects every strict prefix of a valid file', () => {
    fc.assert(
      fc.property(validFile, (file) => {
        for (let len = 0; len < file.length; len++) expectSafetensorsError(file.subarray(0, len));
      }),
      { numRuns: 40 },
    );
  });

  it('rejects header lengths that lie', () => {
    const good = serializeSafetensors({ w: { shape: [1], data: f32(1) } });
    const withLen = (n: bigint): Uint8Array => {
      const b = good.slice();
      new DataView(b.buffer).setBigUint64(0, n, true);
      return b;
    };
    const n = BigInt(good.length - 8 - 4);
    expectSafetensorsError(withLen(n + 5n), /truncated or not safetensors/);
    expectSafetensorsError(withLen(BigInt(good.length)), /truncated or not safetensors/);
    expectSafetensorsError(withLen(2n ** 32n), /exceeds the 100000000-byte limit/);
    expectSafetensorsError(withLen(2n ** 53n), /exceeds/);
    expectSafetensorsError(withLen(2n ** 53n + 1n), /exceeds/);
    expectSafetensorsError(withLen(2n ** 64n - 1n), /exceeds/);
    expectSafetensorsError(withLen(0n), /does not start with "\{"/);
    expectSafetensorsError(withLen(n - 1n)); // cuts the JSON short
    expect(() => parseSafetensors(good, { maxHeaderBytes: 16 })).toThrow(/exceeds the 16-byte limit/);
  });

  const table: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /at least an 8-byte header length/],
    ['7 bytes', new Uint8Array(7), /at least an 8-byte header length/],
    ['non-JSON', build('{"a":'), /not valid JSON/],
    ['invalid UTF-8', build(Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), /not valid UTF-8/],
    ['leading space', build(' {}'), /does not start with/],
    ['byte order mark', build('\uFEFF{}'), /does not start with/],
    ['JSON array', build('[]'), /does not start with/],
    ['entry not an object', build({ w: [1] }), /entry must be an object/],
    ['entry null', build({ w: null }), /entry must be an object/],
    ['dtype not a string', build({ w: { dtype: 4, shape: [], data_offsets: [0, 4] } }), /"dtype" must be a string/],
    ['unknown dtype', build({ w: { dtype: 'f32', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /unknown dtype "f32"/],
    ['shape not an array', build({ w: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }), /"shape" must be/],
    ['negative dim', build({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }), /"shape" must be/],
    ['fractional dim', build({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 6] } }), /"shape" must be/],
    ['unsafe dim', build('{"w":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,4]}}'), /"shape" must be/],
    ['missing offsets', build({ w: { dtype: 'F32', shape: [] } }), /"data_offsets" must be/],
    ['three offsets', build({ w: { dtype: 'F32', shape: [], data_offsets: [0, 4, 4] } }), /"data_offsets" must be/],
    ['negative offset', build({ w: { dtype: 'F32', shape: [], data_offsets: [-4, 0] } }), /"data_offsets" must be/],
    ['float offset', build({ w: { dtype: 'F32', shape: [], data_offsets: [0, 4.5] } }), /"data_offsets" must be/],
    ['infinite offset', build('{"w":{"dtype":"F32","shape":[],"data_offsets":[0,1e400]}}'), /"data_offsets" must be/],
    ['reversed offsets', build({ w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }), /end before they begin/],
    ['shape/offset mismatch', build({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /needs 8 bytes but data_offsets \[0, 4\] span 4/],
    ['size overflow', build({ w: { dtype: 'F32', shape: [2 ** 26, 2 ** 26, 2 ** 26], data_offsets: [0, 4] } }), /too large/],
    ['sub-byte remainder', build({ w: { dtype: 'F4', shape: [3], data_offsets: [0, 1] } }), /whole bytes/],
    ['hole at start', build({ w: { dtype: 'F32', shape: [], data_offsets: [4, 8] } }, new Array(8).fill(0)), /gap of 4 unused bytes before tensor "w"/],
    [
      'hole between',
      build({ a: { dtype: 'F32', shape: [], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [], data_offsets: [8, 12] } }, new Array(12).fill(0)),
      /gap of 4 unused bytes before tensor "b"/,
    ],
    [
      'overlap',
      build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [], data_offsets: [4, 8] } }, new Array(8).fill(0)),
      /tensor "b" .* overlaps tensor "a"/,
    ],
    ['trailing bytes', build({ w: { dtype: 'F32', shape: [], data_offsets: [0, 4] } }, new Array(5).fill(0)), /1 trailing bytes/],
    ['trailing bytes, no tensors', build({}, [1]), /1 trailing bytes/],
    ['duplicate tensor', build('{"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /duplicate key "w"/],
    ['duplicate by escape', build('{"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"\\u0077":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /duplicate key "w"/],
    ['duplicate field', build('{"w":{"dtype":"F32","dtype":"F16","shape":[],"data_offsets":[0,2]}}', [0, 0]), /duplicate key "dtype" in "w"/],
    ['duplicate metadata key', build('{"__metadata__":{"k":"1","k":"2"}}'), /duplicate key "k" in "__metadata__"/],
    ['metadata not a map', build({ __metadata__: ['x'] }), /"__metadata__" must be an object/],
    ['metadata value not a string', build({ __metadata__: { epoch: 3 } }), /value for "epoch" must be a string/],
    ['unsupported dtype', build({ d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, new Array(8).fill(0)), /unsupported dtype F64 for tensor "d"; convert the checkpoint to float32\/16/],
    ['I64 above int32', build({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, hex('0500000000000000' + '0000008000000000')), /I64 tensor "ids" holds 2147483648 at element 1, outside the int32 range/],
    ['I64 below int32', build({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, hex('ffffff7fffffffff')), /holds -2147483649 at element 0/],
    ['I64 far out', build({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, hex('0000000000000080')), /holds -9223372036854775808 at element 0/],
    ['U64 above int32', build({ ids: { dtype: 'U64', shape: [1], data_offsets: [0, 8] } }, hex('ffffffffffffffff')), /U64 tensor "ids" holds 18446744073709551615/],
    ['U32 above int32', build({ ids: { dtype: 'U32', shape: [1], data_offsets: [0, 4] } }, hex('00000080')), /U32 tensor "ids" holds 2147483648/],
    ['BOOL byte 2', build({ m: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, [1, 0, 2]), /BOOL tensor "m" holds the byte 2 at element 2; a bool is stored as 0 or 1/],
  ];
  it.each(table)('%s', (_, bytes, message) => expectSafetensorsError(bytes, message));

  it('accepts the edge cases the reference accepts', () => {
    expect(parseSafetensors(build('{}')).tensors.size).toBe(0);
    expect(parseSafetensors(build('{"__metadata__":null}  ')).metadata).toBeNull();
    const zero = parseSafetensors(build({ e: { dtype: 'F32', shape: [3, 0], data_offsets: [0, 0] } }));
    expect(zero.tensors.get('e')!.data.length).toBe(0);
    const mixed = build({ d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] }, w: { dtype: 'F32', shape: [], data_offsets: [8, 12] } }, [
      ...new Array(8).fill(0),
      ...hex('0000803f'),
    ]);
    const kept = parseSafetensors(mixed, { unsupported: 'skip' });
    expect([...kept.tensors.keys()]).toEqual(['w']);
  });
});

describe('integer and bool tensors are read as int32 data', () => {
  it('decodes every integer dtype, little-endian, at any data position', () => {
    // One tensor per dtype, packed back to back: the 1-byte tensors first put the wider ones off their natural alignment.
    const parts: [string, string, number[], string][] = [
      ['bool', 'BOOL', [3], '010001'],
      ['u8', 'U8', [2], '00ff'],
      ['i8', 'I8', [3], '7f8001'],
      ['i16', 'I16', [3], 'ff7f' + '0080' + 'feff'],
      ['u16', 'U16', [2], 'ffff' + '3412'],
      ['i32', 'I32', [3], 'ffffff7f' + '00000080' + 'ffffffff'],
      ['u32', 'U32', [2], 'ffffff7f' + '01000000'],
      ['i64', 'I64', [2, 2], 'ffffff7f00000000' + '00000080ffffffff' + 'feffffffffffffff' + '0200000000000000'],
      ['u64', 'U64', [1], 'ffffff7f00000000'],
      ['empty', 'I64', [0, 4], ''],
    ];
    const header: Record<string, object> = {};
    let at = 0;
    for (const [name, dtype, shape, bytes] of parts) {
      header[name] = { dtype, shape, data_offsets: [at, at + bytes.length / 2] };
      at += bytes.length / 2;
    }
    const { tensors } = parseSafetensors(build(header, hex(parts.map((p) => p[3]).join(''))));
    const got = (name: string) => {
      const e = tensors.get(name)!;
      expect(e.data, name).toBeInstanceOf(Int32Array);
      return [e.dtype, e.shape, Array.from(e.data)];
    };
    expect(got('bool')).toEqual(['BOOL', [3], [1, 0, 1]]);
    expect(got('u8')).toEqual(['U8', [2], [0, 255]]);
    expect(got('i8')).toEqual(['I8', [3], [127, -128, 1]]);
    expect(got('i16')).toEqual(['I16', [3], [32767, -32768, -2]]);
    expect(got('u16')).toEqual(['U16', [2], [65535, 0x1234]]);
    expect(got('i32')).toEqual(['I32', [3], [2 ** 31 - 1, -(2 ** 31), -1]]);
    expect(got('u32')).toEqual(['U32', [2], [2 ** 31 - 1, 1]]);
    expect(got('i64')).toEqual(['I64', [2, 2], [2 ** 31 - 1, -(2 ** 31), -2, 2]]);
    expect(got('u64')).toEqual(['U64', [1], [2 ** 31 - 1]]);
    expect(got('empty')).toEqual(['I64', [0, 4], []]);
  });

  it('becomes int32 engine tensors next to float ones; int tensors never require gradients', () => {
    const file = build(
      { ids: { dtype: 'I64', shape: [1, 3], data_offsets: [0, 24] }, w: { dtype: 'F32', shape: [1], data_offsets: [24, 28] } },
      hex('0000000000000000' + '0100000000000000' + '0200000000000000' + '0000803f'),
    );
    const t = safetensorsToTensors(parseSafetensors(file), { backend: createReferenceBackend(), requiresGrad: true });
    expect(t.get('ids')!.dtype).toBe('int32');
    expect(t.get('ids')!.shape).toEqual([1, 3]);
    expect(t.get('ids')!.requiresGrad).toBe(false);
    expect(Array.from(t.get('ids')!.toArray())).toEqual([0, 1, 2]);
    expect(t.get('w')!.requiresGrad).toBe(true);
  });

  it('names the file in every error when the caller gives it', () => {
    const bad = new Uint8Array(3);
    expect(() => parseSafetensors(bad, { file: '/ckpt/model.safetensors' })).toThrow(
      /^safetensors: \/ckpt\/model\.safetensors: file is 3 bytes/,
    );
    const err = (() => {
      try {
        parseSafetensors(build({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0]), { file: 'a.safetensors' });
      } catch (e) {
        return e as SafetensorsError;
      }
    })()!;
    expect(err).toBeInstanceOf(SafetensorsError);
    expect(err.file).toBe('a.safetensors');
    expect(err.message.split('\n')[0]).toMatch(/^safetensors: a\.safetensors: tensor "w": shape \[2\] of F32 needs 8 bytes/);
    expect(() => parseSafetensors(bad)).toThrow(/^safetensors: file is 3 bytes/);
    // inFile names the file for parsing done elsewhere (adapter and checkpoint loaders), once.
    expect(() => inFile('x.safetensors', () => inFile('inner', () => parseSafetensors(bad)))).toThrow(/^safetensors: inner: file/);
    expect(() => inFile('x.safetensors', () => parseSafetensors(bad))).toThrow(/^safetensors: x\.safetensors: file/);
    expect(() => inFile('x.safetensors', () => { throw new RangeError('other'); })).toThrow(RangeError);
  });
});

/** Mutations of a valid file: byte overwrites, header-length edits and truncation. */
const mutated = fc
  .tuple(validFile, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })), fc.nat())
  .map(([file, edits, len, cut]) => {
    const b = file.slice(0, file.length - (cut % 3 === 0 ? cut % 17 : 0));
    for (const [at, v] of edits) if (b.length) b[at % b.length] = v;
    if (len !== null && b.length >= 8) new DataView(b.buffer).setBigUint64(0, len, true);
    return b;
  });

describe('safetensors parser is safe on arbitrary bytes', () => {
  it('records allocations (self-check of the instrument)', () => {
    expect(recordAllocations(() => new Float32Array(100)).largest).toBe(400);
    expect(recordAllocations(() => new Uint8Array([1, 2, 3])).largest).toBe(3);
    expect(recordAllocations(() => new Float32Array(new ArrayBuffer(64))).largest).toBe(64);
  });

  it('throws only SafetensorsError and never allocates more than the input holds', () => {
    parseSafetensors(build({ h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, [0, 0])); // builds the F16 table
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), (bytes) => {
        const { error, result, largest } = recordAllocations(() => parseSafetensors(bytes));
        if (error !== undefined) {
          expect(error).toBeInstanceOf(SafetensorsError);
          expect(largest).toBeLessThanOrEqual(bytes.length);
        } else {
          // A file that still parses: the only allocations are the decoded arrays (4 bytes a value).
          let decodedBytes = 0;
          for (const t of result!.tensors.values()) decodedBytes += t.data.length * 4;
          expect(largest).toBeLessThanOrEqual(decodedBytes);
        }
      }),
      { numRuns: 1500 },
    );
  });

  // Their parse time (linear in the header) is measured by the bench: `safetensors deep header`, `... many entries`.
  it('names the problem in a large pathological header', () => {
    const deep = '{"a":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}';
    expectSafetensorsError(build(deep), /"a": entry must be an object/);
    const many = '{' + Array.from({ length: 50_000 }, (_, i) => `"t${i}":{"dtype":"F32","shape":[1],"data_offsets":[${4 * i},${4 * i + 4}]}`).join(',') + '}';
    expectSafetensorsError(build(many), /truncated: expected 200000 bytes of tensor data, found 0/);
  });
});

describe('safetensors written by PyTorch', () => {
  // test/fixtures/torch-mixed.safetensors comes from test/fixtures/scripts/make_safetensors.py.
  const file = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'torch-mixed.safetensors')));
  const { tensors, metadata } = parseSafetensors(file);

  it('parses the header, shapes and float32 values', () => {
    expect(metadata?.format).toBe('pt');
    expect(tensors.get('weight')!.shape).toEqual([3, 5]);
    expect(tensors.get('scalar')).toEqual({ dtype: 'F32', shape: [], data: f32(2.5) });
    expect(tensors.get('empty')!.shape).toEqual([2, 0, 3]);
    const bias = tensors.get('bias')!.data;
    expect(Object.is(bias[1], -0)).toBe(true);
    expect(Array.from(bias)).toEqual([0, -0, 2 ** -149, -3.4028234663852886e38, Infinity]);
  });

  it.each(['f16', 'bf16'])('%s decoding matches PyTorch bit for bit', (name) => {
    const ours = tensors.get(name)!;
    const torch = tensors.get(`${name}_as_f32`)!.data;
    expect(ours.dtype).toBe(name.toUpperCase());
    expect(ours.data.length).toBe(torch.length);
    for (let i = 0; i < torch.length; i++) {
      if (Number.isNaN(torch[i])) expect(ours.data[i]).toBeNaN();
      else expect(Object.is(ours.data[i], torch[i]), `${name}[${i}]: ${ours.data[i]} vs ${torch[i]}`).toBe(true);
    }
  });
});

describe('integer and bool tensors written by PyTorch', () => {
  // test/fixtures/torch-int.safetensors comes from test/fixtures/scripts/make_int_safetensors.py; its
  // metadata holds torch's own tolist() of every tensor.
  const file = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'torch-int.safetensors')));
  const { tensors, metadata } = parseSafetensors(file);
  const values = JSON.parse(metadata!.values) as Record<string, unknown>;

  it.each(Object.keys(values))('%s equals torch\'s values', (name) => {
    const e = tensors.get(name)!;
    const flat = [values[name]].flat(Infinity).map(Number); // booleans as 0/1
    expect(e.data).toBeInstanceOf(Int32Array);
    expect(e.shape.reduce((a, b) => a * b, 1)).toBe(flat.length);
    expect(Array.from(e.data)).toEqual(flat);
  });

  it('keeps the dtypes torch wrote', () => {
    expect(tensors.get('roberta.embeddings.position_ids')).toMatchObject({ dtype: 'I64', shape: [1, 10] });
    expect(tensors.get('h.0.attn.bias')).toMatchObject({ dtype: 'U8', shape: [1, 1, 6, 6] });
    expect(tensors.get('h.1.attn.bias')).toMatchObject({ dtype: 'BOOL', shape: [1, 1, 6, 6] });
    expect(tensors.get('empty_i64')).toMatchObject({ dtype: 'I64', shape: [0, 3] });
  });
});

