/** The library core must load in browsers and Deno: no Node-only modules or globals outside the CLI. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('portability', () => {
  it('src/ (except src/cli and src/node) uses no Node-only modules or globals', () => {
    const offenders: string[] = [];
    for (const f of files(root)) {
      const rel = relative(root, f);
      // src/cli and src/node are the Node-only entry points (file system access); the rest is portable.
      if (rel.startsWith('cli') || rel.startsWith('node')) continue;
      const src = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      const hits = [
        /from\s+['"](node:|fs|path|url|child_process|worker_threads|os|module)['"]/,
        /\brequire\(/,
        /\bprocess\./,
        /\bBuffer\./,
        /\b__dirname\b/,
      ].filter((re) => re.test(src));
      if (hits.length) offenders.push(`${rel}: ${hits.map(String).join(', ')}`);
    }
    expect(offenders, offenders.join('\n')).toEqual([]);
  });
});
