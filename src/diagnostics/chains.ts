/**
 * Chain handling shared by ESS, R-hat and MCSE: validation, splitting, folding and rank
 * normalisation, following posterior 1.4.0 (Vehtari, Gelman, Simpson, Carpenter & Bürkner
 * 2021, "Rank-normalization, folding, and localization: an improved R-hat", Bayesian Analysis).
 *
 * `chains` is always an array of per-chain Float64Arrays of equal length (iterations x chains).
 */
import { DimensionError, NonFiniteError, ParameterError } from '../core/errors.js';
import { qnorm } from './normal.js';
import { sortAndRank } from './argsort.js';
import { median } from './stats.js';

/** Fewest draws per chain we accept: split chains then have 2 draws each. */
export const MIN_DRAWS = 4;

/**
 * Throws a clear error for input no diagnostic can be trusted on: no chains, unequal lengths,
 * fewer than 4 draws, or a NaN/±Inf draw (named by chain and iteration, 1-based).
 */
export function checkChains(chains: Float64Array[], what = 'diagnostic'): void {
  if (!Array.isArray(chains) || chains.length === 0) {
    throw new ParameterError(`${what}: need at least one chain`);
  }
  const n = chains[0].length;
  for (let c = 0; c < chains.length; c++) {
    const x = chains[c];
    if (!(x instanceof Float64Array)) throw new ParameterError(`${what}: chain ${c + 1} is not a Float64Array`);
    if (x.length !== n) {
      throw new DimensionError(`${what}: chains have unequal lengths (chain 1 has ${n} draws, chain ${c + 1} has ${x.length} draws)`);
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(x[i])) {
        throw new NonFiniteError(`${what}: chain ${c + 1}, draw ${i + 1} is ${x[i]}; diagnostics need finite draws`);
      }
    }
  }
  if (n < MIN_DRAWS) throw new ParameterError(`${what}: need at least ${MIN_DRAWS} draws per chain, got ${n}`);
}

/** f applied elementwise into a new Float64Array (a plain loop: TypedArray#map is slow in V8). */
export function mapArray(x: Float64Array, f: (v: number) => number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  return out;
}

/** All draws of all chains, chain after chain (R's `c(matrix)`). */
export function pool(chains: Float64Array[]): Float64Array {
  const n = chains[0].length;
  const out = new Float64Array(n * chains.length);
  for (let c = 0; c < chains.length; c++) out.set(chains[c], c * n);
  return out;
}

/**
 * Splits every chain into its first and second half: iterations 1..floor(n/2) and
 * ceil(n/2 + 1)..n, so the middle draw of an odd-length chain is dropped (posterior's rule).
 * Halves are views, not copies.
 */
export function splitChains(chains: Float64Array[]): Float64Array[] {
  const n = chains[0].length;
  if (n === 1) return chains;
  const half = Math.floor(n / 2);
  const secondStart = Math.ceil(n / 2 + 1) - 1;
  const first = chains.map((x) => x.subarray(0, half));
  const second = chains.map((x) => x.subarray(secondStart, n));
  return [...first, ...second];
}

/** |x - median(x)|, the median taken over all chains (for tail R-hat). */
export function foldChains(chains: Float64Array[], center = median(pool(chains))): Float64Array[] {
  const m = center;
  return chains.map((x) => mapArray(x, (v) => Math.abs(v - m)));
}

/** qnorm((r - 3/8) / (S + 1/4)) for pooled ranks r, reshaped into chains of length n. */
export function zFromPooledRanks(ranks: Float64Array, nChains: number, n: number): Float64Array[] {
  const denom = ranks.length - 2 * 0.375 + 1;
  return Array.from({ length: nChains }, (_, c) => {
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) z[i] = qnorm((ranks[c * n + i] - 0.375) / denom);
    return z;
  });
}

/**
 * Rank normalisation: average ranks r over all chains, then qnorm((r - 3/8) / (S + 1/4))
 * (Blom's offset, c = 3/8). Returns new arrays with the same chain shape.
 */
export function zScale(chains: Float64Array[]): Float64Array[] {
  return zFromPooledRanks(sortAndRank(pool(chains)).ranks, chains.length, chains[0].length);
}

/**
 * zScale(splitChains(chains)) given the ranks of pool(chains). With an even number of draws the
 * split keeps every draw, so the pooled ranks are the split ranks and one sort serves both the
 * quantiles and the rank normalisation; with an odd number the middle draws are dropped first.
 */
export function zScaleSplit(chains: Float64Array[], pooledRanks?: Float64Array): Float64Array[] {
  const n = chains[0].length;
  if (n % 2 === 0 && pooledRanks) return splitChains(zFromPooledRanks(pooledRanks, chains.length, n));
  return zScale(splitChains(chains));
}

/** posterior's NA rule: max - min below double epsilon over all chains. */
export function isConstant(chains: Float64Array[]): boolean {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of chains) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return Math.abs(hi - lo) < Number.EPSILON;
}
