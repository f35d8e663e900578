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
import { join } from 'node:path';
import { loadModelTarget } from '../src/models/load.js';
import { nuts } from '../src/samplers/nuts.js';
import { constrainDraws } from '../src/models/draws.js';
import { POSTERIOR_DIR, POSTERIORS, referenceMeans, missedMeans } from './helpers/posteriorReference.js';

const FAST = POSTERIORS.slice(0, 3);
const names = process.env.FLOWSAMPLER_POSTERIORS ? POSTERIORS : FAST;

describe('posteriordb posteriors under NUTS', () => {
  for (const name of names) {
    it(`${name}: every reference mean`, async () => {
      const t = await loadModelTarget(join(POSTERIOR_DIR, name, 'model.mjs'), join(POSTERIOR_DIR, name, 'data.json'));
      const d = constrainDraws(await nuts(t, { seed: 1, chains: 4, draws: 1000 }), t);
      const ref = referenceMeans(name);
      const { checked, misses } = missedMeans(d, ref);
      expect(checked).toBe(Object.keys(ref).length);
      expect(misses).toEqual([]);
    });
  }

  it('eight schools centred: NUTS reports divergences (a funnel it cannot explore)', async () => {
    const t = await loadModelTarget(join(POSTERIOR_DIR, 'eight_schools_centered', 'model.mjs'), join(POSTERIOR_DIR, 'eight_schools_centered', 'data.json'));
    const d = await nuts(t, { seed: 1, chains: 4, draws: 1000 });
    // Flagged where the user looks: the divergences warning on the result.
    expect(d.warnings.map((w) => w.code)).toContain('divergences');
    // The non-centred version of the same posterior, same seed: at most an odd one (a rate 10x lower).
    const nc = await loadModelTarget(join(POSTERIOR_DIR, 'eight_schools_noncentered', 'model.mjs'), join(POSTERIOR_DIR, 'eight_schools_noncentered', 'data.json'));
    const dn = await nuts(nc, { seed: 1, chains: 4, draws: 1000 });
    expect(d.divergences!).toBeGreaterThan(10 * Math.max(1, dn.divergences ?? 0));
  });
});
