/**
 * Exact samplers: Box–Muller normals, multivariate normals and rejection sampling pass
 * Kolmogorov–Smirnov tests against the exact law (p > 1e-4 each; 8 KS tests: false-failure
 * budget < 1e-3), rejection detects envelope violations, and bad input gives the right error.
 */
import { describe, expect, it } from 'vitest';
import { DimensionError, ParameterError } from '../src/core/errors.js';
import { RandomStream } from '../src/core/random.js';
import { gaussian } from '../src/targets/gaussian.js';
import { boxMullerNormals, exactNormal, multivariateNormal } from '../src/samplers/boxMuller.js';
import { exact } from '../src/samplers/exact.js';
import { banana } from '../src/targets/banana.js';
import { EnvelopeViolationError, rejection, type Proposal } from '../src/samplers/rejection.js';
import { ksOneSample, normalCdf } from './helpers/ks.js';

describe('Box–Muller', () => {
  it('N(0,1) by KS, and the same seed gives the same numbers', () => {
    const z = boxMullerNormals(20000, 11);
    expect(ksOneSample(z, normalCdf).pValue).toBeGreaterThan(1e-4);
    expect(Array.from(boxMullerNormals(101, 'a'))).toEqual(Array.from(boxMullerNormals(101, 'a')));
    expect(Array.from(boxMullerNormals(10, 'a'))).not.toEqual(Array.from(boxMullerNormals(10, 'b')));
  });
  it('KS has power: it rejects normals scaled by 1.05', () => {
    const z = boxMullerNormals(20000, 11).map((v) => 1.05 * v);
    expect(ksOneSample(z, normalCdf).pValue).toBeLessThan(1e-4);
  });
  it('rejects a negative or fractional count', () => {
    expect(() => boxMullerNormals(-1, 1)).toThrow(ParameterError);
    expect(() => boxMullerNormals(1.5, 1)).toThrow(ParameterError);
  });
});

describe('multivariate normal', () => {
  const mean = [1, -2, 0.5];
  const cov = [4, 1.8, 0, 1.8, 1, 0.3, 0, 0.3, 2];
  it('marginals and a projection pass KS; the sample covariance is close', () => {
    const n = 20000;
    const x = multivariateNormal(mean, cov, n, 5);
    for (let k = 0; k < 3; k++) {
      const col = Array.from({ length: n }, (_, i) => x[3 * i + k]);
      const sd = Math.sqrt(cov[4 * k]);
      expect(ksOneSample(col, (v) => normalCdf((v - mean[k]) / sd)).pValue).toBeGreaterThan(1e-4);
    }
    // a·x with a = (1, -1, 1): mean 1+2+0.5, variance aᵀΣa
    const a = [1, -1, 1];
    let va = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) va += a[i] * a[j] * cov[3 * i + j];
    const proj = Array.from({ length: n }, (_, i) => x[3 * i] - x[3 * i + 1] + x[3 * i + 2]);
    expect(ksOneSample(proj, (v) => normalCdf((v - 3.5) / Math.sqrt(va))).pValue).toBeGreaterThan(1e-4);
  });
  it('bad covariance or mean → clear errors', () => {
    expect(() => multivariateNormal([0, 0], [1, 2, 2, 1], 5, 1)).toThrow(/not positive definite/);
    expect(() => multivariateNormal([0, 0], [1, 0, 0], 5, 1)).toThrow(DimensionError);
    expect(() => multivariateNormal([0, 0], [1, 0.5, 0.4, 1], 5, 1)).toThrow(/not symmetric/);
    expect(() => multivariateNormal([0, NaN], [1, 0, 0, 1], 5, 1)).toThrow(ParameterError);
  });
  it('exactNormal returns Draws with independent chains', async () => {
    const d = await exactNormal({ seed: 1, chains: 3, draws: 100, mean: [0, 1], cov: [1, 0, 0, 1] });
    expect(d.values.length).toBe(600);
    expect(d.acceptance).toBe(1);
    expect(Array.from(d.values.subarray(0, 200))).not.toEqual(Array.from(d.values.subarray(200, 400)));
  });
});

describe('rejection sampling', () => {
  // Unnormalised N(0,1), p̃ = exp(-x²/2), under a Laplace(1) proposal q = ½ e^{-|x|}:
  // p̃/q = 2 exp(|x| - x²/2) <= 2 e^{1/2}, tight at |x| = 1. Acceptance = Z/M = √(2π)/(2√e).
  const target = gaussian({ dim: 1 });
  const laplace: Proposal = {
    dim: 1,
    logDensity: (x) => Math.log(0.5) - Math.abs(x[0]),
    sample: (rng: RandomStream) => Float64Array.of((rng.uniform() < 0.5 ? -1 : 1) * rng.exponential()),
  };
  const logM = Math.log(2) + 0.5;

  it('draws N(0,1) exactly (KS) with the predicted acceptance', async () => {
    const d = await rejection(target, { seed: 3, chains: 2, draws: 10000, proposal: laplace, logM });
    expect(ksOneSample(d.values, normalCdf).pValue).toBeGreaterThan(1e-4);
    const p = Math.sqrt(2 * Math.PI) / (2 * Math.exp(0.5));
    const n = d.info!.proposals as number;
    expect(Math.abs(d.acceptance - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    expect(d.info!.envelopeViolations).toBe(0);
    expect(d.info!.maxLogRatioExcess).toBeLessThanOrEqual(0);
    expect(d.info!.maxLogRatioExcess).toBeGreaterThan(-1e-3); // the bound is tight
  });

  it('an envelope that is too low throws by default', async () => {
    await expect(rejection(target, { seed: 3, draws: 1000, proposal: laplace, logM: Math.log(2) + 0.3 })).rejects.toThrow(EnvelopeViolationError);
  });

  it("with onViolation 'warn' the violations are counted, reported and warned about", async () => {
    const warnings: string[] = [];
    const d = await rejection(target, {
      seed: 3,
      chains: 1,
      draws: 2000,
      proposal: laplace,
      logM: Math.log(2) + 0.3,
      onViolation: 'warn',
      onWarning: (m) => warnings.push(m),
    });
    expect(d.info!.envelopeViolations).toBeGreaterThan(0);
    expect(d.info!.maxLogRatioExcess).toBeGreaterThan(0.1);
    expect(d.info!.maxLogRatioExcess).toBeLessThanOrEqual(0.2 + 1e-12); // true excess is 0.5 - 0.3
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/violated at \d+ of \d+ proposals/);
  });

  it('NaN target values are rejected and counted', async () => {
    const holey = { ...target, logDensity: (x: Float64Array) => (x[0] > 1 ? NaN : target.logDensity(x)) };
    const d = await rejection(holey, { seed: 4, draws: 500, proposal: laplace, logM });
    expect(d.nonFinite).toBeGreaterThan(0);
    expect(d.values.every((v) => v <= 1)).toBe(true);
  });

  it('bad input → the right error', async () => {
    await expect(rejection(gaussian({ dim: 2 }), { seed: 1, proposal: laplace, logM })).rejects.toThrow(DimensionError);
    await expect(rejection(target, { seed: 1, proposal: laplace, logM: NaN })).rejects.toThrow(ParameterError);
    await expect(rejection(target, { seed: 1, chains: 0, proposal: laplace, logM })).rejects.toThrow(ParameterError);
    await expect(rejection(target, { seed: 1, proposal: {} as Proposal, logM })).rejects.toThrow(ParameterError);
    await expect(rejection(target, { seed: 1, draws: 10, proposal: laplace, logM: 40, maxProposals: 1000 })).rejects.toThrow(/far too large/);
  });
});

describe('exact (target.sampleExact as Draws)', () => {
  it('gives the target law, chain by chain from derived streams', async () => {
    const t = banana({ b: 0.1, sigma1: 3 });
    const d = await exact(t, { seed: 8, chains: 2, draws: 5000 });
    const x1 = Array.from({ length: 10000 }, (_, i) => d.values[2 * i]);
    expect(ksOneSample(x1, (v) => normalCdf(v / 3)).pValue).toBeGreaterThan(1e-4);
    const again = await exact(t, { seed: 8, chains: 3, draws: 5000 });
    expect(Array.from(again.values.subarray(0, 20000))).toEqual(Array.from(d.values));
  });
  it('a target without an exact sampler → ParameterError', async () => {
    const t = { ...gaussian({ dim: 1 }), sampleExact: undefined };
    await expect(exact(t, { seed: 1 })).rejects.toThrow(/no exact sampler/);
  });
});
