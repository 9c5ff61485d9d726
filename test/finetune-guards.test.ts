/**
 * Nothing silent, nothing lost, in `wasmgrad finetune` and `wasmgrad eval` (src/cli/finetune.ts):
 * strict loading where only the task head may be missing, `eval --split`, options validated before
 * the output folder is touched, earlier runs never truncated, resume mismatches named, training-state
 * errors naming the file, NaN weights refused before an update, and a sane first progress rate.
 * Same tiny checkpoint and task as test/finetune-cli.test.ts.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { runEvalCli, runFinetuneCli, type FinetuneCliOptions } from '../src/cli/finetune.js';
import { jsonDiff } from '../src/cli/run-dir.js';
import { RobertaForMaskedLM } from '../src/models/roberta/index.js';
import { fromPretrained, savePretrained } from '../src/node/pretrained.js';
import { ProgressBar } from '../src/train/progress.js';
import { rawSafetensors, rawTensorsOf } from './raw-safetensors.js';
import { tempDirs } from './helpers.js';

const tmp = tempDirs();
const quiet = () => {};

function rows(n: number, offset: number): string {
  const subjects = ['the movie', 'this film', 'the plot', 'the acting', 'the ending', 'our dinner', 'the show', 'that book'];
  return Array.from({ length: n }, (_, i) => {
    const label = (i + offset) % 2;
    const word = label === 1 ? ['good', 'great'][(i >> 1) % 2] : ['bad', 'awful'][(i >> 1) % 2];
    return `${label}\t${subjects[(i * 3 + offset) % subjects.length]} was ${word}${i % 3 === 0 ? ' today' : ''}`;
  }).join('\n') + '\n';
}

/** A checkpoint directory: the tiny masked LM's weights (edited by `edit`) and the bundled tokenizer files. */
async function checkpoint(name: string, edit?: (entries: ReturnType<typeof rawTensorsOf>) => ReturnType<typeof rawTensorsOf>): Promise<string> {
  const dir = tmp(name);
  const model = new RobertaForMaskedLM(
    {
      vocab_size: 4096, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32,
      max_position_embeddings: 34, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, initializer_range: 0.2,
    },
    { generator: new W.Generator(4) },
  );
  await savePretrained(model, dir);
  model.dispose();
  const bundled = join(import.meta.dirname, '..', 'examples', 'checkpoints', 'tiny-roberta');
  for (const f of ['vocab.json', 'merges.txt', 'tokenizer.json']) copyFileSync(join(bundled, f), join(dir, f));
  if (edit) {
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, rawSafetensors(edit(rawTensorsOf(new Uint8Array(readFileSync(path))))));
  }
  return dir;
}

let ckpt: string;
let task: string;
let tsv: string;

beforeAll(async () => {
  ckpt = await checkpoint('ckpt');
  task = join(tmp('task'), 'SST-2');
  mkdirSync(task, { recursive: true });
  writeFileSync(join(task, 'train.tsv'), rows(64, 0));
  writeFileSync(join(task, 'dev.tsv'), rows(32, 1));
  // a lone labelled file of 100 rows (the user's own data): no dev split
  tsv = join(tmp('tsv'), 'SST-2', 'mine.tsv');
  mkdirSync(join(tsv, '..'), { recursive: true });
  writeFileSync(tsv, rows(100, 0));
});

const base = (out: string, over: Partial<FinetuneCliOptions> = {}): FinetuneCliOptions => ({
  model: ckpt, method: 'grasp', task, out, epochs: 1, batchSize: 8, saveEvery: 4, write: quiet, tty: false, ...over,
});

/** Every file under `dir` with its bytes, to prove nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out[`${rel}${e.name}`] = readFileSync(join(d, e.name)).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}

describe('strict loading: only the task head may be missing', () => {
  it('a masked-LM checkpoint fine-tunes as a classifier, saying the head (from the family table) starts fresh', async () => {
    const out: string[] = [];
    const dir = tmp('fresh-head');
    await runFinetuneCli(base(dir, { write: (t) => void out.push(t) }));
    // the process-level memory next to the tensor peak, in results.json and on one labelled line
    const res = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Record<string, number>;
    expect(res.process_peak_rss_bytes).toBeGreaterThan(res.peak_memory_bytes);
    expect(res.wasm_memory_bytes).toBeGreaterThan(0);
    expect(out.join('')).toMatch(/process memory: peak resident \d+\.\d MiB, WebAssembly memory \d+\.\d MiB/);
    const line = out.join('').split('\n').find((l) => l.includes('initialised fresh'));
    expect(line).toMatch(/RobertaForSequenceClassification head initialised fresh .*: classifier\.dense\.weight, classifier\.dense\.bias, classifier\.out_proj\.weight, classifier\.out_proj\.bias$/);
    expect(out.join('')).toMatch(/dropped 5 key\(s\) of another head: lm_head\./);
  });

  it('a renamed backbone key is refused by finetune and eval, the first line naming the keys and the likely cause', async () => {
    const renamed = await checkpoint('renamed', (es) =>
      es.map(([k, t]) => [k === 'roberta.encoder.layer.1.attention.self.query.weight' ? 'roberta.encoder.layer.1.attention.self.q.weight' : k, t]),
    );
    const out = tmp('renamed-out');
    const err = await runFinetuneCli(base(out, { model: renamed })).catch((e: Error) => e);
    const first = (err as Error).message.split('\n')[0];
    expect(first).toContain(join(renamed, 'model.safetensors'));
    expect(first).toMatch(/missing roberta\.encoder\.layer\.1\.attention\.self\.query\.weight; unexpected roberta\.encoder\.layer\.1\.attention\.self\.q\.weight/);
    expect(first).toMatch(/likely cause: keys spelled differently/);
    expect((err as Error).message).not.toMatch(/strict: false/);
    expect(readdirSync(out)).toEqual([]); // nothing written
    await expect(runEvalCli({ model: renamed, task, draws: 0, write: quiet })).rejects.toThrow(/missing roberta\.encoder\.layer\.1\.attention\.self\.query\.weight/);
  });

  it('a missing backbone key, or a mis-shaped one, is refused too', async () => {
    const missing = await checkpoint('missing', (es) => es.filter(([k]) => k !== 'roberta.encoder.layer.0.output.dense.bias'));
    await expect(runFinetuneCli(base(tmp('missing-out'), { model: missing }))).rejects.toThrow(
      /^.*missing roberta\.encoder\.layer\.0\.output\.dense\.bias\); likely cause: the file lacks weights/,
    );
    const config = JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8')) as Record<string, unknown>;
    const wrong = tmp('wrong-size');
    for (const f of readdirSync(ckpt)) copyFileSync(join(ckpt, f), join(wrong, f));
    writeFileSync(join(wrong, 'config.json'), JSON.stringify({ ...config, intermediate_size: 48 }));
    await expect(runFinetuneCli(base(tmp('wrong-out'), { model: wrong }))).rejects.toThrow(/^.*mis-shaped roberta\.encoder\.layer\.0\.intermediate\.dense\.bias.*likely cause: the config does not match the weights/);
  });

  it('fromPretrained({ freshHead }) names only what is wrong, not the fresh head', async () => {
    const missing = await checkpoint('missing-lib', (es) => es.filter(([k]) => k !== 'roberta.embeddings.LayerNorm.weight'));
    const err = await fromPretrained(missing, { architecture: 'RobertaForSequenceClassification', freshHead: true }).catch((e: W.StateDictError) => e);
    expect(err).toBeInstanceOf(W.StateDictError);
    expect((err as W.StateDictError).report.missing).toEqual(['roberta.embeddings.LayerNorm.weight']);
  });

  it('eval refuses to score a head that is neither in the checkpoint nor in an adapter', async () => {
    await expect(runEvalCli({ model: ckpt, task, draws: 0, write: quiet })).rejects.toThrow(
      /eval: the task head \(classifier\.dense\.weight, .*\) is neither in .* nor in an adapter.*pass --adapter/,
    );
  });
});

describe('eval --split', () => {
  let adapter = '';
  beforeAll(async () => {
    adapter = tmp('split-adapter');
    await runFinetuneCli(base(adapter, { task: tsv }));
  });

  it('scores every row of a lone file by default, and says how many and why', async () => {
    const out: string[] = [];
    const r = await runEvalCli({ model: ckpt, adapter, task: tsv, draws: 0, write: (t) => void out.push(t) });
    expect(out.join('')).toMatch(/scoring all 100 rows of .*mine\.tsv \(a single file: every row by default; --split validation scores the \d+ rows fine-tuning held out\)/);
    expect(out.join('')).toMatch(/\(100 examples\)/);
    expect(out.join('')).toMatch(/task head from the adapter .*: classifier\.dense\.weight/);
    expect(out.join('')).not.toMatch(/initialised fresh/);
    expect(r.accuracy).toBeGreaterThanOrEqual(0);
  });

  it('--split validation scores the held-out rows, --split train the rest; a named split is refused when unknown', async () => {
    const out: string[] = [];
    await runEvalCli({ model: ckpt, adapter, task: tsv, split: 'validation', draws: 0, write: (t) => void out.push(t) });
    await runEvalCli({ model: ckpt, adapter, task: tsv, split: 'train', draws: 0, write: (t) => void out.push(t) });
    const held = Number(/scoring the (\d+) rows fine-tuning held out of .*mine\.tsv/.exec(out.join(''))?.[1]);
    expect(held).toBeGreaterThan(0);
    expect(out.join('')).toContain(`(${held} examples)`);
    expect(out.join('')).toMatch(/scoring the \d+ rows of .*mine\.tsv's training split \(--split train\)/);
    expect(out.join('')).toContain(`(${100 - held} examples)`);
    await expect(runEvalCli({ model: ckpt, adapter, task: tsv, split: 'dev' as never, write: quiet })).rejects.toThrow(/--split dev is not one of train, validation, all/);
  });

  it('a task with a dev split still scores its validation split by default', async () => {
    const out: string[] = [];
    await runEvalCli({ model: ckpt, adapter, task, draws: 0, write: (t) => void out.push(t) });
    expect(out.join('')).toMatch(/scoring the 32 rows of .*SST-2's validation split \(the default/);
  });
});

describe('nothing lost', () => {
  /** A finished run's folder, and its bytes. */
  async function earlierRun(name: string): Promise<{ out: string; before: Record<string, string> }> {
    const out = tmp(name);
    await runFinetuneCli(base(out));
    return { out, before: snapshot(out) };
  }

  it('invalid options are refused before the output folder is touched', async () => {
    const { out, before } = await earlierRun('earlier');
    const bad: [Partial<FinetuneCliOptions>, RegExp][] = [
      [{ lr: -1 }, /lr = -1 must be in \(0, 1\)/],
      [{ epochs: 0 }, /epochs = 0 must be an integer >= 1/],
      [{ adapter: { num_grups: 4 } as never }, /GRASP: unknown config field\(s\) num_grups/],
      [{ saveEvery: 0 }, /--save-every 0 must be an integer >= 1/],
      [{ stopAfter: 0 }, /--stop-after 0 must be an integer >= 1/],
    ];
    for (const [over, re] of bad) {
      await expect(runFinetuneCli(base(out, over)), JSON.stringify(over)).rejects.toThrow(re);
      await expect(runFinetuneCli(base(out, { ...over, overwrite: true })), JSON.stringify(over)).rejects.toThrow(re);
      expect(snapshot(out)).toEqual(before);
    }
  });

  it('a non-empty --out is refused unless --overwrite (which replaces the run) or --resume', async () => {
    const { out, before } = await earlierRun('nonempty');
    await expect(runFinetuneCli(base(out))).rejects.toThrow(/--out .* is not empty \(adapter_config\.json, .*\); an earlier run's files would be lost\. Pass --resume .*--overwrite/);
    expect(snapshot(out)).toEqual(before);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const r = await runFinetuneCli(base(out, { overwrite: true, method: 'lora' }));
    expect(r.stopped).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'))).toMatchObject({ peft_type: 'LORA' });
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine'); // not a run file: left alone
    await expect(runFinetuneCli(base(out, { overwrite: true, resume: true }))).rejects.toThrow(/--resume and --overwrite exclude each other/);
  });

  it('--out naming a file, or under a file, gets a plain error', async () => {
    const file = join(tmp('file'), 'results.txt');
    writeFileSync(file, 'x');
    await expect(runFinetuneCli(base(file))).rejects.toThrow(`--out ${file} is a file, not a directory`);
    await expect(runFinetuneCli(base(join(file, 'run')))).rejects.toThrow(/a parent of this path is a file, not a directory/);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('a damaged training state is named when resuming', async () => {
    const out = tmp('damaged');
    await runFinetuneCli(base(out, { stopAfter: 4 }));
    const state = join(out, 'training_state', 'state.safetensors');
    writeFileSync(state, readFileSync(state).subarray(0, 100));
    await expect(runFinetuneCli(base(out, { resume: true }))).rejects.toThrow(`safetensors: ${state}:`);
  });

  it('jsonDiff names each differing leaf with its old and new value', () => {
    expect(jsonDiff({ a: 1, b: { c: 'x', d: [1] } }, { a: 1, b: { c: 'y', d: [2] }, e: true })).toEqual(['b.c: "x" -> "y"', 'b.d: [1] -> [2]', 'e: unset -> true']);
  });
});

describe('non-finite values never reach the weights', () => {
  it('a NaN weight in the checkpoint: finetune stops before the first update, naming the weight', async () => {
    const poisoned = await checkpoint('nan', (es) =>
      es.map(([k, t]) => {
        if (k !== 'roberta.encoder.layer.0.attention.self.key.weight') return [k, t];
        const bytes = t.bytes.slice();
        new DataView(bytes.buffer).setFloat32(12, NaN, true);
        return [k, { ...t, bytes }];
      }),
    );
    const out = tmp('nan-out');
    await expect(runFinetuneCli(base(out, { model: poisoned }))).rejects.toThrow(
      /step 1: the loss is NaN .*no update was applied .*The weights already hold non-finite values: roberta\.encoder\.layer\.0\.attention\.self\.key\.weight \(NaN\)/,
    );
    expect(existsSync(join(out, 'adapter_model.safetensors'))).toBe(false);
    // --detect-anomaly names the op, the module and the weight
    const err = (await runFinetuneCli(base(tmp('nan-anomaly'), { model: poisoned, detectAnomaly: true })).catch((e: Error) => e)) as W.AnomalyError;
    expect(err).toBeInstanceOf(W.AnomalyError);
    expect(err.module).toBe('roberta.encoder.layer.0.attention.self.key');
    expect(err.message).toMatch(/forward produced NaN in module roberta\.encoder\.layer\.0\.attention\.self\.key .*roberta\.encoder\.layer\.0\.attention\.self\.key\.weight\) \[16, 16\] already holds NaN/);
    expect(W.isAnomalyEnabled()).toBe(false); // switched off again when the run ends
  });
});

describe('progress bar', () => {
  it('shows no rate until a second has passed since the first update, then the rate since it', () => {
    let now = 0;
    const lines: string[] = [];
    const bar = new ProgressBar({ total: 100, start: 0, write: (t) => void lines.push(t), tty: false, every: 1, now: () => now });
    now = 0.05; // the first step's update arrives 50 microseconds after the bar was made
    bar.update({ step: 1, loss: 1, tokensPerStep: 1000 });
    expect(lines[0]).toContain('-- tok/s');
    now = 500;
    bar.update({ step: 2, loss: 1, tokensPerStep: 1000 });
    expect(lines[1]).toContain('-- tok/s');
    now = 2000.05; // 2 s after the first update, 3 more steps of 1000 tokens
    bar.update({ step: 4, loss: 1, tokensPerStep: 1000 });
    expect(lines[2]).toContain(' 1500 tok/s');
  });
});
