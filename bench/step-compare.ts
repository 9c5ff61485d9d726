// Two versions of the anchor training step side by side in one process, steps interleaved so machine
// load hits both alike: the last layer over every position (`firstTokenOnly: false`) against the
// `<s>`-only last layer (the default), per binary and thread count. Prints the median wall time and
// the least CPU time (process.cpuUsage, all threads) of each, and their ratios. `--lora-dropout p`
// runs both with LoRA (r 8 on query and value) whose dropout is p (before LoRA's dropout honoured a
// row context, such a model always ran the full last layer).
//   node dist/bench/step-compare.js [--threads 1,2] [--steps 8] [--lora-dropout 0.1]
import * as W from '../src/index.js';
import { anchorStep } from './train-step.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const threads = arg('--threads', '1,2').split(',').map(Number);
const steps = Number(arg('--steps', '8'));
const loraDropout = arg('--lora-dropout', '');
const adapter: Parameters<typeof W.applyAdapter>[1] | undefined =
  loraDropout === '' ? undefined : { peft_type: 'LORA', r: 8, lora_alpha: 8, lora_dropout: Number(loraDropout), target_modules: ['query', 'value'] };
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const base: Record<string, number> = {};
for (const variant of ['simd', 'relaxed-simd'] as const) {
  for (const t of threads) {
    const be = await W.createWasmBackend({ variant, threads: t });
    const runs = { full: anchorStep(be, { firstTokenOnly: false, adapter }), first: anchorStep(be, { adapter }) };
    const wall: Record<string, number[]> = { full: [], first: [] };
    const cpus: Record<string, number[]> = { full: [], first: [] };
    for (let i = 0; i <= steps; i++) {
      for (const k of ['full', 'first'] as const) {
        const c0 = cpu();
        const t0 = performance.now();
        runs[k].step();
        if (i > 0) { // step 0 warms up
          wall[k].push(performance.now() - t0);
          cpus[k].push(cpu() - c0);
        }
      }
    }
    runs.full.dispose();
    runs.first.dispose();
    be.dispose();
    const row = (k: 'full' | 'first') => ({ ms: median(wall[k]), cpu: Math.min(...cpus[k]) });
    const f = row('full');
    const s = row('first');
    base[`${variant}/${t}`] = f.ms;
    const ref = base['simd/1'];
    console.log(
      `${be.variant} ${t} thread(s): full last layer ${f.ms.toFixed(0)} ms (CPU ${f.cpu.toFixed(0)}), <s>-only ${s.ms.toFixed(0)} ms ` +
        `(CPU ${s.cpu.toFixed(0)}); <s>-only / full: wall ${(s.ms / f.ms).toFixed(3)}, CPU ${(s.cpu / f.cpu).toFixed(3)}` +
        (ref ? `; vs SIMD 1-thread full: ${(f.ms / ref).toFixed(2)} / ${(s.ms / ref).toFixed(2)}` : ''),
    );
  }
}
