import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { ParameterError, DimensionError } from '../src/core/errors.js';
import { RandomStream } from '../src/core/random.js';
import { gaussian, gaussianFromCovariance, illConditionedGaussian, randomRotation } from '../src/targets/gaussian.js';
import { checkGradient, checkTfAgrees, columnMoments, column, ksStatistic, ksCritical001, normalCdf, testPoints, logZGrid2d } from './targets.helpers.js';
import { readCsvMatrix, referencePath } from './helpers/fixtures.js';

beforeAll(async () => {
  await initBackend();
});

const full = () =>
  gaussian({ dim: 3, mean: [1, -2, 0.5], cov: [[2, 0.5, 0.1], [0.5, 1, -0.3], [0.1, -0.3, 0.7]] });

describe('gaussian', () => {
  it('analytic gradients match central differences (isotropic, diagonal, full, ill-conditioned)', () => {
    const ts = [gaussian({ dim: 4, scale: 2 }), gaussian({ dim: 2, scale: [0.5, 3], mean: [1, 1] }), full(), illConditionedGaussian({ dim: 10, condition: 100, seed: 3 })];
    for (const t of ts) for (const p of testPoints(t, 5)) checkGradient(t, p);
  });

  it('tfjs logProb and its gradient agree with the float64 path', () => {
    const ts = [gaussian({ dim: 4, scale: 2 }), gaussian({ dim: 2, scale: [0.5, 3], mean: [1, 1] }), full(), illConditionedGaussian({ dim: 10, condition: 100, seed: 3 })];
    for (const t of ts) checkTfAgrees(t, testPoints(t, 16));
  });

  it('log Z of a correlated 2-D Gaussian matches grid quadrature', () => {
    const t = gaussian({ dim: 2, mean: [1, -1], cov: [1.5, 0.6, 0.6, 0.8] });
    const q = logZGrid2d(t, [[-9, 11], [-11, 9]], 400);
    expect(Math.abs(q - t.logZ!)).toBeLessThan(1e-8);
  });

  it('illConditionedGaussian: eigenvalues give the condition number, log det Σ = 0, rotation is orthogonal and seeded', () => {
    const t = illConditionedGaussian({ dim: 20, condition: 100, seed: 1 });
    expect(t.logZ).toBeCloseTo(10 * Math.log(2 * Math.PI), 10);
    const q = randomRotation(6, new RandomStream('r'));
    for (let i = 0; i < 6; i++)
      for (let j = 0; j < 6; j++) {
        let s = 0;
        for (let k = 0; k < 6; k++) s += q[k * 6 + i] * q[k * 6 + j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    const a = illConditionedGaussian({ dim: 5, seed: 7 });
    const b = illConditionedGaussian({ dim: 5, seed: 7 });
    const c = illConditionedGaussian({ dim: 5, seed: 8 });
    const x = Float64Array.from([0.3, -1, 2, 0.1, 0.5]);
    expect(a.logDensity(x)).toBe(b.logDensity(x));
    expect(a.logDensity(x)).not.toBe(c.logDensity(x));
    // trace Σ = Σ λ_i, with λ_i = 100^((i-1)/(D-1) - 1/2).
    let tr = 0;
    for (let i = 0; i < 20; i++) tr += Math.pow(100, i / 19 - 0.5);
    expect(t.variance!.reduce((s, v) => s + v, 0)).toBeCloseTo(tr, 9);
  });

  it('the anchors gauss50 covariance CSV gives log Z = 45.946927', () => {
    const cov = readCsvMatrix(referencePath('gauss50', 'gauss50_cov.csv'));
    const t = gaussianFromCovariance(cov, 50, 'gauss50');
    expect(Math.abs(t.logZ! - 45.946927)).toBeLessThan(2e-6);
    checkTfAgrees(t, testPoints(t, 16, 4));
    for (const p of testPoints(t, 3, 5)) checkGradient(t, p);
  });

  it('exact sampler: means and variances within 5 MCSE, KS on a marginal', () => {
    // 6 moment checks at 5 MCSE (~6e-7 each) + KS at 0.001: false-failure budget ~1e-3.
    const t = full();
    const n = 20000;
    const s = t.sampleExact!(n, new RandomStream(11));
    for (let i = 0; i < 3; i++) {
      const m = columnMoments(s, 3, i);
      expect(Math.abs(m.mean - t.mean![i])).toBeLessThan(5 * m.mcseMean);
      expect(Math.abs(m.variance - t.variance![i])).toBeLessThan(5 * m.mcseVariance);
    }
    const d = ksStatistic(column(s, 3, 1), (x) => normalCdf(x, -2, 1));
    expect(d).toBeLessThan(ksCritical001(n));
  });

  it('bad parameters and inputs give clear errors', () => {
    expect(() => gaussian({ dim: 0 })).toThrow(ParameterError);
    expect(() => gaussian({ dim: 2.5 })).toThrow(/dim/);
    expect(() => gaussian({ dim: 2, scale: -1 })).toThrow(/scale/);
    expect(() => gaussian({ dim: 2, mean: [1] })).toThrow(/mean/);
    expect(() => gaussian({ dim: 2, cov: [1, 2, 2, 1] })).toThrow(/positive definite/);
    expect(() => gaussian({ dim: 2, cov: [1, 0, 0.5, 1] })).toThrow(/symmetric/);
    expect(() => gaussian({ dim: 2, cov: [1, 0, 0, 1], scale: 1 })).toThrow(ParameterError);
    expect(() => illConditionedGaussian({ dim: 5, condition: 0.5 })).toThrow(/condition/);
    expect(() => gaussian({ dim: 2 }).logDensity(new Float64Array(3))).toThrow(DimensionError);
  });
});
