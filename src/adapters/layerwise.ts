/**
 * What LISA and GRASS share: blocks found by the family's block pattern (a parameter outside every
 * block, embeddings, final LayerNorm and head, trains every step), the common config fields and
 * their checks, a host-side uniform stream from a seeded Generator, and sampling without
 * replacement. Each method's file adds how it weighs the blocks.
 */
import { keySchedule, uniform24 } from '../backend/rng.js';
import { FAMILIES, familyOf } from '../models/families.js';
import type { Module } from '../nn/module.js';
import { Generator } from '../ops/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkNumber } from './targets.js';
import type { LayerwiseFields, StepShare, TrainableSelector } from './types.js';

export type Trainable = readonly (readonly [string, Tensor])[];

/** Block indices of a model's parameters under `pattern`, ascending. */
export function blockIndices(model: Module, pattern: string): number[] {
  const re = new RegExp(pattern);
  const seen = new Set<number>();
  for (const [n] of model.namedParameters()) {
    const m = re.exec(n);
    if (m?.[1] !== undefined) seen.add(Number(m[1]));
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * Validates and completes the shared fields. gamma defaults to min(2, blocks - 1): the upper end of
 * LISA's typical 1-2, and never every block (that would be full fine-tuning). T_s defaults to 10, below
 * the paper's 20-50 because our runs are hundreds of steps, not thousands: a 300-step run resamples 30 times.
 */
export function resolveLayerwise(method: string, c: Partial<LayerwiseFields>, model: Module): LayerwiseFields & { blocks: number } {
  const family = familyOf(model);
  const pattern = c.layers_pattern ?? (family ? FAMILIES[family].blockPattern : undefined);
  if (pattern === undefined) throw new Error(`${method}: the model is not from the family table; set layers_pattern to a regex capturing the block index (e.g. "\\\\.layers\\\\.(\\\\d+)\\\\.")`);
  if (typeof pattern !== 'string') throw new Error(`${method}: layers_pattern must be a regex string, got ${JSON.stringify(pattern)}`);
  let blocks: number[];
  try {
    blocks = blockIndices(model, pattern);
  } catch (err) {
    throw new Error(`${method}: layers_pattern ${JSON.stringify(pattern)} is not a valid regex (${(err as Error).message})`);
  }
  if (blocks.length < 2) {
    throw new Error(`${method}: layers_pattern ${JSON.stringify(pattern)} finds ${blocks.length} block(s) in the model; a layer-wise method needs at least 2 to choose from (use full fine-tuning)`);
  }
  const gamma = checkNumber(method, 'gamma', c.gamma ?? Math.min(2, blocks.length - 1), { min: 1, max: blocks.length, integer: true });
  const frozen = c.frozen_state ?? 'drop';
  if (frozen !== 'drop' && frozen !== 'keep') throw new Error(`${method}: frozen_state must be "drop" or "keep", got ${JSON.stringify(frozen)}`);
  return {
    gamma,
    switch_interval: checkNumber(method, 'switch_interval', c.switch_interval ?? 10, { min: 1, integer: true }),
    seed: checkNumber(method, 'seed', c.seed ?? 0, { min: 0, integer: true }),
    frozen_state: frozen,
    layers_pattern: pattern,
    blocks: blocks.length,
  };
}

/** One block: its index and the trainable keys in it. */
export interface Block {
  index: number;
  keys: string[];
  /** Elements in the block's tensors (N_l). */
  size: number;
}

/** Splits trainable keys into blocks (ascending index) and the rest (always trained). */
export function splitBlocks(trainable: Trainable, pattern: string): { blocks: Block[]; always: string[] } {
  const re = new RegExp(pattern);
  const byIndex = new Map<number, Block>();
  const always: string[] = [];
  for (const [k, t] of trainable) {
    const m = re.exec(k);
    if (m?.[1] === undefined) {
      always.push(k);
      continue;
    }
    const i = Number(m[1]);
    let b = byIndex.get(i);
    if (!b) byIndex.set(i, (b = { index: i, keys: [], size: 0 }));
    b.keys.push(k);
    b.size += t.size;
  }
  return { blocks: [...byIndex.values()].sort((a, b) => a.index - b.index), always };
}

/** A uniform number in (0, 1) from the generator's stream (host side, the same on every platform). */
export function uniform(gen: Generator): number {
  const s = gen.take(1);
  const [h0, h1] = keySchedule(s.seedLo, s.seedHi);
  return uniform24(h0, h1, s.counter);
}

/**
 * `k` distinct positions drawn one after another with probability proportional to `weights` among
 * those not drawn yet (successive sampling without replacement); returned ascending.
 */
export function sampleWithoutReplacement(weights: readonly number[], k: number, gen: Generator): number[] {
  const left = weights.map((w, i) => [i, w] as [number, number]);
  const out: number[] = [];
  while (out.length < k && left.length) {
    const total = left.reduce((s, [, w]) => s + w, 0);
    let u = uniform(gen) * total;
    let j = 0;
    while (j < left.length - 1 && u >= left[j][1]) u -= left[j++][1];
    out.push(left[j][0]);
    left.splice(j, 1);
  }
  return out.sort((a, b) => a - b);
}

/**
 * The common selector: blocks, the always-trained rest, an active set resampled at the start of
 * every T_s interval. Subclasses give the block weights of each draw.
 */
export abstract class LayerwiseSelector implements TrainableSelector {
  readonly generator: Generator;
  readonly frozenState: 'drop' | 'keep';
  probeSteps = 0;
  /** The interval (floor(step / T_s)) the active blocks were drawn for, and their positions. */
  protected interval = -1;
  protected active: number[] = [];
  /** The probabilities of the last draw, one per block (normalised weights; LISA's are uniform). */
  protected drawProbabilities: number[] = [];
  private split: { blocks: Block[]; always: string[] } | null = null;

  constructor(protected readonly c: LayerwiseFields) {
    this.generator = new Generator(c.seed);
    this.frozenState = c.frozen_state;
  }

  /** Weights of the next draw, one per block (LISA: equal). */
  protected abstract weights(): number[];

  protected blocks(trainable: Trainable): { blocks: Block[]; always: string[] } {
    if (!this.split) this.split = splitBlocks(trainable, this.c.layers_pattern);
    return this.split;
  }

  /** The blocks, once the selector has seen the trainable tensors. */
  protected knownBlocks(caller: string): { blocks: Block[]; always: string[] } {
    if (!this.split) throw new Error(`${caller} before activeAt()/probeKeys(): the selector has not seen the trainable tensors`);
    return this.split;
  }

  activeAt(step: number, trainable: Trainable): ReadonlySet<string> {
    const { blocks, always } = this.blocks(trainable);
    const interval = Math.floor(step / this.c.switch_interval);
    if (interval !== this.interval) {
      const w = this.weights();
      const total = w.reduce((a, b) => a + b, 0);
      this.drawProbabilities = w.map((x) => x / total);
      this.active = sampleWithoutReplacement(w, this.c.gamma, this.generator);
      this.interval = interval;
    }
    return new Set([...always, ...this.active.flatMap((i) => blocks[i].keys)]);
  }

  /** Positions (in block order) of the blocks active now. */
  activeBlocks(): readonly number[] {
    return this.active;
  }

  largestStep(trainable: Trainable): StepShare {
    const { blocks, always } = this.blocks(trainable);
    const size = new Map(trainable.map(([k, t]) => [k, t.size]));
    const largest = blocks.map((b) => b.size).sort((a, b) => b - a).slice(0, this.c.gamma);
    const elements = always.reduce((n, k) => n + size.get(k)!, 0) + largest.reduce((n, s) => n + s, 0);
    return { elements, units: largest.length, of: blocks.length };
  }

  groups(trainable: Trainable): string[][] {
    return this.blocks(trainable).blocks.map((b) => b.keys);
  }

  state(): unknown {
    return { interval: this.interval, active: this.active, draw_probabilities: this.drawProbabilities };
  }

  setState(s: unknown): void {
    const o = s as { interval?: unknown; active?: unknown };
    if (typeof o?.interval !== 'number' || !Array.isArray(o.active)) throw new Error('layer-wise selector: the training state has no selector state (interval, active); it was written by another method');
    this.interval = o.interval;
    this.active = o.active.map(Number);
    const p = (s as { draw_probabilities?: unknown }).draw_probabilities;
    this.drawProbabilities = Array.isArray(p) ? p.map(Number) : [];
  }

  describe(): Record<string, unknown> {
    return { active_blocks: this.active, draw_probabilities: this.drawProbabilities };
  }
}
