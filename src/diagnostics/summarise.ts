/**
 * Per-parameter summary with the default columns of posterior's `summarise_draws`:
 * variable, mean, median, sd, mad, q5, q95, rhat, ess_bulk, ess_tail.
 *
 * Cost per parameter is O(N log N) in the total number of draws N: one sort of the pooled
 * draws (median, quantiles, ranks, tail indicators), one sort of the folded draws, one of the
 * absolute deviations (mad), and three ESS computations of ceil(2M/2) + 1 FFTs each.
 */
import type { Draws } from '../core/draws.js';
import { parameterChains } from '../core/draws.js';
import { checkChains, foldChains, pool, splitChains, zScale } from './chains.js';
import { essRaw, essTailUnchecked } from './ess.js';
import { rhatRaw } from './rhat.js';
import { mad, mean, medianSorted, quantileSorted, sd, sortedCopy } from './stats.js';

export interface SummaryRow {
  variable: string;
  mean: number;
  median: number;
  sd: number;
  mad: number;
  q5: number;
  q95: number;
  rhat: number;
  ess_bulk: number;
  ess_tail: number;
}

/** The summary row of one parameter given as per-chain arrays. */
export function summariseChains(variable: string, chains: Float64Array[]): SummaryRow {
  checkChains(chains, `summarise '${variable}'`);
  const all = pool(chains);
  const sorted = sortedCopy(all);
  const med = medianSorted(sorted);
  const zSplit = zScale(splitChains(chains));
  const bulk = rhatRaw(zSplit);
  const tail = rhatRaw(zScale(splitChains(foldChains(chains))));
  return {
    variable,
    mean: mean(all),
    median: med,
    sd: sd(all),
    mad: mad(all, med),
    q5: quantileSorted(sorted, 0.05),
    q95: quantileSorted(sorted, 0.95),
    rhat: Number.isNaN(bulk) || Number.isNaN(tail) ? NaN : Math.max(bulk, tail),
    ess_bulk: essRaw(zSplit),
    ess_tail: essTailUnchecked(chains, sorted),
  };
}

/** One SummaryRow per parameter of `draws`, in parameter order. */
export function summarise(draws: Draws): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (let p = 0; p < draws.dim; p++) {
    rows.push(summariseChains(draws.paramNames[p], parameterChains(draws, p)));
  }
  return rows;
}
