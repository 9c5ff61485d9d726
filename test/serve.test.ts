/**
 * `wasmgrad serve`'s server: every response is cross-origin isolating (COOP/COEP), files get their
 * MIME types (application/wasm for kernels), the checkpoints and sentiment data are mounted, and
 * nothing outside the served folders is reachable.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoServer, type DemoServer } from '../src/cli/serve.js';

let dir: string;
let server: DemoServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wasmgrad-serve-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(join(dir, 'k.wasm'), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  await writeFile(join(dir, 'app.js'), 'export {};');
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'index.html'), 'sub');
  server = await startDemoServer({ port: 0, dir });
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), { redirect: 'manual', ...init });

describe('wasmgrad serve', () => {
  it('serves the page with the isolation headers and the right content types', async () => {
    expect(server.url).toMatch(/^http:\/\/localhost:\d+\/$/);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>t</title>');
    const wasm = await get('/k.wasm');
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(wasm.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    expect((await get('/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const head = await get('/app.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('10');
  });

  it('mounts the bundled checkpoints (with an index) and the sentiment sentences', async () => {
    const index = (await (await get('/checkpoints/index.json')).json()) as { name: string; model_type: string }[];
    expect(index.slice(0, 2).map((c) => [c.name, c.model_type])).toEqual([['tiny-roberta', 'roberta'], ['tiny-gpt2', 'gpt2']]);
    const config = await get('/checkpoints/tiny-roberta/config.json');
    expect(config.status).toBe(200);
    expect(((await config.json()) as { model_type: string }).model_type).toBe('roberta');
    const weights = await get('/checkpoints/tiny-roberta/model.safetensors', { method: 'HEAD' });
    expect(weights.headers.get('content-type')).toBe('application/octet-stream');
    const imdb = await get('/data/sentiment/imdb.json');
    expect(imdb.status).toBe(200);
    expect(Array.isArray(await imdb.json())).toBe(true);
  });

  it('redirects a folder to its slash, refuses other methods, and keeps paths inside the folders', async () => {
    const sub = await get('/sub');
    expect(sub.status).toBe(301);
    expect(sub.headers.get('location')).toBe('/sub/');
    expect(await (await get('/sub/')).text()).toBe('sub');
    expect((await get('/nope.js')).status).toBe(404);
    expect((await get('/', { method: 'POST' })).status).toBe(405);
    // An encoded slash survives URL normalisation and decodes to a path that climbs out: refused.
    expect((await get('/..%2fpackage.json')).status).toBe(403);
    expect((await get('/checkpoints/..%2f..%2fpackage.json')).status).toBe(403);
    expect((await get('/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404); // normalised by the client to /etc/passwd: not in the folder
  });

  it('says what to do when the folder has no page or the port is taken', async () => {
    await expect(startDemoServer({ port: 0, dir: join(dir, 'missing') })).rejects.toThrow(/has no index.html; pass --dir/);
    await expect(startDemoServer({ port: server.port, dir })).rejects.toThrow(new RegExp(`port ${server.port} is in use; pass --port`));
    await expect(startDemoServer({ port: -1, dir })).rejects.toThrow(/--port -1 must be an integer/);
  });
});
