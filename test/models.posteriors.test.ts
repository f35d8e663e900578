/**
 * posteriordb posteriors written once (examples/posteriors/NAME/model.mjs): NUTS recovers the
 * reference means (reference.json, made by scripts/posteriordb-references.ts) within
 * 4·sqrt(mcse_ref² + sd²/ESS) at a fixed seed, on the constrained scale with Stan's names.
 *
 * The default run covers three fast posteriors; FLOWSAMPLER_POSTERIORS=1 runs all nine, and
 * test/quality/posteriors.flow.test.ts (npm run test:quality) trains the flow on each (minutes).
 * The eight schools centred posterior must be flagged: NUTS reports divergences, and its Draws
 * carry the divergences warning.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadModelTarget } from '../src/models/load.js';
import { nuts } from '../src/samplers/nuts.js';
import { constrainDraws } from '../src/models/draws.js';
import { summarise } from '../src/diagnostics/index.js';
import { createDefaultFlow, trainReverseKL } from '../src/flows/index.js';
import { flowImportanceSample } from '../src/samplers/flowImportance.js';
import { initBackend } from '../src/core/backend.js';
import type { Draws } from '../src/core/draws.js';

const ROOT = fileURLToPath(new URL('../examples/posteriors/', import.meta.url));
const ALL = ['eight_schools_noncentered', 'sblrc_blr', 'arma11', 'kidiq_interaction', 'garch11', 'arK', 'low_dim_gauss_mix', 'gp_pois_regr', 'hmm_example'];
const FAST = ALL.slice(0, 3);
const names = process.env.FLOWSAMPLER_POSTERIORS ? ALL : FAST;

function reference(name: string): Record<string, { mean: number; mcse_mean: number }> {
  return JSON.parse(readFileSync(join(ROOT, name, 'reference.json'), 'utf8')).variables;
}

/** Variables whose mean misses the reference by more than 4·sqrt(mcse_ref² + sd²/ESS). */
export function missedMeans(d: Draws, ref: Record<string, { mean: number; mcse_mean: number }>): { checked: number; misses: string[] } {
  let checked = 0;
  const misses: string[] = [];
  for (const r of summarise(d)) {
    const rf = ref[r.variable];
    if (!rf) continue;
    checked++;
    const tol = 4 * Math.sqrt(rf.mcse_mean ** 2 + r.sd ** 2 / r.ess_bulk);
    if (!(Math.abs(r.mean - rf.mean) < tol)) misses.push(`${r.variable}: ${r.mean.toPrecision(4)} vs reference ${rf.mean.toPrecision(4)} (tolerance ${tol.toPrecision(2)})`);
  }
  return { checked, misses };
}

describe('posteriordb posteriors under NUTS', () => {
  for (const name of names) {
    it(`${name}: every reference mean`, async () => {
      const t = await loadModelTarget(join(ROOT, name, 'model.mjs'), join(ROOT, name, 'data.json'));
      const d = constrainDraws(await nuts(t, { seed: 1, chains: 4, draws: 1000 }), t);
      const ref = reference(name);
      const { checked, misses } = missedMeans(d, ref);
      expect(checked).toBe(Object.keys(ref).length);
      expect(misses).toEqual([]);
    });
  }

  it('eight schools centred: NUTS reports divergences (a funnel it cannot explore)', async () => {
    const t = await loadModelTarget(join(ROOT, 'eight_schools_centered', 'model.mjs'), join(ROOT, 'eight_schools_centered', 'data.json'));
    const d = await nuts(t, { seed: 1, chains: 4, draws: 1000 });
    // Flagged where the user looks: the divergences warning on the result.
    expect(d.warnings.map((w) => w.code)).toContain('divergences');
    // The non-centred version of the same posterior, same seed: at most an odd one (a rate 10x lower).
    const nc = await loadModelTarget(join(ROOT, 'eight_schools_noncentered', 'model.mjs'), join(ROOT, 'eight_schools_noncentered', 'data.json'));
    const dn = await nuts(nc, { seed: 1, chains: 4, draws: 1000 });
    expect(d.divergences!).toBeGreaterThan(10 * Math.max(1, dn.divergences ?? 0));
  });
});
