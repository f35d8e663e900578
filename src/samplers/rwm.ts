/**
 * Random-walk Metropolis with an adaptive Gaussian proposal (Haario, Saksman & Tamminen 2001,
 * "An adaptive Metropolis algorithm", Bernoulli 7). During warm-up the proposal covariance is
 *   C = λ² · (2.38² / d) · (Σ + ε I),
 * with Σ the running covariance of the chain so far (Welford) and ε = epsilon · mean(diag Σ)
 * (relative, so it works at any scale). Two documented additions to Haario et al.: a global
 * scale λ tuned by dual averaging toward acceptance 0.234 (the "global adaptive scaling" of
 * Andrieu & Thoms 2008, Algorithm 4), which rescues a badly scaled initial proposal; and the
 * first `adaptStart` iterations use the initial proposal only. After warm-up C is frozen, so the
 * post-warm-up chain is an ordinary (valid) Metropolis chain.
 *
 * Example:
 *   const draws = await rwm(banana(), { seed: 1, chains: 4, warmup: 5000, draws: 20000 });
 */
import type { Draws } from '../core/draws.js';
import { checkParam, DimensionError, ParameterError } from '../core/errors.js';
import { cholesky, lowerMatVec } from '../core/linalg.js';
import type { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import { DualAveraging, WelfordCovariance } from './adaptation.js';
import { runChains, type ChainSpec, type CountedTarget } from './chains.js';
import type { SamplerOptions } from './sampler.js';
import { exp } from '../core/portableMath.js';
import { checkArray, checkMemory, FLOAT64_BYTES } from '../core/memory.js';

export interface RwmOptions extends SamplerOptions {
  /** Initial proposal standard deviation per coordinate (default 2.38 / sqrt(d)). */
  proposalScale?: number;
  /** Initial proposal covariance (row-major d x d); overrides proposalScale. */
  proposalCov?: Float64Array;
  /** Learn the proposal covariance in warm-up (default true). */
  adaptCovariance?: boolean;
  /** Tune the global scale λ in warm-up (default true). */
  adaptScale?: boolean;
  /** Target acceptance for λ (default 0.234, Roberts, Gelman & Gilks 1997). */
  targetAccept?: number;
  /** Relative regulariser ε of Haario et al. (default 1e-6). */
  epsilon?: number;
  /** Warm-up iterations before the covariance is learned (default min(100, warmup / 4)). */
  adaptStart?: number;
}

export interface RwmState {
  position: Float64Array;
  logDensity: number;
}

export interface RwmInfo {
  acceptStat: number;
  accepted: boolean;
}

export function rwmInit(target: CountedTarget, x: Float64Array): RwmState {
  return { position: Float64Array.from(x), logDensity: target.logDensity(x) };
}

/** One Metropolis step with proposal x + L z, z ~ N(0, I), L the Cholesky factor of C. */
export function rwmStep(rng: RandomStream, target: CountedTarget, state: RwmState, chol: Float64Array): [RwmState, RwmInfo] {
  const d = state.position.length;
  const z = rng.fillNormal(new Float64Array(d));
  const step = lowerMatVec(chol, z, d);
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) y[i] = state.position[i] + step[i];
  const ly = target.logDensity(y);
  const logRatio = ly - state.logDensity;
  const acceptStat = logRatio >= 0 ? 1 : exp(logRatio);
  const accepted = ly > -Infinity && rng.uniform() < acceptStat;
  return accepted ? [{ position: y, logDensity: ly }, { acceptStat, accepted }] : [state, { acceptStat, accepted }];
}

function scaledIdentity(d: number, s: number): Float64Array {
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) m[i * d + i] = s;
  return m;
}

/** The chains of rwm as a ChainSpec, for running them here (`rwm`) or spread over threads. */
export function rwmChainSpec(target: Target, options: RwmOptions): ChainSpec {
  const o = options ?? ({} as RwmOptions);
  if (o.proposalScale !== undefined) checkParam('proposalScale', o.proposalScale, (v) => v > 0, 'a positive number');
  if (o.targetAccept !== undefined) checkParam('targetAccept', o.targetAccept, (v) => v > 0 && v < 1, 'in (0, 1)');
  if (o.epsilon !== undefined) checkParam('epsilon', o.epsilon, (v) => v >= 0, 'a number >= 0');
  if (o.adaptStart !== undefined) checkParam('adaptStart', o.adaptStart, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0');
  const d = target?.dim;
  // The adapted covariance, its running moments and Cholesky factor: a few dense d x d matrices.
  if (Number.isInteger(d)) {
    const what = `rwm: its dense ${d} x ${d} proposal covariance`;
    checkArray(what, d * d, FLOAT64_BYTES, 'hmc or nuts (diagonal metric) in this dimension');
    checkMemory(what, 4 * d * d * FLOAT64_BYTES, 'hmc or nuts (diagonal metric) in this dimension');
  }
  let cov0: Float64Array | undefined;
  if (o.proposalCov !== undefined && Number.isInteger(d)) {
    if (o.proposalCov.length !== d * d) {
      throw new DimensionError(`dimension mismatch: target has dim ${d}, proposalCov needs ${d * d} entries, got ${o.proposalCov.length}`);
    }
    cov0 = Float64Array.from(o.proposalCov);
    cholesky(cov0, d, 'proposalCov'); // ParameterError if not symmetric positive definite
  }
  const sd = 2.38 / Math.sqrt(d);
  const epsilon = o.epsilon ?? 1e-6;
  const adaptCov = o.adaptCovariance ?? true;
  const adaptScale = o.adaptScale ?? true;
  return {
    sampler: 'rwm',
    needsGradient: false,
    makeChain(_c, rng, x0, counted, config) {
      const base = cov0 ?? scaledIdentity(d, (o.proposalScale ?? sd) ** 2);
      const baseChol = cholesky(base, d, 'proposal covariance');
      let lambda = 1;
      let chol = baseChol;
      const adaptStart = o.adaptStart ?? Math.min(100, Math.floor(config.warmup / 4));
      const welford = new WelfordCovariance(d);
      const da = new DualAveraging(1, { targetAccept: o.targetAccept ?? 0.234 });
      da.restart(0.1); // μ = log(10 · 0.1) = 0: no pull toward larger λ
      let learned: Float64Array | null = null; // Cholesky of (2.38²/d)(Σ + εI)
      let state = rwmInit(counted, x0);
      let last: RwmInfo = { acceptStat: 0, accepted: false };

      const rebuild = () => {
        if (adaptCov && welford.n >= 2 * d + 2) {
          const cov = welford.covariance();
          let tr = 0;
          for (let i = 0; i < d; i++) tr += cov[i * d + i];
          if (tr > 0) {
            const eps = epsilon * (tr / d) + 1e-300;
            for (let i = 0; i < d; i++) cov[i * d + i] += eps;
            for (let k = 0; k < cov.length; k++) cov[k] *= sd * sd;
            try {
              learned = cholesky(cov, d, 'learned proposal covariance');
            } catch (e) {
              if (!(e instanceof ParameterError)) throw e;
              // Numerically singular Σ (e.g. a chain stuck on few values): keep the last good one.
            }
          }
        }
        const l = learned ?? baseChol;
        chol = lambda === 1 ? l : l.map((v) => v * lambda);
      };

      return {
        transition(iter) {
          [state, last] = rwmStep(rng, counted, state, chol);
          if (iter >= config.warmup) return;
          welford.add(state.position);
          if (adaptScale) lambda = da.learn(last.acceptStat);
          if (iter + 1 >= adaptStart) rebuild();
          else if (adaptScale) chol = baseChol.map((v) => v * lambda);
          if (iter === config.warmup - 1) {
            if (adaptScale) lambda = da.final() ?? lambda;
            rebuild();
          }
        },
        position: () => state.position,
        acceptStat: () => (last.accepted ? 1 : 0),
        summary: () => ({ scale: lambda }),
      };
    },
  };
}

/** Adaptive random-walk Metropolis. Info: final scale λ and acceptance per chain. */
export async function rwm(target: Target, options: RwmOptions): Promise<Draws> {
  return runChains(target, options, rwmChainSpec(target, options));
}
