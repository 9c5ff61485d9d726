/**
 * Training metrics as JSON Lines: one self-describing object per line, appended as training goes,
 * so a crashed run keeps everything logged so far and tools can stream the file.
 */

export interface TrainRecord {
  type: 'train';
  step: number;
  /** Mean training loss over the steps since the previous train record. */
  loss: number;
  lr: number;
  tokens: number;
  tokens_per_sec: number;
  elapsed_s: number;
}

export interface EvalRecord {
  type: 'eval';
  step: number;
  val_loss: number;
  val_ppl: number;
  baseline_loss: number;
  baseline_ppl: number;
  /** Target tokens the losses average over. */
  val_tokens: number;
  /** Sentiment-knowledge pretraining: the polarity head on the masked lexicon tokens among the targets. */
  polarity_acc?: number;
  polarity_loss?: number;
  polarity_tokens?: number;
}

export interface EventRecord {
  /** `select`: a layer-wise method changed the trained blocks (its TrainableSelector.describe()). */
  type: 'start' | 'resume' | 'save' | 'final' | 'select';
  step: number;
  [key: string]: unknown;
}

/** Validation of a classifier during fine-tuning. */
export interface ClassificationEvalRecord {
  type: 'val';
  step: number;
  val_loss: number;
  accuracy: number;
  f1: number;
  mcc: number;
  examples: number;
}

/** A fine-tuning task's validation record: `type`, `step`, then the task's fields (Task.record). */
export interface TaskEvalRecord {
  type: 'val';
  step: number;
  [field: string]: number | string;
}

export type MetricsRecord = TrainRecord | EvalRecord | EventRecord | ClassificationEvalRecord | TaskEvalRecord;

/** One JSONL line (with its newline). Non-finite numbers become null, since JSON has no NaN. */
export function metricsLine(record: MetricsRecord): string {
  return JSON.stringify(record, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n';
}

/** Parses JSONL text; throws naming the line that is not a metrics object. */
export function parseMetrics(text: string): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      throw new Error(`metrics line ${i + 1}: invalid JSON (${(err as Error).message})`);
    }
    const r = obj as Partial<MetricsRecord> | null;
    if (typeof r !== 'object' || r === null || typeof r.type !== 'string' || typeof r.step !== 'number') {
      throw new Error(`metrics line ${i + 1}: expected an object with "type" and "step"`);
    }
    out.push(r as MetricsRecord);
  });
  return out;
}

/**
 * The lines of an existing log that a run resumed at `step` keeps: everything up to that step, so
 * the resumed log reads as if the run had never stopped (records after it are redone).
 */
export function truncateMetrics(text: string, step: number): string {
  return text
    .split('\n')
    .filter((line) => {
      if (line.trim() === '') return false;
      try {
        const r = JSON.parse(line) as { step?: unknown };
        return typeof r.step === 'number' && r.step <= step;
      } catch {
        return false; // a torn last line from a crash
      }
    })
    .map((l) => l + '\n')
    .join('');
}

/** Perplexity of a mean cross-entropy in nats. */
export function perplexity(loss: number): number {
  return Math.exp(loss);
}

/**
 * Unigram baseline: the cross-entropy (nats) of predicting every target with the training-split
 * token frequencies, ignoring context. A model that does not beat it has learned nothing beyond
 * which tokens are common. Counts get add-one smoothing so a token unseen in training costs a
 * finite amount; only ids in `candidates` (those that can be targets) share the probability mass.
 */
export function unigramCrossEntropy(trainTokens: ArrayLike<number>, targets: ArrayLike<number>, candidates: readonly number[], ignore = -100): number {
  let max = 0;
  for (const c of candidates) max = Math.max(max, c + 1);
  const counts = new Float64Array(max);
  for (let i = 0; i < trainTokens.length; i++) {
    const t = trainTokens[i]!;
    if (t >= 0 && t < max) counts[t]!++;
  }
  return unigramCrossEntropyFromCounts(counts, targets, candidates, ignore);
}

/** The same baseline from per-id training counts (`counts[id]`), for streams too large to pass whole. */
export function unigramCrossEntropyFromCounts(counts: ArrayLike<number>, targets: ArrayLike<number>, candidates: readonly number[], ignore = -100): number {
  const allowed = new Set(candidates);
  let total = 0;
  for (const c of allowed) total += counts[c] ?? 0;
  const denom = total + allowed.size;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    if (t === ignore) continue;
    if (!allowed.has(t)) throw new Error(`unigramCrossEntropy: target ${t} is not among the candidate ids`);
    sum -= Math.log(((counts[t] ?? 0) + 1) / denom);
    n++;
  }
  if (n === 0) throw new Error('unigramCrossEntropy: no targets (all ignored)');
  return sum / n;
}
