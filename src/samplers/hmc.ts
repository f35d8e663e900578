/**
 * Hamiltonian Monte Carlo with a fixed number of leapfrog steps (or a fixed integration length),
 * a diagonal metric and dual-averaging step size, both adapted during warm-up only
 * (Neal 2011, "MCMC using Hamiltonian dynamics"; Hoffman & Gelman 2014 for dual averaging;
 * Stan's windowed metric adaptation). Shape as in BlackJAX: State, Info, init, step, and the
 * top-level `hmc(target, options)`. NUTS (nuts.ts) reuses `hamiltonianChain` and the pieces in
 * hmcCore.ts / adaptation.ts.
 *
 * Example:
 *   const draws = await hmc(gaussian({ dim: 5 }), { seed: 1, chains: 4, draws: 1000, numSteps: 10 });
 */
import type { Draws } from '../core/draws.js';
import { ParameterError, checkParam, checkPositiveInt, DimensionError } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import { WarmupAdaptation, type WindowOptions } from './adaptation.js';
import { runChains, type ChainSpec, type ChainRunner, type CommonConfig, type CountedTarget } from './chains.js';
import {
  findReasonableStepSize,
  hamiltonian,
  leapfrog,
  sampleMomentum,
  type PhasePoint,
} from './hmcCore.js';
import type { SamplerOptions } from './sampler.js';

/** Options shared by HMC and NUTS. */
export interface HamiltonianOptions extends SamplerOptions, WindowOptions {
  /** Initial step size; found by the Hoffman–Gelman heuristic when omitted. */
  stepSize?: number;
  /** Target mean acceptance statistic for dual averaging (default 0.8). */
  targetAccept?: number;
  /** Adapt the step size in warm-up (default true). */
  adaptStepSize?: boolean;
  /** Adapt the diagonal metric in warm-up (default true). */
  adaptMetric?: boolean;
  /** Initial diagonal inverse metric (variances), default ones. */
  invMetric?: Float64Array;
  /** Energy error above which a transition is divergent (default 1000, as Stan). */
  maxEnergyError?: number;
}

export interface HmcOptions extends HamiltonianOptions {
  /** Leapfrog steps per transition (default 16). Ignored when integrationLength is set. */
  numSteps?: number;
  /** Integration time T: each transition takes max(1, round(T / ε)) steps (at most 1024). */
  integrationLength?: number;
  /**
   * Each transition uses step size ε·(1 + jitter·(2u - 1)), u ~ U(0, 1) (default 0.2). Neal
   * (2011, §5.4.5) recommends randomising ε to break the near-periodic orbits of a fixed
   * trajectory length: without it, on our correlated 2-D Gaussian test the ESS of x² fell to
   * ~50 in 8000 draws. A random ε chosen independently of the state keeps detailed balance.
   */
  jitter?: number;
}

/** The chain state: position with its log density and gradient. */
export interface HmcState {
  position: Float64Array;
  logDensity: number;
  grad: Float64Array;
}

export interface HmcInfo {
  /** Metropolis acceptance probability min(1, exp(-ΔH)). */
  acceptStat: number;
  accepted: boolean;
  divergent: boolean;
  /** Hamiltonian at the start of the transition. */
  energy: number;
  numSteps: number;
}

export interface HmcParams {
  stepSize: number;
  invMetric: Float64Array;
  numSteps: number;
  maxEnergyError: number;
}

/** State at x (x must have finite density; chains.ts checked that). */
export function hmcInit(target: CountedTarget, x: Float64Array): HmcState {
  const grad = new Float64Array(x.length);
  const logDensity = target.gradLogDensity(x, grad);
  return { position: Float64Array.from(x), logDensity, grad };
}

export function stateToPoint(s: HmcState): PhasePoint {
  return { q: s.position.slice(), p: new Float64Array(s.position.length), grad: s.grad.slice(), logp: s.logDensity };
}

/** One HMC transition: fresh momentum, `numSteps` leapfrog steps, Metropolis accept. */
export function hmcStep(rng: RandomStream, target: CountedTarget, state: HmcState, params: HmcParams): [HmcState, HmcInfo] {
  const { stepSize, invMetric, numSteps, maxEnergyError } = params;
  const z = stateToPoint(state);
  sampleMomentum(rng, invMetric, z.p);
  const h0 = hamiltonian(z, invMetric);
  let divergent = false;
  for (let s = 0; s < numSteps; s++) {
    if (!leapfrog(target, z, stepSize, invMetric) || hamiltonian(z, invMetric) - h0 > maxEnergyError) {
      divergent = true;
      break;
    }
  }
  const dH = divergent ? Infinity : hamiltonian(z, invMetric) - h0;
  const acceptStat = dH > 0 ? Math.exp(-dH) : 1;
  const accepted = !divergent && rng.uniform() < acceptStat;
  const info: HmcInfo = { acceptStat, accepted, divergent, energy: h0, numSteps };
  if (!accepted) return [state, info];
  return [{ position: z.q, logDensity: z.logp, grad: z.grad }, info];
}

/** Validates the options HMC and NUTS share; returns the initial inverse metric. */
export function checkHamiltonianOptions(o: HamiltonianOptions, dim: number): Float64Array {
  if (o.stepSize !== undefined) checkParam('stepSize', o.stepSize, (v) => v > 0, 'a positive number');
  if (o.targetAccept !== undefined) checkParam('targetAccept', o.targetAccept, (v) => v > 0 && v < 1, 'in (0, 1)');
  if (o.maxEnergyError !== undefined) checkParam('maxEnergyError', o.maxEnergyError, (v) => v > 0, 'a positive number');
  if (o.adaptStepSize === false && o.stepSize === undefined) {
    throw new ParameterError('adaptStepSize: false needs an explicit stepSize');
  }
  if (o.invMetric !== undefined) {
    if (o.invMetric.length !== dim) {
      throw new DimensionError(`dimension mismatch: target has dim ${dim}, got invMetric of length ${o.invMetric.length}`);
    }
    o.invMetric.forEach((v, i) => checkParam(`invMetric[${i}]`, v, (u) => u > 0, 'a positive number'));
    return Float64Array.from(o.invMetric);
  }
  return new Float64Array(dim).fill(1);
}

/** What a Hamiltonian kernel reports to the shared chain driver. */
export interface KernelInfo {
  acceptStat: number;
  divergent: boolean;
}

/**
 * A chain of any Hamiltonian kernel (HMC, NUTS) with the shared warm-up: initial step-size
 * search, dual averaging toward `targetAccept`, Stan's windowed diagonal metric (with a fresh
 * step-size search and restart after each metric update), and the averaged step size frozen
 * after warm-up. `kernel` does one transition with the given step size and inverse metric.
 */
export function hamiltonianChain<I extends KernelInfo>(
  rng: RandomStream,
  x0: Float64Array,
  target: CountedTarget,
  config: CommonConfig,
  opts: HamiltonianOptions,
  kernel: (rng: RandomStream, state: HmcState, stepSize: number, invMetric: Float64Array) => [HmcState, I],
  onInfo?: (info: I, warmup: boolean) => void,
): ChainRunner & { stepSize(): number; invMetric(): Float64Array } {
  const dim = x0.length;
  const invMetric = checkHamiltonianOptions(opts, dim);
  let state = hmcInit(target, x0);
  const search = (): number =>
    findReasonableStepSize(target, stateToPoint(state), invMetric, rng, opts.stepSize ?? 1);
  const eps0 = opts.stepSize ?? search();
  const adapt = new WarmupAdaptation(dim, config.warmup, eps0, invMetric, {
    targetAccept: opts.targetAccept ?? 0.8,
    adaptMetric: opts.adaptMetric,
    adaptStepSize: opts.adaptStepSize,
    initBuffer: opts.initBuffer,
    termBuffer: opts.termBuffer,
    baseWindow: opts.baseWindow,
  });
  let last: I | null = null;
  return {
    transition(iter) {
      const warm = iter < config.warmup;
      const [next, info] = kernel(rng, state, adapt.stepSize, invMetric);
      state = next;
      last = info;
      onInfo?.(info, warm);
      if (warm) {
        if (adapt.afterTransition(iter, state.position, info.acceptStat) === 'metric-updated') {
          adapt.restartStepSize(opts.adaptStepSize === false ? adapt.stepSize : search());
        }
        if (iter === config.warmup - 1) adapt.finish();
      }
    },
    position: () => state.position,
    acceptStat: () => last?.acceptStat ?? 0,
    divergent: () => last?.divergent ?? false,
    stepSize: () => adapt.stepSize,
    invMetric: () => invMetric,
  };
}

/** Leapfrog steps for a step size: fixed, or from the integration length. */
export function stepsFor(opts: HmcOptions, stepSize: number): number {
  if (opts.integrationLength !== undefined) return Math.min(1024, Math.max(1, Math.round(opts.integrationLength / stepSize)));
  return opts.numSteps ?? 16;
}

/** The chains of hmc as a ChainSpec, for running them here (`hmc`) or spread over threads. */
export function hmcChainSpec(target: Target, options: HmcOptions): ChainSpec {
  if (options?.numSteps !== undefined) checkPositiveInt('numSteps', options.numSteps);
  if (options?.integrationLength !== undefined) {
    checkParam('integrationLength', options.integrationLength, (v) => v > 0, 'a positive number');
  }
  if (options && target && Number.isInteger(target.dim)) checkHamiltonianOptions(options, target.dim);
  const jitter = options?.jitter ?? 0.2;
  checkParam('jitter', jitter, (v) => v >= 0 && v < 1, 'in [0, 1)');
  return {
    sampler: 'hmc',
    needsGradient: true,
    makeChain(_c, rng, x0, counted, config) {
      let stepsSum = 0;
      let n = 0;
      const chain = hamiltonianChain(
        rng,
        x0,
        counted,
        config,
        options,
        (r, s, eps, inv) => {
          const e = jitter > 0 ? eps * (1 + jitter * (2 * r.uniform() - 1)) : eps;
          return hmcStep(r, counted, s, { stepSize: e, invMetric: inv, numSteps: stepsFor(options, e), maxEnergyError: options.maxEnergyError ?? 1000 });
        },
        (info, warm) => {
          if (!warm) {
            stepsSum += info.numSteps;
            n++;
          }
        },
      );
      return {
        ...chain,
        summary: () => ({ stepSize: chain.stepSize(), meanSteps: n > 0 ? stepsSum / n : 0 }),
      };
    },
  };
}

/** HMC with adapted step size and diagonal metric. Returns post-warm-up draws of every chain. */
export async function hmc(target: Target, options: HmcOptions): Promise<Draws> {
  return runChains(target, options, hmcChainSpec(target, options));
}
