/**
 * Probes and baselines: L2 logistic regression reaches its optimum (zero gradient), dense and
 * binary designs agree, folds are stratified, pooled features match the models' own forward
 * passes, and the bag-of-words baseline separates a separable task.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { bagOfWordsBaseline, words } from '../src/train/bow.js';
import { BinaryDesign, DenseDesign, fitLogistic, predictLogistic } from '../src/train/logistic.js';
import { layerPooledFeatures, linearProbe, pooledFeatures, standardize, stratifiedFolds } from '../src/train/probe.js';
import { parseProbeLayers } from '../src/cli/probe.js';
import { trainByteLevelBPE } from '../src/tokenizer/train.js';
import { mulberry32 } from './helpers.js';

beforeAll(async () => {
  try {
    W.getBackend();
  } catch {
    await W.init();
  }
});

/** Gradient of (1/2)|w|^2 + C sum softplus(-s (x.w + b)) at (w, b), computed directly. */
function objectiveGrad(X: number[][], y: number[], w: Float64Array, b: number, C: number): number[] {
  const g = [...w, 0];
  X.forEach((x, i) => {
    const s = y[i] === 1 ? 1 : -1;
    const m = s * (x.reduce((a, v, j) => a + v * w[j]!, 0) + b);
    const coef = -C * s / (1 + Math.exp(m));
    x.forEach((v, j) => (g[j]! += coef * v));
    g[x.length]! += coef;
  });
  return g;
}

describe('logistic regression', () => {
  const rand = mulberry32(7);
  const n = 120;
  const d = 6;
  const X = Array.from({ length: n }, () => Array.from({ length: d }, () => (rand() < 0.3 ? 1 : 0)));
  const y = X.map((x) => (x[0]! + x[1]! - x[2]! + (rand() - 0.5) > 0.5 ? 1 : 0));

  it('reaches the optimum: the gradient vanishes, for every C', () => {
    for (const C of [0.01, 1, 100]) {
      const m = fitLogistic(new DenseDesign(Float64Array.from(X.flat()), n, d), y, { C, tol: 1e-10, maxIter: 2000 });
      const g = objectiveGrad(X, y, m.w, m.b, C);
      expect(Math.max(...g.map(Math.abs))).toBeLessThan(1e-5 * Math.max(1, C));
    }
  });

  it('dense and binary designs of the same matrix give the same model', () => {
    const a = fitLogistic(new DenseDesign(Float64Array.from(X.flat()), n, d), y, { C: 0.5 });
    const b = fitLogistic(new BinaryDesign(X.map((x) => x.flatMap((v, j) => (v ? [j] : []))), d), y, { C: 0.5 });
    a.w.forEach((v, j) => expect(b.w[j]).toBeCloseTo(v, 5));
    expect(b.b).toBeCloseTo(a.b, 5);
    expect([...predictLogistic(new BinaryDesign([[0, 1], [2]], d), b)]).toEqual([1, 0]);
  });

  it('rejects bad labels and C', () => {
    const X1 = new DenseDesign(Float64Array.from([1, 2]), 2, 1);
    expect(() => fitLogistic(X1, [0, 2])).toThrow(/label 2 at 1 must be 0 or 1/);
    expect(() => fitLogistic(X1, [0, 1], { C: 0 })).toThrow(/C = 0 must be > 0/);
  });
});

describe('probe helpers', () => {
  it('stratifiedFolds deal each class evenly over the folds', () => {
    const labels = [...Array(23).fill(0), ...Array(17).fill(1)];
    const f = stratifiedFolds(labels, 5, 3);
    for (let k = 0; k < 5; k++) {
      const zeros = labels.filter((l, i) => l === 0 && f[i] === k).length;
      const ones = labels.filter((l, i) => l === 1 && f[i] === k).length;
      expect(zeros).toBeGreaterThanOrEqual(4);
      expect(zeros).toBeLessThanOrEqual(5);
      expect(ones).toBeGreaterThanOrEqual(3);
      expect(ones).toBeLessThanOrEqual(4);
    }
  });

  it('standardize uses the fitting rows statistics for every matrix', () => {
    const a = Float64Array.from([1, 10, 3, 10]); // 2 rows x 2 cols; column 2 is constant
    const b = Float64Array.from([5, 11]);
    standardize(a, [b], 2);
    expect([...a]).toEqual([-1, 0, 1, 0]);
    expect([...b]).toEqual([3, 1]);
  });

  it('words: lowercased letters and digits, inner apostrophes kept', () => {
    expect(words("Don't STOP, it's 2 good!")).toEqual(["don't", 'stop', "it's", '2', 'good']);
  });

  it('bag of words separates a task decided by one word', () => {
    const mk = (i: number) => ({ text: `${i % 2 ? 'great' : 'awful'} movie number ${i}`, label: i % 2 });
    const r = bagOfWordsBaseline(Array.from({ length: 60 }, (_, i) => mk(i)), Array.from({ length: 20 }, (_, i) => mk(i + 100)), { folds: 3 });
    expect(r.accuracy).toBe(1);
    expect(r.cv).toHaveLength(4);
  });
});

describe('pooled features', () => {
  const texts = ['the cat sat on the mat', 'a dog', 'the mat sat on a dog and a cat'];
  const tok = (specials: string[]) => trainByteLevelBPE(texts, { vocabSize: 300, specialTokens: specials });

  it('RoBERTa: mean and <s> pooling equal the encoder output of each text alone (batching and padding change nothing)', () => {
    const t = tok(['<s>', '<pad>', '</s>', '<unk>', '<mask>']);
    const model = new W.RobertaForMaskedLM({ vocab_size: t.vocabSize, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 40, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, pad_token_id: 1 });
    const f = pooledFeatures(model, t, texts, ['mean', 'first'], { batch: 2 });
    texts.forEach((text, i) => {
      const ids = t.encodeForRoberta(text).ids;
      const h = W.tidy(() => model.roberta.forward(W.tensor(ids, [1, ids.length], { dtype: 'int32' })).toArray());
      for (let c = 0; c < 16; c++) {
        let mean = 0;
        for (let k = 0; k < ids.length; k++) mean += h[k * 16 + c]! / ids.length;
        expect(f.get('mean')![i * 16 + c]).toBeCloseTo(mean, 4);
        expect(f.get('first')![i * 16 + c]).toBeCloseTo(h[c]!, 4);
      }
    });
    model.dispose();
  });

  it("GPT-2: the replayed trunk's last state times wte^T equals the model's own logits", () => {
    const t = tok(['<|endoftext|>']);
    const model = new W.GPT2LMHeadModel({ vocab_size: t.vocabSize, n_positions: 32, n_embd: 16, n_layer: 2, n_head: 2, n_inner: 32, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 });
    const f = pooledFeatures(model, t, texts, ['last'], { batch: 3 });
    const wte = model.transformer.wte.weight.toArray();
    texts.forEach((text, i) => {
      const ids = t.encodeForGpt2(text).ids;
      const logits = W.tidy(() => model.forward(W.tensor(ids, [1, ids.length], { dtype: 'int32' })).logits.toArray());
      const T = ids.length;
      for (const v of [0, 5, 100]) {
        let dot = 0;
        for (let c = 0; c < 16; c++) dot += f.get('last')![i * 16 + c]! * wte[v * 16 + c]!;
        expect(dot).toBeCloseTo(logits[(T - 1) * t.vocabSize + v]!, 4);
      }
    });
    model.dispose();
  });

  it('hidden states: RoBERTa entry 0 is the embeddings, the last equals forward; GPT-2 the last equals forward (after ln_f)', () => {
    const t = tok(['<s>', '<pad>', '</s>', '<unk>', '<mask>']);
    const model = new W.RobertaForMaskedLM({ vocab_size: t.vocabSize, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 40, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, pad_token_id: 1 });
    const ids = W.tensor(t.encodeForRoberta(texts[2]!).ids, [1, t.encodeForRoberta(texts[2]!).ids.length], { dtype: 'int32' });
    W.tidy(() => {
      const hs = model.roberta.hiddenStates(ids);
      expect(hs).toHaveLength(3);
      expect(hs[0]!.toArray()).toEqual(model.roberta.embeddings.forward(ids).toArray());
      expect(hs[1]!.toArray()).not.toEqual(hs[2]!.toArray());
      expect(hs[2]!.toArray()).toEqual(model.roberta.forward(ids).toArray());
    });
    const g = tok(['<|endoftext|>']);
    const gpt = new W.GPT2LMHeadModel({ vocab_size: g.vocabSize, n_positions: 32, n_embd: 16, n_layer: 2, n_head: 2, n_inner: 32, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 });
    const gids = W.tensor(g.encodeForGpt2(texts[0]!).ids, [1, g.encodeForGpt2(texts[0]!).ids.length], { dtype: 'int32' });
    W.tidy(() => {
      const hs = gpt.transformer.hiddenStates(gids);
      expect(hs).toHaveLength(3);
      expect(hs[2]!.toArray()).toEqual(gpt.transformer.forward(gids).hidden.toArray());
    });
    expect(() => pooledFeatures(model, t, texts, ['mean'], { layers: [3] })).toThrow(/layers 3 must be integers 0\.\.2/);
    ids.dispose();
    gids.dispose();
    model.dispose();
    gpt.dispose();
  });

  it('layered features: layer L equals the default, layer 0 is the mean of the embeddings; linearProbe gives a row per layer and pooling', () => {
    const t = tok(['<s>', '<pad>', '</s>', '<unk>', '<mask>']);
    const model = new W.RobertaForMaskedLM({ vocab_size: t.vocabSize, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 40, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, pad_token_id: 1 });
    const byLayer = layerPooledFeatures(model, t, texts, ['mean'], { layers: [0, 2], batch: 2 });
    expect([...byLayer.get(2)!.get('mean')!]).toEqual([...pooledFeatures(model, t, texts, ['mean'], { batch: 2 }).get('mean')!]);
    texts.forEach((text, i) => {
      const ids = t.encodeForRoberta(text).ids;
      const e = W.tidy(() => model.roberta.embeddings.forward(W.tensor(ids, [1, ids.length], { dtype: 'int32' })).toArray());
      for (let c = 0; c < 8; c++) {
        let mean = 0;
        for (let k = 0; k < ids.length; k++) mean += e[k * 8 + c]! / ids.length;
        expect(byLayer.get(0)!.get('mean')![i * 8 + c]).toBeCloseTo(mean, 4);
      }
    });
    const ex = (i: number) => ({ text: i % 2 ? 'the cat sat' : 'a dog', label: i % 2 });
    const rows = linearProbe(model, t, Array.from({ length: 20 }, (_, i) => ex(i)), Array.from({ length: 6 }, (_, i) => ex(i)), ['mean', 'first'], { folds: 2, layers: [0, 1, 2] });
    expect(rows.map((r) => `${r.layer}:${r.pooling}`)).toEqual(['0:mean', '0:first', '1:mean', '1:first', '2:mean', '2:first']);
    model.dispose();
  });

  it('--layers parses last, all and lists, and names the range on bad input', () => {
    expect(parseProbeLayers('last', 4)).toEqual([4]);
    expect(parseProbeLayers('all', 2)).toEqual([0, 1, 2]);
    expect(parseProbeLayers('0, 2,2', 4)).toEqual([0, 2]);
    expect(() => parseProbeLayers('5', 4)).toThrow(/--layers 5: use last, all, or a comma-separated list of 0\.\.4/);
    expect(() => parseProbeLayers('-1', 4)).toThrow(/0\.\.4/);
    expect(() => parseProbeLayers('first', 4)).toThrow(/--layers first/);
  });

  it('linearProbe reports one row per pooling with a held-out accuracy', () => {
    const t = tok(['<s>', '<pad>', '</s>', '<unk>', '<mask>']);
    const model = new W.RobertaForMaskedLM({ vocab_size: t.vocabSize, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 40, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, pad_token_id: 1 });
    const ex = (i: number) => ({ text: i % 2 ? 'the cat sat' : 'a dog', label: i % 2 });
    const rows = linearProbe(model, t, Array.from({ length: 20 }, (_, i) => ex(i)), Array.from({ length: 6 }, (_, i) => ex(i)), ['mean', 'first'], { folds: 2 });
    expect(rows.map((r) => r.pooling)).toEqual(['mean', 'first']);
    expect(rows[0]!.accuracy).toBe(1); // two distinct texts: linearly separable
    expect(rows[0]!.features).toBe(8);
    model.dispose();
  });
});
