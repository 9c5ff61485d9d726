/**
 * The causal-LM task: prompts masked out of the loss, the loss equal to GPT-2's own shifted loss,
 * evaluation scoring decoded continuations, and a LoRA fine-tune on it through the generic loop.
 */
import { describe, expect, it } from 'vitest';
import * as W from '../src/index.js';
import { CausalLMTask, collatePrompts, IGNORE, promptExamples, type PromptExample } from '../src/tasks/causal-lm.js';
import { resolveFinetuneConfig } from '../src/train/finetune-config.js';
import { runFinetune } from '../src/train/finetune.js';
import { GPT2_CONFIG } from './adapters-models.js';

const gpt2 = (seed = 1) => new W.GPT2LMHeadModel(GPT2_CONFIG, { generator: new W.Generator(seed) });

/** Sequences over a vocabulary of 24 with a pattern to learn: each token is the previous plus 1 (mod 20, offset 3). */
function patterned(n: number, seed: number): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const start = (i * 7 + seed) % 20;
    const len = 5 + (i % 4);
    return Array.from({ length: len }, (_, t) => 3 + ((start + t) % 20));
  });
}

describe('CausalLMTask', () => {
  it('promptExamples: bos + the first part is the prompt, the rest + eos the continuation', () => {
    const ex = promptExamples([[10, 11, 12, 13], [5, 6], [9]], { bos: 0, eos: 1, maxLength: 8 });
    expect(ex).toEqual([
      { prompt: [0, 10, 11], continuation: [12, 13, 1] },
      { prompt: [0, 5], continuation: [6, 1] },
    ]);
    expect(promptExamples([[1, 2, 3, 4, 5, 6, 7, 8, 9]], { bos: 0, eos: 1, maxLength: 6 })).toEqual([{ prompt: [0, 1, 2], continuation: [3, 4, 1] }]);
  });

  it('collatePrompts: right-padded rows; labels only on continuation tokens', () => {
    const ex: PromptExample[] = [{ prompt: [0, 4], continuation: [5, 1] }, { prompt: [0, 7, 8], continuation: [9, 10, 1] }];
    const b = collatePrompts(ex, [0, 1], 2);
    expect(b.length).toBe(6);
    expect(Array.from(b.ids)).toEqual([0, 4, 5, 1, 2, 2, 0, 7, 8, 9, 10, 1]);
    expect(Array.from(b.attentionMask)).toEqual([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]);
    const I = IGNORE;
    expect(Array.from(b.labels)).toEqual([I, I, 5, 1, I, I, I, I, I, 9, 10, 1]);
  });

  it('the loss is GPT-2\'s shifted loss over the continuation tokens only', () => {
    const m = gpt2();
    const ex = promptExamples(patterned(6, 0), { bos: 0, eos: 1, maxLength: 12 });
    const task = new CausalLMTask({ name: 't', train: ex, validation: ex, padId: 2 });
    const b = collatePrompts(ex, [0, 1, 2, 3], 2);
    const [ours, theirs] = W.tidy(() => {
      const ids = W.tensor(b.ids, [b.batch, b.length], { dtype: 'int32' });
      const attentionMask = W.tensor(b.attentionMask, [b.batch, b.length], { dtype: 'int32' });
      const labels = W.tensor(b.labels, [b.batch, b.length], { dtype: 'int32' });
      return [task.loss(m, b).item(), m.loss(ids, labels, { attentionMask }).item()];
    });
    expect(ours).toBe(theirs);
    // Changing a prompt token changes the context but is never a target: with the prompt as labels the loss would differ.
    const withPromptLabels = W.tidy(() => {
      const ids = W.tensor(b.ids, [b.batch, b.length], { dtype: 'int32' });
      const attentionMask = W.tensor(b.attentionMask, [b.batch, b.length], { dtype: 'int32' });
      const labels = W.tensor(Int32Array.from(b.ids, (v, i) => (b.attentionMask[i] ? v : IGNORE)), [b.batch, b.length], { dtype: 'int32' });
      return m.loss(ids, labels, { attentionMask }).item();
    });
    expect(withPromptLabels).not.toBe(ours);
    m.dispose();
  });

  it('shifts the targets instead of slicing the logits: the same loss and gradients, two (B, T, V) buffers fewer at the peak', () => {
    // a vocabulary large enough that the logits are the biggest tensors, as in real models
    const config = { ...GPT2_CONFIG, vocab_size: 2048 };
    const m = new W.GPT2LMHeadModel(config, { generator: new W.Generator(3) });
    const ex = promptExamples(patterned(8, 1), { bos: 0, eos: 1, maxLength: 12 });
    const task = new CausalLMTask({ name: 't', train: ex, validation: ex, padId: 2 });
    const b = collatePrompts(ex, [0, 1, 2, 3, 4, 5, 6, 7], 2);
    const params = m.parameters();
    const backend = params[0]!.backend;
    // the slicing formulation: logits[:, :-1] against labels[:, 1:]
    const sliced = () => {
      const ids = W.tensor(b.ids, [b.batch, b.length], { dtype: 'int32' });
      const attentionMask = W.tensor(b.attentionMask, [b.batch, b.length], { dtype: 'int32' });
      const { logits } = m.forward(ids, { attentionMask });
      const V = logits.shape[2]!;
      const shifted = new Int32Array(b.batch * (b.length - 1));
      for (let r = 0; r < b.batch; r++) shifted.set(b.labels.subarray(r * b.length + 1, (r + 1) * b.length), r * (b.length - 1));
      const targets = W.tensor(shifted, [b.batch, b.length - 1], { dtype: 'int32' });
      return W.crossEntropy(W.slice(logits, [0, 0, 0], [b.batch, b.length - 1, V]), targets, { ignoreIndex: IGNORE });
    };
    const zeroGrad = () => params.forEach((p) => {
      p.grad?.dispose();
      p.grad = null;
    });
    const run = (loss: () => W.Tensor) => {
      zeroGrad();
      backend.resetPeak();
      const before = backend.peakBytes();
      const value = W.tidy(() => {
        const l = loss();
        l.backward();
        return l.item();
      });
      const grads = params.map((p) => Array.from(p.grad!.toArray()));
      return { value, grads, peak: backend.peakBytes() - before };
    };
    const old = run(sliced);
    const ours = run(() => task.loss(m, b));
    expect(ours.value).toBeCloseTo(old.value, 6);
    ours.grads.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - old.grads[i]![j]!), `param ${i} [${j}]`).toBeLessThan(1e-6)));
    // the slicing formulation holds the slice's copy and the zero-padded gradient of the logits besides
    const logitsBytes = 4 * b.batch * b.length * config.vocab_size;
    expect(old.peak - ours.peak).toBeGreaterThanOrEqual(1.5 * logitsBytes);
    zeroGrad();
    m.dispose();
  });

  it('LoRA fine-tuning through the generic loop lowers the continuation loss and raises token accuracy', async () => {
    const m = gpt2(3);
    const train = promptExamples(patterned(48, 0), { bos: 0, eos: 1, maxLength: 12 });
    const validation = promptExamples(patterned(16, 5), { bos: 0, eos: 1, maxLength: 12 });
    const task = new CausalLMTask({ name: 'pattern', train, validation, padId: 2, maxNewTokens: 3 });
    const before = task.evaluate(m, task.validationBatches());
    const config = resolveFinetuneConfig({ epochs: 15, batchSize: 8, lr: 3e-2, maxLength: 12 }, 'lora');
    const r = await runFinetune({ model: m, task, method: 'lora', config });
    console.log(`pattern task: loss ${before.loss.toFixed(3)} -> ${r.final.loss.toFixed(3)}, token accuracy ${before.tokenAccuracy.toFixed(3)} -> ${r.final.tokenAccuracy.toFixed(3)}`);
    expect(r.final.loss).toBeLessThan(before.loss - 0.5);
    expect(r.final.tokenAccuracy).toBeGreaterThan(before.tokenAccuracy);
    expect(r.final.metrics.perplexity).toBeCloseTo(Math.exp(r.final.loss), 6);
    r.adapted.remove();
    m.dispose();
  });
});
