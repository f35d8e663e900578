/**
 * A study's cells reduced per target and sampler: medians across seeds with a distribution-free
 * interval for the median, the ranking by ESS/s, and failure counts.
 *
 * The interval is the order-statistic confidence interval for a median (e.g. Conover,
 * "Practical Nonparametric Statistics", §3.2): [x(k), x(n+1-k)] covers the population median
 * with probability 1 - 2·P(Bin(n, 1/2) <= k-1). We take the largest k with coverage >= 95 %;
 * with 5 or fewer seeds none reaches 95 %, so the interval is the range [min, max] and its
 * actual coverage (75 % for 3 seeds) is reported beside it.
 */
import type { CellDef } from './cells.js';
import type { CellMetrics, CellResult } from './cellRun.js';

export interface Interval {
  median: number;
  lo: number;
  hi: number;
  /** Probability that [lo, hi] covers the median of the seed-to-seed distribution. */
  coverage: number;
  n: number;
}

export interface SamplerSummary {
  sampler: string;
  /** Cells of this target × sampler: done of total. */
  done: number;
  total: number;
  essPerSecond: Interval | null;
  essPer1000Grads: Interval | null;
  essPer1000Evals: Interval | null;
  kl: Interval | null;
  biasMax: Interval | null;
  /** Cells with R-hat > 1.01, k-hat > 0.7, any divergence, a sampler error. */
  failures: { rhat: number; khat: number; divergent: number; divergences: number; errors: number };
  /** 1 = best median ESS/s among the samplers of the target. */
  rank: number | null;
}

export interface TargetSummary {
  target: string;
  samplers: SamplerSummary[];
}

function binomCdfHalf(n: number, k: number): number {
  // P(Bin(n, 1/2) <= k), summed in log space-free form (n is a seed count, small).
  let c = 1;
  let s = 0;
  for (let i = 0; i <= k; i++) {
    s += c;
    c = (c * (n - i)) / (i + 1);
  }
  return s / 2 ** n;
}

/** The median of `values` with its order-statistic interval (null for no finite value). */
export function medianInterval(values: (number | null)[], level = 0.95): Interval | null {
  const x = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  const n = x.length;
  if (n === 0) return null;
  const median = n % 2 ? x[(n - 1) / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
  let k = 1;
  while (k + 1 <= Math.floor(n / 2) && 1 - 2 * binomCdfHalf(n, k) >= level) k++;
  const coverage = n === 1 ? 0 : 1 - 2 * binomCdfHalf(n, k - 1);
  return { median, lo: x[k - 1], hi: x[n - k], coverage, n };
}

const metric = (rs: CellResult[], key: keyof CellMetrics) => medianInterval(rs.map((r) => (r.error ? null : (r.metrics[key] as number | null))));

export function summarizeStudy(cells: CellDef[], results: Map<string, CellResult>): TargetSummary[] {
  const targets = [...new Set(cells.map((c) => c.target.label))];
  return targets.map((t) => {
    const mine = cells.filter((c) => c.target.label === t);
    const samplers = [...new Set(mine.map((c) => c.sampler.label))].map((s): SamplerSummary => {
      const cs = mine.filter((c) => c.sampler.label === s);
      const rs = cs.map((c) => results.get(c.id)).filter((r): r is CellResult => r !== undefined);
      const ok = rs.filter((r) => !r.error);
      return {
        sampler: s,
        done: rs.length,
        total: cs.length,
        essPerSecond: metric(rs, 'essPerSecond'),
        essPer1000Grads: metric(rs, 'essPer1000Grads'),
        essPer1000Evals: metric(rs, 'essPer1000Evals'),
        kl: metric(rs, 'kl'),
        biasMax: metric(rs, 'biasMax'),
        failures: {
          rhat: ok.filter((r) => r.metrics.rhat !== null && r.metrics.rhat > 1.01).length,
          khat: ok.filter((r) => r.metrics.khat !== null && r.metrics.khat > 0.7).length,
          divergent: ok.filter((r) => (r.metrics.divergences ?? 0) > 0).length,
          divergences: ok.reduce((a, r) => a + (r.metrics.divergences ?? 0), 0),
          errors: rs.length - ok.length,
        },
        rank: null,
      };
    });
    const ranked = samplers.filter((s) => s.essPerSecond).sort((a, b) => b.essPerSecond!.median - a.essPerSecond!.median);
    ranked.forEach((s, i) => (s.rank = i + 1));
    samplers.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity));
    return { target: t, samplers };
  });
}
