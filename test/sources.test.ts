/**
 * Portable loading: a checkpoint, its tokenizer and an adapter load the same from a URL (a local
 * HTTP server), from bytes in memory, from browser-style File objects and from a directory; missing
 * files and HTTP errors explain themselves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { directorySource, fromPretrained as fromDirectory, loadTokenizerFromDirectory } from '../src/node/index.js';

const CKPT = join(import.meta.dirname, '..', 'examples', 'checkpoints', 'tiny-roberta');
const TEXT = 'The quick brown fox jumps over the lazy dog.';

let server: Server;
let base: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    if (path.startsWith('/broken/')) {
      res.writeHead(500, 'Internal Server Error').end('boom');
      return;
    }
    const m = /^\/tiny-roberta\/([\w.-]+)$/.exec(path);
    let body: Buffer | null = null;
    try {
      body = m ? readFileSync(join(CKPT, m[1]!)) : null;
    } catch {
      body = null;
    }
    if (body === null) res.writeHead(404, 'Not Found').end();
    else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function logits(model: W.PretrainedModel, ids: number[]): number[] {
  return W.tidy(() => {
    const out = (model as W.RobertaForMaskedLM).forward(W.tensor([ids], undefined, { dtype: 'int32' }));
    return Array.from(out.logits.toArray());
  });
}

async function referenceLogits(): Promise<{ ids: number[]; logits: number[] }> {
  const tok = await loadTokenizerFromDirectory(CKPT);
  const ids = tok.encode(TEXT);
  const model = await fromDirectory(CKPT);
  try {
    return { ids, logits: logits(model, ids) };
  } finally {
    model.dispose();
  }
}

function checkpointBytes(): Map<string, Uint8Array<ArrayBuffer>> {
  return new Map(readdirSync(CKPT).map((f) => [f, new Uint8Array(readFileSync(join(CKPT, f)))]));
}

describe('urlSource', () => {
  it('fromPretrained and loadTokenizer over HTTP give the directory load, bit for bit', async () => {
    const ref = await referenceLogits();
    const source = W.urlSource(`${base}/tiny-roberta`); // the trailing slash is added
    const tok = await W.loadTokenizer(source);
    expect(tok.encode(TEXT)).toEqual(ref.ids);
    const model = await W.fromPretrained(source);
    expect(model).toBeInstanceOf(W.RobertaForMaskedLM);
    expect(logits(model, ref.ids)).toEqual(ref.logits);
    model.dispose();
    // a string is a base URL in the main entry
    const again = await W.fromPretrained(`${base}/tiny-roberta/`);
    expect(logits(again, ref.ids)).toEqual(ref.logits);
    again.dispose();
    expect(requests).toContain('/tiny-roberta/model.safetensors');
  });

  it('a missing file (HTTP 404) names the URL and what was expected', async () => {
    await expect(W.fromPretrained(W.urlSource(`${base}/nothing-here/`))).rejects.toThrow(
      `cannot read ${base}/nothing-here/config.json: no such file; expected the model configuration (config.json) there`,
    );
    await expect(W.loadTokenizer(W.urlSource(`${base}/nothing-here/`))).rejects.toThrow(
      `no tokenizer in ${base}/nothing-here/: expected tokenizer.json, or vocab.json + merges.txt, or encoder.json + vocab.bpe`,
    );
  });

  it('other HTTP errors and unreachable servers are errors, not missing files', async () => {
    await expect(W.urlSource(`${base}/broken/`).read('config.json')).rejects.toThrow(
      `urlSource: cannot read ${base}/broken/config.json: HTTP 500 Internal Server Error`,
    );
    await expect(W.loadTokenizer(W.urlSource(`${base}/broken/`))).rejects.toThrow(/HTTP 500/);
    const refused = W.urlSource('http://127.0.0.1:9/x/', {
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    await expect(refused.read('config.json')).rejects.toThrow('urlSource: cannot read http://127.0.0.1:9/x/config.json: fetch failed');
  });

  it('uses the fetch it is given, with the request options', async () => {
    const seen: [string, RequestInit | undefined][] = [];
    const source = W.urlSource('https://models.example/tiny/', {
      init: { headers: { authorization: 'Bearer t' } },
      fetch: async (url, init) => {
        seen.push([url, init]);
        return new Response(new Uint8Array([1, 2, 3]), { status: 200 });
      },
    });
    expect(Array.from((await source.read('a.bin'))!)).toEqual([1, 2, 3]);
    expect(seen).toEqual([['https://models.example/tiny/a.bin', { headers: { authorization: 'Bearer t' } }]]);
  });

  it('lists the files it is given, and reads an unlisted name as missing without a request', async () => {
    const plain = W.urlSource(`${base}/tiny-roberta/`);
    expect(plain.list).toBeUndefined(); // HTTP has no directory listing
    const names = readdirSync(CKPT).sort();
    const requested: string[] = [];
    const listed = W.urlSource(`${base}/tiny-roberta/`, {
      files: names,
      fetch: (url, init) => {
        requested.push(url);
        return fetch(url, init);
      },
    });
    expect(await listed.list!()).toEqual(names);
    expect(await listed.read('pytorch_model.bin')).toBeNull();
    expect(requested).toEqual([]);
    expect(await listed.read('config.json')).toEqual(await plain.read('config.json'));
    expect(requested).toEqual([`${base}/tiny-roberta/config.json`]);
    // The loaders use the listing: the same model as from the directory, and the weights hint.
    const model = await W.fromPretrained(listed);
    model.dispose();
    await expect(W.fromPretrained(W.urlSource(`${base}/tiny-roberta/`, { files: ['config.json', 'pytorch_model.bin'] }))).rejects.toThrow(
      /has no model\.safetensors; it has pytorch_model\.bin \(pickle\): convert it/,
    );
    expect(() => W.urlSource(`${base}/x/`, { files: ['../secret.json'] })).toThrow(/files holds "\.\.\/secret\.json"; list names relative to the base URL/);
    expect(() => W.urlSource(`${base}/x/`, { files: ['a.json', 'a.json'] })).toThrow(/lists "a\.json" twice/);
  });

  it('a relative base without a page location is refused with what to pass', () => {
    expect(() => W.urlSource('models/tiny/')).toThrow(/not an absolute URL .* pass e\.g\. "https:\/\/host\/path\/"/);
  });
});

describe('mapSource', () => {
  it('loads the checkpoint and tokenizer from bytes in memory, identically', async () => {
    const ref = await referenceLogits();
    const source = W.mapSource(checkpointBytes());
    expect((await W.loadTokenizer(source)).encode(TEXT)).toEqual(ref.ids);
    const model = await W.fromPretrained(source);
    expect(logits(model, ref.ids)).toEqual(ref.logits);
    model.dispose();
  });

  it('takes the Files of a directory picker, keyed by their path inside the chosen directory', async () => {
    const ref = await referenceLogits();
    const files = [...checkpointBytes()].map(([name, bytes]) => {
      const f = new File([bytes], name);
      Object.defineProperty(f, 'webkitRelativePath', { value: `tiny-roberta/${name}` });
      return f;
    });
    const source = W.mapSource(files);
    expect(await source.list!()).toContain('model.safetensors');
    // a folder holding the checkpoint folder: the shared prefix goes, the layout below it stays
    const nested = [...checkpointBytes()].map(([name, bytes]) => {
      const f = new File([bytes], name);
      Object.defineProperty(f, 'webkitRelativePath', { value: `models/tiny-roberta/${name}` });
      return f;
    });
    expect((await W.mapSource([...nested, new File([], 'notes.txt')]).list!()).filter((k) => k.endsWith('config.json'))).toEqual(['models/tiny-roberta/config.json']);
    expect(await W.mapSource(nested).list!()).toContain('config.json');
    const model = await W.fromPretrained(source);
    expect(logits(model, ref.ids)).toEqual(ref.logits);
    model.dispose();
  });

  it('missing files and bad entries name the problem', async () => {
    const bytes = checkpointBytes();
    const noWeights = W.mapSource(new Map([...bytes].filter(([k]) => k !== 'model.safetensors')));
    await expect(W.fromPretrained(noWeights)).rejects.toThrow(/fromPretrained: the files given \(.*config\.json.*\) has no model\.safetensors; the weights file is missing/);
    await expect(W.fromPretrained(W.mapSource({}))).rejects.toThrow(
      'cannot read config.json: no such file; expected the model configuration (config.json) there',
    );
    expect(() => W.mapSource({ 'config.json': 'text' as unknown as Uint8Array })).toThrow('mapSource: "config.json" must be a Uint8Array or a Blob/File, got string');
  });
});

describe('adapters from a source', () => {
  it('adapterFiles -> mapSource -> loadAdapterFrom reproduces the adapted logits', async () => {
    const ref = await referenceLogits();
    const model = await W.fromPretrained(W.mapSource(checkpointBytes()));
    const adapted = W.applyAdapter(model, { peft_type: 'LORA', r: 2, target_modules: ['query', 'value'] });
    // move B off zero so the adapter changes the output
    W.noGrad(() => {
      for (const [name, p] of adapted.namedTrainable()) if (name.includes('lora_B')) p.backend.write(p.buf, Array.from({ length: p.size }, (_, i) => 0.01 * ((i % 7) - 3)));
    });
    const want = logits(model, ref.ids);
    expect(want).not.toEqual(ref.logits);
    const files = W.adapterFiles(adapted);
    expect([...files.keys()].sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const fresh = await fromDirectory(directorySource(CKPT));
    const loaded = await W.loadAdapterFrom(fresh, W.mapSource(files));
    expect(logits(fresh, ref.ids)).toEqual(want);
    loaded.remove();
    adapted.remove();
    model.dispose();
    fresh.dispose();
    await expect(W.loadAdapterFrom(model, W.mapSource({}))).rejects.toThrow(
      'cannot read adapter_config.json: no such file; expected the adapter configuration (adapter_config.json) there',
    );
  });
});
