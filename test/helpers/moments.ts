/**
 * Moment checks for MCMC tests with tolerances from the Monte Carlo standard error:
 *   |mean - truth| < k · sd / sqrt(ESS_mean)
 *   |var - truth|  < k · sd((x - m)²) / sqrt(ESS of (x - m)²)
 * with ESS from src/diagnostics/ess.ts (Vehtari et al. 2021). With k = 5 and a normal
 * sampling error, one check fails by chance with probability ~6e-7; the ESS estimate itself
 * is noisy (±20% at ESS ~ 400), which at worst moves that to ~1e-4 per check. With ~60 checks
 * in the sampler suites the false-failure budget is below 1%, and the seeds are fixed, so a
 * pass or fail is reproducible rather than flaky.
 */
import { parameterChains, type Draws } from '../../src/core/draws.js';
import { essMean } from '../../src/diagnostics/ess.js';

export interface MomentCheck {
  param: number;
  mean: number;
  meanTruth: number;
  meanTol: number;
  variance: number;
  varianceTruth: number;
  varianceTol: number;
  essMean: number;
  essVar: number;
  ok: boolean;
}

export function checkMoments(d: Draws, mean: ArrayLike<number>, variance: ArrayLike<number>, k = 5): MomentCheck[] {
  const out: MomentCheck[] = [];
  for (let p = 0; p < d.dim; p++) {
    const chains = parameterChains(d, p);
    let n = 0;
    let s = 0;
    for (const c of chains) for (const v of c) { s += v; n++; }
    const m = s / n;
    let s2 = 0;
    for (const c of chains) for (const v of c) s2 += (v - m) ** 2;
    const v = s2 / (n - 1);
    const essM = essMean(chains);
    const sq = chains.map((c) => c.map((x) => (x - m) ** 2));
    let s4 = 0;
    for (const c of sq) for (const x of c) s4 += (x - v) ** 2;
    const sdSq = Math.sqrt(s4 / (n - 1));
    const essV = essMean(sq);
    const meanTol = (k * Math.sqrt(v)) / Math.sqrt(essM);
    const varianceTol = (k * sdSq) / Math.sqrt(essV);
    const ok = Math.abs(m - mean[p]) < meanTol && Math.abs(v - variance[p]) < varianceTol;
    out.push({ param: p, mean: m, meanTruth: mean[p], meanTol, variance: v, varianceTruth: variance[p], varianceTol, essMean: essM, essVar: essV, ok });
  }
  return out;
}

/** A readable line per parameter for failure messages. */
export function describe(checks: MomentCheck[]): string {
  return checks
    .map(
      (c) =>
        `x${c.param + 1}: mean ${c.mean.toFixed(3)} vs ${c.meanTruth} (tol ${c.meanTol.toFixed(3)}, ESS ${c.essMean.toFixed(0)}); ` +
        `var ${c.variance.toFixed(3)} vs ${c.varianceTruth} (tol ${c.varianceTol.toFixed(3)}, ESS ${c.essVar.toFixed(0)})`,
    )
    .join('\n');
}
