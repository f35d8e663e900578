/**
 * Draws of one chain as CSV in the CmdStan layout (comment lines starting with '#', a header of
 * column names, one row per draw), so that R (posterior, cmdstanr) and Python (ArviZ, cmdstanpy)
 * read them. lp__ is the target's unnormalised log density at each draw, as in CmdStan (these
 * evaluations are bookkeeping and are not charged to the sampler).
 */
import type { Draws } from '../core/draws.js';
import type { Target } from '../targets/target.js';
import { writeStanCsv } from '../io/stanCsv.js';
import { cmdStanName } from '../models/draws.js';

/**
 * `d` holds the target's own coordinates (lp__ is computed from them); `shown`, when given, is
 * the same draws on the constrained scale of a model, written with Stan's column names (`beta.1`).
 */
export function drawsToCsv(d: Draws, chain: number, target?: Target, shown?: Draws): string {
  if (!target) return writeStanCsv(d, chain);
  const lp = new Float64Array(d.draws);
  for (let i = 0; i < d.draws; i++) {
    const off = (chain * d.draws + i) * d.dim;
    const v = target.logDensity(d.values.subarray(off, off + d.dim));
    lp[i] = Number.isFinite(v) ? v : -1e300;
  }
  const out = shown ? { ...shown, paramNames: shown.paramNames.map(cmdStanName) } : d;
  return writeStanCsv(out, chain, { lp__: lp });
}
