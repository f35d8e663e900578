import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { DimensionError, ParameterError } from '../src/core/errors.js';
import { RandomStream } from '../src/core/random.js';
import { banana } from '../src/targets/banana.js';
import { checkGradient, checkTfAgrees, column, columnMoments, ksCritical001, ksStatistic, logZGrid2d, normalCdf, testPoints } from './targets.helpers.js';

beforeAll(async () => {
  await initBackend();
});

describe('banana', () => {
  it('matches the anchors banana2d formula and log Z = log(20π)', () => {
    const t = banana();
    const x = Float64Array.from([3.2, -1.7]);
    expect(t.logDensity(x)).toBeCloseTo(-(3.2 ** 2) / 200 - (-1.7 + 0.1 * 3.2 ** 2 - 10) ** 2 / 2, 12);
    expect(t.logZ).toBeCloseTo(4.140462, 6);
  });

  it('log Z matches grid quadrature (2-D, default and other parameters)', () => {
    // Boxes reach 6.5 sd in x1 and follow the curved tail x2 ≈ bσ1² - b x1² down to there.
    const cases: [ReturnType<typeof banana>, [[number, number], [number, number]]][] = [
      [banana(), [[-65, 65], [-440, 20]]],
      [banana({ b: 0.3, sigma1: 2 }), [[-13, 13], [-60, 10]]],
    ];
    for (const [t, box] of cases) {
      const q = logZGrid2d(t, box, 2000);
      expect(Math.abs(q - t.logZ!)).toBeLessThan(1e-5);
    }
  });

  it('analytic gradients match central differences; tfjs agrees with float64', () => {
    for (const t of [banana(), banana({ dim: 5, b: 0.05, sigma1: 3 })]) {
      for (const p of testPoints(t, 6)) checkGradient(t, p);
      checkTfAgrees(t, testPoints(t, 32, 2));
    }
  });

  it('exact sampler: moments within 5 MCSE and KS on x1', () => {
    // 2·3 moment checks at 5 MCSE (each < 1e-5 even for the heavy-tailed x2) + KS at 0.001.
    const t = banana({ dim: 3 });
    const n = 40000;
    const s = t.sampleExact!(n, new RandomStream(5));
    for (let i = 0; i < 3; i++) {
      const m = columnMoments(s, 3, i);
      expect(Math.abs(m.mean - t.mean![i])).toBeLessThan(5 * m.mcseMean);
      expect(Math.abs(m.variance - t.variance![i])).toBeLessThan(5 * m.mcseVariance);
    }
    expect(t.variance![1]).toBeCloseTo(201, 10);
    expect(ksStatistic(column(s, 3, 0), (x) => normalCdf(x, 0, 10))).toBeLessThan(ksCritical001(n));
  });

  it('bad parameters and shapes give clear errors', () => {
    expect(() => banana({ dim: 1 })).toThrow(ParameterError);
    expect(() => banana({ sigma1: 0 })).toThrow(/sigma1/);
    expect(() => banana({ b: Number.NaN })).toThrow(/b = NaN/);
    expect(() => banana().logDensity(new Float64Array(3))).toThrow(DimensionError);
    const x = tf.zeros([4, 3]) as tf.Tensor2D;
    expect(() => banana().logProb!(x)).toThrow(/\[n, 2\]/);
    x.dispose();
  });
});
