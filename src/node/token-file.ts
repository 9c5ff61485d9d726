/**
 * Node-only: token streams on disk. A corpus is encoded once, document by document, into a flat
 * little-endian file of token ids (uint16 when the vocabulary fits, else uint32), and training reads
 * its blocks back with positional reads, so neither the text nor the token stream is held in memory.
 */
import { closeSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import type { TokenSource } from '../data/blocks.js';

export type TokenFileDType = 'u16' | 'u32';

/** The narrowest id type for a vocabulary. */
export function tokenDType(vocabSize: number): TokenFileDType {
  return vocabSize <= 65536 ? 'u16' : 'u32';
}

const BYTES: Record<TokenFileDType, number> = { u16: 2, u32: 4 };

/**
 * Appends token ids to a file in buffered chunks; `close()` renames the temporary file into place,
 * so an interrupted encoding never leaves a truncated stream under the final name.
 */
export class TokenFileWriter {
  length = 0;
  private readonly fd: number;
  private readonly tmp: string;
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private used = 0;
  private readonly width: number;

  constructor(readonly path: string, readonly dtype: TokenFileDType, bufferTokens = 1 << 16) {
    this.width = BYTES[dtype];
    this.tmp = `${path}.${process.pid}.tmp`;
    this.fd = openSync(this.tmp, 'w');
    this.buf = new Uint8Array(bufferTokens * this.width);
    this.view = new DataView(this.buf.buffer);
  }

  write(ids: ArrayLike<number>): void {
    const max = this.dtype === 'u16' ? 0xffff : 0xffffffff;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(Number.isInteger(id) && id >= 0 && id <= max)) throw new RangeError(`TokenFileWriter: id ${id} does not fit ${this.dtype}`);
      if (this.used === this.buf.length) this.flush();
      if (this.width === 2) this.view.setUint16(this.used, id, true);
      else this.view.setUint32(this.used, id, true);
      this.used += this.width;
    }
    this.length += ids.length;
  }

  private flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }
}

/** A token file read piecewise (positional reads; the OS page cache keeps hot parts in memory). */
export class FileTokenSource implements TokenSource {
  private fd: number | null;
  private readonly width: number;
  private scratch = new Uint8Array(0);

  constructor(readonly path: string, readonly length: number, readonly dtype: TokenFileDType) {
    this.width = BYTES[dtype];
    this.fd = openSync(path, 'r');
  }

  read(start: number, out: Int32Array): void {
    if (this.fd === null) throw new Error(`FileTokenSource: ${this.path} is closed`);
    if (!(start >= 0 && start + out.length <= this.length)) {
      throw new RangeError(`FileTokenSource: tokens [${start}, ${start + out.length}) are outside [0, ${this.length}) of ${this.path}`);
    }
    const bytes = out.length * this.width;
    if (this.scratch.length < bytes) this.scratch = new Uint8Array(bytes);
    let got = 0;
    while (got < bytes) {
      const n = readSync(this.fd, this.scratch, got, bytes - got, start * this.width + got);
      if (n === 0) throw new Error(`FileTokenSource: ${this.path} ended early (expected ${this.length} tokens); delete it to re-encode the corpus`);
      got += n;
    }
    const view = new DataView(this.scratch.buffer, 0, bytes);
    if (this.width === 2) for (let i = 0; i < out.length; i++) out[i] = view.getUint16(2 * i, true);
    else for (let i = 0; i < out.length; i++) out[i] = view.getUint32(4 * i, true);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
