/**
 * MCMC samplers recover known moments. Targets: a correlated 2-D Gaussian (correlation 0.9,
 * sds 1 and 3, non-zero mean) and a banana with b = 0.1, sigma1 = 3 — milder than the standard
 * banana (sigma1 = 10) because RWM and MALA need ~10^5-10^6 draws there to reach a usable ESS for
 * x2's variance, but still clearly curved (x2's conditional mean moves by 0.9 = ~1 sd per
 * sd of x1). Tolerances: 5 MCSE from our own ESS (see test/helpers/moments.ts for the budget),
 * plus a minimum ESS so that a stuck chain cannot pass by inflating its own tolerance.
 */
import { describe as suite, expect, it } from 'vitest';
import type { Draws } from '../src/core/draws.js';
import { gaussian } from '../src/targets/gaussian.js';
import { banana } from '../src/targets/banana.js';
import type { Target } from '../src/targets/target.js';
import { rwm } from '../src/samplers/rwm.js';
import { mala } from '../src/samplers/mala.js';
import { hmc } from '../src/samplers/hmc.js';
import { nuts } from '../src/samplers/nuts.js';
import type { SamplerOptions } from '../src/samplers/sampler.js';
import { checkMoments, describe } from './helpers/moments.js';

type Sampler = (t: Target, o: SamplerOptions) => Promise<Draws>;

const samplers: [string, Sampler, Partial<SamplerOptions>][] = [
  ['rwm', rwm, { draws: 10000, warmup: 2000 }],
  ['mala', mala, { draws: 5000, warmup: 1000 }],
  ['hmc', hmc, { draws: 2000, warmup: 1000 }],
  ['nuts', nuts, { draws: 2000, warmup: 1000 }],
];

const corrGauss = gaussian({ dim: 2, mean: [1, -2], cov: [1, 2.7, 2.7, 9], name: 'corr-gaussian' });
const mildBanana = banana({ b: 0.1, sigma1: 3 });

const cases: [string, Target, Float64Array, Float64Array][] = [
  ['correlated Gaussian', corrGauss, Float64Array.from([1, -2]), Float64Array.from([1, 9])],
  ['banana b=0.1 sigma1=3', mildBanana, mildBanana.mean!, mildBanana.variance!],
];

suite.each(samplers)('%s', (name, sampler, sizes) => {
  it.each(cases)(`recovers means and variances of the %s within 5 MCSE`, async (_t, target, mean, variance) => {
    const d = await sampler(target, { seed: 20261125, chains: 4, ...sizes });
    expect(d.sampler).toBe(name);
    expect(d.values.length).toBe(4 * sizes.draws! * 2);
    expect(d.values.every(Number.isFinite)).toBe(true);
    const checks = checkMoments(d, mean, variance);
    const msg = describe(checks);
    for (const c of checks) {
      expect(c.essMean, msg).toBeGreaterThan(200);
      expect(c.essVar, msg).toBeGreaterThan(100);
    }
    expect(checks.every((c) => c.ok), msg).toBe(true);
    // Cost accounting is filled in.
    expect(d.densityEvals).toBeGreaterThanOrEqual(4 * (sizes.draws! + sizes.warmup!));
    expect(d.wallTimeMs).toBeGreaterThan(0);
    expect(d.acceptance).toBeGreaterThan(0.1);
    expect(d.acceptance).toBeLessThanOrEqual(1);
    if (name !== 'rwm') expect(d.gradEvals).toBeGreaterThan(0);
  });

  it('same seed gives identical draws; another seed differs', async () => {
    const o = { chains: 2, draws: 50, warmup: 50 };
    const a = await sampler(corrGauss, { seed: 'same', ...o });
    const b = await sampler(corrGauss, { seed: 'same', ...o });
    const c = await sampler(corrGauss, { seed: 'other', ...o });
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
    expect(Array.from(c.values)).not.toEqual(Array.from(a.values));
  });

  it('adding a chain does not change the others', async () => {
    const a = await sampler(corrGauss, { seed: 3, chains: 2, draws: 30, warmup: 30 });
    const b = await sampler(corrGauss, { seed: 3, chains: 3, draws: 30, warmup: 30 });
    expect(Array.from(b.values.subarray(0, a.values.length))).toEqual(Array.from(a.values));
  });

  it('NaN in a region of the target: rejected and counted, never returned', async () => {
    // N(0, I) in 2-D whose log density (and gradient) is NaN where x1 > 1: the chain must treat
    // that region as zero density, i.e. sample the truncated Gaussian.
    const base = gaussian({ dim: 2 });
    const holey: Target = {
      ...base,
      name: 'holey',
      logDensity: (x) => (x[0] > 1 ? NaN : base.logDensity(x)),
      gradLogDensity: (x, out) => {
        const v = base.gradLogDensity(x, out);
        if (x[0] > 1) {
          out.fill(NaN);
          return NaN;
        }
        return v;
      },
    };
    const d = await sampler(holey, { seed: 5, chains: 2, draws: 1000, warmup: 300, init: Float64Array.from([0, 0]) });
    expect(d.nonFinite).toBeGreaterThan(0);
    expect(d.values.every(Number.isFinite)).toBe(true);
    for (let i = 0; i < d.values.length; i += 2) expect(d.values[i]).toBeLessThanOrEqual(1);
  });
});

suite('mala preconditioner', () => {
  // Axis-aligned scales 1 and 10: the windowed (Stan-style) diagonal metric should learn the
  // variances (1, 100), and with it x2 mixes as fast as x1. Without it the step size is set by
  // x1 and x2 diffuses 10x slower (measured: ESS of x2's mean 22-42 vs ~4000 with the metric,
  // seeds 20261125, 1, 2). Bounds: the learned variances are a window's estimate from ~500
  // correlated draws (relative sd ~0.1); a factor of 2 is > 5 sd away.
  const wide = gaussian({ dim: 2, mean: [1, -2], scale: [1, 10], name: 'wide-gaussian' });
  it('learns the variances in warm-up and mixes the wide coordinate much faster than without', async () => {
    const o = { seed: 20261125, chains: 4, draws: 2000, warmup: 1000 };
    const d = await mala(wide, o);
    for (let c = 0; c < 4; c++) {
      const lo = d.info![`invMetricMin[${c}]`] as number;
      const hi = d.info![`invMetricMax[${c}]`] as number;
      expect(lo).toBeGreaterThan(0.5);
      expect(lo).toBeLessThan(2);
      expect(hi).toBeGreaterThan(50);
      expect(hi).toBeLessThan(200);
    }
    const checks = checkMoments(d, Float64Array.from([1, -2]), Float64Array.from([1, 100]));
    expect(checks.every((c) => c.ok), describe(checks)).toBe(true);
    const plain = checkMoments(await mala(wide, { ...o, adaptMetric: false }), Float64Array.from([1, -2]), Float64Array.from([1, 100]));
    expect(checks[1].essMean, describe(checks) + '\n' + describe(plain)).toBeGreaterThan(10 * plain[1].essMean);
  });
});
