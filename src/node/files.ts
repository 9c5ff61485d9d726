/**
 * Node-only file helpers for checkpoints: crash-safe writes and reads with useful errors.
 * The portable formats (src/io) work on bytes; this layer moves those bytes to and from disk.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface WriteAtomicOptions {
  /**
   * Called after the temporary file is fully written and flushed, just before it replaces the
   * target. Throwing here aborts the write like a crash would (used by tests to prove that an
   * interrupted save leaves the previous file intact).
   */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

/**
 * Replaces `path` with `data` so that readers (and a crash or power loss at any moment) see
 * either the old file or the new one, never a partial file: the data goes to a temporary file in
 * the same directory (rename is only atomic within one file system), is fsynced, then renamed over
 * the target; the directory is fsynced so the rename itself survives a crash. On failure the
 * temporary file is removed and the previous file is untouched. An existing file's permissions are kept.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, opts: WriteAtomicOptions = {}): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let mode = 0o666;
  try {
    const s = await stat(path);
    if (s.isFile()) mode = s.mode & 0o7777;
  } catch {
    // no previous file: default permissions (minus umask)
  }
  let fh: FileHandle | null = null;
  try {
    fh = await open(temp, 'wx', mode); // 'x': never clobber a file we did not create
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = null;
    await opts.beforeRename?.(temp);
    await rename(temp, path);
  } catch (err) {
    if (fh) await fh.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
  await syncDirectory(dir);
}

/** Flushes a directory entry change to disk. Not possible on every platform (Windows): best effort. */
async function syncDirectory(dir: string): Promise<void> {
  let fh: FileHandle | null = null;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // unsupported here; the rename has still happened
  } finally {
    await fh?.close().catch(() => {});
  }
}

export interface ReadBytesOptions {
  /** What the file should be, for the error message, e.g. "the GPT-2 weights (model.safetensors)". */
  expected?: string;
}

/** Reads a whole file as a Uint8Array (not a Buffer), with errors that name the path and its purpose. */
export async function readFileBytes(path: string, opts: ReadBytesOptions = {}): Promise<Uint8Array> {
  const what = opts.expected ?? 'a file';
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' :
      code === 'EISDIR' ? 'it is a directory' :
      code === 'EACCES' || code === 'EPERM' ? 'permission denied' :
      (err as Error).message;
    const e = new Error(`cannot read ${path}: ${reason}; expected ${what} there`, { cause: err });
    throw Object.assign(e, { code });
  }
}
