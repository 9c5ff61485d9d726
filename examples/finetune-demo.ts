/**
 * The main job: fine-tune the bundled tiny RoBERTa on the `sentiment` package's 3,000 labelled
 * sentences (IMDb, Amazon and Yelp reviews) with full fine-tuning, BitFit, LoRA, GRASP and
 * StochGRASP, measure accuracy clean and under hardware weight noise, and print the comparison
 * table. Also writes runs/demo/report.md, report.html (plots), results.json, metrics JSONL and
 * each method's adapter. Run: npm run demo   (about 8 minutes on 2 cores)
 * `npm run demo -- --quick` (1 epoch, 256 training sentences) writes to runs/demo-quick instead, so a
 * smoke run never replaces a full run's report.
 *
 * The same run from the command line, with every knob:
 *   npx wasmgrad compare --model tiny-roberta --task sentiment --methods full,bitfit,lora,grasp,stochgrasp --out runs/demo
 */
import { parseMethodSpec, runCompare } from '../src/cli/compare.js';

const quick = process.argv.includes('--quick');
const out = quick ? 'runs/demo-quick' : 'runs/demo';
if (quick) process.stderr.write(`--quick: a smoke run (1 epoch, 256 training sentences); writing to ${out}, not runs/demo\n`);

await runCompare({
  model: 'tiny-roberta',
  task: 'sentiment',
  // K = 32 groups: 12 modulated layers x 64 values = 768, over 10x fewer than LoRA r=8 on q and v (8,192),
  // the regime the GRASP paper compares in. LoRA keeps its paper setting (r = 8, alpha = 8, q and v).
  methods: ['full', 'bitfit', 'lora', parseMethodSpec('grasp:num_groups=32'), parseMethodSpec('stochgrasp:num_groups=32')],
  out,
  epochs: quick ? 1 : 5,
  draws: quick ? 2 : 10,
  limitTrain: quick ? 256 : undefined,
  title: `wasmgrad main job: tiny RoBERTa on the sentiment sentences${quick ? ' (quick smoke run)' : ''}`,
});
