/**
 * Hamiltonian pieces shared by HMC and NUTS (and the step-size search MALA uses): phase-space
 * points, the leapfrog integrator, kinetic energy, momentum draws and the initial step-size
 * heuristic. Neal (2011), "MCMC using Hamiltonian dynamics"; Betancourt (2017), "A Conceptual
 * Introduction to Hamiltonian Monte Carlo".
 *
 * Conventions: the potential is U(q) = -log p̃(q); the metric (metric.ts) is diagonal or dense and
 * stored as its inverse M⁻¹ (what warm-up estimates: the posterior covariance). Momentum
 * p ~ N(0, M); kinetic energy K(p) = ½ pᵀ M⁻¹ p; H = U + K.
 *
 * A point carries its velocity v = M⁻¹ p and w = M⁻¹ ∇log p̃(q). The leapfrog's momentum kicks
 * p += h ∇log p̃ are then mirrored as v += h w, so each step applies M⁻¹ once (to the new gradient)
 * instead of three times (drift, kinetic energy, U-turn velocity) as a dense metric otherwise
 * needs; for a diagonal metric it costs a few extra multiply-adds.
 */
import { log } from '../core/portableMath.js';
import type { RandomStream } from '../core/random.js';
import type { CountedTarget } from './chains.js';
import { asMetric, type Metric } from './metric.js';

/** A point in phase space with its log density and gradient (so nothing is recomputed). */
export interface PhasePoint {
  q: Float64Array;
  p: Float64Array;
  /** ∇ log p̃(q). */
  grad: Float64Array;
  /** log p̃(q); -Infinity when non-finite was met. */
  logp: number;
  /** M⁻¹ p. */
  v: Float64Array;
  /** M⁻¹ ∇ log p̃(q). */
  w: Float64Array;
  /** ½ pᵀ M⁻¹ p, kept current by startTrajectory and leapfrog. */
  kinetic: number;
}

export function newPoint(dim: number): PhasePoint {
  return { q: new Float64Array(dim), p: new Float64Array(dim), grad: new Float64Array(dim), logp: -Infinity, v: new Float64Array(dim), w: new Float64Array(dim), kinetic: 0 };
}

export function copyPoint(src: PhasePoint, dst: PhasePoint): PhasePoint {
  dst.q.set(src.q);
  dst.p.set(src.p);
  dst.grad.set(src.grad);
  dst.v.set(src.v);
  dst.w.set(src.w);
  dst.logp = src.logp;
  dst.kinetic = src.kinetic;
  return dst;
}

/** Copies only what a chain state needs (position, gradient, log density): NUTS's proposals. */
export function copyState(src: PhasePoint, dst: PhasePoint): PhasePoint {
  dst.q.set(src.q);
  dst.grad.set(src.grad);
  dst.logp = src.logp;
  return dst;
}

export function clonePoint(src: PhasePoint): PhasePoint {
  return { q: src.q.slice(), p: src.p.slice(), grad: src.grad.slice(), logp: src.logp, v: src.v.slice(), w: src.w.slice(), kinetic: src.kinetic };
}

/** ½ pᵀ M⁻¹ p for a diagonal inverse metric or a Metric. */
export function kineticEnergy(p: Float64Array, metric: Metric | Float64Array): number {
  return asMetric(metric).kinetic(p);
}

/** H = -log p̃(q) + K(p), from the point's cached kinetic energy; +Infinity if log p̃ is -Infinity or anything is NaN. */
export function hamiltonian(z: PhasePoint): number {
  const h = -z.logp + z.kinetic;
  return Number.isNaN(h) ? Infinity : h;
}

/**
 * Starts a trajectory at z: draws p ~ N(0, M) and sets v = M⁻¹ p, w = M⁻¹ ∇log p̃(q) and K.
 */
export function startTrajectory(rng: RandomStream, metric: Metric, z: PhasePoint): PhasePoint {
  metric.sampleMomentum(rng, z.p);
  metric.apply(z.p, z.v);
  metric.apply(z.grad, z.w);
  let k = 0;
  for (let i = 0; i < z.p.length; i++) k += z.p[i] * z.v[i];
  z.kinetic = 0.5 * k;
  return z;
}

/** Draws p ~ N(0, M) into `out`. */
export function sampleMomentum(rng: RandomStream, metric: Metric | Float64Array, out: Float64Array): Float64Array {
  return asMetric(metric).sampleMomentum(rng, out);
}

/** p♯ = M⁻¹ p, the velocity (what the generalized U-turn criterion uses). */
export function velocity(p: Float64Array, metric: Metric | Float64Array, out: Float64Array = new Float64Array(p.length)): Float64Array {
  return asMetric(metric).apply(p, out);
}

/**
 * One leapfrog step of size `eps` (negative to go backwards), in place on `z` (whose v and w
 * must be current): p ← p + ε/2 ∇log p̃(q); q ← q + ε M⁻¹ p; p ← p + ε/2 ∇log p̃(q).
 * Returns false (leaving z with logp = -Infinity) if the new point's density or gradient is
 * non-finite; the caller must then reject or stop the trajectory.
 */
export function leapfrog(target: CountedTarget, z: PhasePoint, eps: number, metric: Metric): boolean {
  const { q, p, grad, v, w } = z;
  const n = q.length;
  const half = 0.5 * eps;
  for (let i = 0; i < n; i++) {
    p[i] += half * grad[i];
    v[i] += half * w[i];
    q[i] += eps * v[i];
  }
  z.logp = target.gradLogDensity(q, grad);
  if (z.logp === -Infinity) return false;
  // The second kick, w = M⁻¹∇ and the kinetic energy ½ p·v in one pass where the metric is diagonal.
  let k = 0;
  if (metric.kind === 'diag') {
    const inv = metric.inv;
    for (let i = 0; i < n; i++) {
      const g = grad[i];
      const wi = inv[i] * g;
      w[i] = wi;
      const pi = p[i] + half * g;
      const vi = v[i] + half * wi;
      p[i] = pi;
      v[i] = vi;
      k += pi * vi;
    }
  } else {
    metric.apply(grad, w);
    for (let i = 0; i < n; i++) {
      const pi = p[i] + half * grad[i];
      const vi = v[i] + half * w[i];
      p[i] = pi;
      v[i] = vi;
      k += pi * vi;
    }
  }
  z.kinetic = 0.5 * k;
  return true;
}

/**
 * Heuristic initial step size (Hoffman & Gelman 2014, Algorithm 4, with Stan's threshold 0.8):
 * from `eps0`, double or halve ε until the acceptance probability of one leapfrog step from a
 * fresh momentum crosses 0.8. At most 50 doublings/halvings; never returns a non-positive value.
 */
export function findReasonableStepSize(
  target: CountedTarget,
  start: PhasePoint,
  metric: Metric,
  rng: RandomStream,
  eps0 = 1,
): number {
  const z0 = startTrajectory(rng, metric, clonePoint(start));
  const h0 = hamiltonian(z0);
  const z = newPoint(z0.q.length);
  const logAccept = (eps: number): number => {
    copyPoint(z0, z);
    if (!leapfrog(target, z, eps, metric)) return -Infinity;
    const d = h0 - hamiltonian(z);
    return Number.isNaN(d) ? -Infinity : d;
  };
  const threshold = log(0.8);
  let eps = eps0;
  const direction = logAccept(eps) > threshold ? 1 : -1;
  for (let k = 0; k < 50; k++) {
    const next = direction === 1 ? eps * 2 : eps / 2;
    const la = logAccept(next);
    if (direction === 1 ? !(la > threshold) : la > threshold) {
      // Crossed: going up, keep the last ε that was still acceptable; going down, the first that is.
      return direction === 1 ? eps : next;
    }
    eps = next;
  }
  return eps;
}
