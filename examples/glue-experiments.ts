/**
 * The fuller experiment: the main job's comparison on GLUE SST-2, CoLA and RTE, read from
 * ../shared/datasets (or $WASMGRAD_DATASETS, or --datasets <dir>). Every requested task's files are
 * checked first: when any is missing, the script names them and exits 1 before training anything
 * (choose the tasks you have with --tasks). Writes runs/glue/<task>/report.md, report.html, results.json.
 *
 *   npm run experiments:glue -- [--tasks sst2,cola,rte] [--methods full,bitfit,lora,grasp,stochgrasp] [--epochs 3] [--draws 10]
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseMethodSpec, runCompare } from '../src/cli/compare.js';
import { DEFAULT_DATASETS_DIR } from '../src/node/tasks.js';
import { GLUE_DIRECTORIES, type GlueTask } from '../src/tasks/glue.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const datasets = resolve(arg('datasets', process.env.WASMGRAD_DATASETS ?? DEFAULT_DATASETS_DIR));
const tasks = arg('tasks', 'sst2,cola,rte').split(',') as GlueTask[];
const methods = arg('methods', 'full,bitfit,lora,grasp,stochgrasp').split(',').map(parseMethodSpec);
const epochs = Number(arg('epochs', '3'));
const draws = Number(arg('draws', '10'));

const unknown = tasks.filter((t) => !Object.hasOwn(GLUE_DIRECTORIES, t));
if (unknown.length) {
  process.stderr.write(`experiments:glue: unknown task(s) ${unknown.join(', ')}; choose from ${Object.keys(GLUE_DIRECTORIES).join(', ')}\n`);
  process.exit(1);
}
const missing = tasks.flatMap((t) => ['train.tsv', 'dev.tsv'].map((f) => join(datasets, 'glue', GLUE_DIRECTORIES[t], f))).filter((f) => !existsSync(f));
if (missing.length) {
  process.stderr.write(
    `experiments:glue: nothing run; missing ${missing.join(', ')}. ` +
      'Download GLUE into <dir>/glue/{SST-2,CoLA,RTE}/ and pass --datasets <dir> (or set WASMGRAD_DATASETS), or choose the tasks you have with --tasks\n',
  );
  process.exit(1);
}

for (const task of tasks) {
  await runCompare({
    model: 'tiny-roberta', task, methods, out: join('runs', 'glue', task), epochs, draws, datasetsDir: datasets,
    title: `wasmgrad: fine-tuning methods on GLUE ${task} (tiny RoBERTa)`,
  });
}
