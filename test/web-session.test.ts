/**
 * The training worker's session (src/web/session.ts) in Node, on the bundled tiny checkpoints and the
 * sentiment fixtures given as bytes (as a page hands over dropped files): load, train with progress,
 * stop between steps, evaluate, save the adapter as PEFT files and reload it to identical logits,
 * generate with GPT-2, sweep weight noise. The same session runs in the browser worker
 * (test/web-demo.slow.test.ts) and under Deno (test/deno.slow.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { loadAdapter } from '../src/adapters/io.js';
import type { FilesSpec, ProgressEvent } from '../src/web/protocol.js';
import { DemoSession } from '../src/web/session.js';
import { mapSource } from '../src/io/source.js';
import { loadTokenizer } from '../src/tokenizer/files.js';
import { cachedSource, sourceOf } from '../src/web/sources.js';
import { spread } from '../src/web/tasks.js';
import { fromPretrained } from '../src/node/pretrained.js';
import { collateExamples } from '../src/tasks/batches.js';
import { batchTensors } from '../src/tasks/classification.js';
import { wasmBackends } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filesOf = (dir: string, label: string): FilesSpec & { files: Record<string, Uint8Array> } => ({
  label, files: Object.fromEntries(readdirSync(dir).map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))])),
});
const checkpoint = (name: string) => filesOf(join(root, 'examples', 'checkpoints', name), name);
const data = filesOf(join(dirname(createRequire(import.meta.url).resolve('sentiment/package.json')), 'test', 'fixtures'), 'sentiment fixtures');

beforeAll(() => {
  W.setBackend(wasmBackends()[0]!);
});

describe('web sources', () => {
  it('a files spec reads by name under its label; a cached source reads each file once', async () => {
    const s = sourceOf({ files: { 'config.json': new Blob(['{"a":1}']), 'x.bin': new Uint8Array([1, 2]) }, label: 'my-model' });
    expect(s.describe).toBe('my-model');
    expect(s.locate('config.json')).toBe('my-model/config.json');
    expect(new TextDecoder().decode((await s.read('config.json'))!)).toBe('{"a":1}');
    expect(await s.read('model.safetensors')).toBeNull();
    let reads = 0;
    const counted = { ...s, read: (name: string) => (reads++, s.read(name)) };
    const cached = cachedSource(counted);
    for (let i = 0; i < 3; i++) expect([...(await cached.read('x.bin'))!]).toEqual([1, 2]);
    expect(await cached.read('nope')).toBeNull();
    expect(await cached.read('nope')).toBeNull();
    expect(reads).toBe(2);
    await expect(new DemoSession().load({ checkpoint: { files: {}, label: 'empty' }, data })).rejects.toThrow(/empty\/config.json/);
  });

  it('spread keeps every k-th example, at most n', () => {
    expect(spread([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4)).toEqual([0, 2, 5, 7]);
    expect(spread([1, 2], 5)).toEqual([1, 2]);
  });

  it('src/web imports nothing from Node (it is bundled for browsers)', () => {
    const dir = join(root, 'src', 'web');
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text, f).not.toMatch(/from '(node:|fs|path|url|module)/);
      expect(text, f).not.toMatch(/from '\.\.\/(node|cli)\//);
    }
  });
});

describe('DemoSession', () => {
  it('tiny-roberta: trains GRASP with progress, saves PEFT files that reload to identical logits', async () => {
    const s = new DemoSession();
    const info = await s.load({ checkpoint: checkpoint('tiny-roberta'), data, evalExamples: 64 });
    expect(info).toMatchObject({ family: 'roberta', architecture: 'RobertaForSequenceClassification', task: 'sentiment', metric: 'accuracy' });
    expect(info.freshKeys.length).toBeGreaterThan(0); // the classifier head is not in a masked-LM checkpoint
    expect(info.methods.map((m) => m.name)).toEqual(['full', 'bitfit', 'lora', 'rslora', 'ia3', 'grasp', 'stochgrasp', 'lisa', 'grass']);
    expect(info.methods.find((m) => m.name === 'grasp')!.label).toMatch(/GRASP/);
    expect(info.trainExamples).toBe(2400);
    expect(info.validationExamples).toBe(64);
    expect(() => s.saveAdapter()).toThrow(/no adapter yet/);
    const before = s.evaluate();
    expect(before.adapted).toBe(false);
    const events: ProgressEvent[] = [];
    const run = await s.train({ method: 'grasp', steps: 12, batchSize: 16 }, (e) => events.push(e));
    const train = events.filter((e) => e.kind === 'train');
    expect(train.map((e) => e.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(train.every((e) => e.total === 12 && e.tokensPerSecond > 0)).toBe(true);
    expect(run).toMatchObject({ method: 'grasp', steps: 12, stopped: false });
    expect(run.losses).toEqual(train.map((e) => e.loss));
    expect(run.evaluation.examples).toBe(64);
    expect(run.params.trainable).toBeLessThan(run.params.total);
    const texts = ['a wonderful, moving film', 'the battery died after a day', 'not bad at all'];
    const trained = s.logits(texts).logits;
    expect(trained.map((l) => l.length)).toEqual([2, 2, 2]);
    const { files } = s.saveAdapter();
    expect(files.map((f) => f.name)).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(JSON.parse(new TextDecoder().decode(files[0].bytes))).toMatchObject({ peft_type: 'GRASP', task_type: 'SEQ_CLS' });
    // Reloaded in the session (a fresh copy of the checkpoint + the files): the same logits, bit for bit.
    await s.loadAdapter({ files: Object.fromEntries(files.map((f) => [f.name, new Blob([f.bytes.slice()])])) });
    expect(s.logits(texts).logits).toEqual(trained);
    expect(s.evaluate().metrics).toEqual(run.evaluation.metrics);
    // And on a model the Node loader builds from the checkpoint directory: the same logits, so every
    // run of the session starts from the checkpoint's weights (not a fresh init) and the files carry the rest.
    const model = await fromPretrained(join(root, 'examples', 'checkpoints', 'tiny-roberta'), {
      architecture: 'RobertaForSequenceClassification', freshHead: true, config: { num_labels: 2 },
    });
    const adapted = loadAdapter(model, new TextDecoder().decode(files[0].bytes), files[1].bytes);
    expect(adapted.method).toBe('grasp');
    model.eval();
    const tok = await loadTokenizer(mapSource(checkpoint('tiny-roberta').files));
    texts.forEach((text, i) => {
      const { ids } = tok.encodeForRoberta(text, { maxLength: 64 });
      const t = batchTensors(collateExamples([{ ids, label: 0 }], [0], 1));
      expect(Array.from(model.forward(t.ids, { attentionMask: t.attentionMask }).logits.toArray())).toEqual(trained[i]);
      W.dispose([t.ids, t.attentionMask, t.labels]);
    });
    adapted.remove();
    model.dispose();
    s.dispose();
  });

  it('stops a training run between steps and a noise sweep between evaluations; refuses a second call while busy', async () => {
    const s = new DemoSession();
    await s.load({ checkpoint: checkpoint('tiny-roberta'), data, evalExamples: 32 });
    expect(s.stop()).toEqual({ stopping: false });
    const running = s.train({ method: 'lora', steps: 200, batchSize: 8 }, (e) => {
      if (e.kind === 'train' && e.step === 3) expect(s.stop()).toEqual({ stopping: true });
    });
    await expect(s.train({ method: 'lora', steps: 2 })).rejects.toThrow(/busy with train/);
    expect(() => s.evaluate()).toThrow(/busy with train/);
    const run = await running;
    expect(run).toMatchObject({ steps: 3, stopped: true });
    expect(run.losses).toHaveLength(3);
    const sweep = s.noise({ sigmas: [0, 0.1, 0.2], draws: 2 }, (e) => {
      if (e.kind === 'noise' && e.done === 2) s.stop();
    });
    const r = await sweep;
    expect(r).toMatchObject({ metric: 'accuracy', stopped: true });
    expect(r.points.map((p) => p.sigma)).toEqual([0]);
    const full = await s.noise({ sigmas: [0, 0.1], draws: 2 });
    expect(full.points.map((p) => [p.sigma, p.draws])).toEqual([[0, 1], [0.1, 2]]);
    expect(full.points[0].mean).toBe(s.evaluate().metrics.accuracy); // sigma 0 is the clean model
    await expect(s.train({ method: 'nope' as never, steps: 2 })).rejects.toThrow(/nope/);
    s.dispose();
  });

  it('tiny-gpt2: continues the sentences, generates before and after training (greedy repeats itself); a classifier refuses to generate', async () => {
    const s = new DemoSession();
    const info = await s.load({ checkpoint: checkpoint('tiny-gpt2'), data, evalExamples: 32 });
    expect(info).toMatchObject({ family: 'gpt2', task: 'sentiment-lm', metric: 'token_accuracy', freshKeys: [] });
    const before = s.generate({ prompt: 'The food was', maxNewTokens: 12 });
    expect(before).toMatchObject({ adapted: false, newTokens: 12 });
    expect(s.generate({ prompt: 'The food was', maxNewTokens: 12 }).text).toBe(before.text); // greedy: repeatable
    const run = await s.train({ method: 'lora', steps: 6, batchSize: 8, lr: 2e-2 });
    expect(run.evaluation.metrics.perplexity).toBeGreaterThan(1);
    const after = s.generate({ prompt: 'The food was', maxNewTokens: 12 });
    expect(after.adapted).toBe(true);
    expect(s.logits(['The food was']).logits[0]).toHaveLength(4096);
    expect(() => s.generate({ prompt: 'word '.repeat(80) })).toThrow(/reads at most 64/);
    s.dispose();
    const r = new DemoSession();
    await r.load({ checkpoint: checkpoint('tiny-roberta'), data, evalExamples: 16 });
    expect(() => r.generate({ prompt: 'x' })).toThrow(/classifies text and does not write it/);
    r.dispose();
  });
});
