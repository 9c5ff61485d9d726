/**
 * Reverse-mode sweep over the tape.
 *
 * Order: an iterative post-order DFS from the root (no recursion, so graphs thousands of ops deep
 * work), processed in reverse. Each node's output gradient is complete when the node is reached.
 * Input gradients are reduced to the input's shape here (`sumToShape`), accumulated with `+`, and
 * gradients no longer needed are freed as soon as their node has run, which keeps the peak memory of
 * the backward pass close to that of the forward.
 *
 * Graphs can overlap: two losses computed from one hidden state, or a result used to compute another.
 * A backward without retainGraph consumes only the part of the graph no other live graph reads (a
 * tensor's `consumers` counts the live nodes reading it; more than this graph's own means another
 * graph needs it and everything below it), so the other graph's backward still finds its nodes and
 * saved tensors. Running backward again through a part that was consumed throws, rather than
 * stopping the gradient there in silence.
 */
import { noGrad } from '../tensor/engine.js';
import { fmtShape, shapesEqual, type Shape } from '../backend/strides.js';
import { addSameShape, copyFloat, filledLike, reduceKeepdim } from '../tensor/raw.js';
import { popScope, pushScope, untrack, type Tensor } from '../tensor/tensor.js';

export interface BackwardOptions {
  /** Keep the graph so backward can run again through it (default false: nodes are released). */
  retainGraph?: boolean;
}

/** Reduces a gradient of a broadcast result back to the shape of the operand that was broadcast. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  if (lead < 0) {
    throw new Error(`backward: gradient ${fmtShape(g.shape)} has lower rank than its input ${fmtShape(shape)}`);
  }
  const axes: number[] = [];
  for (let d = 0; d < g.rank; d++) {
    if (d < lead) axes.push(d);
    else if (shape[d - lead] === 1 && g.shape[d] !== 1) axes.push(d);
    else if (shape[d - lead] !== g.shape[d]) {
      throw new Error(`backward: gradient ${fmtShape(g.shape)} does not broadcast to its input ${fmtShape(shape)}`);
    }
  }
  const reduced = reduceKeepdim('sum', g, axes);
  if (shapesEqual(reduced.shape, shape)) return reduced;
  const out = reduced.shareStorage(shape);
  reduced.dispose(); // the view holds its own reference to the storage
  return out;
}

/** Tensors reachable from root through inputs that require grad, inputs before the ops using them. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>([root]);
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const inputs = top[0].node ? top[0].node.inputs : [];
    if (top[1] < inputs.length) {
      const child = inputs[top[1]++];
      if (child.requiresGrad && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(top[0]);
    }
  }
  return order;
}

/**
 * Accumulates d(root)/d(leaf) into `leaf.grad` for every leaf that requires grad.
 * `grad` seeds the sweep (required unless root has one element).
 */
export function backward(root: Tensor, grad?: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new Error(
      `backward: ${root.describe()} does not require grad: no input had requiresGrad = true, ` +
        'or it was computed under noGrad() / from detach()ed tensors',
    );
  }
  if (!grad && root.size !== 1) {
    throw new Error(
      `backward: ${root.describe()} is not a scalar; pass the output gradient (same shape) or reduce it first (e.g. .sum())`,
    );
  }
  if (grad && !shapesEqual(grad.shape, root.shape)) {
    throw new Error(`backward: gradient ${fmtShape(grad.shape)} must have the output's shape ${fmtShape(root.shape)}`);
  }
  const order = topoOrder(root);
  for (const t of order) {
    if (!t.node && t.graphConsumed) {
      throw new Error(
        `backward: ${t.describe()}${t === root ? '' : ` (reached from ${root.describe()})`} was computed by ops whose graph an ` +
          'earlier backward() already consumed; pass { retainGraph: true } to the earlier backward() to run backward through it again',
      );
    }
  }
  const retain = opts.retainGraph ?? false;
  const shared = retain ? new Set<Tensor>() : sharedWithOtherGraphs(order);
  const created = pushScope();
  try {
    noGrad(() => sweep(root, grad ?? filledLike(root, 1), order, created, retain, shared, retain ? null : releasable(order, shared)));
  } finally {
    // Everything the sweep created is garbage now: leaf gradients were copied out (and untracked).
    popScope();
    for (const t of created) t.dispose();
  }
  // The graph is consumed: tensors a tidy() kept only for it can go (unless another graph reads the root).
  if (!retain && !shared.has(root)) root.releaseGraphRefs();
}

/**
 * The tensors of this graph that another live graph also needs: those read by more live nodes than
 * the graph's own (`consumers`), and every tensor below one of them. Their nodes and saved tensors
 * stay for the other graph's backward. Empty in the usual case of one loss per graph.
 */
function sharedWithOtherGraphs(order: Tensor[]): Set<Tensor> {
  const readsHere = new Map<Tensor, number>();
  for (const t of order) for (const x of t.node?.inputs ?? []) readsHere.set(x, (readsHere.get(x) ?? 0) + 1);
  const shared = new Set<Tensor>();
  // Reverse post-order: every reader of t inside the graph is decided before t itself.
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    if (!shared.has(t) && t.consumers <= (readsHere.get(t) ?? 0)) continue;
    shared.add(t);
    for (const x of t.node?.inputs ?? []) shared.add(x);
  }
  return shared;
}

/**
 * What the sweep may free as soon as no node left to run reads it: tensors held only for this graph
 * (a tidy() returned a tensor of it and no other holder shares them; no user code can reach them),
 * with the number of nodes that read each. Leaves keep their storage (their .grad lives there).
 */
function releasable(order: Tensor[], shared: Set<Tensor>): Map<Tensor, number> {
  const held = new Set<Tensor>();
  for (const t of order) for (const r of t.graphRefs ?? []) if (r.holds === 1 && (r.node || !r.requiresGrad)) held.add(r);
  // What a node left for another graph reads stays (that graph's backward reads it).
  for (const t of shared) for (const s of t.node?.saved ?? []) if (s) held.delete(s);
  const readers = new Map<Tensor, number>();
  for (const t of order) {
    if (shared.has(t)) continue;
    for (const s of t.node?.saved ?? []) if (s && held.has(s)) readers.set(s, (readers.get(s) ?? 0) + 1);
  }
  return readers;
}

function sweep(
  root: Tensor, seed: Tensor, order: Tensor[], created: Set<Tensor>, retain: boolean, shared: Set<Tensor>,
  readers: Map<Tensor, number> | null,
): void {
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const uses = new Map<Tensor, number>([[seed, 1]]);
  const release = (g: Tensor) => {
    const n = (uses.get(g) ?? 1) - 1;
    uses.set(g, n);
    if (n === 0 && created.has(g)) g.dispose();
  };
  // A gradient only this sweep holds, once, in its own storage: it may be updated in place or handed over.
  const exclusive = (x: Tensor) => created.has(x) && uses.get(x) === 1 && x.storage.refs === 1;
  const store = (t: Tensor, g: Tensor) => {
    const prev = grads.get(t);
    let next = g;
    if (prev && prev !== g && exclusive(prev) && prev.dtype === g.dtype) {
      // Accumulate in place: prev + g equals the sum below bit for bit, without a third buffer of
      // this size (the tied embedding's two (V, C) contributions meet here).
      prev.backend.axpy(1, g.buf, prev.buf, g.size);
      uses.set(g, (uses.get(g) ?? 0) + 1);
      release(g);
      return;
    }
    if (prev) {
      next = addSameShape(prev, g);
      release(prev);
      uses.set(g, (uses.get(g) ?? 0) + 1);
      release(g);
    }
    grads.set(t, next);
    uses.set(next, (uses.get(next) ?? 0) + 1);
  };

  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = grads.get(t);
    const consume = !retain && !shared.has(t);
    if (!g) {
      if (consume) t.dropNode(true); // no gradient reached it: consumed all the same
      continue;
    }
    grads.delete(t);
    const node = t.node;
    if (!node) {
      accumulateLeafGrad(t, g, exclusive(g));
    } else {
      const inputGrads = node.backward(g);
      if (inputGrads.length !== node.inputs.length) {
        throw new Error(`backward of ${node.opName}: returned ${inputGrads.length} gradients for ${node.inputs.length} inputs`);
      }
      node.inputs.forEach((input, k) => {
        const gi = inputGrads[k];
        if (!gi || !input.requiresGrad) return;
        store(input, sumToShape(gi, input.shape));
      });
      if (consume) t.dropNode(true);
      // Saved tensors no remaining node reads give their storage back now, not at the end of backward.
      if (readers) {
        for (const s of node.saved) {
          const n = s ? readers.get(s) : undefined;
          if (n === undefined) continue;
          if (n > 1) readers.set(s!, n - 1);
          else {
            readers.delete(s!);
            s!.releaseStorage();
          }
        }
      }
    }
    release(g);
  }
}

/** Adds g to leaf.grad; `own`: g is the sweep's alone (one use, its own storage), so it can become leaf.grad without a copy. */
function accumulateLeafGrad(leaf: Tensor, g: Tensor, own: boolean): void {
  if (leaf.grad) {
    if (!shapesEqual(leaf.grad.shape, leaf.shape)) {
      throw new Error(`backward: ${leaf.describe()} has a .grad of shape ${fmtShape(leaf.grad.shape)}`);
    }
    leaf.backend.axpy(1, g.buf, leaf.grad.buf, g.size);
  } else if (own && shapesEqual(g.shape, leaf.shape) && g.dtype === leaf.dtype) {
    // Handed over: out of the sweep's scope (so it is not freed with it), counted as gradient memory.
    untrack(g);
    leaf.backend.tagMemory(g.buf, 'gradients');
    leaf.grad = g;
  } else {
    // A private copy: g may share storage with tensors the sweep still uses, and later
    // accumulation into .grad happens in place.
    // It is counted as gradient memory from its allocation on (memory accounting, backend/memory.ts).
    const prev = leaf.backend.setMemoryCategory('gradients');
    let copy: Tensor;
    try {
      copy = copyFloat(g);
    } finally {
      leaf.backend.setMemoryCategory(prev);
    }
    untrack(copy);
    leaf.grad = copy;
  }
}
