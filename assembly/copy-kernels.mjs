// Copies the kernel binaries (src/backend/wasm/kernels.*.wasm, made by build.mjs) next to the compiled
// loader in dist/src/backend/wasm, where `new URL('./kernels.simd.wasm', import.meta.url)` finds them.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'src', 'backend', 'wasm');
const to = join(root, 'dist', 'src', 'backend', 'wasm');
mkdirSync(to, { recursive: true });
for (const target of ['simd', 'scalar', 'relaxed']) {
  const file = `kernels.${target}.wasm`;
  if (!existsSync(join(from, file))) {
    console.error(`copy-kernels: ${join(from, file)} is missing; run npm run build:wasm first`);
    process.exit(1);
  }
  copyFileSync(join(from, file), join(to, file));
}
