/**
 * posteriordb posteriors written once (examples/posteriors/NAME/model.mjs): NUTS recovers the
 * reference means (reference.json, made by scripts/posteriordb-references.ts) within
 * 4·sqrt(mcse_ref² + sd²/ESS) at a fixed seed, on the constrained scale with Stan's names.
 *
 * The default run covers three fast posteriors; FLOWSAMPLER_POSTERIORS=1 runs all nine, and
 * The flow on each posterior (minutes): run with npm run test:quality (FLOWSAMPLER_QUALITY=1).
 * The eight schools centred posterior must be flagged: NUTS reports divergences, and its Draws
 * carry the divergences warning.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadModelTarget } from '../../src/models/load.js';
import { nuts } from '../../src/samplers/nuts.js';
import { constrainDraws } from '../../src/models/draws.js';
import { summarise } from '../../src/diagnostics/index.js';
import { createDefaultFlow, trainReverseKL } from '../../src/flows/index.js';
import { flowImportanceSample } from '../../src/samplers/flowImportance.js';
import { initBackend } from '../../src/core/backend.js';
import type { Draws } from '../../src/core/draws.js';

const ROOT = fileURLToPath(new URL('../../examples/posteriors/', import.meta.url));
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

describe('posteriordb posteriors under the flow (npm run test:quality)', () => {
  for (const name of ALL) {
    it(`${name}: importance-sampled flow draws against the reference means (k-hat reported)`, async () => {
      await initBackend();
      const t = await loadModelTarget(join(ROOT, name, 'model.mjs'), join(ROOT, name, 'data.json'));
      const flow = createDefaultFlow(t.dim, { seed: 1 });
      try {
        const fit = await trainReverseKL(flow, t, { seed: 1, steps: 2000, maxSeconds: 120 });
        const is = flowImportanceSample(flow, t, { n: 4000, seed: 2, resample: true });
        const d = constrainDraws(is.draws, t);
        const { misses } = missedMeans(d, reference(name));
        console.log(`${name}: ${fit.steps} steps, k-hat ${is.paretoK.toFixed(2)}, misses ${misses.length}: ${misses.join('; ')}`);
        // Every failure must be visible: a missed mean comes with k-hat ≥ 0.7.
        if (misses.length > 0) expect(is.paretoK).toBeGreaterThanOrEqual(0.7);
      } finally {
        flow.dispose();
      }
    });
  }
});
