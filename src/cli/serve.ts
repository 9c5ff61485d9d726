/**
 * `wasmgrad serve`: a static file server for the demo page (dist/web, or `--dir`), the bundled
 * checkpoints (`/checkpoints/<name>/`) and the sentiment sentences (`/data/sentiment/`).
 *
 * Every response carries `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`: together they make the page cross-origin isolated,
 * the condition browsers set for SharedArrayBuffer, which the kernels' worker threads share their
 * memory through. `.wasm` is served as `application/wasm` so it compiles while it downloads.
 * GET and HEAD only; paths are confined to their directories.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { BUNDLED_CHECKPOINTS, packageRoot } from '../node/paths.js';

/** Content types by extension; anything else is application/octet-stream. */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/jsonl; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.bpe': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

/** Sent with every response. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  // Always revalidated: a rebuilt page or checkpoint is picked up; the page's service worker keeps copies for offline use.
  'Cache-Control': 'no-cache',
};

export interface ServeOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default localhost (a secure context, which service workers need). */
  host?: string;
  /** The page's directory (default: the package's dist/web, built by `npm run build`). */
  dir?: string;
  /** Checkpoint folders served under /checkpoints/ (default: the bundled ones). */
  checkpointsDir?: string;
}

export interface DemoServer {
  /** The page's address, e.g. http://localhost:8080/ */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** URL prefix -> directory; the first matching prefix wins. */
type Mounts = readonly (readonly [string, string])[];

function sentimentFixturesDir(): string | null {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('sentiment/package.json')), 'test', 'fixtures');
  } catch {
    return null;
  }
}

/** `/checkpoints/index.json`: the checkpoints present, for the page's model menu. */
async function checkpointIndex(dir: string): Promise<string> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const order = (n: string) => {
    const i = (BUNDLED_CHECKPOINTS as readonly string[]).indexOf(n);
    return i < 0 ? BUNDLED_CHECKPOINTS.length : i;
  };
  const out: { name: string; model_type: unknown; bytes: number; parameters?: number }[] = [];
  for (const name of names.sort((a, b) => order(a) - order(b) || a.localeCompare(b))) {
    const config = join(dir, name, 'config.json');
    const weights = join(dir, name, 'model.safetensors');
    if (!existsSync(config) || !existsSync(weights)) continue;
    try {
      const c = JSON.parse(readFileSync(config, 'utf8')) as { model_type?: unknown };
      out.push({ name, model_type: c.model_type, bytes: (await stat(weights)).size });
    } catch {
      // a folder with a broken config.json is left out of the menu; loading it by URL still names the problem
    }
  }
  return JSON.stringify(out);
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', head = false): void {
  res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

async function handle(req: IncomingMessage, res: ServerResponse, mounts: Mounts, checkpoints: string): Promise<void> {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, `${req.method} is not served here; GET or HEAD\n`);
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    return send(res, 400, 'malformed URL\n');
  }
  if (path === '/checkpoints/index.json') return send(res, 200, await checkpointIndex(checkpoints), MIME_TYPES['.json'], head);
  const mount = mounts.find(([prefix]) => path.startsWith(prefix));
  if (!mount) return send(res, 404, `not found: ${path}\n`);
  const [prefix, dir] = mount;
  const file = resolve(dir, `.${sep}${path.slice(prefix.length)}`);
  const rel = relative(dir, file);
  if (rel.startsWith('..') || resolve(dir, rel) !== file) return send(res, 403, 'outside the served directory\n');
  let target = file;
  let info = await stat(target).catch(() => null);
  if (info?.isDirectory()) {
    if (!path.endsWith('/')) {
      res.writeHead(301, { ...ISOLATION_HEADERS, Location: `${path}/` });
      return void res.end();
    }
    target = join(file, 'index.html');
    info = await stat(target).catch(() => null);
  }
  if (!info?.isFile()) return send(res, 404, `not found: ${path}\n`);
  res.writeHead(200, {
    ...ISOLATION_HEADERS,
    'Content-Type': MIME_TYPES[extname(target).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': info.size,
  });
  if (head) return void res.end();
  createReadStream(target).on('error', () => res.destroy()).pipe(res);
}

/** Starts the server; resolves once it listens. */
export async function startDemoServer(o: ServeOptions = {}): Promise<DemoServer> {
  const root = packageRoot();
  const dir = resolve(o.dir ?? join(root, 'dist', 'web'));
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(
      o.dir === undefined
        ? `serve: the demo page is not built (${join(dir, 'index.html')} is missing); run npm run build in the wasmgrad folder`
        : `serve: ${dir} has no index.html; pass --dir <folder with index.html>`,
    );
  }
  const checkpoints = resolve(o.checkpointsDir ?? join(root, 'examples', 'checkpoints'));
  const fixtures = sentimentFixturesDir();
  const mounts: [string, string][] = [['/checkpoints/', checkpoints]];
  if (fixtures) mounts.push(['/data/sentiment/', fixtures]);
  mounts.push(['/', dir]);
  const server = createServer((req, res) => {
    handle(req, res, mounts, checkpoints).catch((err: Error) => {
      if (!res.headersSent) send(res, 500, `${err.message}\n`);
      else res.destroy();
    });
  });
  const host = o.host ?? 'localhost';
  const port = o.port ?? 8080;
  if (!(Number.isInteger(port) && port >= 0 && port < 65536)) throw new Error(`serve: --port ${port} must be an integer in [0, 65535] (0 picks a free one)`);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`serve: port ${port} is in use; pass --port <n> (0 picks a free one)`)
          : new Error(`serve: cannot listen on ${host}:${port}: ${err.message}`),
      );
    });
    server.listen(port, host, () => resolveListen());
  });
  const actual = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${actual}/`,
    port: actual,
    server,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
