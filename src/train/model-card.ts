/** README.md for a pretrained checkpoint: how to reproduce it and how good it is, next to the weights. */
import { FAMILIES, type FamilySpec } from '../models/families.js';
import { perplexity } from './metrics.js';
import type { PretrainConfig } from './pretrain-config.js';
import { formatDuration } from './progress.js';

export interface PretrainSummary {
  step: number;
  complete: boolean;
  tokensSeen: number;
  /** Training-loop wall time over all sessions (evaluation and saving included). */
  trainSeconds: number;
  /** Training throughput of the last session. */
  tokensPerSecond: number;
  valLoss: number;
  baselineLoss: number;
  /** Target tokens the validation losses average over. */
  valTokens: number;
}

export interface ModelCardInput {
  /** Checkpoint name for the title (default `<arch>`). */
  name?: string;
  config: PretrainConfig;
  corpus: string;
  /** Licence of each corpus part. */
  licences?: readonly string[];
  command: string;
  summary: PretrainSummary;
  parameters: number;
  vocabSize: number;
  trainDocs: number;
  validationDocs: number;
  /** Wall time of the last session including tokenizer training and encoding. */
  sessionSeconds: number;
  /** The checkpoint whose weights the run started from (continued pretraining), if any. */
  init?: string;
}

type Objective = NonNullable<FamilySpec['pretrain']>['objective'];
const OBJECTIVE_NAME: { [O in Objective]: string } = { 'causal-lm': 'causal language model', 'masked-lm': 'masked language model' };
const OBJECTIVE_TARGETS: { [O in Objective]: string } = {
  'causal-lm': 'next-token positions',
  'masked-lm': 'masked positions (15% of tokens, 80/10/10 mask/random/keep, fixed seed)',
};

export function checkpointReadme(m: ModelCardInput): string {
  const { config: c, summary: s } = m;
  const family = FAMILIES[c.arch];
  const pretrain = family.pretrain;
  if (!pretrain) throw new Error(`checkpointReadme: the ${c.arch} family has no pretraining entry in the family table`);
  const kind = `${family.description}, ${OBJECTIVE_NAME[pretrain.objective]} (${pretrain.architecture})`;
  const targets = OBJECTIVE_TARGETS[pretrain.objective];
  const f = (x: number) => x.toFixed(4);
  const status = s.complete ? [] : [
    `**Stopped at step ${s.step} of ${c.steps}** (step or time budget): the weights are those of step ${s.step}, and`,
    '`training_state/` holds what `--resume` (same command plus `--resume`) needs to continue exactly.',
    '',
  ];
  return [
    `# ${m.name ?? c.arch}`,
    '',
    m.init === undefined
      ? `A ${kind} trained from scratch with \`wasmgrad pretrain\`: it loads with`
      : `A ${kind} trained with \`wasmgrad pretrain\`, starting from the weights of \`${m.init}\` (continued pretraining): it loads with`,
    "`fromPretrained(dir)` and its tokenizer with `loadTokenizerFromDirectory(dir)`.",
    '',
    ...status,
    '## Reproduce',
    '',
    '```sh',
    m.command,
    '```',
    '',
    'From a clone of the repository: `npm install` (builds), then the same command as `node dist/src/cli/index.js pretrain ...`.',
    `Corpus: \`${m.corpus}\` (${m.trainDocs} training / ${m.validationDocs} validation documents, split by document with seed ${c.seed}).`,
    'The run is deterministic given the options; wall times depend on the machine.',
    ...(m.licences?.length ? ['', 'Text licences:', '', ...m.licences.map((l) => `- ${l}`)] : []),
    '',
    '## Model',
    '',
    `| | |`,
    `|---|---|`,
    `| parameters | ${m.parameters.toLocaleString('en-US')} |`,
    `| layers / d_model / heads / ffn | ${c.layers} / ${c.dModel} / ${c.heads} / ${c.ffn} |`,
    `| vocabulary (byte-level BPE) | ${m.vocabSize} |`,
    `| block length | ${c.seq} |`,
    '',
    '## Training',
    '',
    `| | |`,
    `|---|---|`,
    `| steps | ${s.step}${s.complete ? '' : ` of ${c.steps}`} (batch ${c.batch}${c.accumulate > 1 ? ` x ${c.accumulate} accumulated` : ''} x ${c.seq} tokens) |`,
    `| tokens seen | ${s.tokensSeen.toLocaleString('en-US')} |`,
    `| optimizer | AdamW, peak lr ${c.lr}, ${c.warmup} warmup steps, ${c.decay === "wsd" ? `constant, then linear decay over the last ${c.cooldown * 100}% of steps` : `${c.decay} decay`} to ${c.minLrRatio * 100}%, weight decay ${c.weightDecay}, clip 1.0 |`,
    `| training wall time | ${formatDuration(s.trainSeconds)} (last session incl. tokenizer and data: ${formatDuration(m.sessionSeconds)}) |`,
    `| throughput | ${Math.round(s.tokensPerSecond)} tokens/s |`,
    ...(c.polarityLexicon !== null
      ? [`| objective | masked LM plus word polarity prediction (after SKEP, Tian et al. 2020): tokens of the ${c.polarityLexicon} polarity lexicon are selected with probability ${c.polarityMask} (others 0.15), and a linear head (not saved) predicts ${c.polarityTargets === 'all' ? 'the polarity of every lexicon token of a block' : 'their polarity'} from the encoder's output, loss weight ${c.polarityWeight}${c.polarityNegation > 0 ? `; a lexicon word within ${c.polarityNegation} words after a negator (not, never, don't...; same clause) is labelled with the opposite polarity` : ''}; validation targets use plain masking |`]
      : []),
    '',
    '## Validation',
    '',
    `Cross-entropy in nats over ${s.valTokens.toLocaleString('en-US')} ${targets} of ${c.evalBlocks} held-out blocks.`,
    'The unigram baseline predicts every target with the training-split token frequencies (same tokenizer, same targets).',
    '',
    '| | loss | perplexity |',
    '|---|---|---|',
    `| model | ${f(s.valLoss)} | ${perplexity(s.valLoss).toFixed(1)} |`,
    `| unigram baseline | ${f(s.baselineLoss)} | ${perplexity(s.baselineLoss).toFixed(1)} |`,
    '',
    'Files: `config.json`, `model.safetensors`, `vocab.json`, `merges.txt`, `tokenizer.json`, `metrics.jsonl` (one JSON object per line).',
    '',
  ].join('\n');
}
