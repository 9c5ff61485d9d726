/**
 * `detectAnomaly(true, { model })`: turns on the NaN/Inf checks of every op and gradient
 * (autograd/anomaly.ts) and, for `model`, makes each module's forward push its dotted path while it
 * runs, so an anomaly names where in the model it happened (`roberta.encoder.layer.1.attention.self`)
 * and which parameter a non-finite weight is. The pushers are own properties installed here and
 * deleted when the mode goes off: with the mode off, forwards run exactly as written.
 */
import { popModule, pushModule, setAnomalyEnabled } from '../autograd/anomaly.js';
import type { Module } from './module.js';

type Forward = (...args: unknown[]) => unknown;
const instrumented = new Set<Module>();

function uninstrument(): void {
  for (const m of instrumented) delete (m as unknown as { forward?: Forward }).forward;
  instrumented.clear();
}

/** Turns anomaly detection on or off (it reads every op's output back: for debugging, not for speed). */
export function detectAnomaly(on: boolean, opts: { model?: Module } = {}): void {
  uninstrument();
  setAnomalyEnabled(on, on ? opts.model?.namedParameters() : undefined);
  if (!on || !opts.model) return;
  for (const [path, m] of opts.model.namedModules()) {
    const own = m as unknown as { forward?: Forward };
    if (typeof own.forward !== 'function' || Object.hasOwn(m, 'forward')) continue;
    const forward = own.forward;
    const label = path || m.constructor.name;
    own.forward = function (this: unknown, ...args: unknown[]) {
      pushModule(label);
      try {
        return forward.apply(this, args);
      } finally {
        popModule();
      }
    };
    instrumented.add(m);
  }
}
