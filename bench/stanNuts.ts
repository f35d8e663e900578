/**
 * NUTS against Stan on the same 50-D Gaussian (the `gauss50` anchor: dense covariance,
 * condition number 1e3), in one run: rstan through bench/anchors/stan_anchor.R and flowsampler's
 * `nuts`, each with 4 chains x (1000 warm-up + 1000 draws), the diagonal metric and its defaults,
 * alternating seed by seed so both see the same machine. Compared: min bulk ESS (rank-normalised,
 * Vehtari et al. 2021) per second of warm-up + sampling. Stan's time is its chains' own elapsed
 * time (compilation and R's start-up excluded); ours is its chains' run (Draws.wallTimeMs: start checks in, the draws' diagnostics out),
 * in a plain `node` process on dist/ (`npm run build` first); the whole `nuts` call (start checks
 * and the draws' rank-normalised diagnostics too) is recorded beside it. Written to
 * bench/results/stanNuts.json.
 *
 *   npx tsx bench/stanNuts.ts [--seeds 1,2,3]
 *
 * Needs Rscript with rstan (Debian r-cran-rstan); without it the bench says so and records nothing.
 * The first run compiles the Stan program (1-2 min; rstan caches it beside the .stan file).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { isMain, optionValue } from './standalone.js';

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const SCRIPT = join(HERE, 'anchors', 'stan_anchor.R');
const GAUSS50_COV = join(HERE, '..', 'test', 'fixtures', 'reference', 'gauss50', 'gauss50_cov.csv');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Side {
  essBulkMin: number;
  /** Warm-up + sampling time of the chains (Stan: get_elapsed_time; ours: Draws.wallTimeMs, start checks included). */
  seconds: number;
  /** Ours: the whole `nuts` call, start checks and the draws' diagnostics included. */
  callSeconds?: number;
  essPerSecond: number;
  gradEvals: number;
  essPer1000Grads: number;
}

async function hasRstan(): Promise<boolean> {
  try {
    await run('Rscript', ['-e', 'suppressMessages(library(rstan))'], { timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

/** One seed of the Stan anchor: its CSV row for gauss50. */
async function stanSeed(seed: number, dir: string): Promise<Side> {
  await run('Rscript', [SCRIPT, 'gauss50', '1', dir, String(seed)], { timeout: 900_000, maxBuffer: 16 << 20 });
  const [head, ...rows] = (await readFile(join(dir, 'stan_runs.csv'), 'utf8')).trim().split('\n');
  const cols = head.split(',').map((c) => c.replace(/"/g, ''));
  const cells = rows.map((r) => r.split(',').map((c) => c.replace(/"/g, '')));
  const mine = cells.find((c) => c[cols.indexOf('target')] === 'gauss50' && Number(c[cols.indexOf('rep')]) === seed);
  if (!mine) throw new Error(`stan_anchor.R wrote no gauss50 row for seed ${seed}`);
  const num = (k: string) => Number(mine[cols.indexOf(k)]);
  const seconds = num('t_warmup_s') + num('t_sample_s');
  const ess = num('ess_bulk_min');
  return { essBulkMin: ess, seconds, essPerSecond: ess / seconds, gradEvals: num('n_leapfrog_all'), essPer1000Grads: (1000 * ess) / num('n_leapfrog_all') };
}

/**
 * One seed of flowsampler's NUTS, in a plain `node` process on the built package (dist/, as
 * `npx flowsampler` runs it): under tsx, which runs these benches, the same compiled code ran
 * 20-30% slower (NUTS on gauss50, interleaved runs).
 */
async function oursSeed(seed: number): Promise<Side> {
  const dist = (f: string) => JSON.stringify(pathToFileURL(join(HERE, '..', 'dist', f)).href);
  const code = `
    import { nuts } from ${dist('samplers/nuts.js')};
    import { gaussianFromCovariance } from ${dist('targets/gaussian.js')};
    import { parameterChains } from ${dist('core/draws.js')};
    import { essBulk } from ${dist('diagnostics/index.js')};
    import { readFileSync } from 'node:fs';
    const rows = readFileSync(${JSON.stringify(GAUSS50_COV)}, 'utf8').trim().split('\\n').map((l) => l.split(',').map(Number));
    const target = gaussianFromCovariance(Float64Array.from(rows.flat()), 50, 'gauss50');
    const t0 = performance.now();
    const d = await nuts(target, { seed: ${seed}, chains: 4, draws: 1000, warmup: 1000 });
    const callSeconds = (performance.now() - t0) / 1000;
    let ess = Infinity;
    for (let p = 0; p < d.dim; p++) ess = Math.min(ess, essBulk(parameterChains(d, p)));
    console.log(JSON.stringify({ ess, seconds: d.wallTimeMs / 1000, callSeconds, gradEvals: d.gradEvals }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { timeout: 600_000 });
  const { ess, seconds, callSeconds, gradEvals } = JSON.parse(stdout.trim().split('\n').pop()!) as { ess: number; seconds: number; callSeconds: number; gradEvals: number };
  return { essBulkMin: ess, seconds, callSeconds, essPerSecond: ess / seconds, gradEvals, essPer1000Grads: (1000 * ess) / gradEvals };
}

export async function benchStanNuts(opts: { seeds?: number[]; log?: (l: string) => void } = {}) {
  const log = opts.log ?? ((l: string) => console.log(l));
  if (!(await hasRstan())) {
    log('stanNuts: skipped (no Rscript with rstan)');
    return { skipped: 'no Rscript with rstan' };
  }
  if (!existsSync(join(HERE, '..', 'dist', 'samplers', 'nuts.js'))) throw new Error('stanNuts times the built package: run `npm run build` first');
  const seeds = opts.seeds ?? [1, 2, 3];
  const dir = await mkdtemp(join(tmpdir(), 'fs-bench-stan-'));
  try {
    // Compiles (or loads the cached) Stan program before anything is timed.
    await stanSeed(seeds[0], dir);
    await oursSeed(seeds[0]);
    const stan: Side[] = [];
    const ours: Side[] = [];
    for (const seed of seeds) {
      stan.push(await stanSeed(seed, dir));
      ours.push(await oursSeed(seed));
      const [s, o] = [stan[stan.length - 1], ours[ours.length - 1]];
      log(`stanNuts seed ${seed}: Stan ESS ${s.essBulkMin.toFixed(0)} in ${s.seconds.toFixed(2)} s (${s.essPerSecond.toFixed(0)}/s); flowsampler ESS ${o.essBulkMin.toFixed(0)} in ${o.seconds.toFixed(2)} s (${o.essPerSecond.toFixed(0)}/s); ratio ${(o.essPerSecond / s.essPerSecond).toFixed(2)}`);
    }
    const ratio = median(ours.map((o) => o.essPerSecond)) / median(stan.map((s) => s.essPerSecond));
    const res = {
      seeds,
      stan,
      ours,
      /** Median ESS/s (warm-up + sampling) of flowsampler over Stan's: the bar asks >= 1. */
      essPerSecondRatio: ratio,
      essPer1000GradsRatio: median(ours.map((o) => o.essPer1000Grads)) / median(stan.map((s) => s.essPer1000Grads)),
      gradsPerSecondRatio: median(ours.map((o) => o.gradEvals / o.seconds)) / median(stan.map((s) => s.gradEvals / s.seconds)),
      /** The same ratio with our whole `nuts` call as the time. */
      essPerCallSecondRatio: median(ours.map((o) => o.essBulkMin / o.callSeconds!)) / median(stan.map((s) => s.essPerSecond)),
      met: ratio >= 1,
    };
    log(`stanNuts: ESS/s ratio ${ratio.toFixed(2)} (median over seeds; ${res.essPerCallSecondRatio.toFixed(2)} with the whole nuts call); ESS per gradient ${res.essPer1000GradsRatio.toFixed(2)}x, gradients per second ${res.gradsPerSecondRatio.toFixed(2)}x`);
    return res;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const seeds = optionValue('--seeds')?.split(',').map(Number);
  const res = await benchStanNuts(seeds ? { seeds } : {});
  const { writeResults } = await import('./run.js');
  console.log(`-> ${await writeResults('stanNuts', res)}`);
}
