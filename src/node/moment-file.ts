/**
 * A MomentStore (src/optim/offload.ts) in one scratch file: offloaded AdamW moments leave the
 * process's memory too, for devices whose RAM, not just the WebAssembly heap, is short. Each
 * parameter gets a fixed slot (m then v) at the end of the file the first time it is saved and is
 * rewritten in place afterwards; reads and writes are synchronous because the optimizer step is.
 * The file is scratch space, deleted on close; training states (checkpoints) hold the moments for resume.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { FloatArray, MomentStore, StoredMoments } from '../optim/offload.js';

interface Slot {
  offset: number;
  size: number;
  float64: boolean;
}

export class FileMomentStore implements MomentStore {
  private readonly fd: number;
  private readonly slots = new Map<number, Slot>();
  private end = 0;
  private closed = false;

  /** Creates (or truncates) `path`. */
  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'w+');
    } catch (err) {
      throw new Error(`optimizer offload file ${path}: cannot create it (${(err as Error).message}); pass a writable directory`);
    }
  }

  get(key: number): StoredMoments | undefined {
    const s = this.slots.get(key);
    if (!s) return undefined;
    const read = (at: number): FloatArray => {
      const a = s.float64 ? new Float64Array(s.size) : new Float32Array(s.size);
      const bytes = new Uint8Array(a.buffer);
      let done = 0;
      while (done < bytes.length) {
        const n = readSync(this.fd, bytes, done, bytes.length - done, at + done);
        if (n === 0) throw new Error(`optimizer offload file ${this.path}: ended early (was it changed by another process?)`);
        done += n;
      }
      return a;
    };
    return { m: read(s.offset), v: read(s.offset + s.size * (s.float64 ? 8 : 4)) };
  }

  set(key: number, { m, v }: StoredMoments): void {
    const float64 = m instanceof Float64Array;
    let s = this.slots.get(key);
    if (!s || s.size !== m.length || s.float64 !== float64) {
      s = { offset: this.end, size: m.length, float64 };
      this.end += 2 * m.byteLength;
      this.slots.set(key, s);
    }
    this.write(m, s.offset);
    this.write(v, s.offset + m.byteLength);
  }

  delete(key: number): void {
    this.slots.delete(key); // the slot's bytes are not reused: the file only grows by parameters ever stored
  }

  bytes(): number {
    let n = 0;
    for (const s of this.slots.values()) n += 2 * s.size * (s.float64 ? 8 : 4);
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.slots.clear();
    closeSync(this.fd);
    rmSync(this.path, { force: true });
  }

  private write(a: FloatArray, at: number): void {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, at + done);
  }
}
