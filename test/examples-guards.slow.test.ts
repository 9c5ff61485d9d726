/**
 * The example scripts as a user runs them (built, from dist/): `experiments:glue` without the GLUE
 * files exits non-zero naming what is missing, and `demo -- --quick` writes its report beside, never
 * over, a full run's. Slow tier: they start Node processes, and the quick demo trains five methods.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from './helpers.js';

const tmp = tempDirs();
const dist = join(import.meta.dirname, '..', 'dist', 'examples');
const script = (name: string) => {
  const path = join(dist, name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build:ts first`);
  return path;
};

describe('example scripts', () => {
  it('experiments:glue without the datasets exits 1, naming the missing files, having trained nothing', () => {
    const cwd = tmp('glue-cwd');
    const empty = tmp('no-datasets');
    const r = spawnSync(process.execPath, [script('glue-experiments.js'), '--datasets', empty, '--tasks', 'sst2,rte'], { cwd, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('experiments:glue: nothing run; missing');
    expect(r.stderr).toContain(join(empty, 'glue', 'SST-2', 'train.tsv'));
    expect(r.stderr).toContain(join(empty, 'glue', 'RTE', 'dev.tsv'));
    expect(existsSync(join(cwd, 'runs'))).toBe(false);
  });

  it('demo -- --quick writes runs/demo-quick and leaves a full run\'s runs/demo report alone', () => {
    const cwd = tmp('demo-cwd');
    mkdirSync(join(cwd, 'runs', 'demo'), { recursive: true });
    writeFileSync(join(cwd, 'runs', 'demo', 'report.md'), '# the full run\n');
    const r = spawnSync(process.execPath, [script('finetune-demo.js'), '--quick'], { cwd, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('writing to runs/demo-quick, not runs/demo');
    expect(readFileSync(join(cwd, 'runs', 'demo', 'report.md'), 'utf8')).toBe('# the full run\n');
    expect(readFileSync(join(cwd, 'runs', 'demo-quick', 'report.md'), 'utf8')).toMatch(/quick smoke run/);
  });
});
