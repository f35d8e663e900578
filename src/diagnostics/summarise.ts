/**
 * Per-parameter summary with the default columns of posterior's `summarise_draws`:
 * variable, mean, median, sd, mad, q5, q95, rhat, ess_bulk, ess_tail.
 *
 * Cost per parameter is O(N log N) in the total number of draws N: two O(N) radix sorts (the
 * draws, and the folded draws |x - median|) feed the median, quantiles, mad, and both rank
 * normalisations; then three ESS computations (bulk, 5% and 95% indicators), each O(N) for
 * fast-mixing chains and at most one FFT pass per ESS otherwise.
 */
import type { Draws } from '../core/draws.js';
import { parameterChains } from '../core/draws.js';
import { sortAndRank } from './argsort.js';
import { checkChains, foldChains, pool, zScaleSplit } from './chains.js';
import { essRaw, essTailUnchecked } from './ess.js';
import { rhatRaw } from './rhat.js';
import { mean, medianSorted, quantileSorted, sd } from './stats.js';

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
  // Sort once for the median, quantiles, tail indicators and (even lengths) the bulk ranks.
  const { sorted, ranks } = sortAndRank(all);
  const med = medianSorted(sorted);
  const zSplit = zScaleSplit(chains, ranks);
  // The folded draws |x - median| give both the tail R-hat and the mad.
  const folded = foldChains(chains, med);
  const foldRank = sortAndRank(pool(folded));
  const bulk = rhatRaw(zSplit);
  const tail = rhatRaw(zScaleSplit(folded, foldRank.ranks));
  return {
    variable,
    mean: mean(all),
    median: med,
    sd: sd(all),
    mad: 1.4826 * medianSorted(foldRank.sorted),
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
