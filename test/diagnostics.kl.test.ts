/**
 * KL estimators against closed-form KL between Gaussians. Tolerances come from Monte Carlo
 * standard errors: for reverse/forward KL the draws are iid so the returned se is valid; for the
 * k-NN estimator the per-point terms are dependent, so we use R independent replicates and
 * the standard error of their mean. Each statistical check allows 5 SE: false-failure budget
 * about 6e-7 per check under a normal approximation (the tests use fixed seeds anyway).
 */
import { describe, expect, it } from 'vitest';
import { RandomStream } from '../src/core/random.js';
import { forwardKL, knnKL, reverseKL } from '../src/diagnostics/index.js';
import { KdTree } from '../src/diagnostics/kdTree.js';
import { FlowsamplerError } from '../src/core/errors.js';

const LOG2PI = Math.log(2 * Math.PI);

/** log N(x; mu, s^2 I) for each row of an n x d array. */
function logNormal(x: Float64Array, d: number, mu: number, s: number): Float64Array {
  const n = x.length / d;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let q = 0;
    for (let j = 0; j < d; j++) q += ((x[i * d + j] - mu) / s) ** 2;
    out[i] = -0.5 * q - d * Math.log(s) - 0.5 * d * LOG2PI;
  }
  return out;
}

function gauss(rng: RandomStream, n: number, d: number, mu: number, s: number): Float64Array {
  const a = rng.fillNormal(new Float64Array(n * d));
  for (let i = 0; i < a.length; i++) a[i] = mu + s * a[i];
  return a;
}

/** KL(N(mu1, s1^2 I_d) || N(mu2, s2^2 I_d)). */
function klGauss(d: number, mu1: number, s1: number, mu2: number, s2: number): number {
  return (d / 2) * ((s1 * s1) / (s2 * s2) + ((mu1 - mu2) ** 2) / (s2 * s2) - 1 + 2 * Math.log(s2 / s1));
}

describe('reverseKL and forwardKL', () => {
  const d = 3;
  const logZ = 1.7; // p̃ = e^{logZ} N(x; 0.5, 1.2^2 I)
  const q = { mu: 0, s: 1 };
  const p = { mu: 0.5, s: 1.2 };

  it('reverseKL recovers KL(q||p) within 5 SE, and -ELBO without log Z', () => {
    const rng = new RandomStream('reverse-kl');
    const x = gauss(rng, 20000, d, q.mu, q.s);
    const logq = logNormal(x, d, q.mu, q.s);
    const logp = logNormal(x, d, p.mu, p.s).map((v) => v + logZ);
    const truth = klGauss(d, q.mu, q.s, p.mu, p.s);
    const r = reverseKL(logq, logp, logZ);
    expect(r.isElboBased).toBe(false);
    expect(Math.abs(r.kl - truth)).toBeLessThan(5 * r.se);
    const e = reverseKL(logq, logp);
    expect(e.isElboBased).toBe(true);
    expect(e.kl).toBeCloseTo(r.kl - logZ, 12);
  });

  it('forwardKL recovers KL(p||q) within 5 SE', () => {
    const rng = new RandomStream('forward-kl');
    const x = gauss(rng, 20000, d, p.mu, p.s);
    const logp = logNormal(x, d, p.mu, p.s).map((v) => v + logZ);
    const logq = logNormal(x, d, q.mu, q.s);
    const truth = klGauss(d, p.mu, p.s, q.mu, q.s);
    const r = forwardKL(logp, logq, logZ);
    expect(Math.abs(r.kl - truth)).toBeLessThan(5 * r.se);
  });

  it('rejects mismatched lengths, non-finite values and a missing log Z', () => {
    expect(() => reverseKL(new Float64Array(3), new Float64Array(4))).toThrow(/logq has 3 values but logp has 4/);
    expect(() => reverseKL(new Float64Array([0, NaN]), new Float64Array(2))).toThrow(FlowsamplerError);
    expect(() => reverseKL(new Float64Array(2), new Float64Array([0, -Infinity]))).toThrow(/infinite/);
    expect(() => forwardKL(new Float64Array(2), new Float64Array(2), NaN)).toThrow(/log Z/);
  });
});

describe('knnKL (Wang, Kulkarni & Verdú 2009)', () => {
  it('finds the same neighbours as brute force (10-D, k = 3)', () => {
    const rng = new RandomStream('kd');
    const d = 10;
    const pts = gauss(rng, 700, d, 0, 1);
    const tree = new KdTree(pts, d);
    for (let t = 0; t < 50; t++) {
      const x = gauss(rng, 1, d, 0, 1.5);
      const brute = Array.from({ length: 700 }, (_, i) => {
        let s = 0;
        for (let j = 0; j < d; j++) s += (pts[i * d + j] - x[j]) ** 2;
        return s;
      }).sort((a, b) => a - b);
      const got = tree.kNearestSq(x, 3, false);
      for (let j = 0; j < 3; j++) expect(got[j]).toBeCloseTo(brute[j], 12);
    }
  });

  for (const d of [1, 2, 5]) {
    it(`recovers KL between Gaussians in ${d}-D (10 replicates, 5 SE)`, () => {
      const rng = new RandomStream(`knn-${d}`);
      const truth = klGauss(d, 0, 1, 0.5, 1.3);
      const reps = 10;
      const est: number[] = [];
      for (let r = 0; r < reps; r++) est.push(knnKL(gauss(rng, 2000, d, 0, 1), gauss(rng, 2000, d, 0.5, 1.3), d).kl);
      const m = est.reduce((a, b) => a + b, 0) / reps;
      const se = Math.sqrt(est.reduce((a, b) => a + (b - m) ** 2, 0) / (reps - 1) / reps);
      expect(Math.abs(m - truth), `mean ${m} vs truth ${truth}, se ${se}`).toBeLessThan(5 * se);
    });
  }

  it('is near zero for two samples of the same distribution and tolerates repeated MCMC states', () => {
    const rng = new RandomStream('knn-same');
    const d = 2;
    const p = gauss(rng, 1500, d, 0, 1);
    // Every state repeated 3 times, as a rejecting MCMC chain would produce.
    const rep = new Float64Array(p.length * 3);
    for (let i = 0; i < 1500; i++) for (let r = 0; r < 3; r++) rep.set(p.subarray(i * d, i * d + d), (i * 3 + r) * d);
    const q = gauss(rng, 4500, d, 0, 1);
    const r = knnKL(rep, q, d);
    expect(Number.isFinite(r.kl)).toBe(true);
    expect(Math.abs(knnKL(p, q, d).kl)).toBeLessThan(0.2);
  });

  it('rejects bad shapes and non-finite draws with clear messages', () => {
    expect(() => knnKL(new Float64Array(5), new Float64Array(4), 2)).toThrow(/p has 5 values, not a multiple of dim 2/);
    expect(() => knnKL(new Float64Array([0, 1, 2, NaN]), new Float64Array(4), 2)).toThrow(/p draw 2, coordinate 2 is NaN/);
    expect(() => knnKL(new Float64Array(2), new Float64Array(4), 2)).toThrow(/more than k = 1 draws of P/);
  });
});
