/**
 * Anomaly scores from a fitted density (UDL §16.5.1): a point is anomalous when its log density
 * lies below the q quantile of the log densities of the data the flow was fitted to. The fit
 * keeps the quantiles of those log densities on a grid of 0.1 % (1001 values), so any q can be
 * chosen later without the data.
 */
import { ParameterError } from '../../core/errors.js';

/** Grid points of the saved quantile table. */
export const QUANTILE_GRID = 1000;

/** Quantiles k/1000, k = 0..1000, of the finite log densities (R's type 7); −Infinity counts as lowest. */
export function logDensityQuantiles(logq: ArrayLike<number>): number[] {
  const s = Float64Array.from(logq).map((v) => (Number.isNaN(v) ? -Infinity : v)).sort();
  if (s.length === 0) throw new ParameterError('logDensityQuantiles: no values');
  return Array.from({ length: QUANTILE_GRID + 1 }, (_, k) => {
    const h = (s.length - 1) * (k / QUANTILE_GRID);
    const lo = Math.floor(h);
    const hi = Math.min(s.length - 1, lo + 1);
    const a = s[lo];
    const b = s[hi];
    return a === b || !Number.isFinite(a) ? a : a + (h - lo) * (b - a);
  });
}

/** The q quantile from a saved table (linear between its grid points). */
export function quantileFromTable(table: readonly number[], q: number): number {
  if (!(q > 0 && q < 1)) throw new ParameterError(`anomaly quantile must be in (0, 1), got ${q}`);
  if (!Array.isArray(table) || table.length !== QUANTILE_GRID + 1 || table.some((v) => typeof v !== 'number' && v !== null)) {
    throw new ParameterError(`the log-density quantile table must hold ${QUANTILE_GRID + 1} numbers`);
  }
  const h = q * QUANTILE_GRID;
  const lo = Math.floor(h);
  const hi = Math.min(QUANTILE_GRID, lo + 1);
  const a = table[lo] ?? -Infinity;
  const b = table[hi] ?? -Infinity;
  return !Number.isFinite(a) ? a : a + (h - lo) * (b - a);
}
