import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { ParameterError } from '../src/core/errors.js';
import { RandomStream } from '../src/core/random.js';
import { funnel } from '../src/targets/funnel.js';
import type { Target } from '../src/targets/target.js';
import { checkGradient, checkTfAgrees, column, columnMoments, ksCritical001, ksStatistic, normalCdf, testPoints } from './targets.helpers.js';

beforeAll(async () => {
  await initBackend();
});

/** log Z of a 2-D funnel by a grid in (v, u) with x = e^{v/2} u (Jacobian e^{v/2}). */
function logZFunnel2d(t: Target, sigma: number, m: number): number {
  const vl = 9 * sigma;
  const ul = 9;
  const hv = (2 * vl) / m;
  const hu = (2 * ul) / m;
  const x = new Float64Array(2);
  let mx = -Infinity;
  const vals: number[] = [];
  for (let i = 0; i < m; i++) {
    const v = -vl + (i + 0.5) * hv;
    for (let j = 0; j < m; j++) {
      x[0] = v;
      x[1] = Math.exp(v / 2) * (-ul + (j + 0.5) * hu);
      const a = t.logDensity(x) + v / 2;
      vals.push(a);
      if (a > mx) mx = a;
    }
  }
  let s = 0;
  for (const a of vals) s += Math.exp(a - mx);
  return mx + Math.log(s * hv * hu);
}

describe('funnel', () => {
  it('matches the anchors funnel10 formula and log Z = log 3 + 5 log 2π', () => {
    const t = funnel();
    expect(t.dim).toBe(10);
    expect(t.logZ).toBeCloseTo(10.287998, 6);
    const x = Float64Array.from({ length: 10 }, (_, i) => 0.3 * i - 1);
    let s = 0;
    for (let i = 1; i < 10; i++) s += x[i] ** 2;
    expect(t.logDensity(x)).toBeCloseTo(-(x[0] ** 2) / 18 - Math.exp(-x[0]) * s / 2 - 4.5 * x[0], 12);
  });

  it('log Z matches quadrature in 2-D', () => {
    for (const sigma of [1, 3]) {
      const t = funnel({ dim: 2, sigma });
      expect(Math.abs(logZFunnel2d(t, sigma, 1200) - t.logZ!)).toBeLessThan(1e-6);
    }
  });

  it('analytic gradients match central differences; tfjs agrees with float64', () => {
    for (const t of [funnel(), funnel({ dim: 3, sigma: 1.5 })]) {
      for (const p of testPoints(t, 6)) checkGradient(t, p);
      checkTfAgrees(t, testPoints(t, 32, 2));
    }
  });

  it('is finite for finite input even where e^{-v} overflows', () => {
    const t = funnel({ dim: 3 });
    const g = new Float64Array(3);
    expect(Number.isFinite(t.gradLogDensity(Float64Array.from([-800, 0, 0]), g))).toBe(true);
    expect(g.every(Number.isFinite)).toBe(true);
  });

  it('exact sampler: moments within 5 MCSE, KS on v', () => {
    // σ = 1 keeps the fourth moments of x_i small enough for the variance MCSE to be honest.
    // 8 moment checks at 5 MCSE + 1 KS at 0.001: false-failure budget ~1e-3.
    const t = funnel({ dim: 4, sigma: 1 });
    const n = 40000;
    const s = t.sampleExact!(n, new RandomStream(3));
    for (let i = 0; i < 4; i++) {
      const m = columnMoments(s, 4, i);
      expect(Math.abs(m.mean - t.mean![i])).toBeLessThan(5 * m.mcseMean);
      expect(Math.abs(m.variance - t.variance![i])).toBeLessThan(5 * m.mcseVariance);
    }
    const big = funnel({ dim: 2, sigma: 3 }).sampleExact!(n, new RandomStream(4));
    expect(ksStatistic(column(big, 2, 0), (v) => normalCdf(v, 0, 3))).toBeLessThan(ksCritical001(n));
  });

  it('bad parameters give ParameterError', () => {
    expect(() => funnel({ dim: 1 })).toThrow(ParameterError);
    expect(() => funnel({ sigma: -3 })).toThrow(/sigma/);
  });
});
