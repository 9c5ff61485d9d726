/**
 * LISA and GRASS: the selectors' statistics (uniform block frequencies for LISA; GRASS's importance
 * measured from real gradients follows the block made to matter, and its draws follow
 * p = softmax(normalize(m) / tau)), and in the training loop: frozen blocks get no gradients and
 * no optimizer state, offloaded and resident optimizer state train the same bit for bit, and a run
 * stopped and resumed equals an uninterrupted one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { createReferenceBackend } from '../src/backend/reference/index.js';
import { sizeClass, type WasmBackend } from '../src/backend/wasm/index.js';
import { GrassSelector, grassProbabilities } from '../src/adapters/grass.js';
import { LisaSelector } from '../src/adapters/lisa.js';
import { splitBlocks } from '../src/adapters/layerwise.js';
import type { AdapterConfig, GrassConfig, LisaConfig } from '../src/adapters/types.js';
import type { MethodName } from '../src/adapters/registry.js';
import { RobertaForSequenceClassification } from '../src/models/roberta/index.js';
import { ClassificationBatches, evaluationBatches, type EncodedExample } from '../src/tasks/batches.js';
import { SequenceClassificationTask } from '../src/tasks/classification.js';
import { FINETUNE_DEFAULTS, runFinetune, type FinetuneConfig, type FinetuneResult } from '../src/train/finetune.js';
import type { MetricsRecord } from '../src/train/metrics.js';
import { mulberry32, wasmBackends } from './helpers.js';

const FIELDS = { modules_to_save: [] as string[], base_model_name_or_path: null, seed: 0, frozen_state: 'drop' as const, layers_pattern: '(?:^|\\.)h\\.(\\d+)\\.' };

/** `h.<i>.w` for n blocks of `size` elements each, plus an always-trained `wte`. */
function fakeTrainable(n: number, size = 4): [string, W.Tensor][] {
  return W.withBackend(createReferenceBackend(), () => [
    ['wte', W.zeros([3])],
    ...Array.from({ length: n }, (_, i) => [`h.${i}.w`, W.zeros([size])] as [string, W.Tensor]),
  ]);
}

const blocksOf = (active: ReadonlySet<string>) => [...active].filter((k) => k.startsWith('h.')).map((k) => Number(k.split('.')[1]));

describe('LISA selector', () => {
  it('draws gamma distinct blocks every T_s steps, each block equally often, and always trains the rest', () => {
    const n = 6;
    const gamma = 2;
    const c: LisaConfig = { peft_type: 'LISA', ...FIELDS, gamma, switch_interval: 5 };
    const sel = new LisaSelector(c, n);
    const trainable = fakeTrainable(n);
    const counts = new Array<number>(n).fill(0);
    const switches = 3000;
    for (let s = 0; s < switches; s++) {
      const first = sel.activeAt(s * 5, trainable);
      expect(first.has('wte')).toBe(true);
      const blocks = blocksOf(first);
      expect(new Set(blocks).size).toBe(gamma);
      for (let k = 1; k < 5; k++) expect(blocksOf(sel.activeAt(s * 5 + k, trainable))).toEqual(blocks); // no redraw inside an interval
      for (const b of blocks) counts[b]++;
    }
    // Each block is active with probability gamma / n = 1/3: 1000 of 3000, binomial std 25.8; allow 4 std.
    for (const k of counts) expect(Math.abs(k - (switches * gamma) / n)).toBeLessThan(4 * Math.sqrt(switches * (1 / 3) * (2 / 3)));
  });

  it('its state and generator restore the same draws', () => {
    const c: LisaConfig = { peft_type: 'LISA', ...FIELDS, gamma: 1, switch_interval: 2 };
    const trainable = fakeTrainable(5);
    const a = new LisaSelector(c, 5);
    for (let s = 0; s < 7; s++) a.activeAt(s, trainable);
    const b = new LisaSelector(c, 5);
    b.setState(JSON.parse(JSON.stringify(a.state())));
    b.generator.setState(a.generator.state());
    for (let s = 7; s < 40; s++) expect([...b.activeAt(s, trainable)]).toEqual([...a.activeAt(s, trainable)]);
  });
});

describe('GRASS selector', () => {
  const config = (over: Partial<GrassConfig> = {}): GrassConfig => ({
    peft_type: 'GRASS', ...FIELDS, gamma: 1, switch_interval: 1, probe_steps: 5, update_interval: 2, alpha: 0.5, tau: 0.5,
    normalization: 'max', static: false, ...over,
  });

  /**
   * Four blocks h.i.w (8 elements) with loss sum_i c_i <w_i, x>: the gradient of block i is c_i x,
   * computed by autograd, so block i's gradient RMS is c_i rms(x). Block 2 is made to matter (c = 8).
   */
  function probe(sel: GrassSelector, c: number[], steps: number, probeIndex: boolean, first = 0) {
    W.withBackend(createReferenceBackend({ dtype: 'float64' }), () => {
      const ws = c.map(() => W.keep(W.zeros([8], { requiresGrad: true })));
      const named = ws.map((w, i) => [`h.${i}.w`, w] as [string, W.Tensor]);
      if (probeIndex) sel.probeKeys(named);
      else sel.activeAt(first, named);
      const u = mulberry32(7);
      for (let s = 0; s < steps; s++) {
        const x = W.tensor(Array.from({ length: 8 }, () => u() - 0.5), [8]);
        W.tidy(() => ws.map((w, i) => w.mul(x).sum().mul(c[i])).reduce((a, b) => a.add(b)).backward());
        const sq = (k: string) => {
          const g = named.find(([n]) => n === k)![1].grad;
          return g ? Array.from(g.toArray()).reduce((a, v) => a + v * v, 0) : 0;
        };
        sel.observe(first + s, sq, probeIndex ? s : null);
        for (const w of ws) (w.grad?.dispose(), (w.grad = null));
        x.dispose();
      }
    });
  }

  it('the probe measures each block\'s gradient RMS; the block that matters gets the highest probability', () => {
    const sel = new GrassSelector(config(), 4);
    probe(sel, [1, 1, 8, 2], 5, true);
    const m = sel.importance()!;
    expect(m[2] / m[0]).toBeCloseTo(8, 10);
    expect(m[3] / m[1]).toBeCloseTo(2, 10);
    const p = sel.probabilities()!;
    expect(p).toEqual(grassProbabilities(m, { normalization: 'max', tau: 0.5 }));
    // normalize by max: [1/8, 1/8, 1, 1/4] / 0.5 -> softmax
    const z = [0.25, 0.25, 2, 0.5].map(Math.exp);
    p.forEach((x, i) => expect(x).toBeCloseTo(z[i] / z.reduce((a, b) => a + b), 12));
    expect(p.indexOf(Math.max(...p))).toBe(2);
  });

  it('draws follow p: block frequencies over many switches match the probabilities', () => {
    const sel = new GrassSelector(config({ static: true }), 4);
    probe(sel, [1, 1, 8, 2], 5, true);
    const p = sel.probabilities()!;
    const trainable = fakeTrainable(4, 8);
    const counts = [0, 0, 0, 0];
    const n = 4000;
    for (let s = 1; s <= n; s++) counts[blocksOf(sel.activeAt(s, trainable))[0]]++;
    counts.forEach((k, i) => expect(Math.abs(k - n * p[i])).toBeLessThan(4 * Math.sqrt(n * p[i] * (1 - p[i]))));
  });

  it('every T_u steps the active blocks\' m moves by the EMA; frozen blocks and the static variant keep theirs', () => {
    for (const isStatic of [false, true]) {
      const sel = new GrassSelector(config({ static: isStatic, switch_interval: 100 }), 4);
      probe(sel, [1, 1, 8, 2], 5, true);
      const before = [...sel.importance()!];
      const trainable = fakeTrainable(4, 8);
      const active = blocksOf(sel.activeAt(0, trainable))[0];
      // two training steps (a refresh at the second) where every block's gradient is 3x bigger
      probe(sel, [3, 3, 24, 6], 2, false, 0);
      const after = sel.importance()!;
      for (let i = 0; i < 4; i++) {
        if (isStatic || i !== active) expect(after[i]).toBe(before[i]);
        else expect(after[i]).toBeGreaterThan(before[i]); // 0.5 m + 0.5 (about 3 m)
      }
    }
  });
});

// --- in the training loop: a 2-layer RoBERTa classifier on a synthetic task (label: does token 7 occur) ---

const CONFIG = {
  vocab_size: 24, hidden_size: 16, num_hidden_layers: 3, num_attention_heads: 2, intermediate_size: 32,
  max_position_embeddings: 20, num_labels: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, initializer_range: 0.2,
};
const PAD = 1;
function examples(n: number, seed: number): EncodedExample[] {
  const u = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = 3 + Math.floor(u() * 8);
    const content = Array.from({ length: len }, () => 3 + Math.floor(u() * 21)).map((t) => (t === 7 ? 8 : t));
    if (i % 2 === 1) content[Math.floor(u() * len)] = 7;
    return { ids: [0, ...content, 2], label: i % 2 };
  });
}
const TRAIN = examples(48, 11);
const VALIDATION = examples(16, 12);
const TOTAL = 24; // 4 epochs of 6 batches

function options(method: MethodName, adapter: Partial<AdapterConfig>, over: Partial<FinetuneConfig> = {}) {
  const config: FinetuneConfig = { ...FINETUNE_DEFAULTS, epochs: 4, batchSize: 8, lr: 2e-3, maxLength: 18, seed: 0, ...over };
  return {
    model: new RobertaForSequenceClassification(CONFIG, { generator: new W.Generator(1) }),
    method, adapter, config,
    task: new SequenceClassificationTask({ name: 'synthetic', train: TRAIN, validation: VALIDATION, padId: PAD, metric: 'accuracy' }),
    train: new ClassificationBatches(TRAIN, { batchSize: config.batchSize, padId: PAD, seed: config.seed }),
    validation: () => evaluationBatches(VALIDATION, { batchSize: 16, padId: PAD }),
  };
}

const values = (r: { adapted: W.AdaptedModel }) => new Map(r.adapted.namedTrainable().map(([k, t]) => [k, Array.from(t.toArray())]));
function expectSame(got: Map<string, number[]>, want: Map<string, number[]>) {
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [k, w] of want) {
    const g = got.get(k)!;
    const i = w.findIndex((v, j) => !Object.is(v, g[j]));
    expect(i, `${k}[${i}]: ${g[i]} vs ${w[i]}`).toBe(-1);
  }
}
const done = (...rs: { adapted: W.AdaptedModel }[]) => rs.forEach((r) => (r.adapted.remove(), r.adapted.base.dispose()));

let wasm: WasmBackend;
beforeAll(() => {
  wasm = wasmBackends()[0]!;
  W.setBackend(wasm);
});

describe('layer-wise methods in the training loop', () => {
  const BLOCK = '(?:^|\\.)layer\\.(\\d+)\\.';

  it('lisa: after every step the heap holds optimizer state only for the always-trained tensors and the active block', async () => {
    for (const frozen_state of ['drop', 'keep'] as const) {
      const o = options('lisa', { gamma: 1, switch_interval: 3, frozen_state });
      const named = o.model.namedParameters();
      const { blocks, always } = splitBlocks(named, BLOCK);
      const bytes = (names: Iterable<string>) => [...names].reduce((n, k) => n + 2 * sizeClass(named.find(([m]) => m === k)![1].size * 4), 0);
      const everActive = new Set<number>();
      const seen: number[] = [];
      const r = await runFinetune({
        ...o,
        onStep: () => {
          const active = blocks.findIndex((b) => named.find(([k]) => k === b.keys[0])![1].requiresGrad);
          expect(blocks.filter((b) => named.find(([k]) => k === b.keys[0])![1].requiresGrad)).toHaveLength(1);
          everActive.add(active);
          seen.push(active);
          const held = frozen_state === 'drop' ? [active] : [...everActive];
          expect(wasm.allocator.ledger.liveBreakdown().optimizer).toBe(bytes([...always, ...held.flatMap((i) => blocks[i].keys)]));
        },
      });
      expect(new Set(seen).size).toBeGreaterThan(1); // it did switch
      // the run's selection history (the report's heatmap) says the same block for every step, drawn uniformly
      const sel = r.selection!;
      expect(sel.blocks).toBe(blocks.length);
      expect(sel.steps).toBe(seen.length);
      seen.forEach((b, step) => {
        const point = sel.points.filter((p) => p.step <= step).at(-1)!;
        expect(point.active, `step ${step}`).toEqual([b]);
        expect(point.probabilities).toEqual(blocks.map(() => 1 / blocks.length));
      });
      // the peak's gradients never include a frozen block
      expect(r.peakMemory.gradients).toBeLessThanOrEqual(bytes([...always, ...blocks[0].keys]) / 2);
      done(r);
    }
  });

  it('grass: gradients reach only the active blocks (the selector sees none for frozen ones); select records carry p', async () => {
    const observe = GrassSelector.prototype.observe;
    const frozenSums: number[] = [];
    const activeSums: number[] = [];
    GrassSelector.prototype.observe = function (this: GrassSelector, step, sq, probe) {
      if (probe === null) {
        const active = new Set(this.activeBlocks());
        for (let b = 0; b < 3; b++) {
          const s = sq(`base_model.model.roberta.encoder.layer.${b}.attention.self.query.weight`);
          (active.has(b) ? activeSums : frozenSums).push(s);
        }
      }
      observe.call(this, step, sq, probe);
    };
    const records: MetricsRecord[] = [];
    let sel: FinetuneResult['selection'];
    try {
      const r = await runFinetune({ ...options('grass', { gamma: 1, switch_interval: 4, probe_steps: 3 }), onRecord: (rec) => void records.push(rec) });
      sel = r.selection;
      done(r);
    } finally {
      GrassSelector.prototype.observe = observe;
    }
    expect(frozenSums.length).toBe(2 * TOTAL);
    expect(frozenSums.every((s) => s === 0)).toBe(true);
    expect(activeSums.every((s) => s > 0)).toBe(true);
    const selects = records.filter((r) => r.type === 'select') as unknown as { probabilities: number[]; active_blocks: number[] }[];
    expect(selects.length).toBeGreaterThanOrEqual(1);
    for (const s of selects) {
      expect(s.probabilities.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
      expect(s.active_blocks).toHaveLength(1);
    }
    // the selection history keeps each draw's probabilities (they sum to 1) and its active block
    expect(sel!.points.length).toBeGreaterThanOrEqual(selects.length);
    for (const p of sel!.points) {
      expect(p.probabilities.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
      expect(p.active).toHaveLength(1);
    }
  });

  for (const [method, adapter] of [
    ['full', {}],
    ['lisa', { gamma: 1, switch_interval: 3 }],
    ['grass', { gamma: 2, switch_interval: 3, probe_steps: 2, update_interval: 2, frozen_state: 'keep' }],
  ] as const) {
    it(`${method}: offloaded optimizer state trains bit for bit like resident state, holding one unit's moments in the heap`, async () => {
      const a = await runFinetune(options(method, adapter));
      const o = options(method, adapter, { offloadOptimizer: true });
      const named = o.model.namedParameters();
      const { blocks } = splitBlocks(named, BLOCK);
      const b = await runFinetune(o);
      expectSame(values(b), values(a));
      // units: single tensors for full fine-tuning; blocks for the selectors (bigger tensors go in block-sized pieces)
      const unit = method === 'full' ? Math.max(...named.map(([, t]) => t.size)) : Math.max(...blocks.map((x) => x.size));
      expect(b.peakMemory.optimizer).toBe(2 * sizeClass(unit * 4));
      expect(a.peakMemory.optimizer).toBeGreaterThan(b.peakMemory.optimizer);
      expect(b.offloadedOptimizerBytes).toBeGreaterThan(0);
      done(a, b);
    });
  }

  for (const [method, adapter, offload] of [
    ['lisa', { gamma: 1, switch_interval: 3 }, false],
    ['grass', { gamma: 1, switch_interval: 3, probe_steps: 3, update_interval: 2 }, false],
    ['grass', { gamma: 2, switch_interval: 4, probe_steps: 2, update_interval: 3, frozen_state: 'keep' }, true],
  ] as const) {
    it(`${method}${offload ? ' (offloaded)' : ''}: a run stopped at step 5 and resumed equals the uninterrupted run bit for bit`, async () => {
      class Stop extends Error {}
      const cfg = { offloadOptimizer: offload };
      const a = await runFinetune(options(method, adapter, cfg));
      let saved: Uint8Array | null = null;
      const ob = options(method, adapter, cfg);
      await expect(runFinetune({ ...ob, checkpointEvery: 5, onCheckpoint: (bytes) => { saved = bytes.slice(); throw new Stop(); } })).rejects.toBeInstanceOf(Stop);
      ob.model.dispose();
      const c = await runFinetune({ ...options(method, adapter, cfg), resumeFrom: saved });
      expectSame(values(c), values(a));
      expect(c.final.loss).toBe(a.final.loss);
      done(a, c);
    });
  }

  it('rejects a model with fewer than two blocks and a bad field, naming it', () => {
    const m = new RobertaForSequenceClassification({ ...CONFIG, num_hidden_layers: 1 });
    expect(() => W.applyAdapter(m, { peft_type: 'LISA' })).toThrow(/finds 1 block\(s\).*at least 2/);
    m.dispose();
    const m3 = new RobertaForSequenceClassification(CONFIG);
    expect(() => W.applyAdapter(m3, { peft_type: 'GRASS', tau: 0 })).toThrow(/GRASS: tau = 0 must be a number > 0/);
    expect(() => W.applyAdapter(m3, { peft_type: 'LISA', gamma: 4 })).toThrow(/LISA: gamma = 4 must be an integer >= 1 and <= 3/);
    expect(() => W.applyAdapter(m3, { peft_type: 'GRASS', normalization: 'l2' } as never)).toThrow(/normalization must be one of max, sum, zscore, none/);
    m3.dispose();
  });
});
