/**
 * Pretraining: the LR schedule, progress output, metrics JSONL, the unigram baseline, exact resume
 * (N steps == N/2 steps + resume, bit for bit) and the committed tiny checkpoints.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { pretrainToDirectory as runPretrain, type PretrainToDirectoryOptions as PretrainRunOptions } from '../src/node/pretrain-files.js';
import { fromPretrained } from '../src/node/pretrained.js';
import { loadTokenizerFromDirectory } from '../src/node/tokenizer-files.js';
import { metricsLine, parseMetrics, truncateMetrics, unigramCrossEntropy, type MetricsRecord } from '../src/train/metrics.js';
import { formatDuration, ProgressBar } from '../src/train/progress.js';
import { maskedLmLoss } from '../src/train/pretrain.js';
import { cooldownStart, lrAt, validateLrSchedule } from '../src/train/schedule.js';
import { tempDirs } from './helpers.js';

const tmp = tempDirs();

describe('lrAt', () => {
  const c = { peak: 1e-3, warmup: 10, total: 110, minRatio: 0.1 };

  it('warms up linearly to the peak', () => {
    expect(lrAt(0, c)).toBeCloseTo(1e-4, 15);
    expect(lrAt(4, c)).toBeCloseTo(5e-4, 15);
    expect(lrAt(9, c)).toBeCloseTo(1e-3, 15);
  });

  it('decays by a half cosine from the peak to minRatio * peak', () => {
    expect(lrAt(10, c)).toBeCloseTo(1e-3, 15);
    expect(lrAt(60, c)).toBeCloseTo(1e-4 + 0.9e-3 / 2, 15); // halfway: the mean of peak and floor
    expect(lrAt(35, c)).toBeCloseTo(1e-4 + (0.9e-3 * (1 + Math.cos(Math.PI / 4))) / 2, 15);
    expect(lrAt(109, c)).toBeGreaterThan(1e-4);
    expect(lrAt(110, c)).toBeCloseTo(1e-4, 15);
  });

  it('linear and constant decay, and no warmup', () => {
    expect(lrAt(60, { ...c, decay: 'linear' })).toBeCloseTo(1e-3 - 0.9e-3 * 0.5, 15);
    expect(lrAt(85, { ...c, decay: 'linear' })).toBeCloseTo(1e-3 - 0.9e-3 * 0.75, 15);
    expect(lrAt(100, { ...c, decay: 'constant' })).toBe(1e-3);
    expect(lrAt(0, { ...c, warmup: 0 })).toBe(1e-3);
  });

  it('is monotone: up during warmup, down after', () => {
    for (let s = 1; s < 110; s++) {
      if (s < 10) expect(lrAt(s, c)).toBeGreaterThan(lrAt(s - 1, c));
      else expect(lrAt(s, c)).toBeLessThanOrEqual(lrAt(s - 1, c));
    }
  });

  it('wsd holds the peak, then decays linearly over the last cooldown fraction; the peak phase does not depend on total', () => {
    const w = { peak: 1e-3, warmup: 10, total: 110, decay: 'wsd' as const, cooldown: 0.2, minRatio: 0.1 };
    expect(cooldownStart(w)).toBe(90);
    expect(lrAt(9, w)).toBeCloseTo(1e-3, 15);
    expect(lrAt(89, w)).toBe(1e-3);
    expect(lrAt(90, w)).toBeCloseTo(1e-3 - 0.9e-3 / 20, 15);
    expect(lrAt(109, w)).toBeCloseTo(1e-4, 15);
    for (let s = 0; s < 90; s++) expect(lrAt(s, { ...w, total: 200 })).toBe(lrAt(s, w));
    expect(() => validateLrSchedule({ ...w, cooldown: 0 })).toThrow(/cooldown 0 must be in \(0, 1\]/);
  });

  it('validation names every bad field', () => {
    expect(() => validateLrSchedule({ peak: 0, warmup: 20, total: 10 })).toThrow(/peak 0 must be > 0; warmup 20 must be an integer in \[0, total = 10\]/);
  });
});

describe('ProgressBar', () => {
  it('prints periodic full lines when not on a terminal', () => {
    const out: string[] = [];
    let t = 0;
    const bar = new ProgressBar({ total: 10, write: (s) => out.push(s), every: 5, now: () => t });
    for (let s = 1; s <= 10; s++) {
      t += 2000;
      bar.update({ step: s, loss: 5 - s / 10, lr: 1e-3, tokensPerStep: 100 });
    }
    expect(out).toHaveLength(2);
    expect(out.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(out[0]).toMatch(/^step  5\/10 \[.*\]  50\.0% loss 4\.5000 lr 1\.00e-3 50 tok\/s elapsed 0m10s ETA 0m10s\n$/);
    expect(out[1]).toMatch(/100\.0% .* ETA 0m00s/);
  });

  it('rewrites one line in place on a terminal and keeps log messages on their own lines', () => {
    const out: string[] = [];
    const bar = new ProgressBar({ total: 3, write: (s) => out.push(s), tty: true, now: () => 0 });
    bar.update({ step: 1, loss: 1, tokensPerStep: 1 });
    bar.log('eval');
    bar.update({ step: 2, loss: 1, tokensPerStep: 1 });
    bar.finish();
    expect(out[0]!.startsWith('\r')).toBe(true);
    expect(out.slice(1, 3)).toEqual(['\n', 'eval\n']);
    expect(out[3]!.startsWith('\r')).toBe(true);
    expect(out[4]).toBe('\n');
  });

  it('formats durations', () => {
    expect(formatDuration(59.4)).toBe('0m59s');
    expect(formatDuration(3725)).toBe('1h02m05s');
    expect(formatDuration(NaN)).toBe('--');
  });
});

describe('metrics', () => {
  it('JSONL lines round-trip, NaN becomes null, a resumed log drops records after the resume step', () => {
    const records: MetricsRecord[] = [
      { type: 'start', step: 0 },
      { type: 'train', step: 10, loss: 5, lr: 1e-3, tokens: 160, tokens_per_sec: 100, elapsed_s: 1.6 },
      { type: 'eval', step: 10, val_loss: NaN, val_ppl: 1, baseline_loss: 2, baseline_ppl: 7.4, val_tokens: 9 },
      { type: 'train', step: 20, loss: 4, lr: 1e-3, tokens: 320, tokens_per_sec: 100, elapsed_s: 3.2 },
    ];
    const text = records.map(metricsLine).join('');
    const back = parseMetrics(text);
    expect(back[1]).toEqual(records[1]);
    expect((back[2] as { val_loss: unknown }).val_loss).toBeNull();
    expect(parseMetrics(truncateMetrics(text + '{"type":"tr', 10)).map((r) => r.step)).toEqual([0, 10, 10]);
    expect(() => parseMetrics('{"type":"x","step":1}\nnot json\n')).toThrow(/line 2/);
  });

  it('unigramCrossEntropy is the add-one smoothed frequency cross-entropy over the candidates', () => {
    // counts a:3 b:1 (c unseen), candidates {a, b, c}: p = 4/7, 2/7, 1/7
    const ce = unigramCrossEntropy([0, 0, 0, 1, 9], [0, 1, -100, 2], [0, 1, 2]);
    expect(ce).toBeCloseTo(-(Math.log(4 / 7) + Math.log(2 / 7) + Math.log(1 / 7)) / 3, 12);
    expect(() => unigramCrossEntropy([0], [5], [0, 1])).toThrow(/not among/);
  });
});

/** A small corpus of generated documents with repeated structure, so a few steps change the model. */
function writeCorpus(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const words = ['the', 'union', 'state', 'of', 'congress', 'people', 'nation', 'law', 'year', 'peace', 'trade', 'war'];
  for (let d = 0; d < 8; d++) {
    const sentences: string[] = [];
    for (let s = 0; s < 40; s++) {
      const w = Array.from({ length: 6 + ((s + d) % 5) }, (_, i) => words[(s * 7 + i * (d + 3)) % words.length]);
      sentences.push(w.join(' ') + '.');
    }
    writeFileSync(join(dir, `doc${d}.txt`), sentences.join(' '));
  }
}

describe('pretrain: exact resume', () => {
  const corpus = tmp('corpus');
  writeCorpus(corpus);
  const tiny = (arch: 'gpt2' | 'roberta', out: string): PretrainRunOptions => ({
    arch, out, corpus, vocabSize: 300, layers: 1, dModel: 16, heads: 2, ffn: 32, seq: 16, batch: 4, steps: 6, lr: 3e-3, warmup: 2,
    evalEvery: 3, saveEvery: 3, logEvery: 2, evalBlocks: 8, dropout: 0.1, validationFraction: 0.25, seed: 5, write: () => {}, tty: false,
  });
  const trainRecords = (dir: string) =>
    parseMetrics(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'))
      .filter((r) => r.type === 'train' || r.type === 'eval')
      .map((r) => ('loss' in r ? { type: r.type, step: r.step, loss: r.loss, lr: r.lr, tokens: r.tokens } : r));

  for (const arch of ['gpt2', 'roberta'] as const) {
    it(`${arch}: 6 steps equal 3 steps + --resume for 3, bit for bit`, async () => {
      const full = tmp(`${arch}-full`);
      const a = await runPretrain(tiny(arch, full));
      expect(a.complete).toBe(true);
      expect(a.step).toBe(6);
      expect(existsSync(join(full, 'training_state'))).toBe(false); // optimizer state is not left in a finished checkpoint

      const split = tmp(`${arch}-split`);
      const b1 = await runPretrain({ ...tiny(arch, split), stopAfter: 3 });
      expect(b1.complete).toBe(false);
      expect(readdirSync(join(split, 'training_state'))).toEqual(['state.safetensors']);
      expect(readFileSync(join(split, 'README.md'), 'utf8')).toContain('Stopped at step 3 of 6');
      const b2 = await runPretrain({ ...tiny(arch, split), resume: true });
      expect(b2.complete).toBe(true);

      expect(Buffer.compare(readFileSync(join(full, 'model.safetensors')), readFileSync(join(split, 'model.safetensors')))).toBe(0);
      expect(b2.valLoss).toBe(a.valLoss);
      expect(b2.tokensSeen).toBe(a.tokensSeen);
      expect(trainRecords(split)).toEqual(trainRecords(full));

      // every metrics line parses; evaluations carry the baseline; the README states the numbers
      const records = parseMetrics(readFileSync(join(full, 'metrics.jsonl'), 'utf8'));
      expect(records.filter((r) => r.type === 'eval').map((r) => r.step)).toEqual([3, 6]);
      expect(records.at(-1)!.type).toBe('final');
      const readme = readFileSync(join(full, 'README.md'), 'utf8');
      expect(readme).toContain(`wasmgrad pretrain --arch ${arch} --out ${full} --corpus ${corpus} --vocab 300`);
      expect(readme).toContain(a.baselineLoss.toFixed(4));
    }, 120_000);
  }

  it('wsd: re-planning --steps on resume before the cooldown equals a run planned that way', async () => {
    const wsd = (out: string, steps: number): PretrainRunOptions => ({ ...tiny('gpt2', out), steps, decay: 'wsd', cooldown: 0.25, evalEvery: 100, saveEvery: 100 });
    const direct = tmp('wsd-direct');
    await runPretrain(wsd(direct, 10));
    const replanned = tmp('wsd-replanned');
    await runPretrain({ ...wsd(replanned, 7), stopAfter: 3 });
    const log: string[] = [];
    await runPretrain({ ...wsd(replanned, 10), resume: true, write: (s) => log.push(s) });
    expect(log.join('')).toContain('re-planned: 7 -> 10 steps');
    expect(Buffer.compare(readFileSync(join(direct, 'model.safetensors')), readFileSync(join(replanned, 'model.safetensors')))).toBe(0);
    // once the cooldown has begun, the steps are fixed
    const late = tmp('wsd-late');
    await runPretrain({ ...wsd(late, 7), stopAfter: 6 });
    await expect(runPretrain({ ...wsd(late, 10), resume: true })).rejects.toThrow(/steps: 7 -> 10/);
  }, 120_000);

  it('--minutes stops at the budget with a resumable state, and --accumulate multiplies the tokens per step', async () => {
    const out = tmp('budget');
    const log: string[] = [];
    const r = await runPretrain({ ...tiny('gpt2', out), accumulate: 2, minutes: 1e-6, write: (s) => log.push(s) });
    expect(r.complete).toBe(false);
    expect(r.step).toBe(1);
    expect(r.tokensSeen).toBe(2 * 4 * 16);
    expect(log.join('')).toMatch(/time budget of [0-9.e-]+ minutes used up: stopping at step 1 of 6/);
    expect(readdirSync(join(out, 'training_state'))).toEqual(['state.safetensors']);
    const done = await runPretrain({ ...tiny('gpt2', out), accumulate: 2, resume: true });
    expect(done.complete).toBe(true);
    expect(done.tokensSeen).toBe(6 * 2 * 4 * 16);
  }, 120_000);

  it('--unigram-bias: RoBERTa starts at the unigram baseline; refused for GPT-2', async () => {
    const log: string[] = [];
    await runPretrain({ ...tiny('roberta', tmp('unigram-bias')), unigramBias: true, steps: 1, stopAfter: 1, lr: 1e-9, warmup: 0, write: (s) => log.push(s) });
    const m = /validation loss ([0-9.]+) .*unigram baseline ([0-9.]+)/.exec(log.join(''))!;
    expect(Math.abs(Number(m[1]) - Number(m[2]))).toBeLessThan(0.05);
    await expect(runPretrain({ ...tiny('gpt2', tmp('unigram-bias-gpt2')), unigramBias: true })).rejects.toThrow(/unigramBias applies to RoBERTa/);
  }, 120_000);

  it('F16 weights: model.safetensors stores F16, and the checkpoint loads', async () => {
    const out = tmp('f16');
    await runPretrain({ ...tiny('roberta', out), weights: 'F16' });
    const bytes = readFileSync(join(out, 'model.safetensors'));
    const header = JSON.parse(bytes.subarray(8, 8 + bytes.readUInt32LE(0)).toString('utf8')) as Record<string, { dtype?: string }>;
    expect(Object.entries(header).filter(([k]) => k !== '__metadata__').every(([, v]) => v.dtype === 'F16')).toBe(true);
    (await fromPretrained(out)).dispose();
  }, 120_000);

  it('--init continues from a checkpoint: its weights, shape and tokenizer; conflicting options are refused', async () => {
    const base = tmp('init-base');
    const b = await runPretrain(tiny('roberta', base));
    // one step at a negligible learning rate: the validation loss is the base checkpoint's, not a fresh model's
    const nudge = { steps: 1, warmup: 0, lr: 1e-9, evalEvery: 1, saveEvery: 1 };
    const cont = tmp('init-cont');
    const log: string[] = [];
    const c = await runPretrain({ ...tiny('roberta', cont), ...nudge, init: base, write: (s) => log.push(s) });
    expect(Math.abs(c.valLoss - b.valLoss)).toBeLessThan(1e-4);
    const fresh = await runPretrain({ ...tiny('roberta', tmp('init-fresh')), ...nudge, tokenizer: base });
    expect(fresh.valLoss).toBeGreaterThan(b.valLoss + 0.1);
    expect(log.join('')).toContain(`weights: from ${base}`);
    const readme = readFileSync(join(cont, 'README.md'), 'utf8');
    expect(readme).toContain(`starting from the weights of \`${base}\``);
    expect(readme).toContain(`--init ${base}`);
    // stopped and resumed, the run still names its start (the weights then come from the training state)
    const resumed = tmp('init-resumed');
    await runPretrain({ ...tiny('roberta', resumed), ...nudge, steps: 2, stopAfter: 1, init: base });
    await runPretrain({ ...tiny('roberta', resumed), ...nudge, steps: 2, init: base, resume: true });
    expect(readFileSync(join(resumed, 'README.md'), 'utf8')).toContain(`starting from the weights of \`${base}\``);
    // the shape comes from the checkpoint when not given
    const { vocabSize: _v, layers: _l, dModel: _d, heads: _h, ffn: _f, seq: _s, ...noShape } = tiny('roberta', tmp('init-noshape'));
    const n = await runPretrain({ ...noShape, ...nudge, init: base });
    expect(Math.abs(n.valLoss - b.valLoss)).toBeLessThan(1e-4);
    await expect(runPretrain({ ...tiny('roberta', tmp('init-bad')), layers: 2, ffn: 64, init: base })).rejects.toThrow(/--layers 2 \(the checkpoint has 1\), --ffn 64 \(the checkpoint has 32\); drop these options/);
    await expect(runPretrain({ ...tiny('gpt2', tmp('init-arch')), init: base })).rejects.toThrow(/model_type is "roberta", not "gpt2"/);
    await expect(runPretrain({ ...tiny('roberta', tmp('init-bias')), init: base, unigramBias: true })).rejects.toThrow(/drop it when starting from a checkpoint/);
    await expect(runPretrain({ ...tiny('roberta', tmp('init-none')), init: tmp('init-empty') })).rejects.toThrow(/no config.json there/);
  }, 120_000);

  it('refuses to resume with different options, or without a saved state', async () => {
    const out = tmp('gpt2-mismatch');
    await runPretrain({ ...tiny('gpt2', out), stopAfter: 3 });
    await expect(runPretrain({ ...tiny('gpt2', out), lr: 1e-3, resume: true })).rejects.toThrow(/lr: 0.003 -> 0.001/);
    await expect(runPretrain({ ...tiny('gpt2', tmp('empty')), resume: true })).rejects.toThrow(/no tokenizer|no training state/);
  }, 120_000);
});

describe('training pieces', () => {
  it('maskedLmLoss (LM head on the masked rows only) equals RobertaForMaskedLM.loss', () => {
    const model = new W.RobertaForMaskedLM({ vocab_size: 50, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 20, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, pad_token_id: 1 });
    const B = 2;
    const T = 8;
    const inputs = Int32Array.from({ length: B * T }, (_, i) => 5 + ((i * 7) % 40));
    const labels = Int32Array.from(inputs, (v, i) => (i % 3 === 0 ? (v + 1) % 50 : -100));
    W.tidy(() => {
      const full = model.loss(W.tensor(inputs, [B, T], { dtype: 'int32' }), W.tensor(labels, [B, T], { dtype: 'int32' })).item();
      expect(maskedLmLoss(model, inputs, labels, B, T, 'mean').item()).toBeCloseTo(full, 5);
      const n = labels.filter((l) => l !== -100).length;
      expect(maskedLmLoss(model, inputs, labels, B, T, 'sum').item()).toBeCloseTo(full * n, 3);
    });
    model.dispose();
  });

  it('Trainer: 2 accumulated micro-batches of B equal one batch of 2B', async () => {
    const make = () => new W.GPT2LMHeadModel({ vocab_size: 30, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2, n_inner: 16, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 });
    const ids = Int32Array.from({ length: 4 * 8 }, (_, i) => (i * 11) % 30);
    const run = async (k: number) => {
      const model = make();
      const opt = new W.AdamW(model.parameters(), { lr: 1e-2 });
      const rows = 4 / k;
      const trainer = new W.Trainer({
        optimizer: opt, schedule: { peak: 1e-2, warmup: 0, total: 2, decay: 'constant' }, accumulate: k,
        loss: (_s, micro) => model.loss(W.tensor(ids.subarray(micro * rows * 8, (micro + 1) * rows * 8), [rows, 8], { dtype: 'int32' })),
      });
      const info = await trainer.run(0, 2);
      const w = model.parameters().map((p) => [...p.toArray()]);
      opt.dispose();
      model.dispose();
      return { w, loss: info!.loss };
    };
    const one = await run(1);
    const two = await run(2);
    expect(two.loss).toBeCloseTo(one.loss, 5);
    one.w.forEach((p, i) => p.forEach((v, j) => expect(two.w[i]![j]).toBeCloseTo(v, 5)));
    expect(() => new W.Trainer({ optimizer: new W.SGD([W.tensor([1], [1], { requiresGrad: true })], { lr: 1 }), schedule: { peak: 1, warmup: 0, total: 1 }, loss: () => W.tensor([0]), accumulate: 0 })).toThrow(/accumulate = 0/);
  });
});

describe('committed checkpoints', () => {
  const root = join(import.meta.dirname, '..', 'examples', 'checkpoints');
  for (const [name, arch] of [['tiny-roberta', 'RobertaForMaskedLM'], ['tiny-gpt2', 'GPT2LMHeadModel'], ['small-roberta', 'RobertaForMaskedLM'], ['small-roberta-sentiment', 'RobertaForMaskedLM'], ['small-gpt2', 'GPT2LMHeadModel']] as const) {
    it(`${name} loads with fromPretrained, its tokenizer loads, and it runs`, async () => {
      const dir = join(root, name);
      expect(readdirSync(dir).sort()).toEqual(['README.md', 'config.json', 'merges.txt', 'metrics.jsonl', 'model.safetensors', 'tokenizer.json', 'vocab.json']);
      const model = await fromPretrained<W.GPT2LMHeadModel | W.RobertaForMaskedLM>(dir);
      const tok = await loadTokenizerFromDirectory(dir);
      expect(model.constructor.name).toBe(arch);
      expect(model.config.vocab_size).toBe(tok.vocabSize);
      const text = 'The state of the Union is strong.';
      const enc = model instanceof W.GPT2LMHeadModel ? tok.encodeForGpt2(text) : tok.encodeForRoberta(text);
      expect(tok.decode(enc.ids, { skipSpecialTokens: true })).toBe(text);
      W.tidy(() => {
        const ids = W.tensor(enc.ids, [1, enc.ids.length], { dtype: 'int32' });
        const { logits } = model.forward(ids);
        expect(logits.shape).toEqual([1, enc.ids.length, tok.vocabSize]);
        expect([...logits.toArray()].every(Number.isFinite)).toBe(true);
      });
      // the README's validation numbers are the final ones in metrics.jsonl, and the model beats the unigram baseline
      const final = parseMetrics(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).at(-1) as MetricsRecord & { val_loss: number; baseline_loss: number };
      expect(final.type).toBe('final');
      expect(final.val_loss).toBeLessThan(final.baseline_loss);
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain(final.val_loss.toFixed(4));
      model.dispose();
    }, 60_000);
  }
});
