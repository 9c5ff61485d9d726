/**
 * NaN and Inf: the Trainer checks the loss and the global gradient norm before the update and never
 * applies a non-finite one, naming the parameters (src/train/finite.ts); `detectAnomaly` names the op,
 * its input shapes and the module it ran in (src/autograd/anomaly.ts, src/nn/anomaly.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { Linear, Module, parameter } from '../src/nn/index.js';

/** x -> inner.forward(x) -> sum(sqrt(.)): sqrt'(0) = Inf. */
class Root extends Module {
  readonly inner: Inner;
  constructor() {
    super();
    this.inner = new Inner();
  }
  forward(x: W.Tensor): W.Tensor {
    return W.sum(this.inner.forward(x));
  }
}

class Inner extends Module {
  readonly w: W.Tensor;
  constructor() {
    super();
    this.w = parameter(W.tensor([0, 1, 4], [3]));
  }
  forward(x: W.Tensor): W.Tensor {
    return W.sqrt(W.mul(this.w, x));
  }
}

/** A two-layer MLP and a fixed batch. */
class Mlp extends Module {
  readonly a = new Linear(4, 8, { generator: new W.Generator(1), std: 0.5 });
  readonly b = new Linear(8, 2, { generator: new W.Generator(2), std: 0.5 });
  forward(x: W.Tensor): W.Tensor {
    return this.b.forward(W.tanh(this.a.forward(x)));
  }
}

const values = (m: Module) => m.namedParameters().map(([n, p]) => [n, Array.from(p.toArray())] as const);

function trainer(m: Module, loss: () => W.Tensor, clipNorm = 1) {
  const opt = new W.AdamW(m.parameters(), { lr: 0.1, weightDecay: 0 });
  const t = new W.Trainer({
    optimizer: opt, schedule: { peak: 0.1, warmup: 0, total: 3, decay: 'linear', minRatio: 0 }, clipNorm,
    loss: () => loss(), namedParameters: () => m.namedParameters(),
  });
  return { t, opt };
}

afterEach(() => W.detectAnomaly(false));

describe('the Trainer refuses a non-finite step before the update', () => {
  it('a NaN in one weight: the loss is NaN, every weight stays as it was, the error names the weight', async () => {
    const m = new Mlp();
    W.noGrad(() => m.a.weight.backend.write(m.a.weight.buf, Float32Array.from(m.a.weight.toArray(), (v, i) => (i === 5 ? NaN : v))));
    const before = values(m);
    const x = W.keep(W.tensor([[1, 2, 3, 4], [0.5, -1, 0, 2]]));
    const y = W.keep(W.tensor([0, 1], [2], { dtype: 'int32' }));
    const { t, opt } = trainer(m, () => W.crossEntropy(m.forward(x), y));
    const err = await t.run(0, 3).catch((e: Error) => e);
    expect(err).toBeInstanceOf(W.NonFiniteStepError);
    const e = err as W.NonFiniteStepError;
    expect(e.message).toMatch(/^step 1: the loss is NaN and the gradients of 4 parameter\(s\) are not finite: a\.weight \(NaN\), a\.bias \(NaN\), b\.weight \(NaN\), b\.bias \(NaN\)/);
    expect(e.message).toMatch(/no update was applied/);
    expect(e.message).toMatch(/The weights already hold non-finite values: a\.weight \(NaN\)/);
    expect(e.weights).toEqual([{ name: 'a.weight', kind: 'NaN' }]);
    expect(values(m)).toEqual(before);
    expect(opt.stepCount).toBe(0);
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
    opt.dispose();
    W.dispose([x, y]);
    m.dispose();
  });

  it('an Inf gradient from sqrt(0) with a finite loss: the weights stay, the error names the parameter and suggests causes in order', async () => {
    for (const clip of [1, 0]) {
      const m = new Root();
      const x = W.keep(W.tensor([1, 1, 1], [3]));
      const before = values(m);
      const { t, opt } = trainer(m, () => m.forward(x), clip);
      const err = (await t.run(0, 3).catch((e: Error) => e)) as W.NonFiniteStepError;
      expect(err).toBeInstanceOf(W.NonFiniteStepError);
      expect(err.gradients).toEqual([{ name: 'inner.w', kind: 'Inf' }]);
      expect(err.message).toMatch(/^step 1: the gradients of 1 parameter\(s\) are not finite: inner\.w \(Inf\)/);
      const m1 = err.message.indexOf('bad input data');
      const m2 = err.message.indexOf('non-finite weight in the checkpoint');
      const m3 = err.message.indexOf('learning rate too high');
      expect(m1 >= 0 && m1 < m2 && m2 < m3).toBe(true);
      expect(err.message).toMatch(/--detect-anomaly/);
      expect(values(m)).toEqual(before);
      opt.dispose();
      x.dispose();
      m.dispose();
    }
  });

  it('afterBackward reads the raw gradients before the finite check and clipping; a non-finite step still applies nothing', async () => {
    // Finite: the hook sees the unclipped norm, larger than the clip threshold the update then uses.
    const m = new Mlp();
    const x = W.keep(W.tensor([[10, 20, 30, 40], [5, -10, 0, 20]]));
    const y = W.keep(W.tensor([0, 1], [2], { dtype: 'int32' }));
    const opt = new W.AdamW(m.parameters(), { lr: 0.1, weightDecay: 0 });
    const seen: number[] = [];
    const rawNorm = () => Math.sqrt(m.parameters().reduce((n, p) => n + (p.grad ? p.grad.backend.sumSquares(p.grad.buf, p.grad.size) : 0), 0));
    const t = new W.Trainer({
      optimizer: opt, schedule: { peak: 0.1, warmup: 0, total: 1, decay: 'linear', minRatio: 0 }, clipNorm: 1e-3,
      loss: () => W.crossEntropy(m.forward(x), y), namedParameters: () => m.namedParameters(),
      afterBackward: () => void seen.push(rawNorm()),
    });
    const info = await t.run(0, 1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeGreaterThan(1e-3);
    expect(info!.gradNorm).toBeCloseTo(seen[0], 4); // the norm before clipping, as the hook saw it
    opt.dispose();
    // Non-finite: the hook runs (it sees the Inf), then the step is refused and nothing is applied.
    const r = new Root();
    const ones = W.keep(W.tensor([1, 1, 1], [3]));
    const before = values(r);
    const opt2 = new W.AdamW(r.parameters(), { lr: 0.1, weightDecay: 0 });
    const hooked: number[] = [];
    const t2 = new W.Trainer({
      optimizer: opt2, schedule: { peak: 0.1, warmup: 0, total: 1, decay: 'linear', minRatio: 0 },
      loss: () => r.forward(ones), namedParameters: () => r.namedParameters(),
      afterBackward: () => void hooked.push(r.inner.w.grad!.toArray()[0]),
    });
    expect(await t2.run(0, 1).catch((e: Error) => e)).toBeInstanceOf(W.NonFiniteStepError);
    expect(hooked).toEqual([Infinity]);
    expect(values(r)).toEqual(before);
    expect(opt2.stepCount).toBe(0);
    expect(r.parameters().every((p) => p.grad === null)).toBe(true);
    opt2.dispose();
    W.dispose([x, y, ones]);
    m.dispose();
    r.dispose();
  });

  it('finite steps still train, and the reported norm is the one clipping used', async () => {
    const m = new Mlp();
    const x = W.keep(W.tensor([[1, 2, 3, 4], [0.5, -1, 0, 2]]));
    const y = W.keep(W.tensor([0, 1], [2], { dtype: 'int32' }));
    const { t, opt } = trainer(m, () => W.crossEntropy(m.forward(x), y));
    const before = values(m);
    const info = await t.run(0, 3);
    expect(info!.gradNorm).toBeGreaterThan(0);
    expect(values(m)).not.toEqual(before);
    opt.dispose();
    W.dispose([x, y]);
    m.dispose();
  });
});

describe('detectAnomaly', () => {
  it('names the op, its input shapes and the module of an Inf gradient (sqrt at 0), in backward', () => {
    const m = new Root();
    const x = W.tensor([1, 1, 1], [3]);
    W.detectAnomaly(true, { model: m });
    const err = W.tidy(() => {
      try {
        m.forward(x).backward();
        return null;
      } catch (e) {
        return e as W.AnomalyError;
      }
    });
    expect(err).toBeInstanceOf(W.AnomalyError);
    expect(err!).toMatchObject({ op: 'sqrt', phase: 'backward', module: 'inner', inputShapes: [[3]] });
    expect(err!.message).toMatch(/^anomaly: sqrt backward produced Inf in the gradient of input 0 \[3\] in module inner \(inputs \[3\]\) from a finite incoming gradient; likely causes, in order: \(1\) bad input data/);
    m.inner.w.grad?.dispose();
    m.inner.w.grad = null;
    x.dispose();
    m.dispose();
  });

  it('names the weight that holds a NaN, in forward, and the module the op ran in', () => {
    const m = new Mlp();
    W.noGrad(() => m.b.weight.backend.write(m.b.weight.buf, Float32Array.from(m.b.weight.toArray(), (v, i) => (i === 0 ? NaN : v))));
    W.detectAnomaly(true, { model: m });
    const x = W.tensor([[1, 2, 3, 4]]);
    let err: W.AnomalyError | null = null;
    W.tidy(() => {
      try {
        m.forward(x);
      } catch (e) {
        err = e as W.AnomalyError;
      }
    });
    expect(err).toBeInstanceOf(W.AnomalyError);
    expect(err!.module).toBe('b');
    expect(err!.phase).toBe('forward');
    expect(err!.message).toMatch(/forward produced NaN in module b \(inputs \[1, 8\], \[2, 8\]\); input 1 \(b\.weight\) \[2, 8\] already holds NaN \(a weight: check the checkpoint\)/);
    x.dispose();
    m.dispose();
  });

  it('without a model it still names the op and shapes; off, forwards are untouched and nothing is checked', () => {
    W.detectAnomaly(true);
    const z = W.tensor([0, 1], [2], { requiresGrad: true });
    expect(() => W.tidy(() => W.sum(W.sqrt(z)).backward())).toThrow(/sqrt backward produced Inf .* outside any module/);
    W.detectAnomaly(false);
    expect(W.isAnomalyEnabled()).toBe(false);
    z.grad?.dispose();
    z.grad = null;
    W.tidy(() => W.sum(W.sqrt(z)).backward()); // no check: the Inf gradient is the Trainer's to refuse
    expect(Array.from(z.grad!.toArray())[0]).toBe(Infinity);
    const m = new Root();
    W.detectAnomaly(true, { model: m });
    expect(Object.hasOwn(m.inner, 'forward')).toBe(true);
    W.detectAnomaly(false);
    expect(Object.hasOwn(m.inner, 'forward')).toBe(false);
    W.dispose([z, z.grad!]);
    m.dispose();
  });
});
