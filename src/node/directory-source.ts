/** A checkpoint directory as a {@link FileSource}: the Node side of the portable loaders. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileSource } from '../io/source.js';
import { readFileBytes } from './files.js';

/**
 * The files of `dir` (names are paths relative to it). A missing file reads as null; any other
 * failure (a directory in its place, permission denied) rejects with the path and the reason.
 */
export function directorySource(dir: string): FileSource {
  return {
    describe: dir,
    locate: (name) => join(dir, name),
    list: () => readdir(dir),
    async read(name) {
      try {
        return await readFileBytes(join(dir, name), { expected: name });
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return null;
        throw err;
      }
    },
  };
}

/** A directory path becomes a {@link directorySource}; a source is used as it is. */
export function asDirectorySource(from: string | FileSource): FileSource {
  return typeof from === 'string' ? directorySource(from) : from;
}
