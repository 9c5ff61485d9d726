/**
 * StochGRASP: GRASP whose group scales and shifts are Gaussians N(mu, sigma^2), sigma = softplus(rho).
 * Training samples mu + sigma * eps with the reparameterized sampling kernel, one eps per group per
 * forward pass, so the model learns to tolerate perturbations of the (folded) weights; inference and
 * merging use mu. The noise-aware term is
 *   KL(N(mu, sigma^2) || N(mu, sigma_t^2)) = log(sigma_t / sigma) + sigma^2 / (2 sigma_t^2) - 1/2
 * per group parameter (the means cancel), minimised at sigma = sigma_t; the model adds kl_weight
 * times its mean over all group parameters to the task loss.
 */
import { full } from '../ops/create.js';
import { add, div, log, softplus, square, sub } from '../ops/elementwise.js';
import { gaussianSample } from '../ops/grouped.js';
import { Generator } from '../ops/random.js';
import { sum } from '../ops/reduce.js';
import { parameter } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkKnownFields, checkNumber, findTargets, hashName } from './targets.js';
import { GRASP_FIELDS, GroupedLayer, resolveGroupedBase, type GroupParams } from './grasp.js';
import type { AdaptableLayer, AdapterMethod, StochGraspConfig } from './types.js';

/** rho with softplus(rho) = sigma: log(exp(sigma) - 1), written stably for small sigma. */
export function inverseSoftplus(sigma: number): number {
  return sigma > 20 ? sigma : Math.log(Math.expm1(sigma));
}

/** The KL term of one Gaussian against N(mu, sigma_t^2), as a number (for tests and docs). */
export function gaussianKL(sigma: number, targetSigma: number): number {
  return Math.log(targetSigma / sigma) + (sigma * sigma) / (2 * targetSigma * targetSigma) - 0.5;
}

/** Sum over elements of KL(N(., sigma^2) || N(., st^2)) for sigma = softplus(rho). */
export function klToTarget(rho: Tensor, targetSigma: number): Tensor {
  const sigma = softplus(rho);
  const perElement = add(sub(div(square(sigma), 2 * targetSigma * targetSigma), log(sigma)), Math.log(targetSigma) - 0.5);
  return sum(perElement);
}

class StochGraspLayer extends GroupedLayer {
  readonly params: [string, Tensor][];
  readonly regularizerSize: number;
  private readonly gammaMu: Tensor;
  private readonly gammaRho: Tensor;
  private readonly betaMu: Tensor;
  private readonly betaRho: Tensor | null;
  readonly generator: Generator;
  private readonly targetSigma: number;

  constructor(name: string, layer: AdaptableLayer, c: StochGraspConfig) {
    super(name, layer, c);
    const be = layer.weight.backend;
    const rho0 = inverseSoftplus(c.init_sigma);
    this.gammaMu = parameter(full([this.K], 1, { backend: be }));
    this.gammaRho = parameter(full([this.K], rho0, { backend: be }));
    this.betaMu = parameter(full([this.K], 0, { backend: be }));
    this.betaRho = c.sample_shift ? parameter(full([this.K], rho0, { backend: be })) : null;
    this.params = [['grasp_gamma_mu', this.gammaMu], ['grasp_gamma_rho', this.gammaRho], ['grasp_beta_mu', this.betaMu]];
    if (this.betaRho) this.params.push(['grasp_beta_rho', this.betaRho]);
    this.regularizerSize = this.K * (this.betaRho ? 2 : 1);
    this.generator = new Generator((c.sample_seed ^ hashName(name)) >>> 0);
    this.targetSigma = c.target_sigma;
    this.hookUp();
  }

  protected groupParams(): GroupParams {
    if (!this.layer.training) return this.meanParams();
    const sample = (mu: Tensor, rho: Tensor) => gaussianSample(mu, softplus(rho), { generator: this.generator }); // [K]
    return { gamma: sample(this.gammaMu, this.gammaRho), beta: this.betaRho ? sample(this.betaMu, this.betaRho) : this.betaMu };
  }

  protected meanParams(): GroupParams {
    return { gamma: this.gammaMu, beta: this.betaMu };
  }

  regularizer(): Tensor {
    const kl = klToTarget(this.gammaRho, this.targetSigma);
    return this.betaRho ? add(kl, klToTarget(this.betaRho, this.targetSigma)) : kl;
  }

  /** The generator's position, for exact resume. */
  generatorState(): ReturnType<Generator['state']> {
    return this.generator.state();
  }

  setGeneratorState(s: ReturnType<Generator['state']>): void {
    this.generator.setState(s);
  }
}

const FIELDS = [...GRASP_FIELDS, 'init_sigma', 'target_sigma', 'kl_weight', 'sample_shift', 'sample_seed'] as const;

export const STOCHGRASP: AdapterMethod<'STOCHGRASP'> = {
  peftType: 'STOCHGRASP',
  name: 'stochgrasp',
  defaultLr: 1e-2,
  describe: (c) => `StochGRASP K=${c.num_groups} σt=${c.target_sigma} λ=${c.kl_weight}`,
  regularizerWeight: (c) => c.kl_weight,
  resolve(config, model) {
    const m = 'StochGRASP';
    checkKnownFields(m, config, FIELDS);
    const base = resolveGroupedBase(m, config, model);
    return {
      peft_type: 'STOCHGRASP',
      ...base,
      init_sigma: checkNumber(m, 'init_sigma', config.init_sigma ?? 0.05, { min: 0, exclusiveMin: true, max: 10 }),
      target_sigma: checkNumber(m, 'target_sigma', config.target_sigma ?? 0.1, { min: 0, exclusiveMin: true, max: 10 }),
      kl_weight: checkNumber(m, 'kl_weight', config.kl_weight ?? 0.01, { min: 0 }),
      sample_shift: checkBoolean(m, 'sample_shift', config.sample_shift ?? true),
      sample_seed: checkNumber(m, 'sample_seed', config.sample_seed ?? 0, { min: 0, integer: true }),
    };
  },
  attach(model, config) {
    const layers = findTargets(model, config.target_modules, 'StochGRASP', config.modules_to_save)
      .map(([name, layer]) => new StochGraspLayer(name, layer, config));
    return { layers, trainBase: [] };
  },
};

/** Generators of the sampling layers, for checkpoints (exact resume). */
export function isStochGraspLayer(l: unknown): l is StochGraspLayer {
  return l instanceof StochGraspLayer;
}
