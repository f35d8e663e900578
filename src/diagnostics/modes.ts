/**
 * Which modes a set of draws visited, for targets whose modes are known (mixture components):
 * each draw is assigned to a mode, and a mode counts as visited when it holds at least
 * `minShare` (default ¼) of its fair share n·w_k of the draws, and at least one draw. The fair
 * share is the expected count under exact sampling, so exact draws visit every mode whose
 * n·w_k is not tiny, and a sampler stuck in a few modes visits those only. The total variation
 * ½ Σ |n_k / n − w_k| says how far the visit frequencies are from the true weights (0 for a
 * perfect sampler, up to about 1 − w_k for one stuck in mode k; its noise for exact draws is about
 * √(K / (2π n)) when every n·w_k is large).
 */
import { ParameterError } from '../core/errors.js';
import { makeWarning, type Warning } from '../core/warnings.js';

/** What `modeVisits` needs of a target's mode structure (src/targets/target.ts ModeStructure). */
export interface ModeAssigner {
  readonly count: number;
  readonly weights: Float64Array;
  assign(x: Float64Array): number;
}

export interface ModeVisits {
  /** Number of modes K. */
  modes: number;
  /** Modes visited (holding at least minShare of their fair share). */
  visited: number;
  /** Draws per mode. */
  counts: Int32Array;
  /** Whether each mode counts as visited (at least one draw and minShare of its fair share). */
  seen: boolean[];
  /** n · w_k: the expected count of each mode under exact sampling. */
  expected: Float64Array;
  /** ½ Σ |n_k / n − w_k|. */
  totalVariation: number;
  /** Number of draws assigned. */
  n: number;
}

/** Mode visits of n draws (row-major n x dim values). */
export function modeVisits(values: Float64Array, dim: number, modes: ModeAssigner, minShare = 0.25): ModeVisits {
  if (!(minShare > 0 && minShare <= 1)) throw new ParameterError(`modeVisits: minShare must be in (0, 1], got ${minShare}`);
  if (values.length % dim !== 0) throw new ParameterError(`modeVisits: ${values.length} values are not whole rows of dim ${dim}`);
  const n = values.length / dim;
  const k = modes.count;
  const counts = new Int32Array(k);
  for (let r = 0; r < n; r++) {
    const m = modes.assign(values.subarray(r * dim, (r + 1) * dim));
    if (m >= 0 && m < k) counts[m]++;
  }
  const expected = Float64Array.from(modes.weights, (w) => n * w);
  let visited = 0;
  let tv = 0;
  const seen = Array.from({ length: k }, (_, j) => counts[j] >= 1 && counts[j] >= minShare * expected[j]);
  for (let j = 0; j < k; j++) {
    if (seen[j]) visited++;
    tv += Math.abs(counts[j] / Math.max(n, 1) - modes.weights[j]);
  }
  return { modes: k, visited, counts, seen, expected, totalVariation: tv / 2, n };
}

/** Expected draws in a mode below which missing it is not evidence (too few draws to tell). */
const MISSED_MODE_MIN_EXPECTED = 20;

/**
 * A `modes-missed` warning when the draws left out modes that held enough expected draws to be
 * seen (at least MISSED_MODE_MIN_EXPECTED): the sign that R-hat and ESS cannot give when every
 * chain sits in the same modes.
 */
export function modesMissedWarning(sampler: string, mv: ModeVisits): Warning | null {
  let missed = 0;
  for (let j = 0; j < mv.modes; j++) if (!mv.seen[j] && mv.expected[j] >= MISSED_MODE_MIN_EXPECTED) missed++;
  if (missed === 0) return null;
  return makeWarning(
    'modes-missed',
    `${sampler}: visited ${mv.visited} of ${mv.modes} known modes (${missed} missed that should have held at least ${MISSED_MODE_MIN_EXPECTED} draws each); its draws miss probability mass whatever R-hat and ESS say`,
    { visited: mv.visited, modes: mv.modes, missed },
  );
}
