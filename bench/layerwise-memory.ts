// Peak heap of full fine-tuning vs GRASS (and LISA) at the same batch, measured side by side in one
// process on the bundled GPT-2 checkpoints: the peak and its split (parameters, gradients, optimizer
// state, activations), and GRASS's peak as a ratio to full fine-tuning's. Few steps: the peak of a
// step does not change with training, only which blocks are active (every block takes a turn).
//   node dist/bench/layerwise-memory.js [--models tiny-gpt2,small-gpt2] [--batch 16] [--length 64] [--steps 12] [--gamma 2]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as W from '../src/index.js';
import { fromPretrained, resolveModelDir } from '../src/node/index.js';
import { CausalLMTask, type PromptExample } from '../src/tasks/causal-lm.js';
import type { MethodName } from '../src/adapters/registry.js';
import type { AdapterConfig } from '../src/adapters/types.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const models = arg('models', 'tiny-gpt2,small-gpt2').split(',');
const batchSize = Number(arg('batch', '16'));
const steps = Number(arg('steps', '12'));

await W.init();
const lines: string[] = [];
for (const name of models) {
  const dir = resolveModelDir(`examples/checkpoints/${name}`);
  const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { n_layer: number; n_positions: number; vocab_size: number; n_embd: number };
  const length = Math.min(Number(arg('length', '64')), raw.n_positions);
  const gamma = Number(arg('gamma', String(Math.min(2, raw.n_layer - 1))));
  // Random token sequences of the full length: memory depends on shapes only.
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const token = () => 1 + Math.floor(rnd() * (raw.vocab_size - 1));
  const examples = (n: number): PromptExample[] => Array.from({ length: n }, () => ({
    prompt: Array.from({ length: length / 2 }, token), continuation: Array.from({ length: length / 2 }, token),
  }));
  const task = new CausalLMTask({ name: 'random-lm', train: examples(batchSize * steps), validation: examples(batchSize), padId: 0 });
  const runs: [string, MethodName, Partial<AdapterConfig>, boolean][] = [
    ['full', 'full', {}, false],
    [`lisa γ=${gamma}`, 'lisa', { gamma, switch_interval: 2 }, false],
    [`grass γ=${gamma}`, 'grass', { gamma, switch_interval: 2, probe_steps: 2 }, false],
    [`grass γ=${gamma}, offloaded`, 'grass', { gamma, switch_interval: 2, probe_steps: 2 }, true],
  ];
  const rows: { label: string; peak: number; split: W.MemoryBreakdown }[] = [];
  for (const [label, method, adapter, offload] of runs) {
    const model = await fromPretrained(dir, { architecture: 'GPT2LMHeadModel' });
    const config = W.resolveFinetuneConfig({ epochs: 1, batchSize, lr: 1e-4, maxLength: length, seed: 0, offloadOptimizer: offload }, method);
    const r = await W.runFinetune({ model, task, method, adapter, config, evalEvery: steps + 1 });
    rows.push({ label, peak: r.peakMemoryBytes, split: r.peakMemory });
    process.stderr.write(`${name} ${label}: peak ${(r.peakMemoryBytes / 2 ** 20).toFixed(2)} MiB ${JSON.stringify(r.peakMemory)}\n`);
    r.adapted.remove();
    model.dispose();
  }
  const mib = (b: number) => (b / 2 ** 20).toFixed(2);
  lines.push(
    `## ${name} (${raw.n_layer} blocks, d ${raw.n_embd}, vocabulary ${raw.vocab_size}), batch ${batchSize} x ${length} tokens, ${steps} steps`,
    '',
    '| run | peak (MiB) | parameters | gradients | optimizer | activations | peak / full |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.label} | ${mib(r.peak)} | ${mib(r.split.parameters)} | ${mib(r.split.gradients)} | ${mib(r.split.optimizer)} | ${mib(r.split.activations)} | ${(r.peak / rows[0]!.peak).toFixed(3)} |`),
    '',
  );
}
const text = ['# Peak heap: full fine-tuning vs layer-wise methods at the same batch', '', ...lines].join('\n');
mkdirSync('bench/results', { recursive: true });
writeFileSync(join('bench/results', `layerwise-memory-b${batchSize}.md`), text);
process.stdout.write(text);
