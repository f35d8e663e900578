/**
 * The shipped posteriordb posteriors (examples/posteriors/) and the check of draws against their
 * reference means: a mean passes within 4·sqrt(mcse_ref² + sd²/ESS), the reference's Monte Carlo
 * error and the draws' own. Used by the NUTS test, the flow quality test and bench/posteriors.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarise } from '../../src/diagnostics/index.js';
import type { Draws } from '../../src/core/draws.js';

export const POSTERIOR_DIR = fileURLToPath(new URL('../../examples/posteriors/', import.meta.url));
export const POSTERIORS = ['eight_schools_noncentered', 'sblrc_blr', 'arma11', 'kidiq_interaction', 'garch11', 'arK', 'low_dim_gauss_mix', 'gp_pois_regr', 'hmm_example'];

export type ReferenceMeans = Record<string, { mean: number; mcse_mean: number }>;

export function referenceMeans(name: string): ReferenceMeans {
  return JSON.parse(readFileSync(join(POSTERIOR_DIR, name, 'reference.json'), 'utf8')).variables;
}

/** Variables checked, the ones whose mean misses its reference, and the smallest bulk ESS. */
export function missedMeans(d: Draws, ref: ReferenceMeans): { checked: number; misses: string[]; essBulkMin: number } {
  let checked = 0;
  const misses: string[] = [];
  const rows = summarise(d);
  for (const r of rows) {
    const rf = ref[r.variable];
    if (!rf) continue;
    checked++;
    const tol = 4 * Math.sqrt(rf.mcse_mean ** 2 + r.sd ** 2 / r.ess_bulk);
    if (!(Math.abs(r.mean - rf.mean) < tol)) misses.push(`${r.variable}: ${r.mean.toPrecision(4)} vs reference ${rf.mean.toPrecision(4)} (tolerance ${tol.toPrecision(2)})`);
  }
  return { checked, misses, essBulkMin: Math.min(...rows.map((r) => r.ess_bulk)) };
}
