/**
 * Plain summaries of a sample, defined exactly as R computes them (posterior's reference
 * values come from R): `sd` with n - 1, quantiles of R's type 7, `mad` with 1.4826.
 */
import { argsort, sortAndRank } from './argsort.js';

export function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Sample variance with denominator n - 1 (NaN for n < 2). */
export function variance(x: ArrayLike<number>, m = mean(x)): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - m;
    s += d * d;
  }
  return s / (x.length - 1);
}

export function sd(x: ArrayLike<number>): number {
  return Math.sqrt(variance(x));
}

/** A sorted copy (ascending): radix argsort for large inputs, V8's numeric sort for small. */
export function sortedCopy(x: ArrayLike<number>): Float64Array {
  const a = Float64Array.from(x);
  if (a.length < 512) return a.sort();
  const order = argsort(a);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[order[i]];
  return out;
}

/** R's quantile type 7 of already-sorted data: (1 - h) x[lo] + h x[hi] at index 1 + (n - 1) p. */
export function quantileSorted(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  const index = (n - 1) * p; // 0-based version of 1 + (n - 1) p
  const lo = Math.floor(index);
  const hi = Math.ceil(index);
  const qs = sorted[lo];
  const h = index - lo;
  if (index > lo && sorted[hi] !== qs) return (1 - h) * qs + h * sorted[hi];
  return qs;
}

/** Median of sorted data (the mean of the two middle values when n is even). */
export function medianSorted(sorted: Float64Array): number {
  const n = sorted.length;
  const half = n >> 1;
  return n % 2 === 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
}

export function median(x: ArrayLike<number>): number {
  return medianSorted(sortedCopy(x));
}

/** Median absolute deviation scaled by 1.4826 (R's `mad`), given the median. */
export function mad(x: ArrayLike<number>, center = median(x)): number {
  const dev = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) dev[i] = Math.abs(x[i] - center);
  return 1.4826 * medianSorted(sortedCopy(dev));
}

/** Average ranks (1-based; ties share the mean of their ranks, as R's `rank(ties = 'average')`). */
export function averageRanks(x: Float64Array): Float64Array {
  return sortAndRank(x).ranks;
}
