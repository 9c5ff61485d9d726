/**
 * Training-state checkpoints for exact resume: model weights, AdamW moments, the step and every
 * piece of host state the next steps depend on (generator positions, the data cursor), in ONE
 * safetensors file whose `__metadata__` holds the JSON state. One file means one atomic write
 * (writeFileAtomic): a crash leaves either the previous state or the new one, never a mix of a
 * new model with old moments. Bytes in, bytes out: the caller does the file I/O.
 */
import { parseSafetensors, serializeSafetensors, type SafetensorsInput } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import type { AdamW } from '../optim/adamw.js';
import { zerosLike } from '../ops/create.js';
import { keep } from '../tensor/scope.js';
import { noGrad } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';

const META_KEY = 'wasmgrad_training_state';
const FORMAT = 1;

/** Whatever holds the trained tensors: a Module, or an adapted model's trainable set (`{ namedParameters: () => adapted.namedTrainable() }`). */
export type ParameterSource = Pick<Module, 'namedParameters'>;

/** Host-side state; JSON-serialisable. `extra` carries what the training task adds (data cursor, generators). */
export interface TrainingState {
  /** Optimizer steps completed. */
  step: number;
  tokensSeen: number;
  /** Wall time spent training before this checkpoint, in seconds (summed over sessions). */
  elapsedSeconds: number;
  extra: Record<string, unknown>;
}

/** Serialises weights (`model.<name>`), moments (`adamw.m.<name>`, `adamw.v.<name>`) and the state. */
export function encodeTrainingState(model: ParameterSource, opt: AdamW, state: TrainingState): Uint8Array {
  const tensors: [string, SafetensorsInput][] = [];
  const f32 = (a: ArrayLike<number>) => (a instanceof Float32Array ? a : Float32Array.from(a));
  for (const [name, p] of model.namedParameters()) {
    tensors.push([`model.${name}`, { shape: [...p.shape], data: f32(p.toArray()) }]);
    const mv = opt.moments(p);
    if (mv) {
      tensors.push([`adamw.m.${name}`, { shape: [...p.shape], data: f32(mv.m.toArray()) }]);
      tensors.push([`adamw.v.${name}`, { shape: [...p.shape], data: f32(mv.v.toArray()) }]);
    }
  }
  const meta = { format: FORMAT, optimizerSteps: opt.stepCount, ...state };
  return serializeSafetensors(tensors, { [META_KEY]: JSON.stringify(meta) });
}

/**
 * Restores weights and moments into an existing model and a freshly constructed AdamW over its
 * parameters (same order), and returns the host state. Throws, naming the key, if the file does
 * not fit the model.
 */
export function decodeTrainingState(bytes: Uint8Array, model: ParameterSource, opt: AdamW, o: { file?: string } = {}): TrainingState {
  const parsed = parseSafetensors(bytes, { file: o.file });
  const what = o.file === undefined ? 'training state' : `training state ${o.file}`;
  const raw = parsed.metadata?.[META_KEY];
  if (raw === undefined) throw new Error(`${what}: no "${META_KEY}" metadata; this is not a wasmgrad training-state file`);
  let meta: TrainingState & { format: number; optimizerSteps: number };
  try {
    meta = JSON.parse(raw) as typeof meta;
  } catch (err) {
    throw new Error(`${what}: the "${META_KEY}" metadata is not JSON (${(err as Error).message}); the file is damaged: start without --resume`, { cause: err });
  }
  if (meta.format !== FORMAT) throw new Error(`${what}: format ${meta.format} is not supported (expected ${FORMAT})`);
  const get = (key: string, shape: readonly number[]) => {
    const e = parsed.tensors.get(key);
    if (!e) throw new Error(`${what}: missing ${key}; the checkpoint belongs to a different model`);
    if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${what}: ${key} has shape [${e.shape.join(', ')}], the model [${shape.join(', ')}]`);
    }
    return e.data;
  };
  const params = model.namedParameters();
  const withMoments = params.filter(([name]) => parsed.tensors.has(`adamw.m.${name}`));
  if (withMoments.length) primeMoments(opt, withMoments.map(([, p]) => p));
  noGrad(() => {
    for (const [name, p] of params) {
      p.backend.write(p.buf, get(`model.${name}`, p.shape));
      const mv = opt.moments(p);
      if (!parsed.tensors.has(`adamw.m.${name}`)) continue;
      if (!mv) throw new Error(`${what}: the optimizer does not hold parameter ${name}`);
      mv.m.backend.write(mv.m.buf, get(`adamw.m.${name}`, p.shape));
      mv.v.backend.write(mv.v.buf, get(`adamw.v.${name}`, p.shape));
    }
  });
  opt.stepCount = meta.optimizerSteps;
  return { step: meta.step, tokensSeen: meta.tokensSeen, elapsedSeconds: meta.elapsedSeconds, extra: meta.extra ?? {} };
}

/**
 * AdamW creates its moment tensors on a parameter's first update and offers no setter. One update
 * with lr = 0 and zero gradients creates them and changes nothing: m and v stay 0 (beta m + (1 -
 * beta) 0), the step is lr * 0 and the decay factor 1 - lr wd is exactly 1. The moments are then
 * overwritten with the saved values and the step count restored by the caller.
 */
function primeMoments(opt: AdamW, params: readonly Tensor[]): void {
  const lr = opt.lr;
  const saved = opt.stepCount;
  try {
    for (const p of params) if (!p.grad) p.grad = keep(zerosLike(p));
    opt.lr = 0;
    opt.step();
  } finally {
    opt.lr = lr;
    opt.stepCount = saved;
    opt.zeroGrad();
  }
}
