/** Node file layer: atomic replacement survives failures; reads explain what is missing. */
import { mkdtemp, mkdir, readdir, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileBytes, writeFileAtomic } from '../src/node/files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wasmgrad-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates and then replaces a file, leaving nothing else behind', async () => {
    const target = join(dir, 'model.safetensors');
    await writeFileAtomic(target, Uint8Array.from([1, 2, 3]));
    expect(Array.from(await readFile(target))).toEqual([1, 2, 3]);
    await writeFileAtomic(target, 'replaced');
    expect(await readFile(target, 'utf8')).toBe('replaced');
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('writes large buffers completely', async () => {
    const target = join(dir, 'big.bin');
    const data = new Uint8Array(3 * 1024 * 1024 + 5).map((_, i) => (i * 31) & 0xff);
    await writeFileAtomic(target, data);
    expect(Buffer.compare(await readFile(target), data)).toBe(0);
  });

  it('keeps the permissions of the file it replaces', async () => {
    if (process.platform === 'win32') return;
    const target = join(dir, 'cfg.json');
    await writeFile(target, '{}');
    await chmod(target, 0o600);
    await writeFileAtomic(target, '{"a":1}');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
  });

  it('leaves the previous file intact and removes the temp file when interrupted before the rename', async () => {
    const target = join(dir, 'model.safetensors');
    await writeFileAtomic(target, 'old weights');
    let seenTemp = '';
    const crash = writeFileAtomic(target, 'new weights', {
      beforeRename: async (temp) => {
        seenTemp = temp;
        // The new content is fully on disk in the temp file, next to the target, but not yet visible.
        expect(await readFile(temp, 'utf8')).toBe('new weights');
        expect(await readFile(target, 'utf8')).toBe('old weights');
        throw new Error('simulated crash');
      },
    });
    await expect(crash).rejects.toThrow('simulated crash');
    expect(seenTemp.startsWith(join(dir, '.model.safetensors.'))).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('old weights');
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('leaves the target intact and removes the temp file when the rename fails', async () => {
    // Renaming a file over a non-empty directory fails (EISDIR/ENOTEMPTY/EPERM by platform).
    const target = join(dir, 'checkpoint');
    await mkdir(target);
    await writeFile(join(target, 'keep.txt'), 'kept');
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow();
    expect(await readFile(join(target, 'keep.txt'), 'utf8')).toBe('kept');
    expect(await readdir(dir)).toEqual(['checkpoint']);
  });

  it('fails cleanly when the directory does not exist', async () => {
    await expect(writeFileAtomic(join(dir, 'missing', 'x.bin'), 'x')).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('readFileBytes', () => {
  it('returns a plain Uint8Array of the contents', async () => {
    const p = join(dir, 'w.bin');
    await writeFile(p, Uint8Array.from([9, 8, 7]));
    const bytes = await readFileBytes(p);
    expect(bytes.constructor).toBe(Uint8Array);
    expect(Array.from(bytes)).toEqual([9, 8, 7]);
  });

  it('says which file is missing and what was expected there', async () => {
    const p = join(dir, 'model.safetensors');
    await expect(readFileBytes(p, { expected: 'the GPT-2 weights (model.safetensors)' })).rejects.toThrow(
      `cannot read ${p}: no such file; expected the GPT-2 weights (model.safetensors) there`,
    );
    await expect(readFileBytes(p)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('explains a directory given where a file was expected', async () => {
    await expect(readFileBytes(dir)).rejects.toThrow(/it is a directory/);
  });
});
