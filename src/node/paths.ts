/** Locations inside the installed wasmgrad package (the bundled tiny checkpoints). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest directory above this file whose package.json is wasmgrad's (works from src/ and dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'wasmgrad') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('wasmgrad: cannot find the package root (package.json named "wasmgrad") above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Checkpoints shipped in examples/checkpoints, by name. */
export const BUNDLED_CHECKPOINTS = ['tiny-roberta', 'tiny-gpt2', 'small-roberta', 'small-roberta-sentiment', 'small-gpt2'] as const;

/** The checkpoints the npm package ships (package.json `files`); the rest live in the repository. */
export const PACKAGED_CHECKPOINTS = ['tiny-roberta', 'tiny-gpt2'] as const;

/** A model argument: a bundled checkpoint name or a directory path. */
export function resolveModelDir(model: string): string {
  if ((BUNDLED_CHECKPOINTS as readonly string[]).includes(model)) {
    const dir = join(packageRoot(), 'examples', 'checkpoints', model);
    if (!existsSync(join(dir, 'config.json'))) {
      throw new Error(`model "${model}": ${dir} has no config.json; the npm package ships only ${PACKAGED_CHECKPOINTS.join(' and ')} (the others are in the wasmgrad repository's examples/checkpoints): pass a checkpoint directory`);
    }
    return dir;
  }
  const dir = resolve(model);
  if (!existsSync(join(dir, 'config.json'))) {
    throw new Error(`model "${model}": ${dir} has no config.json; pass a Hugging Face-style checkpoint directory or one of ${BUNDLED_CHECKPOINTS.join(', ')}`);
  }
  return dir;
}
