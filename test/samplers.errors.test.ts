/**
 * Bad input gives the right FlowsamplerError subclass with a message naming the problem;
 * initial points are checked; runs can be aborted and report progress.
 */
import { describe, expect, it } from 'vitest';
import type { Draws } from '../src/core/draws.js';
import { AbortedError, DimensionError, NonFiniteError, ParameterError } from '../src/core/errors.js';
import { gaussian } from '../src/targets/gaussian.js';
import type { Target } from '../src/targets/target.js';
import { rwm } from '../src/samplers/rwm.js';
import { mala } from '../src/samplers/mala.js';
import { hmc } from '../src/samplers/hmc.js';
import { nuts } from '../src/samplers/nuts.js';
import type { SamplerOptions, SamplerProgress } from '../src/samplers/sampler.js';

type Sampler = (t: Target, o: SamplerOptions) => Promise<Draws>;
const all: [string, Sampler][] = [
  ['rwm', rwm],
  ['mala', mala],
  ['hmc', hmc],
  ['nuts', nuts],
];
const g = gaussian({ dim: 2 });

describe.each(all)('%s', (_name, sampler) => {
  it('invalid common options → ParameterError', async () => {
    await expect(sampler(g, { seed: 1, chains: 0 })).rejects.toThrow(ParameterError);
    await expect(sampler(g, { seed: 1, chains: 1.5 })).rejects.toThrow(/chains/);
    await expect(sampler(g, { seed: 1, warmup: -1 })).rejects.toThrow(/warmup/);
    await expect(sampler(g, { seed: 1, draws: 0 })).rejects.toThrow(/draws/);
    await expect(sampler(g, {} as SamplerOptions)).rejects.toThrow(/seed/);
  });
  it('init of the wrong length or count → DimensionError', async () => {
    await expect(sampler(g, { seed: 1, init: Float64Array.of(0, 0, 0) })).rejects.toThrow(DimensionError);
    await expect(sampler(g, { seed: 1, chains: 2, init: [Float64Array.of(0, 0)] })).rejects.toThrow(/2 chains/);
  });
  it('non-finite density at the initial point → NonFiniteError naming chain and point', async () => {
    const bounded: Target = { ...g, logDensity: (x) => (x[0] < 0 ? -Infinity : g.logDensity(x)), gradLogDensity: (x, out) => (x[0] < 0 ? -Infinity : g.gradLogDensity(x, out)) };
    await expect(sampler(bounded, { seed: 1, chains: 2, init: [Float64Array.of(1, 0), Float64Array.of(-1, 0)] })).rejects.toThrow(
      /chain 1: log density of gaussian is -Infinity at the initial point \[-1, 0\]/,
    );
    await expect(sampler(g, { seed: 1, init: Float64Array.of(NaN, 0) })).rejects.toThrow(NonFiniteError);
  });
  it('a pre-aborted signal → AbortedError', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(sampler(g, { seed: 1, signal: ac.signal })).rejects.toThrow(AbortedError);
  });
  it('aborting mid-run → AbortedError, with progress reported before', async () => {
    const ac = new AbortController();
    const seen: SamplerProgress[] = [];
    const run = sampler(g, {
      seed: 1,
      chains: 1,
      draws: 1e8,
      warmup: 10,
      signal: ac.signal,
      onProgress: (p) => {
        seen.push(p);
        ac.abort();
      },
    });
    await expect(run).rejects.toThrow(AbortedError);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0].done).toBeGreaterThan(0);
    expect(seen[0].total).toBe(1e8 + 10);
  });
});

describe('sampler-specific options', () => {
  it('gradient samplers: bad step size, target acceptance, metric', async () => {
    await expect(nuts(g, { seed: 1, stepSize: 0 })).rejects.toThrow(/stepSize/);
    await expect(hmc(g, { seed: 1, stepSize: -1 })).rejects.toThrow(ParameterError);
    await expect(mala(g, { seed: 1, targetAccept: 1 })).rejects.toThrow(/targetAccept/);
    await expect(nuts(g, { seed: 1, invMetric: Float64Array.of(1) })).rejects.toThrow(DimensionError);
    await expect(nuts(g, { seed: 1, invMetric: Float64Array.of(1, 0) })).rejects.toThrow(/invMetric\[1\]/);
    await expect(nuts(g, { seed: 1, maxTreeDepth: 0 })).rejects.toThrow(/maxTreeDepth/);
    await expect(hmc(g, { seed: 1, numSteps: 0 })).rejects.toThrow(/numSteps/);
    await expect(hmc(g, { seed: 1, integrationLength: -2 })).rejects.toThrow(/integrationLength/);
    await expect(nuts(g, { seed: 1, adaptStepSize: false })).rejects.toThrow(/explicit stepSize/);
  });
  it('a non-finite gradient at the initial point → NonFiniteError', async () => {
    const badGrad: Target = { ...g, gradLogDensity: (x, out) => (out.fill(NaN), g.logDensity(x)) };
    await expect(nuts(badGrad, { seed: 1, init: Float64Array.of(0, 0) })).rejects.toThrow(/gradient of gaussian is non-finite/);
  });
  it('rwm: bad proposal covariance', async () => {
    await expect(rwm(g, { seed: 1, proposalCov: Float64Array.of(1, 2, 2, 1) })).rejects.toThrow(/not positive definite/);
    await expect(rwm(g, { seed: 1, proposalCov: Float64Array.of(1) })).rejects.toThrow(DimensionError);
    await expect(rwm(g, { seed: 1, proposalScale: 0 })).rejects.toThrow(/proposalScale/);
  });
  it('default starts are jittered per chain; explicit init is used as given', async () => {
    const d = await nuts(g, { seed: 1, chains: 2, draws: 1, warmup: 0 });
    expect(d.values[0]).not.toBe(d.values[2]);
    const e = await rwm(g, { seed: 1, chains: 1, draws: 1, warmup: 0, init: Float64Array.of(100, 100) });
    expect(Math.abs(e.values[0] - 100)).toBeLessThan(10); // one RW step from (100, 100)
  });
});
