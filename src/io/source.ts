/**
 * Where checkpoint, tokenizer and adapter files come from, portably: a base URL read with `fetch`, a
 * map of names to bytes (or the `File`s of an `<input type="file" webkitdirectory>`), or, in
 * `wasmgrad/node`, a directory. Loaders ask a source for files by name and never touch a file
 * system, so the same `fromPretrained`, `loadTokenizer` and `loadAdapterFrom` run in Node, Deno and
 * browsers.
 */

/**
 * A read-only set of named files (a Hugging Face checkpoint directory, wherever it lives).
 *
 * Contract: `read(name)` resolves to the file's bytes, or to `null` when the file does not exist
 * (so loaders can look for alternatives: tokenizer.json, else vocab.json + merges.txt); any other
 * failure (permission, HTTP 500, network) rejects with an error naming the file's location.
 */
export interface FileSource {
  /** What the source is, for errors: a directory path, a base URL, "the files given (a, b)". */
  readonly describe: string;
  /** The file's bytes, or null if the source has no such file. */
  read(name: string): Promise<Uint8Array | null>;
  /** Where `name` is, for errors and safetensors messages: a path, a URL, or the name in a map. */
  locate(name: string): string;
  /**
   * The file names present, where the source can know them (directories, maps, a URL source given
   * its `files`). Absent where it cannot: HTTP has no directory listing.
   */
  list?(): Promise<string[]>;
}

/**
 * The bytes of `name`, or an error naming its location and what it should have been, e.g.
 * `cannot read /ckpt/config.json: no such file; expected the model configuration (config.json) there`.
 * The error carries `code: 'ENOENT'` as a file-system read would.
 */
export async function readRequired(source: FileSource, name: string, expected: string): Promise<Uint8Array> {
  const bytes = await source.read(name);
  if (bytes !== null) return bytes;
  const e = new Error(`cannot read ${source.locate(name)}: no such file; expected ${expected} there`);
  throw Object.assign(e, { code: 'ENOENT' });
}

/** A UTF-8 text file of the source, or null when missing. */
export async function readText(source: FileSource, name: string): Promise<string | null> {
  const bytes = await source.read(name);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

/** The parsed JSON object in `name`; errors name the file's location and what to do. */
export async function readJsonObject(source: FileSource, name: string, expected: string): Promise<Record<string, unknown>> {
  const text = new TextDecoder().decode(await readRequired(source, name, expected));
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${source.locate(name)}: invalid JSON (${(err as Error).message}); re-download or re-save the checkpoint`);
  }
}

// ---- URLs -------------------------------------------------------------------------------------------

export interface UrlSourceOptions {
  /** The fetch to use (default: the global one), e.g. one that adds an authorization header. */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** Passed to every request (headers, credentials, cache mode, an AbortSignal). */
  init?: RequestInit;
  /**
   * The names of the files under the base, when the caller knows them (a manifest, a model hub's
   * file list). The source then has `list()`, and reading a name not listed gives null without a
   * request (no 404 round trip for each optional file a loader looks for). Without it the source has
   * no `list()`: HTTP offers no directory listing, and guessing names would pass off files never
   * asked for as absent.
   */
  files?: readonly string[];
}

/**
 * Files under a base URL, fetched on demand: `urlSource('https://host/models/tiny-roberta/')` reads
 * `config.json` from `https://host/models/tiny-roberta/config.json`. A missing trailing slash is
 * added (the base names a directory). A relative base is resolved against the page's location.
 * HTTP 404 means the file is missing (null); other HTTP errors and network failures reject with the
 * URL and status. With `opts.files` the source lists those names (see {@link UrlSourceOptions.files}).
 */
export function urlSource(baseUrl: string | URL, opts: UrlSourceOptions = {}): FileSource {
  const base = absoluteBase(baseUrl);
  const doFetch = opts.fetch ?? (typeof fetch === 'function' ? (u: string, i?: RequestInit) => fetch(u, i) : undefined);
  const locate = (name: string) => new URL(name, base).href;
  const files = opts.files === undefined ? null : listedNames(opts.files);
  return {
    describe: base.href,
    locate,
    ...(files ? { list: async () => [...files] } : {}),
    async read(name) {
      if (files && !files.includes(name)) return null;
      const url = locate(name);
      if (doFetch === undefined) throw new Error(`urlSource: cannot read ${url}: fetch is not available here; pass urlSource(base, { fetch })`);
      let res: Response;
      try {
        res = await doFetch(url, opts.init);
      } catch (err) {
        throw new Error(`urlSource: cannot read ${url}: ${(err as Error).message}; is the server reachable (and does it allow this origin)?`, { cause: err });
      }
      if (res.status === 404) {
        await res.body?.cancel().catch(() => {});
        return null;
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        throw new Error(`urlSource: cannot read ${url}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`);
      }
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

/** The `files` of a URL source, checked: relative names under the base, each once. */
function listedNames(files: readonly string[]): string[] {
  if (!Array.isArray(files)) throw new TypeError(`urlSource: files must be an array of file names, got ${typeof files}`);
  const seen = new Set<string>();
  for (const f of files) {
    if (typeof f !== 'string' || f === '' || f.startsWith('/') || /^[a-z][a-z0-9+.-]*:/i.test(f) || f.split('/').includes('..')) {
      throw new TypeError(`urlSource: files holds ${JSON.stringify(f)}; list names relative to the base URL, such as "config.json" or "onnx/model.bin"`);
    }
    if (seen.has(f)) throw new TypeError(`urlSource: files lists ${JSON.stringify(f)} twice`);
    seen.add(f);
  }
  return [...seen];
}

function absoluteBase(baseUrl: string | URL): URL {
  let href = String(baseUrl);
  if (!href.endsWith('/')) href += '/';
  try {
    return new URL(href);
  } catch {
    const page = (globalThis as { location?: { href?: string } }).location?.href;
    if (page !== undefined) return new URL(href, page);
    throw new TypeError(`urlSource: "${String(baseUrl)}" is not an absolute URL and there is no page location to resolve it against; pass e.g. "https://host/path/" (for a directory on disk, use fromPretrained / directorySource from 'wasmgrad/node')`);
  }
}

// ---- bytes and Files --------------------------------------------------------------------------------

/** A `File` of an `<input type="file" webkitdirectory>` (or any Blob with a name). */
interface NamedBlob extends Blob {
  readonly name: string;
  readonly webkitRelativePath?: string;
}

/**
 * Files held in memory: a `Map` (or record) of name -> bytes or Blob, or a list of `File`s (a
 * `FileList` from `<input type="file" webkitdirectory multiple>` or a drop). Files are keyed by their
 * path (`webkitRelativePath`, else the name) without the directory all of them share, so picking
 * `tiny-roberta/` (or a folder holding only it) gives `config.json`, `model.safetensors`, ...
 */
export function mapSource(files: ReadonlyMap<string, Uint8Array | Blob> | Record<string, Uint8Array | Blob> | Iterable<NamedBlob> | ArrayLike<NamedBlob>): FileSource {
  const entries = new Map<string, Uint8Array | Blob>();
  if (files instanceof Map) {
    for (const [k, v] of files) entries.set(k, v);
  } else if (isFileList(files)) {
    const list = Array.from(files as ArrayLike<NamedBlob>);
    const paths = list.map(filePath);
    const prefix = commonDirectory(paths);
    list.forEach((f, i) => entries.set(paths[i]!.slice(prefix.length), f));
  } else {
    for (const [k, v] of Object.entries(files as Record<string, Uint8Array | Blob>)) entries.set(k, v);
  }
  for (const [k, v] of entries) {
    if (!(v instanceof Uint8Array) && !(typeof Blob === 'function' && v instanceof Blob)) {
      throw new TypeError(`mapSource: "${k}" must be a Uint8Array or a Blob/File, got ${v === null ? 'null' : typeof v}`);
    }
  }
  const names = [...entries.keys()].sort();
  const shown = names.length <= 6 ? names.join(', ') : `${names.slice(0, 6).join(', ')}, ... (${names.length} files)`;
  return {
    describe: `the files given (${shown || 'none'})`,
    locate: (name) => name,
    list: async () => names,
    async read(name) {
      const v = entries.get(name);
      if (v === undefined) return null;
      return v instanceof Uint8Array ? v : new Uint8Array(await v.arrayBuffer());
    },
  };
}

function isFileList(x: unknown): boolean {
  if (typeof x !== 'object' || x === null || x instanceof Map) return false;
  if (Array.isArray(x)) return true;
  return Symbol.iterator in x || typeof (x as { length?: unknown }).length === 'number';
}

/** The File's path as the picker gives it (`tiny-roberta/config.json`), or its name. */
function filePath(f: NamedBlob): string {
  if (typeof f?.name !== 'string') throw new TypeError('mapSource: a list must hold File objects (with a name); give a Map of name -> bytes otherwise');
  return f.webkitRelativePath || f.name;
}

/** The directory prefix all paths share (`tiny-roberta/`), so the chosen folder's files are keyed `config.json`, ... */
function commonDirectory(paths: string[]): string {
  if (paths.length === 0) return '';
  let dirs = paths[0]!.split('/').slice(0, -1);
  for (const p of paths.slice(1)) {
    const parts = p.split('/').slice(0, -1);
    let n = 0;
    while (n < dirs.length && n < parts.length && dirs[n] === parts[n]) n++;
    dirs = dirs.slice(0, n);
  }
  return dirs.length === 0 ? '' : dirs.join('/') + '/';
}
