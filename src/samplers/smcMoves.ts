/**
 * The MCMC moves of tempered SMC: one transition of every particle, invariant for the current
 * tempered density π_β ∝ ref^(1−β) p̃^β. Both kernels are scaled by the population (its marginal
 * standard deviations), the usual adaptive choice inside SMC (Chopin 2002; Buchholz, Chopin &
 * Jacob 2021 for HMC); the scale itself is tuned between moves by the smc driver.
 * - `hmcMove`: HMC with a diagonal inverse metric = the population variance, a step size jittered
 *   by ±20 % per particle (Neal 2011, §5.4.5) and a fixed number of leapfrog steps.
 * - `rwmMove`: Gaussian random walk with per-coordinate scale λ · sd_pop.
 * The population's arrays are updated in place; non-finite densities count as zero density (the
 * counted target returns −Infinity) and are rejected.
 */
import type { RandomStream } from '../core/random.js';
import type { CountedTarget } from './chains.js';
import { addReferenceGrad, referenceLogDensity, type GaussianReference } from './smcReference.js';

/** The particles and what is known at each: log p̃, its gradient (HMC only) and log ref. */
export interface Population {
  n: number;
  dim: number;
  /** Row-major n x dim. */
  x: Float64Array;
  logP: Float64Array;
  /** ∇ log p̃, row-major; null when the kernel needs no gradient. */
  gradP: Float64Array | null;
  logRef: Float64Array;
}

export interface HmcMoveParams {
  stepSize: number;
  steps: number;
  /** Diagonal inverse metric (the population variance). */
  invMetric: Float64Array;
  /** Relative jitter of the step size (default 0.2). */
  jitter?: number;
  /**
   * Ratio between the largest and the smallest step size (default 1: jitter only). Above 1 the
   * step of each transition is log-uniform in [stepSize / spread, stepSize], drawn independently
   * of the state (so the kernel stays invariant): particles in narrow regions (a funnel's neck)
   * then sometimes get a step small enough to move.
   */
  spread?: number;
  /**
   * Position-dependent step size (default false): ε = stepSize · s(x) · e^{σ z}, z ~ N(0, 1),
   * σ = 0.5, with s(x) = (1 + |g̃(x)|² / dim)^{-1/2} and g̃ the tempered gradient in the metric's
   * units, so steps shrink where the density is steep. ε is an auxiliary variable drawn from
   * φ(ε | x) before the trajectory, and the acceptance includes φ(ε | x') / φ(ε | x), which keeps
   * the kernel π_β-invariant (Metropolis–Hastings on the space of (x, p, ε)).
   */
  localStep?: boolean;
}

const LOCAL_STEP_SIGMA = 0.5;

/** s(x) = (1 + |g̃|² / dim)^{-1/2}, g̃_i = g_i · sqrt(invMetric_i). */
function localScale(g: Float64Array, inv: Float64Array): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i] * inv[i];
  return 1 / Math.sqrt(1 + s / g.length);
}

/** Mean acceptance probability of one HMC transition of every particle targeting π_β. */
export function hmcMove(pop: Population, beta: number, ref: GaussianReference, target: CountedTarget, p: HmcMoveParams, rng: RandomStream): number {
  const { n, dim } = pop;
  const q = new Float64Array(dim);
  const mom = new Float64Array(dim);
  const gP = new Float64Array(dim);
  const g = new Float64Array(dim);
  const inv = p.invMetric;
  const jitter = p.jitter ?? 0.2;
  let accSum = 0;
  // Tempered gradient at q from the target's gradient gP.
  const tempered = (logP: number): number => {
    for (let i = 0; i < dim; i++) g[i] = beta * gP[i];
    addReferenceGrad(ref, q, 1 - beta, g);
    return logP === -Infinity ? -Infinity : (1 - beta) * referenceLogDensity(ref, q) + beta * logP;
  };
  for (let r = 0; r < n; r++) {
    const off = r * dim;
    for (let i = 0; i < dim; i++) {
      q[i] = pop.x[off + i];
      gP[i] = pop.gradP![off + i];
    }
    const logP0 = pop.logP[r];
    if (logP0 === -Infinity) continue; // a particle of zero weight stays where it is.
    let logPi = tempered(logP0);
    rng.fillNormal(mom);
    let kin = 0;
    for (let i = 0; i < dim; i++) {
      mom[i] /= Math.sqrt(inv[i]);
      kin += inv[i] * mom[i] * mom[i];
    }
    const h0 = -logPi + 0.5 * kin;
    const spread = p.spread ?? 1;
    let logStep0 = 0;
    let eps: number;
    if (p.localStep) {
      logStep0 = Math.log(p.stepSize * localScale(g, inv));
      eps = Math.exp(logStep0 + LOCAL_STEP_SIGMA * rng.normal());
    } else {
      eps = spread > 1 ? p.stepSize * Math.exp(-Math.log(spread) * rng.uniform()) : p.stepSize * (1 + jitter * (2 * rng.uniform() - 1));
    }
    let logP = logP0;
    let ok = true;
    for (let s = 0; s < p.steps; s++) {
      for (let i = 0; i < dim; i++) mom[i] += 0.5 * eps * g[i];
      for (let i = 0; i < dim; i++) q[i] += eps * inv[i] * mom[i];
      logP = target.gradLogDensity(q, gP);
      logPi = tempered(logP);
      if (logPi === -Infinity) {
        ok = false;
        break;
      }
      for (let i = 0; i < dim; i++) mom[i] += 0.5 * eps * g[i];
    }
    let acc = 0;
    if (ok) {
      kin = 0;
      for (let i = 0; i < dim; i++) kin += inv[i] * mom[i] * mom[i];
      let dH = -logPi + 0.5 * kin - h0;
      if (p.localStep) {
        // − log φ(ε | x') + log φ(ε | x), both log-normal in ε with the same σ.
        const le = Math.log(eps);
        const logStep1 = Math.log(p.stepSize * localScale(g, inv));
        dH += ((le - logStep1) ** 2 - (le - logStep0) ** 2) / (2 * LOCAL_STEP_SIGMA * LOCAL_STEP_SIGMA);
      }
      acc = Number.isNaN(dH) ? 0 : dH <= 0 ? 1 : Math.exp(-dH);
    }
    accSum += acc;
    if (ok && rng.uniform() < acc) {
      pop.x.set(q, off);
      pop.gradP!.set(gP, off);
      pop.logP[r] = logP;
      pop.logRef[r] = referenceLogDensity(ref, q);
    }
  }
  return accSum / n;
}

export interface RwmMoveParams {
  /** Global scale λ. */
  scale: number;
  /** Per-coordinate proposal sd before λ (the population sd). */
  sd: Float64Array;
}

/** Acceptance rate of one random-walk Metropolis transition of every particle targeting π_β. */
export function rwmMove(pop: Population, beta: number, ref: GaussianReference, target: CountedTarget, p: RwmMoveParams, rng: RandomStream): number {
  const { n, dim } = pop;
  const q = new Float64Array(dim);
  let accepted = 0;
  for (let r = 0; r < n; r++) {
    const off = r * dim;
    if (pop.logP[r] === -Infinity) continue;
    for (let i = 0; i < dim; i++) q[i] = pop.x[off + i] + p.scale * p.sd[i] * rng.normal();
    const logP = target.logDensity(q);
    if (logP === -Infinity) continue;
    const logRef = referenceLogDensity(ref, q);
    const logA = (1 - beta) * (logRef - pop.logRef[r]) + beta * (logP - pop.logP[r]);
    if (Math.log(rng.uniform()) < logA) {
      pop.x.set(q, off);
      pop.logP[r] = logP;
      pop.logRef[r] = logRef;
      accepted++;
    }
  }
  return accepted / n;
}
