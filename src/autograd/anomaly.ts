/**
 * Anomaly detection (PyTorch's `torch.autograd.detect_anomaly`): when on, every op's output and
 * every gradient a backward rule returns is checked for NaN and Inf, and the first non-finite value
 * raises an {@link AnomalyError} naming the op, its input shapes and the module it ran in. Off by
 * default, and then it costs one boolean test per op: the checks read every value back to the host.
 *
 * The module path comes from a stack that module forwards push while the mode is on (nn/anomaly.ts
 * installs the pushers on a model's modules); outside any module it is unknown.
 */
import { fmtShape } from '../backend/strides.js';
import type { GradNode, Tensor } from '../tensor/tensor.js';

let enabled = false;
const modules: string[] = [];
/** Names of known tensors (a model's parameters), for messages. */
let names: WeakMap<Tensor, string> = new WeakMap();

export function isAnomalyEnabled(): boolean {
  return enabled;
}

/** Turns the checks on or off; `paramNames` names parameters in messages. */
export function setAnomalyEnabled(on: boolean, paramNames?: Iterable<[string, Tensor]>): void {
  enabled = on;
  modules.length = 0;
  names = new WeakMap();
  if (on && paramNames) for (const [n, t] of paramNames) names.set(t, n);
}

/** Called by module forwards while the mode is on. */
export function pushModule(path: string): void {
  modules.push(path);
}
export function popModule(): void {
  modules.pop();
}

/** The innermost module running now, or null. */
export function currentModule(): string | null {
  return modules.length ? modules[modules.length - 1] : null;
}

/** The causes of a non-finite value, likeliest first: what users should check, in that order. */
export const NON_FINITE_CAUSES =
  'likely causes, in order: (1) bad input data (a NaN/Inf in the batch, a label out of range, an empty or all-padding example); ' +
  '(2) a non-finite weight in the checkpoint (or left by an earlier update); (3) the learning rate too high or the warmup too short';

/** 'NaN', 'Inf' or null for a float tensor (int32 tensors are always finite). */
export function nonFiniteKind(t: Tensor): 'NaN' | 'Inf' | null {
  if (t.dtype === 'int32' || t.isDisposed) return null;
  const a = t.toArray();
  let inf = false;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v !== v) return 'NaN';
    if (v === Infinity || v === -Infinity) inf = true;
  }
  return inf ? 'Inf' : null;
}

export class AnomalyError extends Error {
  constructor(
    message: string,
    readonly op: string,
    readonly phase: 'forward' | 'backward',
    readonly inputShapes: number[][],
    readonly module: string | null,
  ) {
    super(message);
    this.name = 'AnomalyError';
  }
}

function describeInput(t: Tensor, i: number): string {
  const name = names.get(t);
  return `input ${i}${name ? ` (${name})` : ''} ${fmtShape(t.shape)}`;
}

function where(module: string | null): string {
  return module === null ? 'outside any module (pass { model } to detectAnomaly to name modules)' : `in module ${module || '(the model)'}`;
}

/** Forward check: throws when `out` holds NaN/Inf, saying whether an input already did. */
export function checkForward(op: string, inputs: readonly Tensor[], out: Tensor): void {
  const kind = nonFiniteKind(out);
  if (kind === null) return;
  const module = currentModule();
  const shapes = inputs.map((t) => [...t.shape]);
  const bad = inputs.flatMap((t, i) => {
    const k = nonFiniteKind(t);
    return k ? [`${describeInput(t, i)} already holds ${k}${t.node ? '' : names.has(t) ? ' (a weight: check the checkpoint)' : ' (input data)'}`] : [];
  });
  const source = bad.length ? `; ${bad.join('; ')}` : ' from finite inputs';
  throw new AnomalyError(
    `anomaly: ${op} forward produced ${kind} ${where(module)} (inputs ${shapes.map(fmtShape).join(', ')})${source}; ${NON_FINITE_CAUSES}`,
    op, 'forward', shapes, module,
  );
}

/** Wraps a node's backward so each input gradient it returns is checked; the module is the one the forward ran in. */
export function checkedBackward(node: GradNode, op = node.opName): GradNode['backward'] {
  const module = currentModule();
  const inner = node.backward;
  return (dy) => {
    const grads = inner(dy);
    grads.forEach((g, i) => {
      const kind = g ? nonFiniteKind(g) : null;
      if (kind === null) return;
      const shapes = node.inputs.map((t) => [...t.shape]);
      const upstream = nonFiniteKind(dy);
      throw new AnomalyError(
        `anomaly: ${op} backward produced ${kind} in the gradient of ${describeInput(node.inputs[i], i)} ${where(module)} ` +
          `(inputs ${shapes.map(fmtShape).join(', ')})${upstream ? `; the incoming gradient already held ${upstream}` : ' from a finite incoming gradient'}; ${NON_FINITE_CAUSES}`,
        op, 'backward', shapes, module,
      );
    });
    return grads;
  };
}
