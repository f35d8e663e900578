/**
 * The posteriordb table of docs/models.md: for each shipped posterior, NUTS (4 × 1000, seed 1)
 * and the default flow (reverse KL, at most `maxSeconds` of training, then 4000 importance draws
 * resampled) against the reference means (4·sqrt(mcse_ref² + sd²/ESS)), with PSIS k-hat, the
 * flow's training time and ESS/s including training. `npm run bench -- posteriors`, or alone:
 * `npx tsx bench/posteriors.ts [NAME ...]` (minutes).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { initBackend } from '../src/core/backend.js';
import { loadModelTarget } from '../src/models/load.js';
import { constrainDraws } from '../src/models/draws.js';
import { nuts } from '../src/samplers/nuts.js';
import { flowImportanceSample } from '../src/samplers/flowImportance.js';
import { createDefaultFlow, trainReverseKL } from '../src/flows/index.js';
import { kishEss } from '../src/diagnostics/index.js';
import type { Draws } from '../src/core/draws.js';
import { POSTERIOR_DIR, POSTERIORS, referenceMeans, missedMeans, type ReferenceMeans } from '../test/helpers/posteriorReference.js';

export { POSTERIORS };

/** The reference check of the tests (test/helpers/posteriorReference.ts), with the pass count. */
function check(d: Draws, ref: ReferenceMeans) {
  const { checked, misses, essBulkMin } = missedMeans(d, ref);
  return { pass: checked - misses.length, total: checked, misses: misses.map((m) => m.split(':')[0]), essMin: essBulkMin };
}

export async function benchPosteriors(opts: { names?: string[]; maxSeconds?: number; steps?: number } = {}) {
  await initBackend();
  const out = [];
  for (const name of opts.names?.length ? opts.names : POSTERIORS) {
    const dir = join(POSTERIOR_DIR, name);
    const ref = referenceMeans(name);
    const t = await loadModelTarget(join(dir, 'model.mjs'), join(dir, 'data.json'));
    const dn = await nuts(t, { seed: 1, chains: 4, draws: 1000 });
    const n = check(constrainDraws(dn, t), ref);
    const nutsEssPerSec = n.essMin / (dn.wallTimeMs / 1000);
    const flow = createDefaultFlow(t.dim, { seed: 1 });
    const t0 = performance.now();
    const fit = await trainReverseKL(flow, t, { seed: 1, steps: opts.steps ?? 2000, maxSeconds: opts.maxSeconds ?? 120 });
    const trainS = (performance.now() - t0) / 1000;
    const is = flowImportanceSample(flow, t, { n: 4000, seed: 2, resample: true, trainTimeMs: trainS * 1000 });
    flow.dispose();
    const f = check(constrainDraws(is.draws, t), ref);
    const flowEss = Math.min(f.essMin, is.draws.logWeights ? kishEss(is.draws.logWeights) : (is.kishEss ?? f.essMin));
    const flowEssPerSec = flowEss / (trainS + is.draws.wallTimeMs / 1000);
    const row = {
      posterior: name, dim: t.dim, outputs: t.constrained.names.length,
      nuts: { pass: n.pass, total: n.total, misses: n.misses, seconds: dn.wallTimeMs / 1000, essBulkMin: n.essMin, essPerSec: nutsEssPerSec, divergences: dn.divergences ?? 0 },
      flow: { pass: f.pass, total: f.total, misses: f.misses, trainSeconds: trainS, steps: fit.steps, stoppedBy: fit.stoppedBy, khat: is.paretoK, kishEss: is.kishEss, essPerSecIncludingTraining: flowEssPerSec },
    };
    console.log(`${name} (dim ${t.dim}): NUTS ${n.pass}/${n.total} in ${row.nuts.seconds.toFixed(1)} s, ESS/s ${nutsEssPerSec.toFixed(0)}, ${row.nuts.divergences} divergences; flow ${f.pass}/${f.total}, k-hat ${is.paretoK.toFixed(2)}, ${fit.steps} steps in ${trainS.toFixed(1)} s, ESS/s ${flowEssPerSec.toFixed(1)} incl. training${f.misses.length ? ` (misses ${f.misses.join(', ')})` : ''}`);
    out.push(row);
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { writeResults } = await import('./run.js');
  const t0 = performance.now();
  const res = await benchPosteriors({ names: process.argv.slice(2) });
  console.log(await writeResults('posteriors', res, (performance.now() - t0) / 1000));
}
