/**
 * Kernel-level properties: stationarity (start from exact draws, a few transitions with fixed
 * tuning, two-sample KS against fresh exact draws), NUTS tree-depth and divergence accounting,
 * MALA = one-step HMC, and the adaptation pieces (dual averaging, Welford, Stan's windows).
 * KS threshold p > 1e-4 over 8 stationarity tests: false-failure budget < 0.1%.
 */
import { describe, expect, it } from 'vitest';
import { parameterChains, type Draws } from '../src/core/draws.js';
import { RandomStream } from '../src/core/random.js';
import { banana } from '../src/targets/banana.js';
import { gaussian } from '../src/targets/gaussian.js';
import type { Target } from '../src/targets/target.js';
import { rwm } from '../src/samplers/rwm.js';
import { mala, malaStep } from '../src/samplers/mala.js';
import { hmc, hmcInit, hmcStep } from '../src/samplers/hmc.js';
import { nuts } from '../src/samplers/nuts.js';
import { CountedTarget } from '../src/samplers/chains.js';
import { DualAveraging, WelfordCovariance, WelfordVariance, WindowSchedule } from '../src/samplers/adaptation.js';
import { ksTwoSample } from './helpers/ks.js';

const target = banana({ b: 0.1, sigma1: 3 });

describe('stationarity: exact draws stay exact after transitions with fixed tuning', () => {
  // n independent chains, each started at an exact draw: after T transitions of a correct
  // kernel the n end points are again i.i.d. exact draws, so plain i.i.d. standard errors and
  // KS apply. Moments within 5 se (6e-7 each) and KS p > 1e-4, ~30 checks: budget ~3e-3.
  // Power: dropping NUTS's biased progressive sampling (caught on N(0,1): variance 2.0), its
  // exp(-H) weights, or MALA's proposal correction each fails here (checked by hand).
  const n = 10000;
  const T = 10;
  const std1 = gaussian({ dim: 1 });
  const starts = (t: Target) => {
    const x = t.sampleExact!(n, new RandomStream('start'));
    return Array.from({ length: n }, (_, i) => x.slice(t.dim * i, t.dim * i + t.dim));
  };
  const fixed = { warmup: 0, draws: T, chains: n, adaptStepSize: false, adaptMetric: false };
  // Step sizes large enough for sizeable energy errors (acceptance ~0.6-0.8), where a wrong
  // acceptance rule shows.
  const runs: [string, Target, (t: Target, init: Float64Array[]) => Promise<Draws>][] = [
    ['rwm on banana', target, (t, init) => rwm(t, { seed: 1, ...fixed, init })],
    ['mala on banana', target, (t, init) => mala(t, { seed: 1, ...fixed, init, stepSize: 0.8 })],
    ['hmc on banana', target, (t, init) => hmc(t, { seed: 1, ...fixed, init, stepSize: 0.8, numSteps: 5 })],
    ['nuts on banana', target, (t, init) => nuts(t, { seed: 1, ...fixed, init, stepSize: 1.2 })],
    ['nuts on N(0,1)', std1, (t, init) => nuts(t, { seed: 1, ...fixed, init, stepSize: 1.5 })],
  ];
  it.each(runs)('%s', async (_name, t, run) => {
    const d = await run(t, starts(t));
    const fresh = t.sampleExact!(50000, new RandomStream('fresh'));
    expect(d.acceptance).toBeGreaterThan(0.2); // the kernels actually moved
    for (let p = 0; p < t.dim; p++) {
      const last = parameterChains(d, p).map((c) => c[T - 1]);
      const ref = Array.from({ length: 50000 }, (_, i) => fresh[t.dim * i + p]);
      const ks = ksTwoSample(last, ref);
      expect(ks.pValue, `x${p + 1}: D = ${ks.d}`).toBeGreaterThan(1e-4);
      const m = last.reduce((s, v) => s + v, 0) / n;
      const sq = last.map((v) => (v - m) ** 2);
      const v = sq.reduce((s, x) => s + x, 0) / (n - 1);
      const seVar = Math.sqrt(sq.reduce((s, x) => s + (x - v) ** 2, 0) / (n - 1) / n);
      expect(Math.abs(m - t.mean![p]), `x${p + 1} mean ${m}`).toBeLessThan(5 * Math.sqrt(v / n));
      expect(Math.abs(v - t.variance![p]), `x${p + 1} var ${v}`).toBeLessThan(5 * seVar);
    }
  });
});

describe('NUTS accounting', () => {
  const g = gaussian({ dim: 3 });
  it('counts max-tree-depth hits', async () => {
    const d = await nuts(g, { seed: 2, chains: 2, draws: 100, warmup: 0, stepSize: 0.01, adaptStepSize: false, maxTreeDepth: 3 });
    expect(d.info!.maxTreeDepthHits).toBe(200);
    expect(d.info!.meanSteps).toBe(7); // 1 + 2 + 4 leapfrog steps
    expect(d.divergences).toBe(0);
  });
  it('detects divergences and never returns their points', async () => {
    const d = await nuts(g, { seed: 2, chains: 2, draws: 100, warmup: 0, stepSize: 10, adaptStepSize: false });
    expect(d.divergences).toBeGreaterThan(50);
    expect(d.values.every(Number.isFinite)).toBe(true);
  });
  it('tunes the step size toward the target acceptance and reports it', async () => {
    const d = await nuts(gaussian({ dim: 10 }), { seed: 4, chains: 2, draws: 500, warmup: 500 });
    // Post-warm-up acceptance is typically a little above the target (Stan shows the same).
    expect(d.acceptance).toBeGreaterThan(0.7);
    expect(d.acceptance).toBeLessThan(0.97);
    expect(d.info!.stepSize).toBeGreaterThan(0.3);
    expect(d.info!.maxTreeDepthHits).toBe(0);
    expect(d.gradEvals).toBe(d.densityEvals);
  });
  it('more leapfrog steps per transition for a higher target acceptance', async () => {
    const lo = await nuts(gaussian({ dim: 5 }), { seed: 4, chains: 1, draws: 300, warmup: 300, targetAccept: 0.6 });
    const hi = await nuts(gaussian({ dim: 5 }), { seed: 4, chains: 1, draws: 300, warmup: 300, targetAccept: 0.95 });
    expect(hi.info!.stepSize).toBeLessThan(lo.info!.stepSize as number);
    expect(hi.gradEvals).toBeGreaterThan(lo.gradEvals);
  });
});

describe('HMC options', () => {
  it('integrationLength sets the number of leapfrog steps', async () => {
    const d = await hmc(gaussian({ dim: 2 }), { seed: 1, chains: 1, draws: 50, warmup: 0, stepSize: 0.1, adaptStepSize: false, integrationLength: 1, jitter: 0 });
    expect(d.info!.meanSteps).toBe(10);
    expect(d.gradEvals).toBe(1 + 50 * 10); // the initial gradient, then 10 per transition
  });
});

describe('MALA is HMC with one leapfrog step', () => {
  it('same random numbers give the same next state (unit metric)', () => {
    const t = new CountedTarget(banana({ b: 0.1, sigma1: 3 }));
    const inv = Float64Array.from([1, 1]);
    let s1 = hmcInit(t, Float64Array.from([0.5, 0.3]));
    let s2 = s1;
    const r1 = new RandomStream('m');
    const r2 = new RandomStream('m');
    for (let i = 0; i < 200; i++) {
      const [a, ia] = malaStep(r1, t, s1, 0.7, inv);
      const [b, ib] = hmcStep(r2, t, s2, { stepSize: 0.7, invMetric: inv, numSteps: 1, maxEnergyError: 1000 });
      expect(ia.acceptStat).toBeCloseTo(ib.acceptStat, 9);
      for (let k = 0; k < 2; k++) expect(a.position[k]).toBeCloseTo(b.position[k], 9);
      s1 = a;
      s2 = b;
    }
  });
});

describe('adaptation pieces', () => {
  it('dual averaging finds the step size of a known acceptance curve', () => {
    // accept(ε) = exp(-ε): the solution of accept = 0.8 is ε* = -log 0.8.
    const da = new DualAveraging(1, { targetAccept: 0.8 });
    let eps = 1;
    for (let i = 0; i < 2000; i++) eps = da.learn(Math.exp(-eps));
    expect(da.final()!).toBeCloseTo(-Math.log(0.8), 2);
  });
  it('Welford agrees with the two-pass formulas', () => {
    const rng = new RandomStream(1);
    const xs = Array.from({ length: 500 }, () => Float64Array.from([rng.normal() * 3 + 1e6, rng.normal()]));
    const wv = new WelfordVariance(2);
    const wc = new WelfordCovariance(2);
    xs.forEach((x) => (wv.add(x), wc.add(x)));
    const m = [0, 1].map((k) => xs.reduce((s, x) => s + x[k], 0) / xs.length);
    const c01 = xs.reduce((s, x) => s + (x[0] - m[0]) * (x[1] - m[1]), 0) / (xs.length - 1);
    const v0 = xs.reduce((s, x) => s + (x[0] - m[0]) ** 2, 0) / (xs.length - 1);
    expect(wv.variance()[0]).toBeCloseTo(v0, 8);
    expect(wc.covariance()[1]).toBeCloseTo(c01, 8);
    expect(wc.covariance()[0]).toBeCloseTo(v0, 8);
  });
  it("windows match Stan's for 1000 warm-up iterations and shrink for short warm-ups", () => {
    expect(new WindowSchedule(1000).windowEndList()).toEqual([99, 149, 249, 449, 949]);
    const s = new WindowSchedule(100); // 15 / 75 / 10
    expect(s.windowEndList()).toEqual([89]);
    expect(s.inWindow(14)).toBe(false);
    expect(s.inWindow(15)).toBe(true);
    expect(s.inWindow(90)).toBe(false);
    expect(new WindowSchedule(10).windowEndList()).toEqual([]);
  });
  it('adapted HMC metric approaches the target variances', async () => {
    const t: Target = gaussian({ dim: 3, scale: [0.1, 1, 10] });
    const d = await hmc(t, { seed: 7, chains: 1, draws: 10, warmup: 1000 });
    expect(d.acceptance).toBeGreaterThan(0.5);
    // Indirect but telling: with a unit metric the step size would be < 0.2 (sd 0.1 direction).
    expect(d.info!.stepSize).toBeGreaterThan(0.3);
  });
});
