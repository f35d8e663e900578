/**
 * Pareto smoothed importance sampling (Vehtari, Simpson, Gelman, Yao & Gabry 2024, "Pareto
 * smoothed importance sampling", JMLR 25(72)), matching loo 2.5.1's `psis()` for one vector of
 * log ratios: the largest M = ceil(min(0.2 S, 3 sqrt(S / r_eff))) weights are replaced by
 * expected order statistics of a fitted generalized Pareto distribution, then all weights are
 * truncated at the largest raw weight. k-hat is the fitted shape.
 *
 * Two readings of k-hat are offered: the sample-size-dependent threshold of the 2024 paper,
 * min(1 - 1/log10(S), 0.7), and loo 2.5.1's fixed categories (0.5 / 0.7 / 1).
 */
import { NonFiniteError, ParameterError } from '../core/errors.js';
import { logSumExp } from '../core/linalg.js';
import { gpdFit, qgpd } from './gpd.js';

export interface PsisResult {
  /** Estimated Pareto shape k-hat (Infinity when the tail could not be fitted). */
  paretoK: number;
  /** Smoothed log weights, normalized: logSumExp(logWeights) = 0. */
  logWeights: Float64Array;
  /** exp(logWeights), summing to 1. */
  weights: Float64Array;
  /** PSIS effective sample size r_eff / Σ w². */
  nEff: number;
  /** Number of tail draws smoothed. */
  tailLen: number;
  /** logSumExp of the smoothed, unnormalized log weights (loo's norm_const_log). */
  normConstLog: number;
  /** Sample-size-dependent k-hat threshold min(1 - 1/log10(S), 0.7). */
  threshold: number;
  /** Warnings loo would give (tail too short, constant tail, high k). */
  warnings: string[];
}

/** The k-hat above which PSIS estimates are unreliable for S draws (Vehtari et al. 2024). */
export function paretoKThreshold(s: number): number {
  if (!(s > 1)) throw new ParameterError(`paretoKThreshold: sample size must be > 1, got ${s}`);
  return Math.min(1 - 1 / Math.log10(s), 0.7);
}

export type LooKCategory = 'good' | 'ok' | 'bad' | 'very bad';

/**
 * loo 2.5.1's fixed Pareto-k categories: good k <= 0.5, ok <= 0.7, bad <= 1, very bad > 1,
 * with the interval label R's `cut(k, c(-Inf, 0.5, 0.7, 1, Inf))` prints.
 */
export function paretoKCategoryLoo(k: number): { category: LooKCategory; interval: string } {
  if (k <= 0.5) return { category: 'good', interval: '(-Inf, 0.5]' };
  if (k <= 0.7) return { category: 'ok', interval: '(0.5, 0.7]' };
  if (k <= 1) return { category: 'bad', interval: '(0.7, 1]' };
  return { category: 'very bad', interval: '(1, Inf]' };
}

/** Tail length used by loo: ceil(min(0.2 S, 3 sqrt(S / r_eff))). */
export function psisTailLength(s: number, rEff = 1): number {
  return Math.ceil(Math.min(0.2 * s, 3 * Math.sqrt(s / rEff)));
}

/**
 * PSIS of log importance ratios log p̃(x_s) - log q(x_s). `rEff` is the relative efficiency of
 * the draws (1 for independent draws, ESS / S for MCMC). -Infinity ratios (zero weight) are
 * allowed; NaN and +Infinity are errors.
 */
export function psis(logRatios: Float64Array, rEff = 1): PsisResult {
  const s = logRatios.length;
  if (s < 2) throw new ParameterError(`psis: need at least 2 log ratios, got ${s}`);
  if (!(rEff > 0) || !Number.isFinite(rEff)) throw new ParameterError(`psis: r_eff must be a positive number, got ${rEff}`);
  let maxLr = -Infinity;
  for (let i = 0; i < s; i++) {
    const v = logRatios[i];
    if (Number.isNaN(v) || v === Infinity) {
      throw new NonFiniteError(`psis: log ratio ${i + 1} is ${v}; log ratios must be finite or -Infinity`);
    }
    if (v > maxLr) maxLr = v;
  }
  if (maxLr === -Infinity) throw new NonFiniteError('psis: every log ratio is -Infinity (all weights zero)');

  const warnings: string[] = [];
  const tailLen = psisTailLength(s, rEff);
  // Shift by the maximum for safe exponentiation.
  const lw = new Float64Array(s);
  for (let i = 0; i < s; i++) lw[i] = logRatios[i] - maxLr;
  let k = Infinity;
  if (tailLen >= 5) {
    const order = Array.from({ length: s }, (_, i) => i).sort((a, b) => lw[a] - lw[b] || a - b);
    const tailStart = s - tailLen;
    const tail = new Float64Array(tailLen);
    for (let j = 0; j < tailLen; j++) tail[j] = lw[order[tailStart + j]];
    if (Math.abs(tail[tailLen - 1] - tail[0]) < Number.EPSILON / 100) {
      warnings.push("Can't fit generalized Pareto distribution because all tail values are the same.");
    } else {
      const cutoff = lw[order[tailStart - 1]]; // largest value below the tail
      const expCutoff = Math.exp(cutoff);
      const excess = tail.map((v) => Math.exp(v) - expCutoff);
      const fit = gpdFit(excess);
      k = fit.k;
      if (Number.isFinite(k)) {
        for (let j = 0; j < tailLen; j++) {
          const p = (j + 1 - 0.5) / tailLen;
          lw[order[tailStart + j]] = Math.log(qgpd(p, k, fit.sigma) + expCutoff);
        }
      }
    }
  } else {
    warnings.push('Not enough tail samples to fit the generalized Pareto distribution.');
  }
  // Truncate at the largest raw weight (0 after the shift), then shift back.
  for (let i = 0; i < s; i++) {
    if (lw[i] > 0) lw[i] = 0;
    lw[i] += maxLr;
  }
  const normConstLog = logSumExp(lw);
  const logWeights = new Float64Array(s);
  const weights = new Float64Array(s);
  let sumSq = 0;
  for (let i = 0; i < s; i++) {
    logWeights[i] = lw[i] - normConstLog;
    weights[i] = Math.exp(logWeights[i]);
    sumSq += weights[i] * weights[i];
  }
  if (k > 0.7) warnings.push('Some Pareto k diagnostic values are too high.');
  else if (k > 0.5) warnings.push('Some Pareto k diagnostic values are slightly high.');
  return {
    paretoK: k,
    logWeights,
    weights,
    nEff: rEff / sumSq,
    tailLen,
    normConstLog,
    threshold: paretoKThreshold(s),
    warnings,
  };
}
