/**
 * The multimodal targets of issue 13: the many-well of Midgley et al. (2023) and the 1-D
 * mixtures, with their known modes. Quadrature checks are deterministic (tolerances are the rule's
 * error); the exact sampler is checked by KS and by the right-well weight at 5 standard errors
 * (false-failure probability ~1e-6 each).
 */
import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { manyWell, manyWellRightWeight } from '../src/targets/manyWell.js';
import { midgley40, mixture1d, ring } from '../src/targets/mixture.js';
import { parseTargetSpec } from '../src/targets/registry.js';
import { RandomStream } from '../src/core/random.js';
import { ParameterError } from '../src/core/errors.js';
import { modeVisits, modesMissedWarning } from '../src/diagnostics/modes.js';
import { ksOneSample } from './helpers/ks.js';
import { initBackend } from '../src/core/backend.js';

/** ∫ exp(f) over [lo, hi] by the trapezoid rule on m intervals (a rule independent of the target's Simpson). */
function trapezoid(f: (x: number) => number, lo: number, hi: number, m: number): number {
  const h = (hi - lo) / m;
  let s = 0.5 * (Math.exp(f(lo)) + Math.exp(f(hi)));
  for (let i = 1; i < m; i++) s += Math.exp(f(lo + i * h));
  return s * h;
}

const well = (x: number) => -(x ** 4) + 6 * x * x + 0.5 * x;

describe('many-well', () => {
  it('has the exact log Z, moments and well weight of 16 double wells', () => {
    const t = manyWell();
    expect(t.dim).toBe(32);
    const z1 = trapezoid(well, -6, 6, 400_000);
    expect(t.logZ!).toBeCloseTo(16 * (Math.log(z1) + 0.5 * Math.log(2 * Math.PI)), 8);
    // fab-torch's published value for the 32-D many-well: 164.69568.
    expect(t.logZ!).toBeCloseTo(164.69568, 4);
    const pPos = trapezoid(well, 0, 6, 200_000) / z1;
    expect(manyWellRightWeight()).toBeCloseTo(pPos, 8);
    const m1 = trapezoid((x) => well(x) + Math.log(Math.abs(x) + 1e-300), 0, 6, 200_000) - trapezoid((x) => well(x) + Math.log(Math.abs(x) + 1e-300), -6, 0, 200_000);
    expect(t.mean![0]).toBeCloseTo(m1 / z1, 6);
    expect(t.mean![1]).toBe(0);
    expect(t.variance![1]).toBe(1);
    expect(t.modes!.count).toBe(2 ** 16);
    expect(t.modes!.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    const x = new Float64Array(32).fill(-1);
    x[0] = 1.5;
    x[4] = 0.2;
    expect(t.modes!.assign(x)).toBe(0b101);
  });

  it('draws exact x1 (KS against the quadrature CDF) with the right well weight', () => {
    const t = manyWell({ dim: 4 });
    const n = 20_000;
    const x = t.sampleExact!(n, new RandomStream('mw'));
    const x1 = Float64Array.from({ length: n }, (_, r) => x[r * 4]);
    const x4 = Float64Array.from({ length: n }, (_, r) => x[r * 4 + 3]);
    // The CDF by the cumulative trapezoid rule on a fine grid, linearly interpolated.
    const m = 240_000;
    const h = 12 / m;
    const cum = new Float64Array(m + 1);
    for (let i = 1; i <= m; i++) cum[i] = cum[i - 1] + 0.5 * h * (Math.exp(well(-6 + (i - 1) * h)) + Math.exp(well(-6 + i * h)));
    const cdf = (v: number) => {
      const u = (v + 6) / h;
      const i = Math.min(m - 1, Math.max(0, Math.floor(u)));
      return (cum[i] + (u - i) * (cum[i + 1] - cum[i])) / cum[m];
    };
    expect(ksOneSample(x1, cdf).pValue).toBeGreaterThan(1e-3);
    const pos = x1.filter((v) => v > 0).length / n;
    const p = manyWellRightWeight();
    expect(Math.abs(pos - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    let mean4 = 0;
    let s2 = 0;
    for (const v of x4) { mean4 += v / n; s2 += (v * v) / n; }
    expect(Math.abs(mean4)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(s2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });

  it('gradient and tfjs log density agree with the float64 log density', async () => {
    await initBackend();
    const t = manyWell({ dim: 6 });
    const rng = new RandomStream('g');
    const x = Float64Array.from({ length: 6 }, () => 2 * rng.normal());
    const g = new Float64Array(6);
    const lp = t.gradLogDensity(x, g);
    expect(lp).toBeCloseTo(t.logDensity(x), 12);
    for (let i = 0; i < 6; i++) {
      const h = 1e-6;
      const a = Float64Array.from(x);
      const b = Float64Array.from(x);
      a[i] += h;
      b[i] -= h;
      expect(g[i]).toBeCloseTo((t.logDensity(a) - t.logDensity(b)) / (2 * h), 4);
    }
    const before = tf.memory().numTensors;
    const xt = tf.tensor2d(Float32Array.from(x), [1, 6]);
    const out = t.logProb!(xt);
    expect(out.dataSync()[0]).toBeCloseTo(lp, 3);
    tf.dispose([xt, out]);
    t.logProb!(tf.zeros([2, 6]) as tf.Tensor2D).dispose();
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(4); // the target's own constants, once
    expect(() => manyWell({ dim: 5 })).toThrow(/even dimension/);
  });
});

describe('mixtures with known modes', () => {
  it('mix1d defaults to N(±2, 0.5²), normalised', () => {
    const t = mixture1d();
    expect(t.dim).toBe(1);
    expect(t.logZ).toBe(0);
    expect(trapezoid((v) => t.logDensity(Float64Array.of(v)), -8, 8, 20_000)).toBeCloseTo(1, 8);
    expect(Array.from(t.modes!.weights)).toEqual([0.5, 0.5]);
    expect(t.modes!.assign(Float64Array.of(-0.1))).toBe(0);
    expect(t.modes!.assign(Float64Array.of(0.1))).toBe(1);
    expect(Array.from(t.modes!.center!(1))).toEqual([2]);
    const three = mixture1d({ modes: 3, spacing: 5, sd: 1 });
    expect(Array.from({ length: 3 }, (_, k) => three.modes!.center!(k)[0])).toEqual([-5, 0, 5]);
    expect(() => mixture1d({ sd: 0 })).toThrow(ParameterError);
  });

  it('exact draws visit every mode of the ring and gmm40; a stuck sampler does not', () => {
    for (const t of [ring(), midgley40()]) {
      const x = t.sampleExact!(4000, new RandomStream(t.name));
      const mv = modeVisits(x, 2, t.modes!);
      expect(mv.visited).toBe(t.modes!.count);
      expect(mv.totalVariation).toBeLessThan(0.1);
      // Draws of one component only (1000, so every mode expects at least 20): one mode visited, TV = 1 − w.
      const c = t.modes!.center!(3);
      const stuck = new Float64Array(1000 * 2);
      for (let r = 0; r < 1000; r++) stuck.set(c, 2 * r);
      const sv = modeVisits(stuck, 2, t.modes!);
      expect(sv.visited).toBe(1);
      expect(sv.counts[3]).toBe(1000);
      expect(sv.totalVariation).toBeCloseTo(1 - t.modes!.weights[3], 12);
      // The stuck draws warn; the exact ones do not; too few draws to see a mode do not either.
      expect(modesMissedWarning('x', mv)).toBeNull();
      const w = modesMissedWarning('stuck', sv)!;
      expect(w.code).toBe('modes-missed');
      expect(w.values).toMatchObject({ visited: 1, modes: t.modes!.count });
      expect(modesMissedWarning('few', modeVisits(stuck.subarray(0, 10 * 2), 2, t.modes!))).toBeNull();
    }
  });

  it('are registered as specs', () => {
    expect(parseTargetSpec('mix1d').modes!.count).toBe(2);
    expect(parseTargetSpec('mix1d:modes=3,spacing=3').modes!.count).toBe(3);
    expect(parseTargetSpec('manywell').dim).toBe(32);
    expect(parseTargetSpec('manywell:dim=8').modes!.count).toBe(16);
    expect(() => parseTargetSpec('manywell:dim=7')).toThrow(/even/);
  });
});
