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
import { join } from 'node:path';
import { loadModelTarget } from '../../src/models/load.js';
import { nuts } from '../../src/samplers/nuts.js';
import { constrainDraws } from '../../src/models/draws.js';
import { createDefaultFlow, trainReverseKL } from '../../src/flows/index.js';
import { flowImportanceSample } from '../../src/samplers/flowImportance.js';
import { initBackend } from '../../src/core/backend.js';
import { POSTERIOR_DIR, POSTERIORS, referenceMeans, missedMeans } from '../helpers/posteriorReference.js';

const FAST = POSTERIORS.slice(0, 3);
const names = process.env.FLOWSAMPLER_POSTERIORS ? POSTERIORS : FAST;

describe('posteriordb posteriors under the flow (npm run test:quality)', () => {
  for (const name of POSTERIORS) {
    it(`${name}: importance-sampled flow draws against the reference means (k-hat reported)`, async () => {
      await initBackend();
      const t = await loadModelTarget(join(POSTERIOR_DIR, name, 'model.mjs'), join(POSTERIOR_DIR, name, 'data.json'));
      const flow = createDefaultFlow(t.dim, { seed: 1 });
      try {
        const fit = await trainReverseKL(flow, t, { seed: 1, steps: 2000, maxSeconds: 120 });
        const is = flowImportanceSample(flow, t, { n: 4000, seed: 2, resample: true });
        const d = constrainDraws(is.draws, t);
        const { misses } = missedMeans(d, referenceMeans(name));
        console.log(`${name}: ${fit.steps} steps, k-hat ${is.paretoK.toFixed(2)}, misses ${misses.length}: ${misses.join('; ')}`);
        // Every failure must be visible: a missed mean comes with k-hat ≥ 0.7.
        if (misses.length > 0) expect(is.paretoK).toBeGreaterThanOrEqual(0.7);
      } finally {
        flow.dispose();
      }
    });
  }
});
