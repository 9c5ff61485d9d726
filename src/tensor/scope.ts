/**
 * Memory scopes: `tidy(fn)` frees every tensor `fn` created except what it returns.
 *
 * A training step written as `tidy(() => { loss = ...; loss.backward(); opt.step(); return loss.item(); })`
 * leaves nothing behind but parameters, their gradients and optimizer state, which are created
 * outside the scope or kept. Returned tensors survive together with everything their autograd graph
 * still references, so `const y = tidy(() => f(x)); y.backward()` works.
 */
import { adoptIntoCurrentScope, nextTensorId, popScope, pushScope, Tensor, untrack } from './tensor.js';

/**
 * Tensors `keep()` exempted while each open `tidy` ran (innermost last): their graphs are protected
 * like those of returned tensors, so a tensor kept inside a scope can still be backpropagated.
 */
const keptInScopes: Tensor[][] = [];

/** Calls `fn` in a new scope and disposes the tensors it created, except those reachable from its result or kept. */
export function tidy<T>(fn: () => T): T {
  const firstId = nextTensorId();
  const scope = pushScope();
  const kept: Tensor[] = [];
  keptInScopes.push(kept);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    keptInScopes.pop();
    popScope();
    for (const t of scope) t.dispose();
    throw err;
  }
  keptInScopes.pop();
  popScope();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error('tidy: the callback returned a Promise; tidy only tracks synchronous work (await outside it)');
  }
  // Returned tensors move to the parent scope. Tensors their graphs still need are held by the
  // returned tensors and freed once backward has consumed the graph or the returned tensor is
  // disposed: with their values if a backward rule reads them (saved), else as bare vertices of the
  // graph (interior results no rule reads give their storage back now). What the graphs reach but
  // backward never visits nor reads (inputs that need no gradient, unsaved) is freed with the scope.
  const direct = new Set(collectTensors(result));
  const graphs = new Map<Tensor, Set<Tensor>>();
  const read = new Set<Tensor>();
  // kept tensors are out of every scope already; what their graphs need from this one stays too
  for (const root of [...direct, ...kept]) if (root.node && !root.isDisposed && !graphs.has(root)) graphs.set(root, graphOf(root, read, firstId));
  const vertexOnly = new Set<Tensor>();
  for (const [root, graph] of graphs) {
    const refs: Tensor[] = [];
    for (const t of graph) {
      if (!scope.has(t) || direct.has(t)) continue;
      if (!read.has(t)) {
        if (!t.requiresGrad) continue; // backward neither visits nor reads it: freed below with the scope
        if (t.node) vertexOnly.add(t); // leaves keep their storage: their .grad is accumulated there
      }
      refs.push(t);
      t.holds++;
    }
    if (refs.length) root.graphRefs = [...(root.graphRefs ?? []), ...refs];
  }
  for (const t of vertexOnly) t.releaseStorage();
  for (const t of scope) {
    if (direct.has(t)) adoptIntoCurrentScope(t);
    else if (t.holds === 0) t.dispose();
  }
  return result;
}

/**
 * Exempts tensors from scope disposal; they live until `dispose()` is called on them. Inside
 * `tidy`, what a kept tensor's autograd graph needs survives the scope too (as for a returned
 * tensor), until backward consumes the graph or the tensor is disposed.
 */
export function keep<T extends Tensor | readonly Tensor[]>(x: T): T {
  for (const t of collectTensors(x)) {
    untrack(t);
    for (const k of keptInScopes) k.push(t);
  }
  return x;
}

/** Disposes every tensor found in `x` (a tensor, or arrays/objects of tensors). */
export function dispose(x: unknown): void {
  for (const t of collectTensors(x)) t.dispose();
}

/** Tensors inside a value: a tensor, or arrays, Maps and plain objects of them (nested). */
export function collectTensors(x: unknown, out: Tensor[] = [], seen = new Set<unknown>()): Tensor[] {
  if (x === null || typeof x !== 'object' || seen.has(x)) return out;
  seen.add(x);
  if (x instanceof Tensor) out.push(x);
  else if (Array.isArray(x)) for (const v of x) collectTensors(v, out, seen);
  else if (x instanceof Map) for (const v of x.values()) collectTensors(v, out, seen);
  else if (Object.getPrototypeOf(x) === Object.prototype) for (const v of Object.values(x)) collectTensors(v, out, seen);
  return out;
}

/**
 * What a live autograd graph references among the tensors created since `firstId` (inputs and
 * saved tensors, transitively); those some backward rule reads (saved) are added to `read`. An
 * older tensor's graph holds only older tensors, so the walk stops there: a scope pays for its own
 * part of the graph, not for everything recorded before it (one scope per layer stays linear).
 */
function graphOf(root: Tensor, read: Set<Tensor>, firstId: number): Set<Tensor> {
  const seen = new Set<Tensor>();
  const stack: Tensor[] = [];
  const visit = (node: NonNullable<Tensor['node']>) => {
    stack.push(...node.inputs);
    for (const s of node.saved) {
      if (!s) continue;
      read.add(s);
      stack.push(s);
    }
  };
  if (root.node) visit(root.node);
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (t.node && t.id >= firstId) visit(t.node);
  }
  return seen;
}
