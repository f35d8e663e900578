/**
 * Hamiltonian pieces shared by HMC and NUTS (and the step-size search MALA uses): phase-space
 * points, the leapfrog integrator with a diagonal metric, kinetic energy, momentum draws and
 * the initial step-size heuristic. Neal (2011), "MCMC using Hamiltonian dynamics"; Betancourt
 * (2017), "A Conceptual Introduction to Hamiltonian Monte Carlo".
 *
 * Conventions: the potential is U(q) = -log p̃(q); the metric is diagonal M = diag(m) and we
 * store the inverse metric `invMetric` = 1/m (what warm-up estimates: the posterior variance).
 * Momentum p ~ N(0, M); kinetic energy K(p) = ½ Σ invMetric_i p_i²; H = U + K.
 */
import type { RandomStream } from '../core/random.js';
import type { CountedTarget } from './chains.js';
import { log } from '../core/portableMath.js';

/** A point in phase space with its log density and gradient (so nothing is recomputed). */
export interface PhasePoint {
  q: Float64Array;
  p: Float64Array;
  /** ∇ log p̃(q). */
  grad: Float64Array;
  /** log p̃(q); -Infinity when non-finite was met. */
  logp: number;
}

export function newPoint(dim: number): PhasePoint {
  return { q: new Float64Array(dim), p: new Float64Array(dim), grad: new Float64Array(dim), logp: -Infinity };
}

export function copyPoint(src: PhasePoint, dst: PhasePoint): PhasePoint {
  dst.q.set(src.q);
  dst.p.set(src.p);
  dst.grad.set(src.grad);
  dst.logp = src.logp;
  return dst;
}

export function clonePoint(src: PhasePoint): PhasePoint {
  return { q: src.q.slice(), p: src.p.slice(), grad: src.grad.slice(), logp: src.logp };
}

export function kineticEnergy(p: Float64Array, invMetric: Float64Array): number {
  let k = 0;
  for (let i = 0; i < p.length; i++) k += invMetric[i] * p[i] * p[i];
  return 0.5 * k;
}

/** H = -log p̃(q) + K(p); +Infinity if log p̃ is -Infinity or anything is NaN. */
export function hamiltonian(z: PhasePoint, invMetric: Float64Array): number {
  const h = -z.logp + kineticEnergy(z.p, invMetric);
  return Number.isNaN(h) ? Infinity : h;
}

/** Draws p ~ N(0, M), i.e. p_i = z_i / sqrt(invMetric_i). */
export function sampleMomentum(rng: RandomStream, invMetric: Float64Array, out: Float64Array): Float64Array {
  rng.fillNormal(out);
  for (let i = 0; i < out.length; i++) out[i] /= Math.sqrt(invMetric[i]);
  return out;
}

/** p♯ = M⁻¹ p, the velocity (what the generalized U-turn criterion uses). */
export function velocity(p: Float64Array, invMetric: Float64Array, out: Float64Array = new Float64Array(p.length)): Float64Array {
  for (let i = 0; i < p.length; i++) out[i] = invMetric[i] * p[i];
  return out;
}

/**
 * One leapfrog step of size `eps` (negative to go backwards), in place on `z`:
 * p ← p + ε/2 ∇log p̃(q); q ← q + ε M⁻¹ p; p ← p + ε/2 ∇log p̃(q).
 * Returns false (leaving z with logp = -Infinity) if the new point's density or gradient is
 * non-finite; the caller must then reject or stop the trajectory.
 */
export function leapfrog(target: CountedTarget, z: PhasePoint, eps: number, invMetric: Float64Array): boolean {
  const { q, p, grad } = z;
  const n = q.length;
  const half = 0.5 * eps;
  for (let i = 0; i < n; i++) p[i] += half * grad[i];
  for (let i = 0; i < n; i++) q[i] += eps * invMetric[i] * p[i];
  z.logp = target.gradLogDensity(q, grad);
  if (z.logp === -Infinity) return false;
  for (let i = 0; i < n; i++) p[i] += half * grad[i];
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
  invMetric: Float64Array,
  rng: RandomStream,
  eps0 = 1,
): number {
  const z0 = clonePoint(start);
  sampleMomentum(rng, invMetric, z0.p);
  const h0 = hamiltonian(z0, invMetric);
  const z = newPoint(z0.q.length);
  const logAccept = (eps: number): number => {
    copyPoint(z0, z);
    if (!leapfrog(target, z, eps, invMetric)) return -Infinity;
    const d = h0 - hamiltonian(z, invMetric);
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
