/**
 * The safetensors checkpoint format (Hugging Face), read and written on plain bytes so it works in
 * browsers, Deno and Node alike.
 *
 * Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the tensor data.
 * The JSON maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative to
 * the data section) plus an optional "__metadata__" string map.
 *
 * The parser follows the reference implementation's validation rules and is meant to be safe on
 * hostile or damaged input: every size is checked against the bytes actually present before
 * anything is allocated, so a lying header cannot trigger a huge allocation, and every failure is
 * a SafetensorsError that says what is wrong and what to do about it.
 */
import type { Backend } from '../backend/kernels.js';
import { tensor } from '../ops/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { decodeHalfLE, decodeIntLE, findBadInt, isIntDType, viewOrCopyF32LE, writeF16LE, writeF32LE, type IntDType } from './dtype.js';

/**
 * Every problem found while reading or writing a safetensors file. The message reads
 * `safetensors: <file>: <problem>` when the file is known, else `safetensors: <problem>`.
 */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
  /** What is wrong, without the prefix. */
  readonly problem: string;
  /** The file the bytes came from, when the caller said (see ParseOptions.file and inFile). */
  readonly file: string | undefined;

  constructor(problem: string, file?: string, options?: ErrorOptions) {
    super(`safetensors: ${file ? `${file}: ` : ''}${problem}`, options);
    this.problem = problem;
    this.file = file;
  }

  /** This error naming `file` (itself when it already names a file). */
  inFile(file: string): SafetensorsError {
    return this.file !== undefined ? this : new SafetensorsError(this.problem, file, { cause: this.cause });
  }
}

/**
 * Runs `read` (which parses bytes read from `file`) so that any SafetensorsError it throws names the
 * file. For callers that hand the bytes to code that does not know where they came from.
 */
export function inFile<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw err instanceof SafetensorsError ? err.inFile(file) : err;
  }
}

/** Element size in bits of every dtype the reference implementation knows. */
const DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, F64: 64, I64: 64, U64: 64, C64: 64,
};

/** Float dtypes, read as float32 (F16 and BF16 widen exactly). */
export type SafetensorsFloatDType = 'F32' | 'F16' | 'BF16';
/** Integer and bool dtypes, read as int32 (see parseSafetensors for values that do not fit). */
export type SafetensorsIntDType = IntDType;
/** Every dtype the parser reads as data; the rest (F64, F8 variants, ...) are unsupported. */
export type SafetensorsDType = SafetensorsFloatDType | SafetensorsIntDType;

/** One tensor read from a file: float dtypes as float32 values, integer and bool dtypes as int32. */
export type SafetensorsEntry =
  | {
      dtype: SafetensorsFloatDType;
      shape: number[];
      /** Values widened to float32. F32 data may share memory with the parsed bytes (see parse). */
      data: Float32Array;
    }
  | {
      dtype: SafetensorsIntDType;
      shape: number[];
      /** Values as int32 (BOOL as 0/1). I32 data may share memory with the parsed bytes (see parse). */
      data: Int32Array;
    };

export interface ParsedSafetensors {
  /** Tensors in header order. */
  tensors: Map<string, SafetensorsEntry>;
  /** The "__metadata__" map, or null when the file has none. */
  metadata: Record<string, string> | null;
}

export interface ParseOptions {
  /** Largest accepted JSON header, in bytes (default 100 MB, the reference limit). */
  maxHeaderBytes?: number;
  /**
   * What to do with tensors of valid but unsupported dtypes (F64, F8_E4M3, C64, ...): 'error'
   * (default) or 'skip' them. Integer and bool tensors are supported (read as int32).
   */
  unsupported?: 'error' | 'skip';
  /** The file the bytes came from; errors then name it (`safetensors: <file>: ...`). */
  file?: string;
}

export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;
const LFS_POINTER_PREFIX = 'version https://git-lfs.github.com/spec/v1';

interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function fail(problem: string): never {
  throw new SafetensorsError(problem);
}

const show = (name: string): string => JSON.stringify(name);

/**
 * Parses a safetensors file. F16 and BF16 tensors are widened to float32. Integer and bool tensors
 * (BOOL, U8, I8, I16, U16, I32, U32, I64, U64) are read as int32 values: the engine's integer type.
 * A 64-bit or U32 value outside [-2^31, 2^31) is an error naming the tensor, the element and the
 * value (never wrapped), and so is a BOOL byte other than 0 or 1. F32 and I32 tensors are views
 * into `bytes` when suitably aligned (no copy), so copy them if you later modify `bytes`.
 * All validation happens before any tensor data is touched, and nothing is allocated for a file
 * that is refused.
 */
export function parseSafetensors(bytes: Uint8Array, opts: ParseOptions = {}): ParsedSafetensors {
  return opts.file === undefined ? parse(bytes, opts) : inFile(opts.file, () => parse(bytes, opts));
}

const isFloatDType = (d: string): d is SafetensorsFloatDType => d === 'F32' || d === 'F16' || d === 'BF16';

function parse(bytes: Uint8Array, opts: ParseOptions): ParsedSafetensors {
  const maxHeader = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(maxHeader) || maxHeader < 0) fail(`maxHeaderBytes must be a non-negative integer, got ${maxHeader}`);
  if (!(bytes instanceof Uint8Array)) fail('expected the file contents as a Uint8Array');
  const { entries, metadata, dataStart } = readHeader(bytes, maxHeader);
  checkLayout(entries, bytes.length - dataStart);
  const supported = (e: HeaderEntry) => isFloatDType(e.dtype) || isIntDType(e.dtype);
  const kept = entries.filter(supported);
  if (kept.length !== entries.length && opts.unsupported !== 'skip') {
    const bad = entries.find((e) => !supported(e))!;
    fail(
      `unsupported dtype ${bad.dtype} for tensor ${show(bad.name)}; convert the checkpoint to float32/16 ` +
        "(e.g. tensor.float() in PyTorch before saving), or parse with { unsupported: 'skip' } to leave such tensors out",
    );
  }
  // Integer values int32 cannot hold are refused before anything is allocated.
  for (const e of kept) {
    if (!isIntDType(e.dtype)) continue;
    const bad = findBadInt(bytes, dataStart + e.begin, sizeOfShape(e.shape), e.dtype);
    if (bad === null) continue;
    if (e.dtype === 'BOOL') {
      fail(`BOOL tensor ${show(e.name)} holds the byte ${bad.value} at element ${bad.index}; a bool is stored as 0 or 1 (the file is corrupted)`);
    }
    fail(
      `${e.dtype} tensor ${show(e.name)} holds ${bad.value} at element ${bad.index}, outside the int32 range that integer tensors are read into; ` +
        'store it as int32 or float before saving (tensor.int() or tensor.float() in PyTorch)',
    );
  }
  // Decoding cannot fail from here on: every range and value was checked.
  const tensors = new Map<string, SafetensorsEntry>();
  for (const e of kept) {
    const at = dataStart + e.begin;
    const count = sizeOfShape(e.shape);
    if (e.dtype === 'F32') tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: viewOrCopyF32LE(bytes, at, count) });
    else if (e.dtype === 'F16' || e.dtype === 'BF16') tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decodeHalfLE(bytes, at, count, e.dtype) });
    else if (isIntDType(e.dtype)) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decodeIntLE(bytes, at, count, e.dtype) });
  }
  return { tensors, metadata };
}

function readHeader(bytes: Uint8Array, maxHeader: number): { entries: HeaderEntry[]; metadata: Record<string, string> | null; dataStart: number } {
  if (startsWithAscii(bytes, LFS_POINTER_PREFIX)) {
    fail('this is a Git LFS pointer, not the weights: run `git lfs pull` (or download the real file)');
  }
  if (bytes.length < 8) {
    fail(`file is ${bytes.length} bytes; a safetensors file has at least an 8-byte header length (truncated or not safetensors)`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  // Only compared, never allocated: beyond 2^53 the value is inexact but still far over any limit.
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen > maxHeader) {
    fail(
      `header length ${hi === 0 ? headerLen : `${hi}*2^32+${lo}`} exceeds the ${maxHeader}-byte limit ` +
        '(not a safetensors file, or corrupted; raise maxHeaderBytes only if you trust the file)',
    );
  }
  if (headerLen > bytes.length - 8) {
    fail(`file is truncated or not safetensors: header says ${headerLen} bytes of JSON but only ${bytes.length - 8} bytes follow; re-download`);
  }
  if (headerLen === 0 || bytes[8] !== 0x7b) fail('header does not start with "{" (not a safetensors file, or corrupted)');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    fail('header is not valid UTF-8 (corrupted file)');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message}); the file is corrupted or not safetensors`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('header JSON must be an object of tensor entries');
  const topKeys = scanKeys(text);

  let metadata: Record<string, string> | null = null;
  const entries: HeaderEntry[] = [];
  for (const name of topKeys) {
    const value = (json as Record<string, unknown>)[name];
    if (name === '__metadata__') metadata = readMetadata(value);
    else entries.push(readEntry(name, value));
  }
  return { entries, metadata, dataStart: 8 + headerLen };
}

function readMetadata(value: unknown): Record<string, string> | null {
  if (value === null) return null; // the reference reads a null map as "no metadata"
  if (typeof value !== 'object' || Array.isArray(value)) fail('"__metadata__" must be an object mapping strings to strings');
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`"__metadata__" value for ${show(k)} must be a string, got ${describe(v)}`);
    out[k] = v;
  }
  return out;
}

function readEntry(name: string, value: unknown): HeaderEntry {
  const where = `tensor ${show(name)}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${where}: entry must be an object with dtype, shape and data_offsets`);
  const v = value as Record<string, unknown>;
  const dtype = v.dtype;
  if (typeof dtype !== 'string') fail(`${where}: "dtype" must be a string, got ${describe(dtype)}`);
  if (!Object.hasOwn(DTYPE_BITS, dtype)) fail(`${where}: unknown dtype ${show(dtype)} (known: ${Object.keys(DTYPE_BITS).join(', ')})`);
  const shape = v.shape;
  if (!Array.isArray(shape) || !shape.every(isCount)) fail(`${where}: "shape" must be an array of non-negative integers, got ${describe(shape)}`);
  const offsets = v.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail(`${where}: "data_offsets" must be [begin, end] with non-negative integers, got ${describe(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  const bits = elementCount(shape as number[], where) * DTYPE_BITS[dtype];
  if (!Number.isSafeInteger(bits)) fail(`${where}: shape ${describe(shape)} is too large (size overflows)`);
  if (bits % 8 !== 0) fail(`${where}: ${dtype} data of shape ${describe(shape)} does not fill whole bytes`);
  if (bits / 8 !== end - begin) {
    fail(`${where}: shape ${describe(shape)} of ${dtype} needs ${bits / 8} bytes but data_offsets [${begin}, ${end}] span ${end - begin}; the header is inconsistent`);
  }
  return { name, dtype, shape: (shape as number[]).slice(), begin, end };
}

/** Product of dims with overflow checking (a zero dim makes the product zero whatever else). */
function elementCount(shape: number[], where: string): number {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) fail(`${where}: shape ${describe(shape)} is too large (element count overflows)`);
  }
  return n;
}

function sizeOfShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Tensors must tile the data section exactly: sorted by begin, from 0, no gaps, overlaps or trailing bytes. */
function checkLayout(entries: HeaderEntry[], dataLen: number): void {
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: HeaderEntry | null = null;
  for (const e of sorted) {
    if (e.begin > pos) {
      fail(`gap of ${e.begin - pos} unused bytes before tensor ${show(e.name)} (data_offsets [${e.begin}, ${e.end}]); the header is inconsistent`);
    }
    if (e.begin < pos) {
      fail(`tensor ${show(e.name)} (data_offsets [${e.begin}, ${e.end}]) overlaps tensor ${show(prev!.name)} (ending at ${pos}); the header is inconsistent`);
    }
    pos = e.end;
    prev = e;
  }
  if (pos > dataLen) fail(`file is truncated: expected ${pos} bytes of tensor data, found ${dataLen}; re-download`);
  if (pos < dataLen) fail(`${dataLen - pos} trailing bytes after the last tensor (expected ${pos} bytes of tensor data, found ${dataLen}); the file is corrupted`);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function describe(x: unknown): string {
  const s = JSON.stringify(x) ?? String(x);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function startsWithAscii(bytes: Uint8Array, prefix: string): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/**
 * The top-level keys in file order (JS objects list integer-like keys first). Also rejects
 * duplicate keys in any object: JSON.parse silently keeps the last one, but a file with two
 * entries for one tensor is ambiguous. `text` is already known to be valid JSON.
 */
function scanKeys(text: string): string[] {
  const top: string[] = [];
  const stack: { keys: Set<string> | null; expectKey: boolean; key: string }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) {
        if (text.charCodeAt(i) === 0x5c /* \ */) {
          escaped = true;
          i++; // skip the escaped character, which may be a quote
        }
      }
      const obj = stack[stack.length - 1];
      if (obj?.keys && obj.expectKey) {
        const raw = text.slice(start, i + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (obj.keys.has(key)) {
          const path = stack.slice(0, -1).map((s) => (s.keys ? show(s.key) : '[...]')).join(' > ');
          fail(`header has duplicate key ${show(key)}${path ? ` in ${path}` : ''}; the file is ambiguous, re-export it`);
        }
        obj.keys.add(key);
        obj.key = key;
        obj.expectKey = false;
        if (stack.length === 1) top.push(key);
      }
    } else if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), expectKey: true, key: '' });
    } else if (c === 0x5b /* [ */) {
      stack.push({ keys: null, expectKey: false, key: '' });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const obj = stack[stack.length - 1];
      if (obj?.keys) obj.expectKey = true;
    }
  }
  return top;
}

/** A tensor to write: float32 values in row-major order. */
export interface SafetensorsInput {
  shape: readonly number[];
  data: Float32Array;
}

type Source<T> = Iterable<readonly [string, T]> | Readonly<Record<string, T>>;

function pairsOf<T>(src: Source<T>): [string, T][] {
  const pairs: [string, T][] =
    typeof (src as Iterable<unknown>)[Symbol.iterator] === 'function'
      ? Array.from(src as Iterable<readonly [string, T]>, ([k, v]) => [k, v])
      : Object.entries(src as Record<string, T>);
  const seen = new Set<string>();
  for (const [name] of pairs) {
    if (typeof name !== 'string') fail(`tensor names must be strings, got ${describe(name)}`);
    if (name === '__metadata__') fail('"__metadata__" is reserved by the format and cannot name a tensor; rename it');
    if (seen.has(name)) fail(`tensor ${show(name)} is given twice; names must be unique`);
    seen.add(name);
  }
  return pairs;
}

/** Orders names by Unicode code point (UTF-8 byte order), as the reference writer does. */
function byCodePoint(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** How values are stored: F32 bit for bit (default) or F16 (half the size, rounded to nearest even; |x| > 65504 becomes Inf). */
export interface SerializeOptions {
  dtype?: 'F32' | 'F16';
}

/**
 * Writes float32 tensors as a safetensors file: names sorted, `__metadata__` = {format: "pt"}
 * merged with `metadata`, JSON header space-padded to a multiple of 8 bytes (so the data is
 * 8-byte aligned), values little-endian bit for bit (or rounded to F16 with `opts.dtype`).
 */
export function serializeSafetensors(tensors: Source<SafetensorsInput>, metadata: Record<string, string> = {}, opts: SerializeOptions = {}): Uint8Array {
  const dtype = opts.dtype ?? 'F32';
  if (dtype !== 'F32' && dtype !== 'F16') fail(`dtype ${show(String(dtype))} cannot be written; use F32 or F16`);
  const width = dtype === 'F16' ? 2 : 4;
  const pairs = pairsOf(tensors).sort((a, b) => byCodePoint(a[0], b[0]));
  // Null prototypes: a name like "__proto__" must become a plain key, not a prototype change.
  const meta: Record<string, string> = Object.assign(Object.create(null), { format: 'pt' });
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') fail(`metadata value for ${show(k)} must be a string, got ${describe(v)}`);
    meta[k] = v;
  }
  const header: Record<string, unknown> = Object.assign(Object.create(null), { __metadata__: meta });
  let offset = 0;
  for (const [name, t] of pairs) {
    const where = `tensor ${show(name)}`;
    if (!(t?.data instanceof Float32Array)) fail(`${where}: data must be a Float32Array`);
    if (!Array.isArray(t.shape) || !t.shape.every(isCount)) fail(`${where}: shape must be an array of non-negative integers, got ${describe(t.shape)}`);
    const n = elementCount([...t.shape], where);
    if (n !== t.data.length) fail(`${where}: shape ${describe(t.shape)} needs ${n} values but data has ${t.data.length}`);
    if (dtype === 'F16') {
      const big = t.data.find((v) => Math.abs(v) > 65504);
      if (big !== undefined) fail(`${where}: value ${big} is outside the F16 range (|x| <= 65504); save it as F32`);
    }
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + t.data.length * width] };
    offset += t.data.length * width;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const total = 8 + headerLen + offset;
  let out: Uint8Array;
  try {
    out = new Uint8Array(total);
  } catch {
    fail(`cannot allocate ${total} bytes for the file; save fewer tensors per file (shard the checkpoint)`);
  }
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const [, t] of pairs) {
    if (dtype === 'F16') writeF16LE(out, at, t.data);
    else writeF32LE(out, at, t.data);
    at += t.data.length * width;
  }
  return out;
}

/** Serializes engine tensors. float64 tensors are rounded to float32; int32 tensors are refused. */
export function tensorsToSafetensors(tensors: Source<Tensor>, metadata?: Record<string, string>, opts: SerializeOptions = {}): Uint8Array {
  const inputs = pairsOf(tensors).map(([name, t]): [string, SafetensorsInput] => {
    if (t.dtype === 'int32') fail(`tensor ${show(name)} is int32; only float tensors can be saved (F32)`);
    const values = t.toArray();
    return [name, { shape: t.shape, data: values instanceof Float32Array ? values : Float32Array.from(values) }];
  });
  return serializeSafetensors(inputs, metadata, opts);
}

export interface TensorLoadOptions {
  /** Backend to create the tensors on (default: the active one). */
  backend?: Backend;
  /** Make every tensor a leaf that collects gradients. */
  requiresGrad?: boolean;
}

/**
 * Creates an engine tensor, named after its key, for each parsed entry (all or none). Integer and
 * bool entries become int32 tensors, which never require gradients.
 */
export function safetensorsToTensors(parsed: ParsedSafetensors, opts: TensorLoadOptions = {}): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  try {
    for (const [name, e] of parsed.tensors) {
      const int = e.data instanceof Int32Array;
      out.set(name, tensor(e.data, e.shape, { backend: opts.backend, requiresGrad: opts.requiresGrad && !int, name, dtype: int ? 'int32' : undefined }));
    }
  } catch (err) {
    for (const t of out.values()) t.dispose();
    throw err;
  }
  return out;
}
