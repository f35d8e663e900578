/**
 * Tempered SMC / AIS (src/samplers/smc.ts). log Z checks use the sampler's own standard error,
 * from the spread of 20 independent runs. Its calibration was measured on the 4-D Gaussian below
 * over 60 seeds: with 20 runs x 200 particles z = (log Ẑ − log Z) / SE had sd 1.00 and no |z| > 3;
 * with 10 runs x 400 the SE was less stable (sd 1.16, 1.7 % beyond 4 SE: Ẑ_r is right-skewed, so
 * few runs understate its spread). So 20 runs, and a 4-SE tolerance: about 0.1 % per check for a
 * t with 19 degrees of freedom, well under 1 % for the seven checks (seeds fixed: reproducible).
 * Each check also bounds the SE, so a useless estimate cannot pass on a wide tolerance.
 * The funnel and the 50-D Gaussian cost too much for the suite; bench/smc.ts measures them.
 */
import { describe, it, expect } from 'vitest';
import { temperedSmc, smc } from '../src/samplers/smc.js';
import { conditionalEss, nextTemperature, referenceFor } from '../src/samplers/smcReference.js';
import { banana } from '../src/targets/banana.js';
import { gaussian } from '../src/targets/gaussian.js';
import { midgley40, mixture1d, ring } from '../src/targets/mixture.js';
import { modeVisits } from '../src/diagnostics/modes.js';
import { RandomStream } from '../src/core/random.js';
import { ParameterError } from '../src/core/errors.js';
import { customTarget } from '../src/targets/custom.js';

function expectLogZ(r: { logZ: number; logZSe: number }, truth: number, maxSe: number): void {
  expect(r.logZSe).toBeGreaterThan(0);
  expect(r.logZSe).toBeLessThan(maxSe);
  expect(Math.abs(r.logZ - truth), `log Z ${r.logZ} ± ${r.logZSe}, truth ${truth}`).toBeLessThan(4 * r.logZSe);
}

describe('adaptive temperatures', () => {
  it('nextTemperature keeps the conditional ESS at the target and CESS falls with β', () => {
    const rng = new RandomStream('cess');
    const n = 500;
    const delta = Float64Array.from({ length: n }, () => 20 * rng.normal());
    const logW = Float64Array.from({ length: n }, () => 0.3 * rng.normal());
    const s = Math.log(logW.reduce((a, v) => a + Math.exp(v), 0));
    for (let i = 0; i < n; i++) logW[i] -= s;
    const b = nextTemperature(0.1, delta, logW, 0.5);
    expect(b).toBeGreaterThan(0.1);
    expect(b).toBeLessThan(1);
    expect(conditionalEss(0.1, b, delta, logW)).toBeCloseTo(0.5, 6);
    let last = 1;
    for (const next of [0.1, 0.11, 0.13, 0.2, 0.5, 1]) {
      const c = conditionalEss(0.1, next, delta, logW);
      expect(c).toBeLessThanOrEqual(last + 1e-12);
      last = c;
    }
    // A flat Δ needs no intermediate temperature.
    expect(nextTemperature(0.3, new Float64Array(n).fill(2), logW, 0.5)).toBe(1);
  });

  it('the default reference is centred on plotBounds with half the half-width as sd', () => {
    const ref = referenceFor(midgley40());
    expect(ref.mean[0]).toBeCloseTo(0, 12);
    expect(ref.sd[0]).toBeCloseTo(28, 12);
    const own = referenceFor(banana(), { mean: [0, 0], sd: [10, 20] });
    expect(Array.from(own.sd)).toEqual([10, 20]);
    expect(() => referenceFor(banana(), { sd: [1, 2, 3] })).toThrow(/dimension mismatch/);
    expect(() => referenceFor(banana(), { sd: -1 })).toThrow(ParameterError);
  });
});

describe('temperedSmc', () => {
  it('estimates log Z of a Gaussian and its moments (HMC moves)', async () => {
    const t = gaussian({ dim: 4, scale: 2 });
    const r = await temperedSmc(t, { seed: 1, chains: 20, draws: 200, reference: { sd: 6 } });
    expectLogZ(r, t.logZ!, 0.05);
    // Particles: mean 0 and variance 4 per coordinate; 4000 particles, but correlated through
    // resampling, so a loose 10 % on the variance (the MCSE is ~2 % at this size).
    const v = r.draws.values;
    for (let j = 0; j < 4; j++) {
      let m = 0;
      let s2 = 0;
      for (let i = 0; i < 4000; i++) m += v[i * 4 + j] / 4000;
      for (let i = 0; i < 4000; i++) s2 += (v[i * 4 + j] - m) ** 2 / 4000;
      expect(Math.abs(m)).toBeLessThan(0.2);
      expect(Math.abs(s2 / 4 - 1)).toBeLessThan(0.1);
    }
    expect(r.runs).toHaveLength(20);
    expect(r.runs[0].betas[0]).toBe(0);
    expect(r.runs[0].betas.at(-1)).toBe(1);
    expect(r.draws.logWeights).toHaveLength(4000);
    expect(r.draws.info?.logZ).toBe(r.logZ);
  });

  it('annealed importance sampling (no resampling) estimates the same log Z', async () => {
    const t = gaussian({ dim: 3, scale: 1.5 });
    const r = await temperedSmc(t, { seed: 2, chains: 20, draws: 200, resampleThreshold: 0, targetEss: 0.9, reference: { sd: 5 } });
    expectLogZ(r, t.logZ!, 0.1);
  });

  it('reaches log Z within 4 SE on the banana (HMC and RWM moves), the ring, gmm40 and the 1-D mixture', async () => {
    const cases = [
      { t: banana(), o: {} },
      { t: banana(), o: { kernel: 'rwm' as const } },
      { t: ring(), o: {} },
      { t: midgley40(), o: {} },
      { t: mixture1d(), o: {} },
    ];
    for (const { t, o } of cases) {
      const r = await temperedSmc(t, { seed: 3, chains: 20, draws: 250, ...o });
      expectLogZ(r, t.logZ!, 0.06);
    }
  });

  it('visits all 40 modes of gmm40 with about the right weights', async () => {
    const t = midgley40();
    const d = await smc(t, { seed: 4, chains: 4, draws: 1000 });
    const mv = modeVisits(d.values, 2, t.modes!);
    expect(mv.visited).toBe(40);
    // Exact draws of 4000 give TV ≈ √(K / (2π n)) ≈ 0.04; a sampler stuck in half the modes, 0.5.
    expect(mv.totalVariation).toBeLessThan(0.15);
  });

  it('fixes the temperatures before the runs: by a discarded pilot run (default), or as given', async () => {
    const t = banana();
    const r = await temperedSmc(t, { seed: 6, chains: 3, draws: 100 });
    expect(r.schedule).toBe('pilot');
    expect(r.pilot).not.toBeNull();
    // Every run follows the pilot's temperatures, which the pilot chose by the conditional ESS.
    for (const run of r.runs) expect(run.betas).toEqual(r.pilot!.betas);
    expect(r.pilot!.betas.length).toBeGreaterThan(2);
    // The pilot is not in log Z: it is the log-mean of the runs' own estimates.
    const zs = Float64Array.from(r.runs, (u) => u.logZ);
    const lse = Math.max(...zs) + Math.log(zs.reduce((s, z) => s + Math.exp(z - Math.max(...zs)), 0));
    expect(r.logZ).toBeCloseTo(lse - Math.log(3), 12);
    // ... but its evaluations are counted: one run more than the adaptive choice needs.
    const adaptive = await temperedSmc(t, { seed: 6, chains: 3, draws: 100, schedule: 'adaptive' });
    expect(adaptive.pilot).toBeNull();
    expect(r.draws.gradEvals).toBeGreaterThan(adaptive.draws.gradEvals);
    // A given schedule is followed as given (a leading 0 optional).
    const given = await temperedSmc(t, { seed: 6, chains: 2, draws: 100, schedule: [0.01, 0.1, 0.4, 1] });
    expect(given.schedule).toBe('given');
    for (const run of given.runs) expect(run.betas).toEqual([0, 0.01, 0.1, 0.4, 1]);
    await expect(temperedSmc(t, { seed: 1, schedule: [0.5, 0.4, 1] })).rejects.toThrow(/schedule\[1\] = 0.4: inverse temperatures must increase/);
    await expect(temperedSmc(t, { seed: 1, schedule: [0.5, 0.9] })).rejects.toThrow(/must end at 1/);
    await expect(temperedSmc(t, { seed: 1, schedule: [] })).rejects.toThrow(ParameterError);
    await expect(temperedSmc(t, { seed: 1, schedule: 'greedy' as never })).rejects.toThrow(/unknown SMC schedule 'greedy'/);
  });

  it('is reproducible, counts its evaluations and rejects bad options', async () => {
    const a = await smc(banana(), { seed: 5, chains: 2, draws: 100 });
    const b = await smc(banana(), { seed: 5, chains: 2, draws: 100 });
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(a.sampler).toBe('smc');
    expect(a.gradEvals).toBeGreaterThan(0);
    expect(a.densityEvals).toBeGreaterThanOrEqual(a.gradEvals);
    await expect(smc(banana(), { seed: 1, kernel: 'nuts' as never })).rejects.toThrow(/unknown SMC kernel/);
    await expect(smc(banana(), { seed: 1, targetEss: 1 })).rejects.toThrow(ParameterError);
    await expect(smc(banana(), { seed: 1, draws: 1 })).rejects.toThrow(/at least 2 particles/);
    const walled = customTarget({
      name: 'walled',
      dim: 1,
      logDensity: (x: Float64Array) => (x[0] > 1000 ? 0 : -Infinity),
      gradLogDensity: (x: Float64Array, g: Float64Array) => {
        g[0] = 0;
        return x[0] > 1000 ? 0 : -Infinity;
      },
    });
    await expect(smc(walled, { seed: 1, chains: 1, draws: 50 })).rejects.toThrow(/reference that covers/);
  });
});
