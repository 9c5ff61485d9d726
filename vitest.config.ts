/**
 * Two test tiers, chosen by file name:
 * - fast: every `test/**\/*.test.ts` except the slow ones; about 2 minutes on a quiet 2-core machine
 *   (`npm run test:fast` while working);
 * - slow: `test/**\/*.slow.test.ts`, the tests that start other processes (Deno, Python, a second
 *   Node with other V8 flags) or run whole fine-tunes and long fuzz campaigns (`npm run test:slow`).
 * `npm test` (CI) runs the type check and then both tiers. A new slow test goes in a file named
 * `<topic>.slow.test.ts`; nothing else needs listing.
 *
 * Timeouts only catch hangs (speed is measured in bench/, never asserted in a test), so they are
 * far above any test's run time on a quiet machine: a loaded CI runner must not fail a correct test.
 */
import { configDefaults, defineConfig } from 'vitest/config';

const SLOW = 'test/**/*.slow.test.ts';

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, SLOW],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: { name: 'slow', include: [SLOW], testTimeout: 600_000 },
      },
    ],
  },
});
