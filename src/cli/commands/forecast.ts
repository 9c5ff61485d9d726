/** Registers `wasmgrad forecast`; the run itself (src/cli/forecast.ts) is loaded when the command runs. */
import type { Command } from 'commander';

/** Adds `forecast` to the CLI. */
export function registerForecast(program: Command): void {
  program
    .command('forecast')
    .description('forecast the steps after the end of a CSV with a model saved by `finetune --task forecast`; writes the forecast as CSV')
    .requiredOption('--model <dir>', 'finetune output directory (or its model/ folder)')
    .requiredOption('--data <csv>', 'the series: a date column and the columns the model was trained on')
    .option('--out <file>', 'where to write the forecast CSV', 'forecast.csv')
    .option('--end <n>', 'forecast after the first n data rows instead of the whole file (the truth is written alongside)', Number)
    .action(async (a: { model: string; data: string; out: string; end?: number }) => {
      const { runForecastCli } = await import('../forecast.js');
      await runForecastCli({ model: a.model, data: a.data, out: a.out, end: a.end });
    });
}
