/**
 * The worker's files: a protocol {@link FilesSpec} becomes a {@link FileSource} of the main entry
 * (a URL read with fetch, or the page's files), and {@link cachedSource} keeps what was read, so each
 * training run rebuilds its fresh model from the checkpoint without fetching it again.
 */
import { mapSource, urlSource, type FileSource } from '../io/source.js';
import type { FilesSpec } from './protocol.js';

/** A source from a protocol spec; relative URLs resolve against `base` (the worker's own location). */
export function sourceOf(spec: FilesSpec, base?: string): FileSource {
  if ('url' in spec) return urlSource(base ? new URL(spec.url, base) : spec.url, spec.files ? { files: spec.files } : {});
  const files = mapSource(spec.files);
  return spec.label === undefined ? files : { ...files, describe: spec.label, locate: (name) => `${spec.label}/${name}` };
}

/** `source`, with every file read (or found missing) kept in memory after the first read. */
export function cachedSource(source: FileSource): FileSource {
  const kept = new Map<string, Promise<Uint8Array | null>>();
  return {
    ...source,
    read(name) {
      let p = kept.get(name);
      if (!p) {
        p = source.read(name);
        kept.set(name, p);
        p.catch(() => kept.delete(name)); // a failed read (network) is retried next time
      }
      return p;
    },
  };
}
