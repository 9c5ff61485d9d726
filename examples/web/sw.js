// The demo's offline copy: every same-origin GET is answered from the network when it can be (so a
// rebuilt page or checkpoint is picked up) and kept in the cache; without a network the cached copy
// answers. The page, its worker and the shipped checkpoints and data are fetched once at install, so
// after the first visit the demo works offline. Cached responses keep their COOP/COEP headers.
const CACHE = 'wasmgrad-demo-v1';
const CHECKPOINT_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.json', 'merges.txt'];
const SHELL = ['./', './index.html', './app.js', './worker.js', './style.css', './checkpoints/index.json',
  './kernels.relaxed.wasm', './kernels.simd.wasm', './kernels.scalar.wasm',
  './data/sentiment/imdb.json', './data/sentiment/amazon.json', './data/sentiment/yelp.json'];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const urls = [...SHELL];
    try {
      const list = await (await fetch('./checkpoints/index.json')).json();
      for (const c of list) if (c.name.startsWith('tiny-')) for (const f of CHECKPOINT_FILES) urls.push(`./checkpoints/${c.name}/${f}`);
    } catch {
      // no checkpoint list: the page and data are still kept
    }
    // One by one: a file the server lacks must not stop the rest from being kept.
    await Promise.all(urls.map((u) => cache.add(u).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(req);
      if (res.ok) await cache.put(req, res.clone());
      return res;
    } catch (err) {
      const hit = await cache.match(req, { ignoreSearch: true });
      if (hit) return hit;
      throw err;
    }
  })());
});
