/**
 * Differentiable ops: one `OpSpec` holds an op's forward and backward side by side, and `apply`
 * records it on the tape (the output's `node`) when any input requires a gradient.
 *
 * Backward rules return one gradient per input (null where `ctx.needsGrad[i]` is false). A gradient
 * may have any shape that broadcasts to its input's shape: the engine (backward.ts) reduces it, so
 * broadcasting is undone in exactly one place.
 */
import { isGradEnabled, noGrad } from '../tensor/engine.js';
import { checkedBackward, checkForward, isAnomalyEnabled } from './anomaly.js';
import type { GradNode, Tensor } from '../tensor/tensor.js';
import { profilingActive, timeBackward, timeForward } from './profile.js';

/**
 * What forward hands to backward.
 *
 * Saving policy: forward saves only what the gradients being asked for need (`needsGrad`), e.g.
 * `x @ W` with W frozen saves W alone (dx = dy W^T does not read x). What no node saves is not kept
 * for backward: a tensor held only as a vertex of the graph has its storage released when its scope
 * ends (tensor/scope.ts), and a saved tensor is released once the last node saving it has run
 * (backward.ts). Shapes are always available (`inputShapes`), so no op saves a tensor for its shape.
 */
export class OpContext {
  /** What backward reads, by position; null where forward did not need to keep it. */
  readonly saved: (Tensor | null)[] = [];
  constructor(
    /** needsGrad[i]: whether input i wants a gradient. */
    readonly needsGrad: readonly boolean[],
    /** Whether a graph is being recorded (forward may skip saving when false). */
    readonly recording: boolean,
    /** The inputs' shapes (kept without their storage). */
    readonly inputShapes: readonly (readonly number[])[] = [],
  ) {}
  /** Keeps tensors for backward (a null holds the position of one not needed). */
  save(...ts: (Tensor | null)[]): void {
    if (this.recording) this.saved.push(...ts);
  }
  /** Saves forward temporaries when recording, else frees them at once (inference outside tidy leaks nothing). */
  saveTemps(...ts: Tensor[]): void {
    if (this.recording) this.saved.push(...ts);
    else for (const t of ts) t.dispose();
  }
  /** The tensor saved at `i`; throws if forward did not keep it (a saving-policy bug, not a user error). */
  get(i: number, op: string): Tensor {
    const t = this.saved[i];
    if (!t) throw new Error(`${op} backward: saved tensor ${i} was not kept by forward (needsGrad ${JSON.stringify(this.needsGrad)})`);
    return t;
  }
}

/**
 * One differentiable op. Invariant in its attributes `A` (`in out`): a spec taking `{ axes: number[] }`
 * is neither an `OpSpec<{ axes: number }>` nor an `OpSpec<{ axes: number[]; keepdim: boolean }>`, so
 * tables of specs typed by attribute records (ops/table.ts) are checked field by field.
 */
export interface OpSpec<in out A> {
  readonly name: string;
  /** Computes the output from the inputs; saves what backward needs with `ctx.save`. */
  forward(ctx: OpContext, inputs: readonly Tensor[], attrs: A): Tensor;
  /** Gradients of the inputs given the output gradient `dy` (runs with gradient recording off). */
  backward(ctx: OpContext, dy: Tensor, attrs: A): (Tensor | null)[];
  /** Floating-point operations of one forward, for `profile` (ops that report GB/s leave it out). */
  flops?(inputs: readonly Tensor[], out: Tensor, attrs: A): number;
}

/** Builds an op spec (a typed identity that keeps literals readable). */
export function defineOp<A>(spec: OpSpec<A>): OpSpec<A> {
  return spec;
}

/** Checks that all inputs are alive and on one backend. */
function checkInputs(op: string, inputs: readonly Tensor[]): void {
  const backend = inputs[0]?.backend;
  for (const t of inputs) {
    if (t.isDisposed) t.storage; // throws the use-after-dispose error
    if (t.backend !== backend) {
      throw new Error(
        `${op}: inputs live on different backends (${backend?.name}/${backend?.variant} and ` +
          `${t.backend.name}/${t.backend.variant}); create them under the same backend`,
      );
    }
  }
}

/**
 * Runs an op and records it for autodiff when gradients are enabled and an input requires one.
 * The attribute type comes from `spec` alone (`NoInfer`): `attrs` is checked against it, never widens it.
 */
export function apply<A>(spec: OpSpec<A>, inputs: readonly Tensor[], attrs: NoInfer<A>): Tensor {
  checkInputs(spec.name, inputs);
  const needsGrad = inputs.map((t) => t.requiresGrad);
  const recording = isGradEnabled() && needsGrad.some(Boolean);
  const ctx = new OpContext(needsGrad, recording, inputs.map((t) => t.shape));
  const out = profilingActive()
    ? timeForward(spec.name, () => noGrad(() => spec.forward(ctx, inputs, attrs)), (o) => ({
      bytes: 4 * (o.size + inputs.reduce((n, t) => n + t.size, 0)),
      flops: spec.flops?.(inputs, o, attrs) ?? 0,
    }))
    : noGrad(() => spec.forward(ctx, inputs, attrs));
  const anomaly = isAnomalyEnabled();
  // Element-wise families (unary, binary) name their member in attrs.op: `sqrt`, not `unary`.
  const label = anomaly ? (typeof (attrs as { op?: unknown } | null)?.op === 'string' ? (attrs as { op: string }).op : spec.name) : spec.name;
  if (anomaly) checkForward(label, inputs, out);
  if (recording && out.dtype !== 'int32') {
    out.requiresGrad = true;
    const node: GradNode = {
      opName: spec.name,
      inputs,
      saved: ctx.saved,
      backward: (dy) =>
        profilingActive() ? timeBackward(spec.name, () => spec.backward(ctx, dy, attrs)) : spec.backward(ctx, dy, attrs),
    };
    if (anomaly) node.backward = checkedBackward(node, label);
    out.attachNode(node);
  }
  return out;
}
