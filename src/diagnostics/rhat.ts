/**
 * Potential scale reduction R-hat (Gelman & Rubin 1992; split and rank-normalized version of
 * Vehtari et al. 2021, as posterior 1.4.0). NaN (posterior's NA) for constant chains, and for a
 * single unsplit chain (no between-chain variance).
 */
import { checkChains, foldChains, isConstant, splitChains, zScale } from './chains.js';
import { mean, variance } from './stats.js';

/** posterior's internal `.rhat` on chains as given (no split, no transform). */
export function rhatRaw(chains: Float64Array[]): number {
  if (isConstant(chains)) return NaN;
  const n = chains[0].length;
  const means = chains.map((x) => mean(x));
  const vars = chains.map((x, c) => variance(x, means[c]));
  const varBetween = n * variance(means);
  const varWithin = mean(vars);
  return Math.sqrt((varBetween / varWithin + n - 1) / n);
}

/** Bulk R-hat: split, rank-normalized. */
export function rhatBulk(chains: Float64Array[]): number {
  checkChains(chains, 'rhatBulk');
  return rhatRaw(zScale(splitChains(chains)));
}

/** Tail R-hat: split, rank-normalized |x - median|. */
export function rhatTail(chains: Float64Array[]): number {
  checkChains(chains, 'rhatTail');
  return rhatRaw(zScale(splitChains(foldChains(chains))));
}

/** The default R-hat: max of bulk and tail (NaN if either is NaN, as R's `max`). */
export function rhat(chains: Float64Array[]): number {
  checkChains(chains, 'rhat');
  return rhatUnchecked(chains);
}

export function rhatUnchecked(chains: Float64Array[], zSplit?: Float64Array[]): number {
  const bulk = rhatRaw(zSplit ?? zScale(splitChains(chains)));
  const tail = rhatRaw(zScale(splitChains(foldChains(chains))));
  return Number.isNaN(bulk) || Number.isNaN(tail) ? NaN : Math.max(bulk, tail);
}

/** Classic R-hat on the raw draws (split by default). */
export function rhatBasic(chains: Float64Array[], split = true): number {
  checkChains(chains, 'rhatBasic');
  return rhatRaw(split ? splitChains(chains) : chains);
}
