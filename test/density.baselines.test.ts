/**
 * The classical baselines of density estimation (src/density/gaussianMixture.ts) and the ROC AUC
 * (src/diagnostics/auc.ts): EM recovers a known mixture, densities integrate to 1 on the data's
 * own scale, BIC picks the true number of components, the AUC is the pair-counting probability.
 */
import { describe, expect, it } from 'vitest';
import { fitGaussian, fitGaussianMixture, selectGaussianMixture } from '../src/density/gaussianMixture.js';
import { rocAuc } from '../src/diagnostics/auc.js';
import { gaussian } from '../src/targets/gaussian.js';
import { gaussianMixture } from '../src/targets/mixture.js';
import { RandomStream } from '../src/core/random.js';

function gridMass(logDensity: (x: Float64Array) => Float64Array, lo: number[], hi: number[], G = 300): number {
  const h = [(hi[0] - lo[0]) / G, (hi[1] - lo[1]) / G];
  const grid = new Float64Array(G * G * 2);
  for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) grid.set([lo[0] + (i + 0.5) * h[0], lo[1] + (j + 0.5) * h[1]], (i * G + j) * 2);
  let m = 0;
  for (const v of logDensity(grid)) m += Math.exp(v) * h[0] * h[1];
  return m;
}

describe('Gaussian baselines', () => {
  it('fitGaussian is the exact Gaussian density of the sample moments, on the data scale', () => {
    const t = gaussian({ dim: 2, mean: [1000, -3], cov: [2500, 3, 3, 0.01] });
    const n = 5000;
    const x = t.sampleExact!(n, new RandomStream(1));
    const g = fitGaussian(x, 2);
    // Against the closed form with the sample mean and covariance (denominator n).
    const m = [0, 0];
    for (let r = 0; r < n; r++) for (let j = 0; j < 2; j++) m[j] += x[r * 2 + j] / n;
    const c = [0, 0, 0];
    for (let r = 0; r < n; r++) {
      const a = x[r * 2] - m[0];
      const b = x[r * 2 + 1] - m[1];
      c[0] += (a * a) / n;
      c[1] += (a * b) / n;
      c[2] += (b * b) / n;
    }
    const ref = gaussian({ dim: 2, mean: m, cov: [c[0], c[1], c[1], c[2]] });
    const probe = x.subarray(0, 20);
    const lq = g.logDensity(probe);
    for (let r = 0; r < 10; r++) expect(lq[r]).toBeCloseTo(ref.logDensity(probe.subarray(r * 2, r * 2 + 2)) - ref.logZ!, 6);
  });

  it('EM recovers a 3-component mixture and BIC picks 3; the density integrates to 1', () => {
    const t = gaussianMixture({ means: [[-4, 0], [3, 3], [3, -3]], sds: [[1, 0.5], [0.5, 1], [0.7, 0.7]], weights: [0.5, 0.3, 0.2] });
    const n = 4000;
    const x = t.sampleExact!(n, new RandomStream(2));
    const { best, bic } = selectGaussianMixture(x, 2, { seed: 3, maxComponents: 5 });
    expect(bic.length).toBe(5);
    expect(best.components).toBe(3);
    expect(best.converged).toBe(true);
    // Weights within 5 binomial SEs of the truth (matched by the mean's x coordinate).
    const order = [0, 1, 2].sort((a, b) => best.means[a * 2] - best.means[b * 2] || best.means[a * 2 + 1] - best.means[b * 2 + 1]);
    const truth = [0.5, 0.2, 0.3]; // sorted: (-4, 0), (3, -3), (3, 3)
    order.forEach((k, i) => expect(Math.abs(best.weights[k] - truth[i])).toBeLessThan(5 * Math.sqrt((truth[i] * (1 - truth[i])) / n)));
    const mass = gridMass((g) => best.logDensity(g), [-10, -8], [8, 8]);
    expect(Math.abs(mass - 1)).toBeLessThan(2e-3);
    // Held-out: the mixture beats one Gaussian by a wide margin.
    const test = t.sampleExact!(4000, new RandomStream(4));
    const nll = (m: { logDensity: (y: Float64Array) => Float64Array }) => -m.logDensity(test).reduce((a, b) => a + b, 0) / 4000;
    expect(nll(best)).toBeLessThan(nll(fitGaussian(x, 2)) - 0.3);
  });

  it('a component cannot collapse onto duplicated points (regularised covariance)', () => {
    const x = new Float64Array(200);
    const rng = new RandomStream(5);
    for (let i = 0; i < 200; i++) x[i] = i < 100 ? 1 : rng.normal(); // half the rows at one point (dim 2: 50 rows)
    const m = fitGaussianMixture(x, 2, { components: 3, seed: 6 });
    for (const v of m.logDensity(x)) expect(Number.isFinite(v)).toBe(true);
  });
});

describe('rocAuc', () => {
  it('equals the share of (positive, negative) pairs ordered correctly, ties half', () => {
    const rng = new RandomStream(7);
    const pos = Float64Array.from({ length: 57 }, () => Math.round(10 * rng.normal() + 5) / 2);
    const neg = Float64Array.from({ length: 43 }, () => Math.round(10 * rng.normal()) / 2);
    let s = 0;
    for (const p of pos) for (const q of neg) s += p > q ? 1 : p === q ? 0.5 : 0;
    expect(rocAuc(pos, neg)).toBeCloseTo(s / (57 * 43), 12);
    expect(rocAuc([Infinity, 3], [1, 2])).toBe(1);
    expect(() => rocAuc([], [1])).toThrow(/positives and negatives/);
  });
});
