/**
 * The main job: fine-tune the bundled small-roberta-sentiment (4 layers, d 256, pretrained here on a
 * 4.9M-token English corpus, then with the AFINN word polarities: sentiment-knowledge pretraining) on the `sentiment` package's 3,000 labelled sentences (IMDb, Amazon and Yelp
 * reviews) with full fine-tuning, BitFit, LoRA, GRASP and StochGRASP, each over 3 data-order seeds;
 * measure accuracy clean and under hardware weight noise, beside a bag-of-words baseline, and print
 * the comparison table. Also writes runs/demo/report.md, report.html (plots), results.json, metrics
 * JSONL and each method's adapter. Run: npm run demo   (the time is in the README; it uses every core)
 * `npm run demo -- --quick` (1 epoch, 256 training sentences, one seed) writes to runs/demo-quick
 * instead, so a smoke run never replaces a full run's report.
 *
 * The same run from the command line, with every knob:
 *   npx wasmgrad compare --model small-roberta-sentiment --task sentiment --threads auto --seeds 0,1,2 --epochs 3 --group-by-length 8 --draws 3 --sigmas 0,0.1,0.2,0.3 --no-epoch-evals \
 *     --methods "full;bitfit;lora;grasp:num_groups=32;stochgrasp:num_groups=32" --out runs/demo
 */
import { parseMethodSpec, runCompare } from '../src/cli/compare.js';
import { setCliThreads } from '../src/cli/backend.js';

const quick = process.argv.includes('--quick');
const out = quick ? 'runs/demo-quick' : 'runs/demo';
if (quick) process.stderr.write(`--quick: a smoke run (1 epoch, 256 training sentences, one seed); writing to ${out}, not runs/demo\n`);
setCliThreads('auto');

const DEMO_EPOCHS = 3;

await runCompare({
  model: 'small-roberta-sentiment',
  task: 'sentiment',
  // K = 32 groups: 24 modulated layers x 64 values = 1,536, over 20x fewer than LoRA r=8 on q and v
  // (32,768), the regime the GRASP paper compares in. LoRA keeps its paper setting (r = 8, alpha = 8, q and v).
  methods: ['full', 'bitfit', 'lora', parseMethodSpec('grasp:num_groups=32'), parseMethodSpec('stochgrasp:num_groups=32')],
  out,
  epochs: quick ? 1 : DEMO_EPOCHS,
  // Training batches of similar length (seeded windows of 8 batches): random batches of 32 sentences
  // are padded to 2.5x their real tokens, grouped ones to 1.24x.
  groupByLength: 8,
  seeds: quick ? undefined : [0, 1, 2],
  // One validation pass per run after training, none after each epoch: the report uses only the final one.
  epochEvals: false,
  // 3 noise draws per σ and seed: 9 per σ pooled over the seeds (5 took 11% more of the job's time for
  // columns about 1.3x less noisy). σ = 0 reuses the final evaluation.
  sigmas: [0, 0.1, 0.2, 0.3],
  draws: quick ? 2 : 3,
  limitTrain: quick ? 256 : undefined,
  title: `wasmgrad main job: small RoBERTa on the sentiment sentences${quick ? ' (quick smoke run)' : ''}`,
});
