/**
 * Diagnostics benchmark: `summarise` on 4 chains x 100 000 draws x 100 parameters (time and
 * memory), a scaling check over N = 25k..200k draws per chain (time / (N log2 N) should stay
 * flat), and knnKL on 4000 vs 4000 points in 2, 10 and 50 dimensions.
 * Run alone: `npx tsx bench/diagnostics.ts` (prints JSON). Options by environment:
 * BENCH_DIAG_DRAWS (default 100000), BENCH_DIAG_PARAMS (default 100).
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { makeDraws, type Draws } from '../src/core/draws.js';
import { RandomStream } from '../src/core/random.js';
import { knnKL, summarise } from '../src/diagnostics/index.js';
import { machineInfo } from '../src/cli/runInfo.js';

/** AR(1) chains (rho = 0.5) so the autocorrelation code has real work to do. */
function ar1Draws(chains: number, n: number, dim: number, seed: string): Draws {
  const rng = new RandomStream(seed);
  const values = new Float64Array(chains * n * dim);
  const eps = new Float64Array(dim);
  const rho = 0.5;
  const s = Math.sqrt(1 - rho * rho);
  for (let c = 0; c < chains; c++) {
    const prev = rng.fillNormal(new Float64Array(dim));
    for (let i = 0; i < n; i++) {
      rng.fillNormal(eps);
      const off = (c * n + i) * dim;
      for (let d = 0; d < dim; d++) {
        prev[d] = rho * prev[d] + s * eps[d];
        values[off + d] = prev[d];
      }
    }
  }
  return makeDraws({ sampler: 'ar1', chains, draws: n, dim, values, wallTimeMs: 0, densityEvals: 0, gradEvals: 0, acceptance: 1 });
}

const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;

export async function benchDiagnostics(): Promise<Record<string, unknown>> {
  const nMain = Number(process.env.BENCH_DIAG_DRAWS ?? 100000);
  const pMain = Number(process.env.BENCH_DIAG_PARAMS ?? 100);
  const chains = 4;

  // Warm up the JIT on a small problem.
  summarise(ar1Draws(chains, 2000, 3, 'warm'));

  const draws = ar1Draws(chains, nMain, pMain, 'main');
  global.gc?.();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const rows = summarise(draws);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const after = process.memoryUsage();
  const main = {
    chains,
    drawsPerChain: nMain,
    parameters: pMain,
    seconds: Math.round(seconds * 100) / 100,
    // CPU time is the better figure on a shared machine: wall time grows with the load average.
    cpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100,
    msPerParameter: Math.round((seconds * 1000) / pMain),
    drawsArrayMB: mb(draws.values.byteLength),
    rssBeforeMB: mb(before.rss),
    rssAfterMB: mb(after.rss),
    peakRssMB: mb(process.resourceUsage().maxRSS * 1024),
    heapUsedAfterMB: mb(after.heapUsed),
    medianEssBulk: Math.round(rows.map((r) => r.ess_bulk).sort((a, b) => a - b)[rows.length >> 1]),
  };

  const scaling: { drawsPerChain: number; msPerParameter: number; cpuMsPerParameter: number; cpuMsPerParamPerNlogN_x1e6: number }[] = [];
  const pScale = 10;
  for (const n of [25000, 50000, 100000, 200000]) {
    const d = ar1Draws(chains, n, pScale, `scale-${n}`);
    const t = performance.now();
    const c0 = process.cpuUsage();
    summarise(d);
    const c = process.cpuUsage(c0);
    const ms = (performance.now() - t) / pScale;
    const cpuMs = (c.user + c.system) / 1000 / pScale;
    const total = chains * n;
    scaling.push({
      drawsPerChain: n,
      msPerParameter: Math.round(ms * 10) / 10,
      cpuMsPerParameter: Math.round(cpuMs * 10) / 10,
      // flat when the cost grows as N log N
      cpuMsPerParamPerNlogN_x1e6: Math.round((cpuMs / (total * Math.log2(total))) * 1e6 * 1000) / 1000,
    });
  }

  const knn: { dim: number; n: number; m: number; ms: number }[] = [];
  for (const dim of [2, 10, 50]) {
    const rng = new RandomStream(`knn-${dim}`);
    const p = rng.fillNormal(new Float64Array(4000 * dim));
    const q = rng.fillNormal(new Float64Array(4000 * dim)).map((v) => 1.2 * v + 0.3);
    const t = performance.now();
    knnKL(p, q, dim);
    knn.push({ dim, n: 4000, m: 4000, ms: Math.round(performance.now() - t) });
  }

  return {
    machine: machineInfo(),
    node: process.version,
    loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
    summarise: main,
    scaling,
    knnKL: knn,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchDiagnostics().then((r) => console.log(JSON.stringify(r, null, 2)));
}
