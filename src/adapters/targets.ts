/**
 * Choosing layers by name (PEFT's rules: a list matches by suffix, a string is a full-match regex),
 * the family's default targets (read from the family table), and the small validation helpers every method's resolve() uses.
 */
import { Conv1D, Embedding, Linear } from '../nn/layers.js';
import { FAMILIES, familyOf, type DefaultTargets, type Family } from '../models/families.js';
import type { Module } from '../nn/module.js';
import type { AdaptableLayer, TargetModules } from './types.js';

/** A model's family from the family table (src/models/families.ts), or 'custom' for any other module. */
export type ModelFamily = Family | 'custom';

/** The family of `model` (the table's models say it themselves), or 'custom'. */
export function modelFamily(model: Module): ModelFamily {
  return familyOf(model) ?? 'custom';
}

/** Does module `name` match the targets? */
export function matchesTarget(name: string, targets: TargetModules): boolean {
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(name);
  return targets.some((t) => name === t || name.endsWith(`.${t}`));
}

export function isAdaptable(m: Module): m is AdaptableLayer {
  return m instanceof Linear || m instanceof Conv1D || m instanceof Embedding;
}

/**
 * The adaptable layers whose names match, in model order. Throws when nothing matches or when a
 * match is not a Linear/Conv1D/Embedding, listing what the model has so the user can fix the pattern.
 */
export function findTargets(model: Module, targets: TargetModules, method: string, exclude: readonly string[] = []): [string, AdaptableLayer][] {
  const out: [string, AdaptableLayer][] = [];
  for (const [name, m] of model.namedModules()) {
    if (!name || !matchesTarget(name, targets)) continue;
    if (exclude.some((e) => name === e || name.startsWith(`${e}.`) || name.endsWith(`.${e}`) || name.includes(`.${e}.`))) continue;
    if (!isAdaptable(m)) {
      throw new Error(`${method}: target_modules matched ${name}, a ${m.constructor.name}; only Linear, Conv1D and Embedding layers can be adapted (match their names, e.g. "${name}.dense")`);
    }
    out.push([name, m]);
  }
  if (out.length === 0) {
    const names = [...model.namedModules()].filter(([n, m]) => n && isAdaptable(m)).map(([n]) => n);
    const sample = names.slice(0, 8).join(', ') + (names.length > 8 ? `, ... (${names.length} in all)` : '');
    throw new Error(`${method}: target_modules ${JSON.stringify(targets)} match no layer of this model; adaptable layers are: ${sample}`);
  }
  return out;
}

/** The family's default targets for a method (FAMILIES[f].targets), or an error asking for explicit targets on models the table does not know. */
export function defaultTargets(model: Module, key: keyof DefaultTargets, method: string): TargetModules {
  const family = familyOf(model);
  if (!family) throw new Error(`${method}: no default target_modules for this model; pass target_modules (layer names or a regex)`);
  return FAMILIES[family].targets[key];
}

/**
 * The head modules trained alongside the adapter: those of the family's `headModules` the model has
 * (RoBERTa's `classifier`; GPT4TS's `in_layer` and `out_layer`); for models outside the table,
 * `classifier` when the model has one.
 */
export function defaultModulesToSave(model: Module): string[] {
  const family = familyOf(model);
  const heads = family ? FAMILIES[family].headModules : ['classifier'];
  const children = new Set([...model.namedChildren()].map(([n]) => n));
  return heads.filter((h) => children.has(h));
}

export function checkTargets(method: string, field: string, v: unknown): TargetModules {
  if (typeof v === 'string') {
    try {
      new RegExp(v);
    } catch (err) {
      throw new Error(`${method}: ${field} ${JSON.stringify(v)} is not a valid regex (${(err as Error).message})`);
    }
    return v;
  }
  if (!Array.isArray(v) || v.length === 0 || v.some((t) => typeof t !== 'string' || t === '')) {
    throw new Error(`${method}: ${field} must be a non-empty list of layer names or a regex string, got ${JSON.stringify(v)}`);
  }
  return [...v] as string[];
}

export function checkNumber(method: string, field: string, v: unknown, o: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean }): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (!o.integer || Number.isInteger(v))
    && (o.min === undefined || (o.exclusiveMin ? v > o.min : v >= o.min)) && (o.max === undefined || v <= o.max);
  if (!ok) {
    const range = [o.min !== undefined ? `${o.exclusiveMin ? '>' : '>='} ${o.min}` : '', o.max !== undefined ? `<= ${o.max}` : ''].filter(Boolean).join(' and ');
    throw new Error(`${method}: ${field} = ${JSON.stringify(v)} must be ${o.integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}`);
  }
  return v as number;
}

export function checkBoolean(method: string, field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new Error(`${method}: ${field} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function checkModulesToSave(method: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string' || t === '')) {
    throw new Error(`${method}: modules_to_save must be a list of module names (e.g. ["classifier"]), got ${JSON.stringify(v)}`);
  }
  return [...v] as string[];
}

/** Rejects fields the method does not know (typos would otherwise be silently ignored). */
export function checkKnownFields(method: string, config: object, known: readonly string[]): void {
  const extra = Object.keys(config).filter((k) => !known.includes(k));
  if (extra.length) throw new Error(`${method}: unknown config field(s) ${extra.join(', ')}; known fields: ${known.join(', ')}`);
}

/** A seeded permutation of 0..n-1 (Fisher-Yates on a 32-bit mulberry stream), the same on every platform. */
export function seededPermutation(n: number, seed: number): Int32Array {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** A 32-bit hash of a string (FNV-1a), to derive per-layer seeds from names. */
export function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
