/**
 * Tempered SMC against exact log Z (the multimodal SMC bar: within 3 standard errors on banana, ring,
 * gmm40 and funnel10), five seeds each, plus the 1-D mixture, the 50-D ill-conditioned Gaussian
 * and the 32-D many-well. For each run: log Ẑ − log Z, the between-run standard error, z, stages,
 * gradient evaluations and seconds; for targets with known modes, the modes visited and the total
 * variation of the visit frequencies; for the many-well, each well's right-hand weight against
 * the exact one, in units of its between-run standard error.
 *
 * The funnel runs with a reference of sd 3 (the prior-like scale of v), targetEss 0.99 (a fine
 * schedule where the neck fills in, near β = 1), longer, locally scaled HMC moves, and 20 runs
 * (its Ẑ_r are right-skewed, and the standard error from 10 runs was too small on one seed in
 * five); `funnel10-default` shows what compare's defaults give.
 *
 *   npx tsx bench/smc.ts [--seeds 1,2,3,4,5] [--targets banana,ring] [--quick]
 */
import { initBackend } from '../src/core/backend.js';
import { parseTargetSpec } from '../src/targets/registry.js';
import { temperedSmc, type SmcOptions } from '../src/samplers/smc.js';
import { modeVisits } from '../src/diagnostics/modes.js';
import { manyWellRightWeight } from '../src/targets/manyWell.js';
import { isMain, optionValue } from './standalone.js';

export interface SmcCase {
  id: string;
  spec: string;
  options: Omit<SmcOptions, 'seed'>;
  /** Included in the default set (the bar's targets and the cheap extras). */
  bar: boolean;
}

export const SMC_CASES: SmcCase[] = [
  { id: 'banana', spec: 'banana', options: { chains: 10, draws: 1000 }, bar: true },
  { id: 'ring', spec: 'ring', options: { chains: 10, draws: 1000 }, bar: true },
  { id: 'gmm40', spec: 'gmm40', options: { chains: 10, draws: 1000 }, bar: true },
  {
    id: 'funnel10',
    spec: 'funnel:dim=10',
    options: { chains: 20, draws: 500, reference: { sd: 3 }, targetEss: 0.99, localStep: true, moves: 20, leapfrogSteps: 30 },
    bar: true,
  },
  { id: 'funnel10-default', spec: 'funnel:dim=10', options: { chains: 10, draws: 500 }, bar: false },
  { id: 'mix1d', spec: 'mix1d', options: { chains: 10, draws: 1000 }, bar: false },
  { id: 'manywell32', spec: 'manywell', options: { chains: 10, draws: 1000 }, bar: false },
  { id: 'gauss50', spec: 'illgauss:dim=50', options: { chains: 10, draws: 500 }, bar: false },
];

export interface SmcRunResult {
  seed: number;
  logZ: number;
  error: number;
  se: number;
  z: number;
  stages: number;
  gradEvals: number;
  densityEvals: number;
  seconds: number;
  modesVisited?: number;
  modes?: number;
  totalVariation?: number;
  /** Many-well: max over wells of |right weight − exact| / its between-run SE. */
  wellMaxZ?: number;
}

export async function benchSmc(opts: { seeds?: number[]; targets?: string[]; quick?: boolean; log?: (l: string) => void } = {}) {
  await initBackend();
  const log = opts.log ?? console.log;
  const seeds = opts.seeds ?? (opts.quick ? [1] : [1, 2, 3, 4, 5]);
  const cases = SMC_CASES.filter((c) => (opts.targets ? opts.targets.includes(c.id) : true));
  const out: { id: string; spec: string; options: unknown; logZTrue: number; runs: SmcRunResult[]; maxAbsZ: number; within3Se: string }[] = [];
  for (const c of cases) {
    const target = parseTargetSpec(c.spec);
    const runs: SmcRunResult[] = [];
    for (const seed of seeds) {
      const o = opts.quick ? { ...c.options, chains: 4, draws: Math.min(200, c.options.draws ?? 1000) } : c.options;
      const t0 = performance.now();
      const r = await temperedSmc(target, { ...o, seed });
      const seconds = (performance.now() - t0) / 1000;
      const error = r.logZ - target.logZ!;
      const row: SmcRunResult = {
        seed,
        logZ: r.logZ,
        error,
        se: r.logZSe,
        z: error / r.logZSe,
        stages: Number(r.draws.info?.stages),
        gradEvals: r.draws.gradEvals,
        densityEvals: r.draws.densityEvals,
        seconds,
      };
      if (target.modes) {
        const mv = modeVisits(r.draws.values, target.dim, target.modes);
        Object.assign(row, { modesVisited: mv.visited, modes: mv.modes, totalVariation: mv.totalVariation });
      }
      if (target.name === 'manywell') {
        // Per run r: the weighted share of particles in each well's right half, then the spread over runs.
        const p = manyWellRightWeight();
        const d = r.draws;
        let worst = 0;
        for (let k = 0; k < target.dim / 2; k++) {
          const shares: number[] = [];
          for (let run = 0; run < d.chains; run++) {
            let pos = 0;
            for (let i = 0; i < d.draws; i++) if (d.values[(run * d.draws + i) * d.dim + 2 * k] > 0) pos++;
            shares.push(pos / d.draws);
          }
          const m = shares.reduce((a, b) => a + b, 0) / shares.length;
          const se = Math.sqrt(shares.reduce((a, b) => a + (b - m) ** 2, 0) / (shares.length - 1) / shares.length);
          worst = Math.max(worst, Math.abs(m - p) / se);
        }
        row.wellMaxZ = worst;
      }
      runs.push(row);
      log(
        `${c.id} seed ${seed}: log Z err ${error.toFixed(4)} ± ${r.logZSe.toFixed(4)} (z ${row.z.toFixed(2)}), ${row.stages.toFixed(1)} stages, ${(row.gradEvals / 1e6).toFixed(2)}M grads, ${seconds.toFixed(1)} s` +
          (row.modes !== undefined && row.modes <= 256 ? `, modes ${row.modesVisited}/${row.modes}, TV ${row.totalVariation!.toFixed(3)}` : '') +
          (row.wellMaxZ !== undefined ? `, worst well weight ${row.wellMaxZ.toFixed(2)} SE` : ''),
      );
    }
    const maxAbsZ = Math.max(...runs.map((u) => Math.abs(u.z)));
    out.push({ id: c.id, spec: c.spec, options: c.options, logZTrue: target.logZ!, runs, maxAbsZ, within3Se: `${runs.filter((u) => Math.abs(u.z) <= 3).length}/${runs.length}` });
  }
  return { seeds, cases: out };
}

if (isMain(import.meta.url)) {
  const seeds = optionValue('--seeds')?.split(',').map(Number);
  const targets = optionValue('--targets')?.split(',');
  const quick = process.argv.includes('--quick');
  const res = await benchSmc({ seeds, targets, quick });
  const { writeResults } = await import('./run.js');
  console.log(`-> ${await writeResults('smc', res)}`);
}
