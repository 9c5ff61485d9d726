import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';

describe('profile', () => {
  it('times each op forward and backward, with flops for matmul and bytes for the rest', () => {
    const x = W.tensor(Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i)), [64, 32]);
    const w = W.tensor(Array.from({ length: 32 * 16 }, (_, i) => Math.cos(i)), [32, 16], { requiresGrad: true });
    const p = W.profile(() => W.tidy(() => {
      const loss = W.sum(W.relu(W.matmul(x, w)));
      W.backward(loss);
      return loss.item();
    }));
    expect(Number.isFinite(p.result)).toBe(true);
    const mm = p.ops.find((o) => o.op === 'matmul')!;
    expect(mm.calls).toBe(1);
    expect(mm.backwardMs).toBeGreaterThan(0);
    expect(mm.gflops).toBeGreaterThan(0);
    const relu = p.ops.find((o) => o.op === 'relu' || o.op === 'unary')!;
    expect(relu.calls).toBe(1);
    expect(relu.gflops).toBeUndefined();
    // the matmul inside matmul's backward is charged to the backward, not counted as a second call
    expect(p.ops.reduce((n, o) => n + o.share, 0)).toBeLessThanOrEqual(1.0001);
    expect(p.format()).toMatch(/matmul\s+1\s/);
    w.grad!.dispose();
  });

  it('does not nest, and records nothing when off', () => {
    expect(() => W.profile(() => W.profile(() => 1))).toThrow(/do not nest/);
    const p = W.profile(() => 0);
    expect(p.ops).toEqual([]);
  });
});
