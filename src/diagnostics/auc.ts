/**
 * The area under the ROC curve of a score that should be higher for positives (e.g. anomalies
 * scored by −log q), by its Mann–Whitney form (Hanley & McNeil 1982): the probability that a
 * random positive scores above a random negative, ties counting one half. Average ranks make it
 * O(n log n).
 */
import { ParameterError } from '../core/errors.js';
import { averageRanks } from './stats.js';

export function rocAuc(positives: ArrayLike<number>, negatives: ArrayLike<number>): number {
  const p = positives.length;
  const q = negatives.length;
  if (p === 0 || q === 0) throw new ParameterError(`rocAuc: needs positives and negatives, got ${p} and ${q}`);
  const all = new Float64Array(p + q);
  for (let i = 0; i < p; i++) all[i] = positives[i];
  for (let i = 0; i < q; i++) all[p + i] = negatives[i];
  for (let i = 0; i < all.length; i++) if (Number.isNaN(all[i])) throw new ParameterError('rocAuc: a score is NaN');
  const ranks = averageRanks(all);
  let s = 0;
  for (let i = 0; i < p; i++) s += ranks[i];
  return (s - (p * (p + 1)) / 2) / (p * q);
}
