/**
 * log det(I + J_g) of a contractive residual block (Lip(g) < 1), from Jacobian–vector products
 * t ↦ J_g t (src/flows/nn/lipschitzMlp.ts). Three estimators, per row of the batch:
 *
 * - `exact`: J_g from D products with the basis vectors, then log det by elimination
 *   (src/flows/kernels/logDetIdentityPlus.ts). D products and O(D³) per row: for small D.
 * - `series`: the power series log det(I + J) = tr log(I + J) = Σ_{k≥1} (−1)^{k+1} tr(J^k)/k
 *   (converges since the spectral radius of J is below 1), truncated after `terms`, each trace by
 *   Hutchinson's estimator tr(A) = E[vᵀ A v] with one probe v per row (Behrmann et al. 2019,
 *   §3.2). Biased by the truncation: |bias| ≤ D Σ_{k>n} L^k / k.
 * - `roulette`: the unbiased Russian-roulette estimator of Chen et al. (2019, "Residual Flows",
 *   §3.1, https://arxiv.org/abs/1906.02735): the first `exactTerms` terms always, then term k
 *   only if a geometric count M ≥ k − exactTerms, reweighted by 1 / P(M ≥ k − exactTerms) =
 *   (1 − p)^−(k − exactTerms). One M per call (per training batch), as in their paper: every row
 *   is unbiased, and a batch costs exactTerms + M products, (1 − p)/p extra on average.
 *
 * The default p is min(0.5, 1 − L) for the block's Lipschitz bound L. Why not always 0.5: the
 * reweighted term k is of size L^k / (1 − p)^k, so the estimator's variance is finite only for
 * L² < 1 − p; with p = 1 − L the reweighted terms stay bounded for every L < 1.
 *
 * Probes are Rademacher (±1) by default: the same mean as Gaussian probes, lower variance
 * (Hutchinson 1990). All randomness comes from the stream the block passes in.
 */
import type { Ops } from '../engine/ops.js';
import { logDetIdentityPlusKernel } from '../kernels/logDetIdentityPlus.js';
import { ParameterError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';

export type Probe = 'rademacher' | 'normal';

export type ResidualLogDetConfig =
  | { method: 'exact' }
  | { method: 'series'; terms?: number; probe?: Probe }
  | { method: 'roulette'; exactTerms?: number; p?: number; probe?: Probe };

/** A config with its defaults filled in. */
export type ResolvedLogDet =
  | { method: 'exact' }
  | { method: 'series'; terms: number; probe: Probe }
  | { method: 'roulette'; exactTerms: number; p: number; probe: Probe };

export const SERIES_DEFAULT_TERMS = 10;
export const ROULETTE_DEFAULT_EXACT_TERMS = 2;

/** Checks a log-det config and fills in its defaults (`lipschitz` sets roulette's p). */
export function resolveLogDet(config: ResidualLogDetConfig, lipschitz: number): ResolvedLogDet {
  if (config == null || typeof config !== 'object') throw new ParameterError("residual log-det: a config { method: 'exact' | 'series' | 'roulette' } is required");
  const probeOf = (p: unknown): Probe => {
    const probe = (p ?? 'rademacher') as Probe;
    if (probe !== 'rademacher' && probe !== 'normal') throw new ParameterError(`residual log-det: probe must be 'rademacher' or 'normal', got '${String(p)}'`);
    return probe;
  };
  const count = (name: string, v: unknown, def: number, min: number): number => {
    const x = v ?? def;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > 1000) throw new ParameterError(`residual log-det: ${name} must be an integer in ${min}..1000, got ${String(v)}`);
    return x;
  };
  switch (config.method) {
    case 'exact':
      return { method: 'exact' };
    case 'series':
      return { method: 'series', terms: count('terms', config.terms, SERIES_DEFAULT_TERMS, 1), probe: probeOf(config.probe) };
    case 'roulette': {
      const p = config.p ?? Math.min(0.5, 1 - lipschitz);
      if (typeof p !== 'number' || !(p > 0 && p < 1)) throw new ParameterError(`residual log-det: roulette p must be in (0, 1), got ${String(config.p)}`);
      return { method: 'roulette', exactTerms: count('exactTerms', config.exactTerms, ROULETTE_DEFAULT_EXACT_TERMS, 0), p, probe: probeOf(config.probe) };
    }
    default:
      throw new ParameterError(`residual log-det: method must be 'exact', 'series' or 'roulette', got '${String((config as { method?: unknown }).method)}'`);
  }
}

/** Upper bound of the series' truncation error after `terms` terms: D Σ_{k>n} L^k / k. */
export function seriesTruncationBound(dim: number, lipschitz: number, terms: number): number {
  let s = 0;
  for (let k = terms + 1; k < terms + 10_000; k++) {
    const t = Math.pow(lipschitz, k) / k;
    s += t;
    if (t < 1e-18) break;
  }
  return dim * s;
}

/**
 * The geometric count M of the roulette (P(M ≥ m) = (1 − p)^m), and the weights of terms
 * 1..exactTerms + M: 1 for the exact ones, (1 − p)^−(k − exactTerms) after.
 */
export function rouletteWeights(exactTerms: number, p: number, rng: RandomStream): number[] {
  let m = 0;
  while (rng.uniform() >= p) m++;
  const w: number[] = [];
  for (let k = 1; k <= exactTerms + m; k++) w.push(k <= exactTerms ? 1 : Math.pow(1 - p, -(k - exactTerms)));
  return w;
}

function probes(n: number, dim: number, probe: Probe, rng: RandomStream): Float64Array {
  const v = new Float64Array(n * dim);
  if (probe === 'normal') rng.fillNormal(v);
  else for (let i = 0; i < v.length; i++) v[i] = rng.uniform() < 0.5 ? -1 : 1;
  return v;
}

/**
 * log det(I + J_g) per row, [n, 1], with `jvp(t)` = J_g t for t [n or 1, D] at the block's
 * current point. `rng` supplies probes and roulette counts (unused by `exact`).
 */
export function residualLogDet<V>(ops: Ops<V>, n: number, dim: number, jvp: (t: V) => V, config: ResolvedLogDet, rng: RandomStream): V {
  if (config.method === 'exact') {
    const cols: V[] = [];
    for (let j = 0; j < dim; j++) {
      const e = new Float32Array(dim);
      e[j] = 1;
      // Column j of J_g; concatenated they are Jᵀ row-major, whose determinant is the same.
      cols.push(jvp(ops.constant(e, 1, dim)));
    }
    return ops.apply(logDetIdentityPlusKernel, [ops.concatCols(cols)], { dim })[0];
  }
  const weights = config.method === 'series' ? new Array<number>(config.terms).fill(1) : rouletteWeights(config.exactTerms, config.p, rng);
  const v = ops.constant(probes(n, dim, config.probe, rng), n, dim);
  let w = v;
  let sum: V | null = null;
  weights.forEach((weight, i) => {
    const k = i + 1;
    w = jvp(w);
    // (−1)^{k+1}/k · vᵀ J^k v
    const term = ops.scale(ops.sumCols(ops.mul(v, w)), ((k % 2 === 1 ? 1 : -1) * weight) / k);
    sum = sum === null ? term : ops.add(sum, term);
  });
  // exactTerms = 0 and M = 0: the estimate is 0 (still unbiased).
  return sum ?? ops.constant(new Float32Array(n), n, 1);
}
