/**
 * Kullback–Leibler divergences for comparing samplers with a target.
 *
 * - reverseKL: KL(q || p) from a flow's own draws x ~ q, where log q(x) is known.
 * - forwardKL: KL(p || q) from exact target draws x ~ p, where log q(x) can be evaluated.
 * - knnKL: KL(P || Q) from two samples only, by the k-nearest-neighbour estimator of
 *   Wang, Kulkarni & Verdú (2009, "Divergence estimation for multidimensional densities via
 *   k-nearest-neighbor distances", IEEE Trans. Inf. Theory 55(5)), so that every sampler, not
 *   only the flow, gets a KL figure against ground-truth draws.
 */
import { DimensionError, NonFiniteError, ParameterError } from '../core/errors.js';
import { KdTree } from './kdTree.js';

export interface KLEstimate {
  /** The estimate (nats). */
  kl: number;
  /** Monte Carlo standard error sd / sqrt(n) of the averaged terms. */
  se: number;
  /** Number of draws used. */
  n: number;
}

function meanAndSe(terms: Float64Array): { m: number; se: number } {
  const n = terms.length;
  let s = 0;
  for (const t of terms) s += t;
  const m = s / n;
  let ss = 0;
  for (const t of terms) ss += (t - m) * (t - m);
  return { m, se: n > 1 ? Math.sqrt(ss / (n - 1) / n) : NaN };
}

function pairTerms(what: string, a: Float64Array, b: Float64Array, aName: string, bName: string): Float64Array {
  if (a.length !== b.length) {
    throw new DimensionError(`${what}: ${aName} has ${a.length} values but ${bName} has ${b.length}`);
  }
  if (a.length < 2) throw new ParameterError(`${what}: need at least 2 draws, got ${a.length}`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new NonFiniteError(`${what}: ${aName}[${i}] is ${a[i]}`);
    if (!Number.isFinite(b[i])) {
      // log p̃ = -Infinity at a draw of q means q puts mass where p has none: KL(q||p) is infinite.
      throw new NonFiniteError(`${what}: ${bName}[${i}] is ${b[i]} (the divergence is infinite or undefined there)`);
    }
    out[i] = a[i] - b[i];
  }
  return out;
}

/**
 * KL(q || p) = E_q[log q(x) - log p̃(x)] + log Z from x ~ q. Without `logZ` the result is
 * E_q[log q - log p̃] = -ELBO = KL(q || p) - log Z, flagged by `isElboBased` (still the right
 * quantity for comparing flows on one target, since log Z is a constant).
 */
export function reverseKL(
  logq: Float64Array,
  logp: Float64Array,
  logZ?: number,
): KLEstimate & { isElboBased: boolean } {
  if (logZ !== undefined && !Number.isFinite(logZ)) throw new ParameterError(`reverseKL: logZ must be finite, got ${logZ}`);
  const t = pairTerms('reverseKL', logq, logp, 'logq', 'logp');
  const { m, se } = meanAndSe(t);
  return { kl: m + (logZ ?? 0), se, n: t.length, isElboBased: logZ === undefined };
}

/**
 * KL(p || q) = E_p[log p̃(x) - log Z - log q(x)] from exact target draws x ~ p, with
 * log p̃ and log q evaluated at those draws. Needs the target's log Z.
 */
export function forwardKL(logpAtP: Float64Array, logqAtP: Float64Array, logZ: number): KLEstimate {
  if (typeof logZ !== 'number' || !Number.isFinite(logZ)) {
    throw new ParameterError(`forwardKL: needs the target's log Z as a finite number, got ${String(logZ)}`);
  }
  const t = pairTerms('forwardKL', logpAtP, logqAtP, 'logp', 'logq');
  const { m, se } = meanAndSe(t);
  return { kl: m - logZ, se, n: t.length };
}

/**
 * KL(P || Q) from n draws of P and m draws of Q (row-major, `dim` columns), Wang, Kulkarni &
 * Verdú (2009), eq. (5):
 *
 *   D̂ = (d / n) Σ_i log(ν_k(i) / ρ_k(i)) + log(m / (n - 1)),
 *
 * with ρ_k(i) the distance from x_i to its k-th nearest neighbour among the other draws of P
 * and ν_k(i) the distance to its k-th nearest draw of Q. Consistent as n, m → ∞; at small n and
 * high d it is biased (typically upwards for k = 1), so compare samplers at equal n, m, k.
 *
 * Exact duplicates (MCMC repeats a state when it rejects) would make ρ = 0 and the estimate
 * -∞; we therefore skip neighbours at distance exactly 0, i.e. measure distances to the
 * nearest *distinct* points. `se` is sd(d log(ν/ρ)) / sqrt(n), which ignores the dependence
 * between terms and between MCMC draws: a rough guide only.
 */
export function knnKL(p: Float64Array, q: Float64Array, dim: number, k = 1): KLEstimate {
  if (!Number.isInteger(dim) || dim < 1) throw new ParameterError(`knnKL: dim must be a positive integer, got ${dim}`);
  if (!Number.isInteger(k) || k < 1) throw new ParameterError(`knnKL: k must be a positive integer, got ${k}`);
  if (p.length % dim !== 0) throw new DimensionError(`knnKL: p has ${p.length} values, not a multiple of dim ${dim}`);
  if (q.length % dim !== 0) throw new DimensionError(`knnKL: q has ${q.length} values, not a multiple of dim ${dim}`);
  const n = p.length / dim;
  const m = q.length / dim;
  if (n < k + 1) throw new ParameterError(`knnKL: need more than k = ${k} draws of P, got ${n}`);
  if (m < k) throw new ParameterError(`knnKL: need at least k = ${k} draws of Q, got ${m}`);
  for (const [name, a] of [['p', p], ['q', q]] as const) {
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) {
        throw new NonFiniteError(`knnKL: ${name} draw ${Math.floor(i / dim) + 1}, coordinate ${(i % dim) + 1} is ${a[i]}`);
      }
    }
  }
  const treeP = new KdTree(p, dim);
  const treeQ = new KdTree(q, dim);
  const terms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = p.subarray(i * dim, (i + 1) * dim);
    const rho2 = treeP.kNearestSq(x, k, true)[k - 1];
    const nu2 = treeQ.kNearestSq(x, k, true)[k - 1];
    if (!Number.isFinite(rho2)) {
      throw new ParameterError(`knnKL: P has fewer than ${k + 1} distinct draws; cannot find the ${k}-th neighbour of draw ${i + 1}`);
    }
    if (!Number.isFinite(nu2)) {
      throw new ParameterError(`knnKL: Q has fewer than ${k} draws distinct from draw ${i + 1} of P`);
    }
    terms[i] = 0.5 * dim * (Math.log(nu2) - Math.log(rho2));
  }
  const { m: mt, se } = meanAndSe(terms);
  return { kl: mt + Math.log(m / (n - 1)), se, n };
}
