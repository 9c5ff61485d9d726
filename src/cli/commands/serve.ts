/** Registers `wasmgrad serve`; the server (src/cli/serve.ts) is loaded when the command runs. */
import type { Command } from 'commander';

/** Adds `serve` to the CLI. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the fine-tuning demo page (with the COOP/COEP headers that enable threads), the bundled checkpoints and the sentiment data')
    .option('--port <n>', 'port (0 picks a free one)', Number, 8080)
    .option('--host <host>', 'interface to listen on (0.0.0.0 for other machines; service workers and threads need localhost or https)', 'localhost')
    .option('--dir <dir>', 'serve this folder instead of the demo page (the checkpoints and data stay mounted)')
    .action(async (a: { port: number; host: string; dir?: string }) => {
      const { startDemoServer } = await import('../serve.js');
      const s = await startDemoServer({ port: a.port, host: a.host, dir: a.dir });
      process.stdout.write(`wasmgrad demo: ${s.url}\n  (checkpoints under ${s.url}checkpoints/, Ctrl-C stops)\n`);
    });
}
