/**
 * Macro benchmark of the classical samplers: post-warm-up draws per second of wall time
 * (warm-up included in the time, as a user experiences it), density/gradient evaluations per
 * draw, and the smallest bulk ESS per second over the coordinates (Vehtari et al. 2021), on the
 * standard banana (b = 0.1, sigma1 = 10) and a 10-D correlated Gaussian (correlation 0.9
 * between all pairs). One chain of 1000 warm-up + 5000 draws per sampler (RWM: 20000 draws).
 * Run alone with `npx tsx bench/samplers.ts`.
 */
import { pathToFileURL } from 'node:url';
import type { Draws } from '../src/core/draws.js';
import { parameterChains } from '../src/core/draws.js';
import { essBulk } from '../src/diagnostics/ess.js';
import { banana } from '../src/targets/banana.js';
import { gaussian } from '../src/targets/gaussian.js';
import type { Target } from '../src/targets/target.js';
import { hmc } from '../src/samplers/hmc.js';
import { mala } from '../src/samplers/mala.js';
import { nuts } from '../src/samplers/nuts.js';
import { rwm } from '../src/samplers/rwm.js';
import type { SamplerOptions } from '../src/samplers/sampler.js';
import { machineInfo } from '../src/cli/runInfo.js';

type Sampler = (t: Target, o: SamplerOptions) => Promise<Draws>;

function equicorrelated(dim: number, rho: number): number[] {
  return Array.from({ length: dim * dim }, (_, k) => (Math.floor(k / dim) === k % dim ? 1 : rho));
}

export interface SamplerBenchRow {
  sampler: string;
  target: string;
  draws: number;
  wallTimeMs: number;
  drawsPerSec: number;
  densityEvalsPerDraw: number;
  gradEvalsPerDraw: number;
  minEssBulk: number;
  minEssPerSec: number;
  acceptance: number;
}

/** Returns one row per (sampler, target) and flat keys like `nuts.banana.draws_per_s`. */
export async function benchSamplers(options: { draws?: number; seed?: number } = {}): Promise<Record<string, number>> {
  const rows = await benchSamplerRows(options);
  const out: Record<string, number> = {};
  for (const r of rows) {
    out[`${r.sampler}.${r.target}.draws_per_s`] = Math.round(r.drawsPerSec);
    out[`${r.sampler}.${r.target}.min_ess_bulk_per_s`] = Math.round(r.minEssPerSec);
    out[`${r.sampler}.${r.target}.density_evals_per_draw`] = Number(r.densityEvalsPerDraw.toFixed(2));
  }
  return out;
}

export async function benchSamplerRows(options: { draws?: number; seed?: number } = {}): Promise<SamplerBenchRow[]> {
  const draws = options.draws ?? 5000;
  const seed = options.seed ?? 1;
  const targets: [string, Target][] = [
    ['banana', banana()],
    ['gauss10', gaussian({ dim: 10, cov: equicorrelated(10, 0.9), name: 'gauss10-corr0.9' })],
  ];
  const samplers: [string, Sampler, number][] = [
    ['rwm', rwm, 4 * draws],
    ['mala', mala, draws],
    ['hmc', hmc, draws],
    ['nuts', nuts, draws],
  ];
  const rows: SamplerBenchRow[] = [];
  for (const [tname, t] of targets) {
    for (const [sname, s, n] of samplers) {
      const d = await s(t, { seed, chains: 1, warmup: 1000, draws: n });
      let minEss = Infinity;
      for (let p = 0; p < t.dim; p++) minEss = Math.min(minEss, essBulk(parameterChains(d, p)));
      const sec = d.wallTimeMs / 1000;
      rows.push({
        sampler: sname,
        target: tname,
        draws: n,
        wallTimeMs: Math.round(d.wallTimeMs),
        drawsPerSec: n / sec,
        densityEvalsPerDraw: d.densityEvals / (n + 1000),
        gradEvalsPerDraw: d.gradEvals / (n + 1000),
        minEssBulk: Math.round(minEss),
        minEssPerSec: minEss / sec,
        acceptance: Number(d.acceptance.toFixed(3)),
      });
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchSamplerRows();
  console.log(JSON.stringify({ machine: machineInfo(), rows }, null, 2));
}
