/**
 * Module: a tree of named parameters whose dotted names are Hugging Face checkpoint keys.
 *
 * Children and parameters are found by property name (as in PyTorch's `__setattr__`), so a model
 * written as `this.h = new ModuleList(...)`, `this.ln_f = new LayerNorm(...)` yields
 * `h.0.attn.c_attn.weight` and `ln_f.bias`, and loading a checkpoint is a loop over keys.
 * Only tensors created with {@link parameter} count as parameters; other properties (config,
 * generators, flags) are ignored.
 */
import { fmtShape, shapesEqual } from '../backend/strides.js';
import { noGrad } from '../tensor/engine.js';
import { keep } from '../tensor/scope.js';
import { Tensor, type DType } from '../tensor/tensor.js';

const PARAMETERS = new WeakSet<Tensor>();

/** Marks `t` as a trainable parameter: kept out of every scope (it survives tidy) and requiring grad. */
export function parameter(t: Tensor): Tensor {
  if (t.node) throw new Error(`parameter: ${t.describe()} was computed by an op; parameters must be leaves`);
  keep(t);
  t.requiresGrad = true;
  PARAMETERS.add(t);
  return t;
}

export function isParameter(x: unknown): x is Tensor {
  return x instanceof Tensor && PARAMETERS.has(x);
}

export interface LoadStateDictOptions {
  /** Missing or unexpected keys raise (default true). Shape and dtype mismatches always raise: nothing could be copied. */
  strict?: boolean;
  /** Under `strict`, missing keys this accepts do not raise (a task head that starts fresh); they stay in `missing`. */
  mayMiss?: (key: string) => boolean;
  /** Under `strict`, unexpected keys this accepts do not raise (another architecture's head); they stay in `unexpected`. */
  mayDrop?: (key: string) => boolean;
  /** The file the state dict came from, named in errors. */
  source?: string;
}

/** What loadStateDict did with each key. */
export interface LoadReport {
  loaded: string[];
  /** Parameters of the module with no entry in the state dict. */
  missing: string[];
  /** Entries that name no parameter. */
  unexpected: string[];
  /** Entries whose shape differs from the parameter's. */
  mismatched: { key: string; expected: number[]; got: number[] }[];
  /** Entries whose dtype cannot load into the parameter: integer data (int32) for a float weight, or the reverse. */
  wrongDtype: { key: string; expected: DType; got: DType }[];
  /** Entries the model knowingly skips (tied weights, legacy buffers), after key normalisation. */
  ignored: string[];
}

/** Up to four keys, then how many more: for a message's first line. */
function someKeys(keys: readonly string[]): string {
  return keys.slice(0, 4).join(', ') + (keys.length > 4 ? ` and ${keys.length - 4} more` : '');
}

/** The likeliest reason a state dict does not fit, from the pattern of what is off. */
export function likelyCause(report: Pick<LoadReport, 'missing' | 'unexpected' | 'mismatched' | 'wrongDtype'>): string {
  if (report.wrongDtype.length) return 'integer data where float weights belong: a quantized or unrelated file';
  if (report.mismatched.length) return 'the config does not match the weights (another model size, vocabulary or number of labels), or the wrong file';
  if (report.missing.length && report.unexpected.length) return 'keys spelled differently: a checkpoint of another architecture or family, or renamed keys';
  if (report.missing.length) return 'the file lacks weights the model has: a partial export, fewer layers than the config says, or the wrong file';
  return 'the file holds weights the model does not have: another architecture, or more layers than the config says';
}

export class StateDictError extends Error {
  /** `where`: the file the state dict came from, when known. */
  constructor(readonly report: LoadReport, modelName: string, where?: string) {
    const what = [
      report.missing.length ? `missing ${someKeys(report.missing)}` : '',
      report.unexpected.length ? `unexpected ${someKeys(report.unexpected)}` : '',
      report.mismatched.length ? `mis-shaped ${someKeys(report.mismatched.map((m) => m.key))}` : '',
      report.wrongDtype.length ? `wrong dtype ${someKeys(report.wrongDtype.map((m) => m.key))}` : '',
    ].filter(Boolean).join('; ');
    const lines = [`${where ? `${where}: ` : ''}the weights do not fit ${modelName} (${what}); likely cause: ${likelyCause(report)}`];
    if (report.missing.length) lines.push(`  missing keys (${report.missing.length}): ${report.missing.join(', ')}`);
    if (report.unexpected.length) lines.push(`  unexpected keys (${report.unexpected.length}): ${report.unexpected.join(', ')}`);
    for (const m of report.mismatched) {
      lines.push(`  shape mismatch for ${m.key}: the model has ${fmtShape(m.expected)}, the state dict ${fmtShape(m.got)}`);
    }
    for (const m of report.wrongDtype) {
      lines.push(
        `  dtype mismatch for ${m.key}: the model has ${m.expected}, the state dict ${m.got}` +
          (m.got === 'int32' ? ' (integer or bool data where a float weight belongs: a quantized or unrelated checkpoint?)' : ''),
      );
    }
    lines.push('  check that the file and its config.json belong together and to this architecture');
    super(lines.join('\n'));
    this.name = 'StateDictError';
  }
}

/**
 * One checkpoint entry: an engine tensor, or values on the host (a parsed safetensors entry), which
 * loading writes straight into the parameter: one copy across the boundary and no second model on
 * the heap. Int32Array values are integer entries (buffers), which no float parameter takes.
 */
export type StateValue = Tensor | HostValues;

export interface HostValues {
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | Int32Array;
}

/** Keys the model normalises before matching: the map to match and the keys deliberately dropped. */
export interface PreparedState {
  state: Map<string, StateValue>;
  ignored: string[];
}

function isInt(v: StateValue): boolean {
  return v instanceof Tensor ? v.dtype === 'int32' : v.data instanceof Int32Array;
}

function dtypeOf(v: StateValue): DType {
  return v instanceof Tensor ? v.dtype : v.data instanceof Int32Array ? 'int32' : 'float32';
}

export abstract class Module {
  /** Training mode (dropout active). Set with train()/eval(), which propagate to children. */
  training = true;

  /** Direct children, by property name. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [key, value] of Object.entries(this)) if (value instanceof Module) yield [key, value];
  }

  /** This module and every descendant, with dotted paths ('' for this one). */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [key, child] of this.namedChildren()) yield* child.namedModules(prefix ? `${prefix}.${key}` : key);
  }

  /** Every parameter once (a tensor shared by two paths keeps its first name), in definition order. */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [path, m] of this.namedModules()) {
      for (const [key, value] of Object.entries(m)) {
        if (!isParameter(value) || seen.has(value)) continue;
        seen.add(value);
        out.push([path ? `${path}.${key}` : key, value]);
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Name -> the live parameter tensors (not copies; clone them to snapshot). */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /**
   * Hook for models whose checkpoints use other spellings (prefixes, tied or legacy entries):
   * maps incoming keys to this module's names. The default keeps every key.
   */
  protected prepareStateDict(state: Map<string, StateValue>): PreparedState {
    return { state, ignored: [] };
  }

  /**
   * Copies values from `state` into the existing parameters (they stay the same tensors, so
   * optimizers holding them keep working). Checks everything before copying anything.
   */
  loadStateDict(state: Map<string, StateValue> | Record<string, StateValue>, opts: LoadStateDictOptions = {}): LoadReport {
    const strict = opts.strict ?? true;
    const incoming = state instanceof Map ? state : new Map(Object.entries(state));
    const { state: prepared, ignored } = this.prepareStateDict(incoming);
    const own = new Map(this.namedParameters());
    const report: LoadReport = { loaded: [], missing: [], unexpected: [], mismatched: [], wrongDtype: [], ignored };
    for (const [key, src] of prepared) {
      const p = own.get(key);
      if (!p) report.unexpected.push(key);
      else if (!shapesEqual(p.shape, src.shape)) report.mismatched.push({ key, expected: [...p.shape], got: [...src.shape] });
      else if ((p.dtype === 'int32') !== isInt(src)) report.wrongDtype.push({ key, expected: p.dtype, got: dtypeOf(src) });
      else report.loaded.push(key);
    }
    for (const key of own.keys()) if (!prepared.has(key)) report.missing.push(key);
    const missing = report.missing.filter((k) => !opts.mayMiss?.(k));
    const unexpected = report.unexpected.filter((k) => !opts.mayDrop?.(k));
    if (report.mismatched.length || report.wrongDtype.length || (strict && (missing.length || unexpected.length))) {
      // Name only what is wrong: a fresh head or a dropped head is not the problem.
      throw new StateDictError({ ...report, missing: strict ? missing : [], unexpected: strict ? unexpected : [] }, this.constructor.name, opts.source);
    }
    noGrad(() => {
      for (const key of report.loaded) {
        const p = own.get(key)!;
        const src = prepared.get(key)!;
        p.backend.write(p.buf, src instanceof Tensor ? src.toArray() : src.data);
      }
    });
    return report;
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Stops gradients to every parameter (requiresGrad = false). */
  freeze(): this {
    for (const p of this.parameters()) p.requiresGrad = false;
    return this;
  }

  unfreeze(): this {
    for (const p of this.parameters()) p.requiresGrad = true;
    return this;
  }

  /** Number of scalar parameters (tied tensors counted once). */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!opts.trainableOnly || p.requiresGrad) n += p.size;
    return n;
  }

  /** Frees every parameter and its gradient. The module is unusable afterwards. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}

/** An indexed list of children: `h.0`, `h.1`, ... (PyTorch's nn.ModuleList). */
export class ModuleList<M extends Module> extends Module {
  [index: number]: M;
  readonly length: number;

  constructor(modules: readonly M[]) {
    super();
    modules.forEach((m, i) => (this[i] = m));
    this.length = modules.length;
  }

  *[Symbol.iterator](): Iterator<M> {
    for (let i = 0; i < this.length; i++) yield this[i];
  }

  map<T>(f: (m: M, i: number) => T): T[] {
    return Array.from(this, f);
  }
}
