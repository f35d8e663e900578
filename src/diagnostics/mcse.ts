/**
 * Monte Carlo standard errors as posterior 1.4.0 (Vehtari et al. 2021, appendix).
 * NaN where the underlying ESS is NaN (constant chains).
 */
import { qbeta } from './beta.js';
import { checkChains, mapArray, pool, splitChains } from './chains.js';
import { checkProb, essQuantileUnchecked, essRaw } from './ess.js';
import { mean, sd, sortedCopy } from './stats.js';

/** sd(all draws) / sqrt(ess_mean). */
export function mcseMean(chains: Float64Array[]): number {
  checkChains(chains, 'mcseMean');
  return sd(pool(chains)) / Math.sqrt(essRaw(splitChains(chains)));
}

/**
 * MCSE of the standard deviation, posterior 1.4.0's formula (later versions changed it): the
 * variance of the variance estimate by Kenney & Keeping (1951, p. 141) with the ESS of the
 * squared centred draws, then a first-order Taylor step to the sd.
 */
export function mcseSd(chains: Float64Array[]): number {
  checkChains(chains, 'mcseSd');
  const m = mean(pool(chains));
  const sq = chains.map((x) => mapArray(x, (v) => (v - m) * (v - m)));
  const ess = essRaw(splitChains(sq));
  const all = pool(sq);
  const evar = mean(all);
  let m4 = 0;
  for (let i = 0; i < all.length; i++) m4 += all[i] * all[i];
  m4 /= all.length;
  const varvar = (m4 - evar * evar) / ess;
  return Math.sqrt(varvar / evar / 4);
}

/** MCSE of the p-quantile: half the width of the ±1 sd interval of order statistics from a Beta posterior. */
export function mcseQuantile(chains: Float64Array[], p: number): number {
  checkChains(chains, 'mcseQuantile');
  checkProb('mcseQuantile', p);
  return mcseQuantileUnchecked(chains, p);
}

export function mcseQuantileUnchecked(chains: Float64Array[], p: number, sorted?: Float64Array): number {
  const all = sorted ?? sortedCopy(pool(chains));
  const ess = essQuantileUnchecked(chains, p, all);
  if (Number.isNaN(ess)) return NaN;
  const a1 = qbeta(0.1586553, ess * p + 1, ess * (1 - p) + 1);
  const a2 = qbeta(0.8413447, ess * p + 1, ess * (1 - p) + 1);
  const s = all.length;
  const th1 = all[Math.max(Math.floor(a1 * s), 1) - 1];
  const th2 = all[Math.min(Math.ceil(a2 * s), s) - 1];
  return (th2 - th1) / 2;
}

export function mcseMedian(chains: Float64Array[]): number {
  return mcseQuantile(chains, 0.5);
}
