/**
 * Half-precision decoding for checkpoint loading: IEEE 754 binary16 (F16) and bfloat16 (BF16) to
 * float32. Both widen exactly (every half and bfloat16 value is a float32 value), so decoding loses
 * nothing. Results are written as float32 bit patterns through a Uint32Array view, which keeps NaN
 * payloads and the sign of zero instead of routing values through JS numbers.
 */

/** True when this machine stores multi-byte numbers little-endian (every mainstream CPU does). */
export const hostIsLittleEndian: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** float32 bit pattern of an F16 bit pattern (low 16 bits of `h`). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) {
    // Inf (mant 0) or NaN: max exponent in float32 too; the 10 payload bits move to the top of the 23.
    return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  }
  if (exp !== 0) {
    // Normal: rebias the exponent from 15 to 127.
    return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  }
  if (mant === 0) return sign >>> 0; // +-0
  // Subnormal half (mant * 2^-24) is a normal float32: shift the leading 1 up to the implicit bit.
  let e = 113; // biased float32 exponent of 2^-14, the value of bit 10
  let m = mant;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

/** float32 bit pattern of a BF16 bit pattern: bfloat16 is the top half of a float32. */
export function bf16BitsToF32Bits(h: number): number {
  return ((h & 0xffff) << 16) >>> 0;
}

/** The float32 value of an F16 bit pattern. */
export function f16ToFloat(h: number): number {
  return bitsToFloat(f16BitsToF32Bits(h));
}

/** The float32 value of a BF16 bit pattern. */
export function bf16ToFloat(h: number): number {
  return bitsToFloat(bf16BitsToF32Bits(h));
}

const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);

function bitsToFloat(bits: number): number {
  scratchU32[0] = bits;
  return scratchF32[0];
}

// 256 KiB table, built on first F16 decode: the per-element branchy conversion becomes one lookup.
let f16Table: Uint32Array | null = null;

function f16Lookup(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

/**
 * Decodes `count` little-endian 16-bit values starting at `bytes[offset]` into float32.
 * `kind` picks the format. The offset may be odd: bytes are read individually.
 */
export function decodeHalfLE(bytes: Uint8Array, offset: number, count: number, kind: 'F16' | 'BF16'): Float32Array {
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  if (kind === 'F16') {
    const table = f16Lookup();
    for (let i = 0, p = offset; i < count; i++, p += 2) bits[i] = table[bytes[p] | (bytes[p + 1] << 8)];
  } else {
    for (let i = 0, p = offset; i < count; i++, p += 2) bits[i] = ((bytes[p] << 16) | (bytes[p + 1] << 24)) >>> 0;
  }
  if (!hostIsLittleEndian) swap32InPlace(new Uint8Array(out.buffer));
  return out;
}

/**
 * `count` little-endian float32 values starting at `bytes[offset]`. Shares memory with `bytes`
 * when the position is 4-byte aligned on a little-endian host (no copy for multi-GB checkpoints);
 * otherwise copies the bytes, which keeps every bit (NaN payloads included).
 */
export function viewOrCopyF32LE(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const start = bytes.byteOffset + offset;
  if (hostIsLittleEndian && start % 4 === 0) return new Float32Array(bytes.buffer, start, count);
  const out = new Float32Array(count);
  const outBytes = new Uint8Array(out.buffer);
  outBytes.set(bytes.subarray(offset, offset + count * 4));
  if (!hostIsLittleEndian) swap32InPlace(outBytes);
  return out;
}

/** Writes float32 values into `out` at `offset` as little-endian bytes, bit for bit. */
export function writeF32LE(out: Uint8Array, offset: number, data: Float32Array): void {
  const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(src, offset);
  if (!hostIsLittleEndian) swap32InPlace(out.subarray(offset, offset + data.byteLength));
}

function swap32InPlace(b: Uint8Array): void {
  for (let i = 0; i + 3 < b.length; i += 4) {
    const b0 = b[i];
    const b1 = b[i + 1];
    b[i] = b[i + 3];
    b[i + 1] = b[i + 2];
    b[i + 2] = b1;
    b[i + 3] = b0;
  }
}

// ---- integer and bool tensors --------------------------------------------------------------------
//
// The engine's only integer type is int32 (ids, targets, group maps), so integer tensors are read as
// int32 values. BOOL, U8, I8, I16, U16 and I32 always fit; I64, U64 and U32 fit unless a value lies
// outside [-2^31, 2^31): such a file is refused (naming the value) rather than wrapped silently.

/** Integer dtypes read as int32 values. */
export type IntDType = 'BOOL' | 'U8' | 'I8' | 'I16' | 'U16' | 'I32' | 'U32' | 'I64' | 'U64';

/** Bytes per element of each integer dtype. */
export const INT_DTYPE_BYTES: { readonly [K in IntDType]: number } = {
  BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, I32: 4, U32: 4, I64: 8, U64: 8,
};

export function isIntDType(dtype: string): dtype is IntDType {
  return Object.hasOwn(INT_DTYPE_BYTES, dtype);
}

/** A value that cannot be read as int32 (or, for BOOL, a byte other than 0 and 1). */
export interface BadInt {
  /** Element index in the tensor. */
  index: number;
  /** The stored value, exactly (a bigint for 64-bit types). */
  value: number | bigint;
}

/**
 * Finds the first element of `count` little-endian `kind` values at `bytes[offset]` that int32
 * cannot hold (for BOOL: that is not 0 or 1), or null. Reads only: nothing is allocated, so a
 * bad file is refused before any memory is spent on it.
 */
export function findBadInt(bytes: Uint8Array, offset: number, count: number, kind: IntDType): BadInt | null {
  if (kind === 'BOOL') {
    for (let i = 0; i < count; i++) if (bytes[offset + i] > 1) return { index: i, value: bytes[offset + i] };
    return null;
  }
  if (kind === 'U32') {
    // Only the top bit matters: bit 31 set means >= 2^31.
    for (let i = 0, p = offset + 3; i < count; i++, p += 4) if (bytes[p] & 0x80) return { index: i, value: readU32(bytes, p - 3) };
    return null;
  }
  if (kind === 'I64' || kind === 'U64') {
    for (let i = 0, p = offset; i < count; i++, p += 8) {
      const lo = readU32(bytes, p);
      const hi = readU32(bytes, p + 4);
      // int32 range: hi is the sign extension of lo's bit 31 (all zeros, or all ones for I64).
      const fits = lo < 0x80000000 ? hi === 0 : kind === 'I64' && hi === 0xffffffff;
      if (!fits) {
        const v = (BigInt(hi) << 32n) | BigInt(lo);
        return { index: i, value: kind === 'I64' ? BigInt.asIntN(64, v) : v };
      }
    }
    return null;
  }
  return null; // BOOL aside, the types narrower than 32 bits and I32 always fit
}

/**
 * Decodes `count` little-endian `kind` values at `bytes[offset]` into int32. Call findBadInt first:
 * values outside int32 are truncated to their low 32 bits here. I32 data shares memory with `bytes`
 * when 4-byte aligned on a little-endian host, like F32.
 */
export function decodeIntLE(bytes: Uint8Array, offset: number, count: number, kind: IntDType): Int32Array {
  if (kind === 'I32' && hostIsLittleEndian && (bytes.byteOffset + offset) % 4 === 0) {
    return new Int32Array(bytes.buffer, bytes.byteOffset + offset, count);
  }
  const out = new Int32Array(count);
  const step = INT_DTYPE_BYTES[kind];
  for (let i = 0, p = offset; i < count; i++, p += step) {
    switch (kind) {
      case 'BOOL':
      case 'U8': out[i] = bytes[p]; break;
      case 'I8': out[i] = (bytes[p] << 24) >> 24; break;
      case 'U16': out[i] = bytes[p] | (bytes[p + 1] << 8); break;
      case 'I16': out[i] = ((bytes[p] | (bytes[p + 1] << 8)) << 16) >> 16; break;
      default: out[i] = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24); // low 32 bits
    }
  }
  return out;
}

function readU32(bytes: Uint8Array, p: number): number {
  return (bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24)) >>> 0;
}

/**
 * F16 bit pattern of a float32 value, rounded to nearest with ties to even (as IEEE 754 and
 * numpy's astype(float16) do): overflow gives +-Inf, values below the subnormal range give +-0.
 */
export function floatToF16Bits(x: number): number {
  scratchF32[0] = x;
  const f = scratchU32[0]!;
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  const mant = f & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // Inf / NaN (quiet)
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    const m = mant | 0x800000; // implicit bit
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let r = m >>> shift;
    if (rest > half || (rest === half && (r & 1))) r++;
    return sign | r; // a carry into bit 10 is the smallest normal, which is correct
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1))) r++; // a carry may roll into the exponent (up to Inf): correct
  return sign | r;
}

/** Writes float32 values as little-endian F16 (rounded to nearest even). */
export function writeF16LE(out: Uint8Array, offset: number, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    const h = floatToF16Bits(data[i]!);
    out[offset + 2 * i] = h & 0xff;
    out[offset + 2 * i + 1] = h >>> 8;
  }
}
