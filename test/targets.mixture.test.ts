import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { ParameterError } from '../src/core/errors.js';
import { RandomStream } from '../src/core/random.js';
import { gaussianMixture, midgley40, ring, MIDGLEY40_SD } from '../src/targets/mixture.js';
import { checkGradient, checkTfAgrees, columnMoments, logZGrid2d, testPoints } from './targets.helpers.js';

beforeAll(async () => {
  await initBackend();
});

const fullMix = () =>
  gaussianMixture({
    weights: [1, 2, 3],
    means: [[0, 0], [3, 1], [-2, 2]],
    covs: [[1, 0.3, 0.3, 0.5], [[0.4, -0.1], [-0.1, 0.9]], [2, 0, 0, 0.2]],
  });

describe('mixtures', () => {
  it('ring matches the anchors gmm2d: formula and log Z = log(1.44π) = 1.509373', () => {
    const t = ring();
    expect(t.logZ).toBeCloseTo(1.509373, 6);
    const x = Float64Array.from([2.5, 1.7]);
    const terms = Array.from({ length: 8 }, (_, k) => {
      const mx = 4 * Math.cos((2 * Math.PI * k) / 8);
      const my = 4 * Math.sin((2 * Math.PI * k) / 8);
      return -((x[0] - mx) ** 2 + (x[1] - my) ** 2) / (2 * 0.09);
    });
    const m = Math.max(...terms);
    expect(t.logDensity(x)).toBeCloseTo(m + Math.log(terms.reduce((s, v) => s + Math.exp(v - m), 0)), 12);
  });

  it('log Z matches grid quadrature: ring, a full-covariance mixture, midgley40 on a large box', () => {
    const r = ring();
    expect(Math.abs(logZGrid2d(r, [[-6, 6], [-6, 6]], 600) - r.logZ!)).toBeLessThan(1e-8);
    const f = fullMix();
    expect(Math.abs(logZGrid2d(f, [[-12, 12], [-10, 12]], 600) - f.logZ!)).toBeLessThan(1e-8);
    const g = midgley40();
    expect(g.logZ).toBe(0);
    expect(Math.abs(logZGrid2d(g, [[-60, 60], [-60, 60]], 700) - 0)).toBeLessThan(1e-8);
  });

  it('midgley40: 40 modes with sd softplus(1), all inside [-40, 40]²', () => {
    const g = midgley40();
    expect(MIDGLEY40_SD).toBeCloseTo(1.3132616875182228, 15);
    expect(g.params).toEqual({});
    // First mean from torch.manual_seed(0): (-0.29947, 21.45774): density there is one component's peak.
    const peak = Math.log(1 / 40) - Math.log(2 * Math.PI) - 2 * Math.log(MIDGLEY40_SD);
    expect(g.logDensity(Float64Array.from([-0.2994728088378906, 21.457744598388672]))).toBeCloseTo(peak, 6);
  });

  it('analytic gradients match central differences; stay finite far from every mode', () => {
    for (const t of [ring(), fullMix(), midgley40(), gaussianMixture({ means: [[0, 0, 0], [1, 2, 3]], sds: [[1, 2, 0.5], [0.3, 0.3, 1]] })]) {
      for (const p of testPoints(t, 8)) checkGradient(t, p);
    }
    const g = new Float64Array(2);
    const lp = ring().gradLogDensity(Float64Array.from([300, -200]), g);
    expect(Number.isFinite(lp) && g.every(Number.isFinite)).toBe(true);
  });

  it('tfjs logProb and gradient agree with float64', () => {
    for (const t of [ring(), fullMix(), midgley40()]) checkTfAgrees(t, testPoints(t, 32, 3));
  });

  it('exact sampler: moments within 5 MCSE (general mixture and ring)', () => {
    // 12 checks at 5 MCSE: false-failure budget < 1e-5 under normality of the estimates.
    for (const t of [fullMix(), ring(), midgley40()]) {
      const n = 40000;
      const s = t.sampleExact!(n, new RandomStream(`mix/${t.name}`));
      for (let i = 0; i < 2; i++) {
        const m = columnMoments(s, 2, i);
        expect(Math.abs(m.mean - t.mean![i])).toBeLessThan(5 * m.mcseMean);
        expect(Math.abs(m.variance - t.variance![i])).toBeLessThan(5 * m.mcseVariance);
      }
    }
    // Mode occupancy of the ring: each of 8 modes gets 1/8; chi-square with 7 df below 24.3 (p = 0.001).
    const n = 16000;
    const s = ring().sampleExact!(n, new RandomStream('occ'));
    const counts = new Array(8).fill(0);
    for (let r = 0; r < n; r++) {
      const ang = Math.atan2(s[2 * r + 1], s[2 * r]);
      counts[((Math.round((ang / (2 * Math.PI)) * 8) % 8) + 8) % 8]++;
    }
    const chi2 = counts.reduce((acc, c) => acc + (c - n / 8) ** 2 / (n / 8), 0);
    expect(chi2).toBeLessThan(24.3);
  });

  it('bad parameters give ParameterError naming the parameter', () => {
    expect(() => ring({ sd: 0 })).toThrow(/sd/);
    expect(() => ring({ modes: 2.5 })).toThrow(/modes/);
    expect(() => gaussianMixture({ means: [] })).toThrow(ParameterError);
    expect(() => gaussianMixture({ means: [[0, 0], [1]] })).toThrow(/means\[1\]/);
    expect(() => gaussianMixture({ means: [[0], [1]], weights: [1, -1] })).toThrow(/weights\[1\]/);
    expect(() => gaussianMixture({ means: [[0], [1]], sds: [1] })).toThrow(/sds/);
    expect(() => gaussianMixture({ means: [[0, 0]], covs: [[1, 2, 2, 1]] })).toThrow(/covs\[0\] is not positive definite/);
  });
});
