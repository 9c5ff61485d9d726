/**
 * The demo page in a real browser: Debian's Chromium driven headless by playwright-core. The page is
 * built from the current sources, served by `wasmgrad serve`'s server (COOP/COEP: cross-origin
 * isolated, so the worker runs the kernel threads), and used as a person would: load tiny-roberta,
 * train GRASP in the worker (the loss falls well below what the label prior alone gives), stop a run, download the adapter files, load them
 * back in the page (identical logits) and in Node (the same logits up to float rounding).
 *
 * Without Chromium this fails in CI (CI=true; .ci/run installs it) and is skipped elsewhere, saying why.
 * CHROMIUM_PATH points at another Chromium build.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Download, Page } from 'playwright-core';
import * as W from '../src/index.js';
import { startDemoServer, type DemoServer } from '../src/cli/serve.js';
import { fromPretrained } from '../src/node/pretrained.js';
import { loadAdapterFromDirectory } from '../src/node/adapter-files.js';
import { loadTokenizerFromDirectory } from '../src/node/tokenizer-files.js';
import { resolveModelDir } from '../src/node/paths.js';
import { batchTensors } from '../src/tasks/classification.js';
import { collateExamples } from '../src/tasks/batches.js';
import type { TaskModel } from '../src/tasks/task.js';
import { wasmBackends } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const MISSING = `Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium, as .ci/run does) or set CHROMIUM_PATH`;
if (!HAVE_CHROMIUM && !IN_CI) console.warn(`test/web-demo.slow.test.ts skipped: ${MISSING}`);

const TEXTS = ['a wonderful, moving film', 'the battery died after a day', 'not bad at all', 'I would not go back.'];

type DemoWindow = Window & {
  demo: {
    state: string;
    losses: number[];
    lastRun: { steps: number; stopped: boolean; losses: number[] } | null;
    client: { logits(a: { texts: string[] }): Promise<{ logits: number[][] }>; ready: Promise<{ threads: number; crossOriginIsolated: boolean; variant: string }> };
  };
};

async function waitForState(page: Page, state: string, timeout = 300_000): Promise<void> {
  await page.waitForFunction((s) => document.body.dataset.state === s, state, { timeout });
}

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('the demo page in Chromium', () => {
  let server: DemoServer;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(MISSING);
    dir = await mkdtemp(join(tmpdir(), 'wasmgrad-web-'));
    // @ts-expect-error: a plain ES module without types (examples/web/build.mjs)
    const { buildWeb } = (await import('../examples/web/build.mjs')) as { buildWeb(o: { outDir: string }): Promise<Record<string, number>> };
    await buildWeb({ outDir: join(dir, 'site') });
    server = await startDemoServer({ port: 0, dir: join(dir, 'site') });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads tiny-roberta, trains GRASP in the worker (the loss falls), stops a run, and the downloaded adapter reloads to the same logits', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // 32 training sentences in one batch of 32: every step sees the same examples, so its loss is comparable across
    // steps; GRASP at lr 0.03 with the head at 0.01 fits them within 40 steps.
    await page.goto(`${server.url}?model=tiny-roberta&method=grasp&limit-train=32`);
    await waitForState(page, 'idle', 120_000);
    const runtime = await page.evaluate(() => (window as unknown as DemoWindow).demo.client.ready);
    expect(runtime.crossOriginIsolated).toBe(true); // the server's COOP/COEP headers took effect
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.textContent('#runtime')).toContain(runtime.variant);
    await page.click('#load');
    await waitForState(page, 'ready');
    expect(await page.inputValue('#method')).toBe('grasp');
    await page.fill('#steps', '40');
    await page.fill('#batch', '32');
    await page.fill('#lr', '0.03');
    await page.click('.advanced summary');
    await page.fill('#head-lr', '0.01');
    await page.click('#train');
    await page.waitForFunction(() => (window as unknown as DemoWindow).demo.lastRun !== null && document.body.dataset.state === 'ready', null, { timeout: 300_000 });
    const run = await page.evaluate(() => (window as unknown as DemoWindow).demo.lastRun!);
    expect(run.steps).toBe(40);
    expect(run.stopped).toBe(false);
    const losses = run.losses;
    expect(losses).toHaveLength(40);
    expect(losses.every(Number.isFinite)).toBe(true);
    // The 32 sentences are 21 positive and 11 negative: predicting that prior alone scores
    // -(21/32 ln 21/32 + 11/32 ln 11/32) = 0.644. The model must fit the sentences themselves to go well below it.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(0, 5))).toBeGreaterThan(0.6);
    expect(mean(losses.slice(-5))).toBeLessThan(0.45);
    expect(await page.textContent('#stat-step')).toBe('40/40');
    expect(await page.textContent('#status')).toMatch(/^Done: 40 steps/);
    const trained = (await page.evaluate((texts) => (window as unknown as DemoWindow).demo.client.logits({ texts }), TEXTS)).logits;

    // The downloaded files, as a person gets them.
    const downloads: Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await page.click('#download');
    await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(2);
    const adapterDir = join(dir, 'adapter');
    const names: string[] = [];
    for (const d of downloads) {
      names.push(d.suggestedFilename());
      await d.saveAs(join(adapterDir, d.suggestedFilename()));
    }
    expect(names.sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);

    // Back into the page: a fresh copy of the checkpoint plus the files gives the same logits, bit for bit.
    await page.setInputFiles('#adapter-files', names.map((n) => join(adapterDir, n)));
    await page.waitForFunction(() => /Adapter loaded/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 120_000 });
    await waitForState(page, 'ready');
    const reloaded = (await page.evaluate((texts) => (window as unknown as DemoWindow).demo.client.logits({ texts }), TEXTS)).logits;
    expect(reloaded).toEqual(trained);

    // And into Node with the library's file loader: the same logits up to float rounding (another engine, perhaps another kernel build).
    W.setBackend(wasmBackends()[0]!);
    const modelDir = resolveModelDir('tiny-roberta');
    const model = await fromPretrained(modelDir, { architecture: 'RobertaForSequenceClassification', freshHead: true, config: { num_labels: 2 } });
    const adapted = await loadAdapterFromDirectory(model, adapterDir);
    const tok = await loadTokenizerFromDirectory(modelDir);
    model.eval();
    TEXTS.forEach((text, i) => {
      const { ids } = tok.encodeForRoberta(text, { maxLength: 64 });
      const t = batchTensors(collateExamples([{ ids, label: 0 }], [0], 1));
      const got = Array.from((model as TaskModel).forward(t.ids, { attentionMask: t.attentionMask }).logits.toArray());
      W.dispose([t.ids, t.attentionMask, t.labels]);
      got.forEach((v, j) => expect(Math.abs(v - trained[i][j]), `${text}: logit ${j}`).toBeLessThan(1e-4));
    });
    expect(adapted.method).toBe('grasp');
    adapted.remove();
    model.dispose();

    // Stop: a long run ends after the step under way, and says so.
    await page.fill('#steps', '5000');
    await page.fill('#batch', '8');
    await page.click('#train');
    await page.waitForFunction(() => (window as unknown as DemoWindow).demo.losses.length >= 2, null, { timeout: 120_000 });
    await page.click('#stop');
    await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 120_000 });
    const stopped = await page.evaluate(() => (window as unknown as DemoWindow).demo.lastRun!);
    expect(stopped.stopped).toBe(true);
    expect(stopped.steps).toBeLessThan(5000);
    expect(await page.textContent('#status')).toMatch(/^Stopped after \d+ steps/);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('loads tiny-gpt2 and writes a continuation before training', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}?model=tiny-gpt2`);
    await waitForState(page, 'idle', 120_000);
    await page.click('#load');
    await waitForState(page, 'ready');
    expect(await page.isVisible('#gen-card')).toBe(true);
    const before = (await page.textContent('#gen-before'))!;
    expect(before.startsWith('The food was')).toBe(true);
    expect(before.length).toBeGreaterThan('The food was'.length);
    expect(await page.isDisabled('#download')).toBe(true); // nothing trained yet
    await page.close();
  });
});
