/**
 * GRASS: layer-wise fine-tuning with blocks drawn by gradient importance.
 *
 * - Probe: for `probe_steps` steps before training (forward and backward on the first training
 *   batches, no update) every block gets a gradient; m_l = mean over those steps of
 *   sqrt(||g_l||^2 / N_l), the block's gradient RMS (N_l = its element count).
 * - Every `switch_interval` steps, `gamma` blocks are drawn without replacement (one after another,
 *   each with probability proportional to p among those left) from p = softmax(normalize(m) / tau).
 * - Every `update_interval` steps, the m of each block that trained since the last refresh moves to
 *   the mean gradient RMS it had over those steps: m <- alpha m + (1 - alpha) m_new. Frozen blocks
 *   keep their (stale) m. `static: true` skips the refresh (probe values throughout).
 * Gradients are read before clipping. The paper's values of these hyperparameters are not known;
 * ours and why:
 * - probe_steps 10: ten batches average out most of one batch's noise and cost 10 forward/backward
 *   passes, a few percent of a few-hundred-step run.
 * - update_interval 10 = the default switch_interval: one refresh per active period.
 * - alpha 0.5: a refresh is itself a mean over up to 10 steps, so half weight on it follows the
 *   block's changing importance within two periods without one noisy period taking over.
 * - normalization 'max' (m / max m) keeps the ratios between blocks (z-scores of two or three blocks
 *   are always about ±1, whatever their gradients); with tau 0.5 the logits lie in (0, 2], so the
 *   weakest block is still drawn at least e^-2 ≈ 0.14 times as often as the strongest: exploration
 *   never stops, and a block with half the top RMS is drawn e^-1 ≈ 0.37 times as often.
 */
import { LayerwiseSelector, resolveLayerwise, type Trainable } from './layerwise.js';
import { checkBoolean, checkKnownFields, checkModulesToSave, checkNumber, defaultModulesToSave } from './targets.js';
import type { AdapterMethod, GrassConfig } from './types.js';

const FIELDS = [
  'peft_type', 'modules_to_save', 'base_model_name_or_path', 'gamma', 'switch_interval', 'seed', 'frozen_state', 'layers_pattern',
  'probe_steps', 'update_interval', 'alpha', 'tau', 'normalization', 'static',
] as const;
const NORMALIZATIONS = ['max', 'sum', 'zscore', 'none'] as const;

/** normalize(m) as configured. */
export function normalizeImportance(m: readonly number[], how: GrassConfig['normalization']): number[] {
  if (how === 'none') return [...m];
  if (how === 'max' || how === 'sum') {
    const d = how === 'max' ? Math.max(...m) : m.reduce((a, b) => a + b, 0);
    return m.map((x) => (d > 0 ? x / d : 0));
  }
  const mean = m.reduce((a, b) => a + b, 0) / m.length;
  const std = Math.sqrt(m.reduce((a, b) => a + (b - mean) ** 2, 0) / m.length);
  return m.map((x) => (std > 0 ? (x - mean) / std : 0));
}

/** p = softmax(normalize(m) / tau). */
export function grassProbabilities(m: readonly number[], c: Pick<GrassConfig, 'normalization' | 'tau'>): number[] {
  const z = normalizeImportance(m, c.normalization).map((x) => x / c.tau);
  const top = Math.max(...z);
  const e = z.map((x) => Math.exp(x - top));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

interface GrassState {
  /** Importance per block (null until the probe ends). */
  m: number[] | null;
  /** Probe: sum of per-step RMS and steps seen. */
  probeSum: number[];
  probeSeen: number;
  /** Since the last refresh: sum of per-step RMS and steps, per block. */
  accSum: number[];
  accSeen: number[];
}

export class GrassSelector extends LayerwiseSelector {
  private s: GrassState;
  private readonly cfg: GrassConfig;

  constructor(c: GrassConfig, blocks: number) {
    super(c);
    this.cfg = c;
    this.probeSteps = c.probe_steps;
    const zeros = () => new Array<number>(blocks).fill(0);
    this.s = { m: null, probeSum: zeros(), probeSeen: 0, accSum: zeros(), accSeen: zeros() };
  }

  /** The current importance per block (null before the probe). */
  importance(): readonly number[] | null {
    return this.s.m;
  }

  probabilities(): number[] | null {
    return this.s.m ? grassProbabilities(this.s.m, this.cfg) : null;
  }

  protected weights(): number[] {
    const p = this.probabilities();
    if (!p) throw new Error('GRASS: blocks are drawn before the probe measured them; the training loop must run the probe (probeSteps) first');
    return p;
  }

  probeKeys(trainable: Trainable): ReadonlySet<string> {
    return new Set(this.blocks(trainable).blocks.flatMap((b) => b.keys));
  }

  observe(step: number, sumSquares: (key: string) => number, probe: number | null): void {
    const { blocks } = this.knownBlocks('GRASS: observe()');
    const rms = (i: number) => Math.sqrt(blocks[i].keys.reduce((a, k) => a + sumSquares(k), 0) / blocks[i].size);
    const s = this.s;
    if (probe !== null) {
      blocks.forEach((_, i) => (s.probeSum[i] += rms(i)));
      if (++s.probeSeen === this.cfg.probe_steps) s.m = s.probeSum.map((x) => x / s.probeSeen);
      return;
    }
    if (this.cfg.static || !s.m) return;
    for (const i of this.activeBlocks()) {
      s.accSum[i] += rms(i);
      s.accSeen[i]++;
    }
    if ((step + 1) % this.cfg.update_interval === 0) {
      const a = this.cfg.alpha;
      for (let i = 0; i < s.m.length; i++) {
        if (s.accSeen[i] === 0) continue; // frozen since the last refresh: stale
        s.m[i] = a * s.m[i] + (1 - a) * (s.accSum[i] / s.accSeen[i]);
        s.accSum[i] = 0;
        s.accSeen[i] = 0;
      }
    }
  }

  override state(): unknown {
    return { ...(super.state() as object), grass: structuredClone(this.s) };
  }

  override setState(state: unknown): void {
    super.setState(state);
    const g = (state as { grass?: GrassState }).grass;
    if (!g || !Array.isArray(g.probeSum) || g.probeSum.length !== this.s.probeSum.length) {
      throw new Error(`GRASS: the training state's selector state does not fit this model's ${this.s.probeSum.length} blocks`);
    }
    this.s = structuredClone(g);
  }

  override describe(): Record<string, unknown> {
    return { ...super.describe(), probabilities: this.probabilities(), importance: this.s.m };
  }
}

export const GRASS: AdapterMethod<'GRASS'> = {
  peftType: 'GRASS',
  name: 'grass',
  // As LISA: the chosen blocks train as in full fine-tuning.
  defaultLr: 5e-4,
  describe: (c) => `GRASS γ=${c.gamma} T_s=${c.switch_interval} τ=${c.tau}${c.static ? ' static' : ''}`,
  resolve(config, model) {
    const M = 'GRASS';
    checkKnownFields(M, config, FIELDS);
    const { blocks: _, ...fields } = resolveLayerwise(M, config, model);
    const normalization = config.normalization ?? 'max';
    if (!NORMALIZATIONS.includes(normalization)) throw new Error(`${M}: normalization must be one of ${NORMALIZATIONS.join(', ')}, got ${JSON.stringify(normalization)}`);
    return {
      peft_type: 'GRASS',
      modules_to_save: checkModulesToSave(M, config.modules_to_save ?? defaultModulesToSave(model)),
      base_model_name_or_path: config.base_model_name_or_path ?? null,
      ...fields,
      probe_steps: checkNumber(M, 'probe_steps', config.probe_steps ?? 10, { min: 1, integer: true }),
      update_interval: checkNumber(M, 'update_interval', config.update_interval ?? 10, { min: 1, integer: true }),
      alpha: checkNumber(M, 'alpha', config.alpha ?? 0.5, { min: 0, max: 1 }),
      tau: checkNumber(M, 'tau', config.tau ?? 0.5, { min: 0, exclusiveMin: true }),
      normalization,
      static: checkBoolean(M, 'static', config.static ?? false),
    };
  },
  attach(model, config) {
    const { blocks } = resolveLayerwise('GRASS', config, model);
    return { layers: [], trainBase: model.namedParameters().map(([n]) => n), selector: new GrassSelector(config, blocks) };
  },
};
