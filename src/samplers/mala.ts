/**
 * Metropolis-adjusted Langevin algorithm (Roberts & Tweedie 1996, "Exponential convergence of
 * Langevin distributions and their discrete approximations", Bernoulli 2). Proposal
 *   y = x + (ε²/2) A ∇log p̃(x) + ε A^{1/2} z,   z ~ N(0, I),
 * with A a diagonal preconditioner (the inverse metric), then a Metropolis–Hastings correction.
 * In warm-up ε is tuned by dual averaging toward acceptance 0.574 (Roberts & Rosenthal 1998's
 * optimal rate) and A by Stan's windows (as HMC; MALA is HMC with one leapfrog step, so the same
 * warm-up driver serves); both are frozen afterwards.
 *
 * Example:
 *   const draws = await mala(gaussian({ dim: 5 }), { seed: 1, draws: 2000 });
 */
import type { Draws } from '../core/draws.js';
import type { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import { ParameterError } from '../core/errors.js';
import { runChains, type ChainSpec, type CountedTarget } from './chains.js';
import { Metric } from './metric.js';
import { checkHamiltonianOptions, hamiltonianChain, type HamiltonianOptions, type HmcState } from './hmc.js';
import { exp } from '../core/portableMath.js';

export type MalaOptions = Omit<HamiltonianOptions, 'maxEnergyError'>;

export type MalaState = HmcState;

export interface MalaInfo {
  acceptStat: number;
  accepted: boolean;
  divergent: boolean;
}

/** log q(to | from) up to a constant, for the preconditioned Langevin proposal. */
function logProposal(to: Float64Array, from: Float64Array, gradFrom: Float64Array, eps: number, a: Float64Array): number {
  let s = 0;
  const h = 0.5 * eps * eps;
  for (let i = 0; i < to.length; i++) {
    const r = to[i] - from[i] - h * a[i] * gradFrom[i];
    s += (r * r) / a[i];
  }
  return -s / (2 * eps * eps);
}

/** One MALA transition with step size `eps` and diagonal preconditioner `invMetric`. */
export function malaStep(rng: RandomStream, target: CountedTarget, state: MalaState, eps: number, metric: Metric | Float64Array): [MalaState, MalaInfo] {
  const invMetric = metric instanceof Metric ? metric.inv : metric;
  if (invMetric.length !== state.position.length) throw new ParameterError("MALA takes a diagonal metric (a dense one: hmc with numSteps 1 is the same kernel)");
  const x = state.position;
  const d = x.length;
  const z = rng.fillNormal(new Float64Array(d));
  const y = new Float64Array(d);
  const h = 0.5 * eps * eps;
  for (let i = 0; i < d; i++) y[i] = x[i] + h * invMetric[i] * state.grad[i] + eps * Math.sqrt(invMetric[i]) * z[i];
  const gy = new Float64Array(d);
  const ly = target.gradLogDensity(y, gy);
  const logRatio =
    ly === -Infinity
      ? -Infinity
      : ly - state.logDensity + logProposal(x, y, gy, eps, invMetric) - logProposal(y, x, state.grad, eps, invMetric);
  const acceptStat = Number.isNaN(logRatio) ? 0 : logRatio >= 0 ? 1 : exp(logRatio);
  const accepted = rng.uniform() < acceptStat;
  const info: MalaInfo = { acceptStat, accepted, divergent: false };
  return accepted ? [{ position: y, logDensity: ly, grad: gy }, info] : [state, info];
}

/** The chains of mala as a ChainSpec, for running them here (`mala`) or spread over threads. */
export function malaChainSpec(target: Target, options: MalaOptions): ChainSpec {
  if (options?.metric === 'dense' || (options?.invMetric && target && options.invMetric.length !== target.dim)) {
    throw new ParameterError("mala takes a diagonal metric only (hmc with numSteps: 1 is MALA and takes metric: 'dense')");
  }
  if (options && target && Number.isInteger(target.dim)) checkHamiltonianOptions(options, target.dim);
  const opts: HamiltonianOptions = { ...options, targetAccept: options?.targetAccept ?? 0.574 };
  return {
    sampler: 'mala',
    needsGradient: true,
    makeChain(_c, rng, x0, counted, config) {
      const chain = hamiltonianChain(rng, x0, counted, config, opts, (r, s, eps, inv) => malaStep(r, counted, s, eps, inv));
      // The extremes of the frozen preconditioner show whether warm-up learned the scales.
      const summary = () => {
        const m = chain.invMetric();
        return { stepSize: chain.stepSize(), invMetricMin: Math.min(...m), invMetricMax: Math.max(...m) };
      };
      return { ...chain, divergent: undefined, summary };
    },
  };
}

/**
 * MALA with adapted step size and diagonal preconditioner (Roberts & Stramer 2002, "Langevin
 * diffusions and Metropolis-Hastings algorithms", preconditioned form). Info: `stepSize`, and
 * `invMetricMin` / `invMetricMax`, the extremes of the frozen preconditioner A, per chain.
 */
export async function mala(target: Target, options: MalaOptions): Promise<Draws> {
  return runChains(target, options, malaChainSpec(target, options));
}
