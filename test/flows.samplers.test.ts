/**
 * Flow-based samplers with a proposal whose mismatch is known exactly: a flow that is a single
 * diagonal affine layer is q = N(μ_q, diag σ_q²), against a Gaussian target. Statistical checks
 * use 5 standard errors (false-failure budget ≈ 6e-7 per check for normal errors).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { RandomStream } from '../src/core/random.js';
import { Flow } from '../src/flows/flow.js';
import { AffineDiagonal } from '../src/flows/bijectors/affineDiagonal.js';
import { defensiveBaseScale, flowImportanceSample, systematicResample } from '../src/samplers/flowImportance.js';
import { flowImh } from '../src/samplers/flowImh.js';
import { gaussian } from '../src/targets/gaussian.js';
import { parameterChains } from '../src/core/draws.js';
import { mcseMean } from '../src/diagnostics/index.js';
import { DimensionError, ParameterError } from '../src/core/errors.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const target = gaussian({ dim: 2, mean: [0.5, -1], scale: [1, 2] });
/** A slightly too wide, shifted proposal: weights have finite variance (k-hat well below 0.5). */
const proposal = () => new Flow([new AffineDiagonal({ dim: 2, loc: [0.2, -0.5], scale: [1.4, 2.6] })]);

describe('flowImportanceSample', () => {
  it('estimates log Z within 5 standard errors and reports k-hat and ESS', () => {
    const flow = proposal();
    const r = flowImportanceSample(flow, target, { n: 20000, seed: 3 });
    expect(Math.abs(r.logZ - target.logZ!)).toBeLessThan(5 * r.logZSe);
    expect(r.logZSe).toBeLessThan(0.02);
    expect(r.paretoK).toBeLessThan(0.5);
    expect(r.kishEss / 20000).toBeGreaterThan(0.3);
    expect(r.kishEss / 20000).toBeLessThan(1);
    expect(r.draws.logWeights?.length).toBe(20000);
    expect(r.draws.densityEvals).toBe(20000);
    // Self-normalised mean of x1 with weights: error ≈ sd / sqrt(ESS).
    let m = 0;
    for (let i = 0; i < 20000; i++) m += r.psis.weights[i] * r.draws.values[i * 2];
    expect(Math.abs(m - 0.5)).toBeLessThan(5 / Math.sqrt(r.kishEss));
    flow.dispose();
  });

  it('resampled draws have the target mean (5 sd/sqrt(ESS)) and equal weights', () => {
    const flow = proposal();
    const r = flowImportanceSample(flow, target, { n: 20000, seed: 4, resample: true });
    expect(r.draws.logWeights).toBeUndefined();
    const [x2] = parameterChains(r.draws, 1);
    const m = x2.reduce((a, b) => a + b, 0) / x2.length;
    expect(Math.abs(m - -1)).toBeLessThan((5 * 2) / Math.sqrt(r.kishEss));
    flow.dispose();
  });

  it('defensive widening keeps ESS/N = 0.8 for an exact flow', () => {
    // Exact proposal: q = target. Kish ESS/N of the widened flow ≈ 0.8 (MC error of the ESS
    // fraction with 40000 bounded weights is < 0.01).
    const exact = new Flow([new AffineDiagonal({ dim: 2, loc: [0.5, -1], scale: [1, 2] })]);
    const tau = defensiveBaseScale(2);
    expect(tau).toBeGreaterThan(1.1);
    expect(defensiveBaseScale(50)).toBeLessThan(tau);
    const r = flowImportanceSample(exact, target, { n: 40000, seed: 8, baseScale: 'auto' });
    expect(r.draws.info!.baseScale).toBeCloseTo(tau, 10);
    expect(Math.abs(r.kishEss / 40000 - 0.8)).toBeLessThan(0.03);
    const plain = flowImportanceSample(exact, target, { n: 1000, seed: 8 });
    expect(plain.kishEss).toBeCloseTo(1000, 3);
    exact.dispose();
  });

  it('systematic resampling hits the expected counts to within one', () => {
    const w = Float64Array.from([0.1, 0.2, 0.05, 0.65]);
    const idx = systematicResample(w, 1000, new RandomStream(1));
    const counts = [0, 0, 0, 0];
    for (const i of idx) counts[i]++;
    w.forEach((wi, i) => expect(Math.abs(counts[i] - 1000 * wi)).toBeLessThanOrEqual(1));
  });

  it('rejects a missing seed or a dimension mismatch', () => {
    const flow = proposal();
    expect(() => flowImportanceSample(flow, target, {} as never)).toThrow(ParameterError);
    expect(() => flowImportanceSample(flow, gaussian({ dim: 3 }), { seed: 1 })).toThrow(DimensionError);
    flow.dispose();
  });
});

describe('flowImh', () => {
  it('samples the target: means within 5 MCSE, acceptance below 1, cost recorded', async () => {
    const flow = proposal();
    const d = await flowImh(flow, target, { seed: 5, chains: 4, draws: 2000, warmup: 50, trainTimeMs: 1234 });
    expect(d.sampler).toBe('flow-imh');
    expect(d.chains).toBe(4);
    expect(d.trainTimeMs).toBe(1234);
    expect(d.densityEvals).toBe(4 * (1 + 2050));
    expect(d.acceptance).toBeGreaterThan(0.4);
    expect(d.acceptance).toBeLessThan(0.95);
    const truth = [0.5, -1];
    for (let p = 0; p < 2; p++) {
      const ch = parameterChains(d, p);
      const all = ch.flatMap((c) => Array.from(c));
      const m = all.reduce((a, b) => a + b, 0) / all.length;
      expect(Math.abs(m - truth[p])).toBeLessThan(5 * mcseMean(ch));
    }
    // Same seed, same draws.
    const again = await flowImh(flow, target, { seed: 5, chains: 4, draws: 2000, warmup: 50 });
    expect(again.values).toEqual(d.values);
    flow.dispose();
  });

  it('starts from a given init and honours the abort signal', async () => {
    const flow = proposal();
    const d = await flowImh(flow, target, { seed: 1, chains: 2, draws: 5, warmup: 0, init: Float64Array.from([3, 3]) });
    expect(d.values.length).toBe(2 * 5 * 2);
    const ac = new AbortController();
    ac.abort();
    await expect(flowImh(flow, target, { seed: 1, chains: 1, draws: 100000, signal: ac.signal })).rejects.toThrow(/stopped/);
    flow.dispose();
  });
});
