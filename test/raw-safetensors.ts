/**
 * Test-only safetensors writer for any dtype: the library writes float32 only, but the reader must
 * handle the integer and bool tensors that PyTorch checkpoints carry. Bytes are given as stored.
 */
import { parseSafetensors } from '../src/io/index.js';

export interface RawTensor {
  dtype: string;
  shape: number[];
  /** The stored bytes, little-endian. */
  bytes: Uint8Array;
}

/** A file holding `tensors` in the given order, header unpadded, plus an optional metadata map. */
export function rawSafetensors(tensors: [string, RawTensor][], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of tensors) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}

/** The tensors of a float32 file as raw entries (to add others and write it again). */
export function rawTensorsOf(file: Uint8Array): [string, RawTensor][] {
  return [...parseSafetensors(file).tensors].map(([name, e]) => {
    const data = Float32Array.from(e.data);
    return [name, { dtype: 'F32', shape: e.shape, bytes: new Uint8Array(data.buffer) }];
  });
}

/** The raw bytes of tensor `name` in `file` (which must be well formed). */
export function rawTensorOf(file: Uint8Array, name: string): RawTensor {
  const n = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const e = header[name];
  if (!e) throw new Error(`rawTensorOf: no tensor ${name}`);
  return { dtype: e.dtype, shape: e.shape, bytes: file.slice(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]) };
}
