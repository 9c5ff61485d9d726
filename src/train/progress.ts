/**
 * A training progress bar: one line rewritten in place on a terminal, and plain periodic lines
 * elsewhere (CI logs, files), where carriage returns would pile up into one unreadable line.
 * Output goes through a `write` callback, so this works with any stream.
 */

export interface ProgressOptions {
  total: number;
  /** Step the run starts from (a resumed run), so rates and the ETA count only this session's work. */
  start?: number;
  /** Receives text to print (e.g. s => process.stderr.write(s)). */
  write: (text: string) => void;
  /** Rewrite one line (terminal) or print a line every `every` steps (default false). */
  tty?: boolean;
  /** Non-TTY: print every this many steps (default: about 20 lines per run). */
  every?: number;
  /** Bar width in characters (default 24). */
  width?: number;
  /** Milliseconds clock (default performance.now); injectable for tests. */
  now?: () => number;
  /** A time budget's end on the same clock: the ETA is capped by it and marked "(budget)". */
  deadline?: number;
}

export interface ProgressUpdate {
  /** Steps completed. */
  step: number;
  loss: number;
  lr?: number;
  /** Tokens processed per step. */
  tokensPerStep: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${sec}s` : `${m}m${sec}s`;
}

/** No rate or ETA is shown before this much time has passed since the first update (a rate over microseconds is noise). */
export const MIN_RATE_SECONDS = 1;

export class ProgressBar {
  private readonly t0: number;
  /** The first update: its time and step start the rate's window (the bar is often created after a step already ran). */
  private first: { t: number; step: number } | null = null;
  /** Tokens of the steps after the first update (steps between updates count at the later update's size). */
  private tokens = 0;
  private lastStep = 0;
  private readonly start: number;
  private readonly every: number;
  private readonly now: () => number;
  private lastLength = 0;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.t0 = this.now();
    this.start = opts.start ?? 0;
    this.every = opts.every ?? Math.max(1, Math.round((opts.total - this.start) / 20));
  }

  /** The line for an update (without newline or carriage return). */
  line(u: ProgressUpdate): string {
    const { total } = this.opts;
    const width = this.opts.width ?? 24;
    const now = this.now();
    const elapsed = (now - this.t0) / 1000;
    // Rates count only the steps after the first update, over the time since it, once that time is long enough.
    const window = this.first ? (now - this.first.t) / 1000 : 0;
    const steps = this.first ? u.step - this.first.step : 0;
    const measured = steps > 0 && window >= MIN_RATE_SECONDS;
    const perStep = measured ? window / steps : NaN;
    const rate = measured ? `${Math.round(this.tokens / window)} tok/s` : '-- tok/s';
    const frac = Math.min(1, u.step / total);
    const filled = Math.round(frac * width);
    const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (frac < 1 ? '>' : '=') : '') + ' '.repeat(width - filled);
    const lr = u.lr !== undefined ? ` lr ${u.lr.toExponential(2)}` : '';
    const byStep = perStep * (total - u.step);
    const budget = this.opts.deadline !== undefined ? Math.max(0, (this.opts.deadline - this.now()) / 1000) : Infinity;
    const eta = budget < byStep ? `${formatDuration(budget)} (budget)` : formatDuration(byStep);
    return (
      `step ${String(u.step).padStart(String(total).length)}/${total} [${bar}] ${(frac * 100).toFixed(1).padStart(5)}%` +
      ` loss ${u.loss.toFixed(4)}${lr} ${rate} elapsed ${formatDuration(elapsed)} ETA ${eta}`
    );
  }

  update(u: ProgressUpdate): void {
    if (this.first === null) this.first = { t: this.now(), step: u.step };
    else if (u.step > this.lastStep) this.tokens += u.tokensPerStep * (u.step - this.lastStep);
    this.lastStep = u.step;
    if (this.opts.tty) {
      const text = this.line(u);
      // pad over the previous line's leftovers instead of relying on terminal escape codes
      this.opts.write('\r' + text + ' '.repeat(Math.max(0, this.lastLength - text.length)));
      this.lastLength = text.length;
    } else if ((u.step - this.start) % this.every === 0 || u.step === this.opts.total) {
      this.opts.write(this.line(u) + '\n');
    }
  }

  /** Prints a message on its own line without breaking the bar (e.g. an evaluation result). */
  log(message: string): void {
    if (this.opts.tty && this.lastLength > 0) {
      this.opts.write('\n');
      this.lastLength = 0;
    }
    this.opts.write(message + '\n');
  }

  /** Ends the in-place line. */
  finish(): void {
    if (this.opts.tty && this.lastLength > 0) this.opts.write('\n');
    this.lastLength = 0;
  }
}

/**
 * Progress of several training runs one after another (a comparison): a fresh bar for each run,
 * and log lines that go above the current bar instead of breaking it.
 */
export function runsProgress(write: (text: string) => void, tty: boolean): {
  log: (message: string) => void;
  onStep: (method: string, step: number, total: number, loss: number, tokens: number) => void;
} {
  let bar: ProgressBar | null = null;
  return {
    log: (m) => (bar ? bar.log(m) : write(m + '\n')),
    onStep: (_method, step, total, loss, tokens) => {
      if (step === 1 || !bar) bar = new ProgressBar({ total, write, tty, start: step - 1 });
      bar.update({ step, loss, tokensPerStep: tokens });
      if (step === total) bar.finish();
    },
  };
}
