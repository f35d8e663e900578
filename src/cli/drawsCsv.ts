/**
 * Draws of one chain as CSV in the CmdStan layout (comment lines starting with '#', a header of
 * column names, one row per draw), so that R (posterior, cmdstanr) and Python (ArviZ, cmdstanpy)
 * read them. lp__ is the target's unnormalised log density at each draw, as in CmdStan (these
 * evaluations are bookkeeping and are not charged to the sampler).
 */
import type { Draws } from '../core/draws.js';
import type { Target } from '../targets/target.js';
import { writeStanCsv } from '../io/stanCsv.js';

export function drawsToCsv(d: Draws, chain: number, target?: Target): string {
  if (!target) return writeStanCsv(d, chain);
  const lp = new Float64Array(d.draws);
  for (let i = 0; i < d.draws; i++) {
    const off = (chain * d.draws + i) * d.dim;
    const v = target.logDensity(d.values.subarray(off, off + d.dim));
    lp[i] = Number.isFinite(v) ? v : -1e300;
  }
  return writeStanCsv(d, chain, { lp__: lp });
}
