// Layer-wise fine-tuning measured side by side in one process: full fine-tuning, LISA, GRASS
// (adaptive and static), all at the same gamma, steps and learning rate, plus the same runs with
// AdamW state offloaded (bit-identical parameters, so only memory and time differ). Per run: the
// task metric, validation loss, the peak heap split (parameters, gradients, optimizer state,
// activations) and training time as a ratio to full fine-tuning's.
//   node dist/bench/layerwise.js [--model dir] [--train n] [--val n] [--epochs n] [--batch n] [--lr x] [--gamma n]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as W from '../src/index.js';
import { loadTask, loadTokenizerFromDirectory, fromPretrained, resolveModelDir } from '../src/node/index.js';
import { CausalLMTask, promptExamples } from '../src/tasks/causal-lm.js';
import type { MethodName } from '../src/adapters/registry.js';
import type { AdapterConfig } from '../src/adapters/types.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const modelDir = resolveModelDir(arg('model', 'examples/checkpoints/tiny-gpt2'));
const nTrain = Number(arg('train', '480'));
const nVal = Number(arg('val', '150'));
const epochs = Number(arg('epochs', '2'));
const batchSize = Number(arg('batch', '16'));
const lr = Number(arg('lr', '5e-4'));

await W.init();
const raw = JSON.parse((await import('node:fs')).readFileSync(join(modelDir, 'config.json'), 'utf8')) as { n_layer: number; n_positions: number; bos_token_id: number; eos_token_id: number };
const gamma = Number(arg('gamma', String(Math.min(2, raw.n_layer - 1))));
const tokenizer = await loadTokenizerFromDirectory(modelDir);
const loaded = await loadTask('sentiment');
const maxLength = Math.min(64, raw.n_positions);
const encode = (xs: readonly { text: string }[]) =>
  promptExamples(xs.map((e) => tokenizer.encode(e.text)), { bos: raw.bos_token_id, eos: raw.eos_token_id, maxLength, promptFraction: 0.5 });
const task = new CausalLMTask({ name: 'sentiment-lm', train: encode(loaded.train.slice(0, nTrain)), validation: encode(loaded.validation.slice(0, nVal)), padId: raw.eos_token_id });

interface Row { label: string; metric: number; valLoss: number; peak: number; split: W.MemoryBreakdown; offloaded: number; seconds: number; steps: number; params: number[] }
// --selector-seeds 0,1,2: only the layer-wise runs, once per sampling seed (with two or three blocks one
// seed's few draws can coincide between LISA and GRASS; several seeds show the difference on average).
const seeds = arg('selector-seeds', '').split(',').filter(Boolean).map(Number);
const runs: [string, MethodName, Partial<AdapterConfig>, boolean][] = seeds.length ? [
  ['full', 'full', {}, false],
  ...seeds.flatMap((seed) => [
    [`lisa seed ${seed}`, 'lisa', { gamma, seed }, false],
    [`grass seed ${seed}`, 'grass', { gamma, seed }, false],
    [`grass static seed ${seed}`, 'grass', { gamma, seed, static: true }, false],
  ] as [string, MethodName, Partial<AdapterConfig>, boolean][]),
] : [
  ['full', 'full', {}, false],
  ['lisa', 'lisa', { gamma }, false],
  ['grass', 'grass', { gamma }, false],
  ['grass static', 'grass', { gamma, static: true }, false],
  ['full, offloaded', 'full', {}, true],
  ['lisa, offloaded', 'lisa', { gamma }, true],
  ['grass, offloaded', 'grass', { gamma }, true],
];
const rows: Row[] = [];
for (const [label, method, adapter, offload] of runs) {
  const model = await fromPretrained(modelDir, { architecture: 'GPT2LMHeadModel' });
  const config = W.resolveFinetuneConfig({ epochs, batchSize, lr, maxLength, seed: 0, offloadOptimizer: offload }, method);
  const total = Math.round(epochs * Math.ceil(nTrain / batchSize));
  const r = await W.runFinetune({ model, task, method, adapter, config, evalEvery: total + 1 });
  const first = r.adapted.namedTrainable().slice(0, 3).flatMap(([, t]) => Array.from(t.toArray().slice(0, 4)));
  rows.push({ label, metric: r.final.metrics.token_accuracy, valLoss: r.final.loss, peak: r.peakMemoryBytes, split: r.peakMemory, offloaded: r.offloadedOptimizerBytes, seconds: r.trainSeconds, steps: r.steps, params: first });
  process.stderr.write(`${label}: token accuracy ${r.final.metrics.token_accuracy.toFixed(4)}, val loss ${r.final.loss.toFixed(4)}, peak ${(r.peakMemoryBytes / 2 ** 20).toFixed(1)} MiB, ${r.trainSeconds.toFixed(0)} s\n`);
  r.adapted.remove();
  model.dispose();
}
const mib = (b: number) => (b / 2 ** 20).toFixed(2);
const full = rows[0]!;
const lines = [
  `# Layer-wise fine-tuning on ${modelDir.split('/').pop()} (${raw.n_layer} blocks), sentiment-lm`,
  '',
  `${nTrain} training / ${nVal} validation examples, batch ${batchSize}, ${epochs} epochs (${full.steps} steps), lr ${lr}, gamma ${gamma}, defaults otherwise (T_s 10, GRASS T_p 10, T_u 10, alpha 0.5, tau 0.5, max normalisation). Memory in MiB at the instant of the peak; time as a ratio to full fine-tuning in this run (a shared, loaded machine).`,
  '',
  '| run | token accuracy | val loss | peak | parameters | gradients | optimizer | activations | offloaded to host | time / full |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.label} | ${(100 * r.metric).toFixed(2)}% | ${r.valLoss.toFixed(4)} | ${mib(r.peak)} | ${mib(r.split.parameters)} | ${mib(r.split.gradients)} | ${mib(r.split.optimizer)} | ${mib(r.split.activations)} | ${mib(r.offloaded)} | ${(r.seconds / full.seconds).toFixed(2)} |`),
  '',
  ...(seeds.length ? ['', ...['lisa', 'grass', 'grass static'].map((m) => {
    const xs = rows.filter((r) => r.label.replace(/ seed \d+$/, '') === m);
    const mean = (f: (r: Row) => number) => xs.reduce((a, r) => a + f(r), 0) / xs.length;
    const sd = (f: (r: Row) => number) => Math.sqrt(xs.reduce((a, r) => a + (f(r) - mean(f)) ** 2, 0) / Math.max(1, xs.length - 1));
    return `- ${m} over ${xs.length} seeds: token accuracy ${(100 * mean((r) => r.metric)).toFixed(2)} ± ${(100 * sd((r) => r.metric)).toFixed(2)}%, val loss ${mean((r) => r.valLoss).toFixed(4)} ± ${sd((r) => r.valLoss).toFixed(4)}`;
  })] : [
  `Offloaded runs end with the same parameters as resident ones: ${rows.slice(4).every((r, i) => r.params.every((v, j) => Object.is(v, rows[[0, 1, 2][i]!]!.params[j])) && r.valLoss === rows[[0, 1, 2][i]!]!.valLoss) ? 'yes (checked on the validation loss and sampled weights)' : 'NO'}.`]),
];
mkdirSync('bench/results', { recursive: true });
const out = join('bench/results', `layerwise-${modelDir.split('/').pop()}${seeds.length ? '-seeds' : ''}.md`);
writeFileSync(out, lines.join('\n') + '\n');
process.stdout.write(lines.join('\n') + '\n');
