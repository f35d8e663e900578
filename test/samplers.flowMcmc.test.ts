/**
 * Flow-assisted MCMC (issue 14): the dense metric (Metric, Stan's dense_e windows with
 * shrinkage), warm starts and their CmdStan files, NeuTra through an analytic bijection, and
 * the local–global sampler `flowmc` with an analytic mixture proposal standing in for a flow.
 *
 * Tolerances: moments within 5 MCSE (our ESS), KS p > 1e-4; about 40 such checks with fixed
 * seeds, false-failure budget < 1 %. The bars of the issue (50-D Gaussian, banana, funnel, ring,
 * gmm40 with trained flows) are measured in bench/flowMcmc.ts, not here.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parameterChains, type Draws } from '../src/core/draws.js';
import { RandomStream } from '../src/core/random.js';
import { cholesky, inverseFromCholesky, matVec } from '../src/core/linalg.js';
import { DimensionError, ParameterError } from '../src/core/errors.js';
import { banana } from '../src/targets/banana.js';
import { gaussian } from '../src/targets/gaussian.js';
import { ring } from '../src/targets/mixture.js';
import type { Target } from '../src/targets/target.js';
import { essBulk, mcseMean, rhat } from '../src/diagnostics/index.js';
import { Metric } from '../src/samplers/metric.js';
import { regulariseCovariance } from '../src/samplers/adaptation.js';
import { hmc } from '../src/samplers/hmc.js';
import { nuts } from '../src/samplers/nuts.js';
import { warmStart, warmStartRule, weightedMoments, WARM_START_SHORT_WARMUP } from '../src/samplers/warmStart.js';
import { affineBijection, neutra, neutraTarget } from '../src/samplers/neutra.js';
import { flowMc } from '../src/samplers/flowMc.js';
import { cmdstanChainFile, cmdstanInits, cmdstanMetric } from '../src/io/cmdstanJson.js';
import { samplerRegistry, type RunContext } from '../src/cli/samplerRegistry.js';
import { ksTwoSample } from './helpers/ks.js';
import { mixtureProposal, sinhBijection } from './helpers/analyticFlows.js';
import { runCli } from './helpers/cliRun.js';

/** Equicorrelated covariance: 1 on the diagonal, rho elsewhere. */
function equicorrelated(dim: number, rho: number): number[] {
  return Array.from({ length: dim * dim }, (_, k) => (Math.floor(k / dim) === k % dim ? 1 : rho));
}

function expectMomentsWithin5Mcse(d: Draws, t: Target): void {
  for (let p = 0; p < t.dim; p++) {
    const ch = parameterChains(d, p);
    let s = 0;
    ch.forEach((c) => c.forEach((v) => (s += v)));
    const m = s / (d.chains * d.draws);
    expect(Math.abs(m - t.mean![p]), `${d.sampler} x${p + 1}: mean ${m}, mcse ${mcseMean(ch)}`).toBeLessThan(5 * mcseMean(ch));
  }
}

describe('Metric', () => {
  const cov = Float64Array.from([4, 1.2, 0.3, 1.2, 1, -0.2, 0.3, -0.2, 0.5]);
  it('dense momentum p ~ N(0, M) with M = inverse of the given inverse metric; apply = M⁻¹ v', () => {
    const m = Metric.from(cov, 3);
    expect(m.kind).toBe('dense');
    const mass = inverseFromCholesky(cholesky(cov, 3), 3);
    const rng = new RandomStream(3);
    const n = 40000;
    const s = new Float64Array(9);
    const p = new Float64Array(3);
    for (let r = 0; r < n; r++) {
      m.sampleMomentum(rng, p);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s[i * 3 + j] += p[i] * p[j];
    }
    for (let k = 0; k < 9; k++) {
      const i = Math.floor(k / 3);
      const j = k % 3;
      // se of a product moment: sqrt((M_ii M_jj + M_ij²) / n)
      const se = Math.sqrt((mass[i * 3 + i] * mass[j * 3 + j] + mass[k] ** 2) / n);
      expect(Math.abs(s[k] / n - mass[k]), `M[${i},${j}]`).toBeLessThan(5 * se);
    }
    const v = Float64Array.from([1, -2, 0.5]);
    const out = m.apply(v, new Float64Array(3));
    const ref = matVec(cov, v, 3);
    for (let i = 0; i < 3; i++) expect(out[i]).toBeCloseTo(ref[i], 12);
    expect(m.kinetic(v)).toBeCloseTo(0.5 * (v[0] * ref[0] + v[1] * ref[1] + v[2] * ref[2]), 12);
  });
  it('rejects wrong sizes and non-positive-definite matrices', () => {
    expect(() => Metric.from(new Float64Array(5), 3)).toThrow(DimensionError);
    expect(() => Metric.from(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/positive definite/);
    expect(() => Metric.from(Float64Array.from([1, -1]), 2)).toThrow(/positive/);
    expect(() => Metric.from(cov, 3, 'diag')).toThrow(/dense/);
  });
  it("regulariseCovariance: λ = 0 is Stan's rule; 'auto' shrinks off-diagonals by d / (n + d)", () => {
    const c = Float64Array.from([2, 1, 1, 3]);
    const stan = regulariseCovariance(c.slice(), 2, 45, 0);
    expect(stan[0]).toBeCloseTo((45 / 50) * 2 + 1e-3 * (5 / 50), 14);
    expect(stan[1]).toBeCloseTo((45 / 50) * 1, 14);
    const auto = regulariseCovariance(c.slice(), 2, 18);
    expect(auto[0]).toBeCloseTo((18 / 23) * 2 + 1e-3 * (5 / 23), 14);
    expect(auto[1]).toBeCloseTo((18 / 23) * (1 - 2 / 20), 14);
  });
});

describe('dense-metric HMC and NUTS', () => {
  it('leave the target invariant with a fixed dense metric (exact starts, KS after 10 transitions)', async () => {
    const t = gaussian({ dim: 2, mean: [1, -2], cov: [1, 2.7, 2.7, 9] });
    const n = 6000;
    const x = t.sampleExact!(n, new RandomStream('start'));
    const init = Array.from({ length: n }, (_, i) => x.slice(2 * i, 2 * i + 2));
    const fresh = t.sampleExact!(40000, new RandomStream('fresh'));
    // A deliberately wrong dense metric (not the covariance), so the kinetic energy's off-diagonal terms matter.
    const inv = Float64Array.from([2, -0.5, -0.5, 1]);
    const fixed = { seed: 1, chains: n, warmup: 0, draws: 10, adaptStepSize: false, adaptMetric: false, init, metric: 'dense' as const, invMetric: inv };
    for (const d of [await nuts(t, { ...fixed, stepSize: 0.35 }), await hmc(t, { ...fixed, stepSize: 0.3, numSteps: 4 })]) {
      expect(d.acceptance, d.sampler).toBeGreaterThan(0.2);
      expect(d.acceptance, d.sampler).toBeLessThan(0.95); // large enough steps for a wrong energy to show
      for (let p = 0; p < 2; p++) {
        const last = parameterChains(d, p).map((c) => c[9]);
        const ref = Array.from({ length: 40000 }, (_, i) => fresh[2 * i + p]);
        expect(ksTwoSample(last, ref).pValue, `${d.sampler} x${p + 1}`).toBeGreaterThan(1e-4);
      }
    }
  });
  it('dense adaptation beats the diagonal on a strongly correlated 10-D Gaussian (ESS per gradient > 2x)', async () => {
    const t = gaussian({ dim: 10, cov: equicorrelated(10, 0.95), name: 'corr10' });
    const minEssPerGrad = (d: Draws) => Math.min(...Array.from({ length: 10 }, (_, p) => essBulk(parameterChains(d, p)))) / d.gradEvals;
    const diag = await nuts(t, { seed: 5, chains: 2, draws: 500, warmup: 500 });
    const dense = await nuts(t, { seed: 5, chains: 2, draws: 500, warmup: 500, metric: 'dense' });
    expectMomentsWithin5Mcse(dense, t);
    expect(minEssPerGrad(dense) / minEssPerGrad(diag)).toBeGreaterThan(2);
  });
  it('rejects a matrix for a diagonal metric and a bad shrinkage', async () => {
    const t = gaussian({ dim: 2 });
    await expect(nuts(t, { seed: 1, metric: 'diag', invMetric: Float64Array.from([1, 0, 0, 1]) })).rejects.toThrow(ParameterError);
    await expect(nuts(t, { seed: 1, metric: 'dense', denseShrinkage: 2 })).rejects.toThrow(/denseShrinkage/);
  });
});

describe('warm starts', () => {
  // An analytic "flow": N(mean, 1.2² cov) covers the target N(mean, cov) with k-hat well below 0.7.
  const cov = [4, 1.5, 1.5, 1];
  const t = gaussian({ dim: 2, mean: [3, -1], cov });
  const l = cholesky(Float64Array.from(cov), 2);
  const flow = {
    dim: 2,
    sampleArrays(n: number, seed: unknown) {
      const rng = seed instanceof RandomStream ? seed : new RandomStream(String(seed));
      const x = new Float64Array(2 * n);
      const logq = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const z0 = rng.normal();
        const z1 = rng.normal();
        x[2 * r] = 3 + 1.2 * l[0] * z0;
        x[2 * r + 1] = -1 + 1.2 * (l[2] * z0 + l[3] * z1);
        logq[r] = -0.5 * (z0 * z0 + z1 * z1) - Math.log(2 * Math.PI) - Math.log(1.44 * l[0] * l[3]);
      }
      return { x, logq };
    },
  };
  it('resamples starts, estimates the covariance and picks the short warm-up', () => {
    const ws = warmStart(flow as never, t, { seed: 1, chains: 4, n: 20000, trainTimeMs: 1234, trainEvals: 99 });
    expect(ws.inits).toHaveLength(4);
    expect(ws.paretoK).toBeLessThan(0.7);
    // Weighted covariance of 20 000 draws: within 5 % of the truth (its relative se is ~1.5 %).
    cov.forEach((c, k) => expect(Math.abs(ws.invMetric[k] - c)).toBeLessThan(0.05 * Math.sqrt(cov[0] * cov[3])));
    expect(ws.rule).toMatchObject({ warmup: WARM_START_SHORT_WARMUP, adaptMetric: false });
    expect(ws.costMs).toBeGreaterThanOrEqual(1234);
    expect(ws.trainEvals).toBe(99);
  });
  it('weightedMoments agrees with plain moments for equal weights', () => {
    const x = Float64Array.from([1, 2, 3, 5, 2, 0]);
    const { mean, cov: c } = weightedMoments(x, 3, 2, Float64Array.from([1 / 3, 1 / 3, 1 / 3]));
    expect(Array.from(mean)).toEqual([2, 7 / 3].map((v) => expect.closeTo(v, 12)));
    expect(c[1]).toBeCloseTo(((1 - 2) * (2 - 7 / 3) + (3 - 2) * (5 - 7 / 3) + 0) / 3, 12);
  });
  it('the rule: short when trusted, windows when few effective draws, full when k-hat >= 0.7', () => {
    expect(warmStartRule(0.3, 5000, 10)).toMatchObject({ warmup: WARM_START_SHORT_WARMUP, adaptMetric: false });
    expect(warmStartRule(0.3, 50, 10)).toMatchObject({ warmup: 300, adaptMetric: true });
    expect(warmStartRule(0.9, 5000, 10)).toMatchObject({ warmup: 1000, adaptMetric: true });
    expect(warmStartRule(NaN, 5000, 10).warmup).toBe(1000);
  });
  it('NUTS takes it: the rule\'s warm-up, the dense metric, the starts, the cost charged; right moments', async () => {
    const ws = warmStart(flow as never, t, { seed: 2, chains: 4, trainTimeMs: 5000 });
    const d = await nuts(t, { seed: 3, draws: 1000, warmStart: ws });
    expect(d.info!.warmup).toBe(WARM_START_SHORT_WARMUP);
    expect(d.info!.warmStart).toBe(true);
    expect(d.trainTimeMs).toBeGreaterThanOrEqual(5000);
    expect(d.densityEvals).toBeGreaterThan(ws.densityEvals);
    expect(d.info!.warmupGradEvals as number).toBeGreaterThan(0);
    expectMomentsWithin5Mcse(d, t);
    const cold = await nuts(t, { seed: 3, draws: 1000 });
    expect(d.info!.warmupGradEvals as number).toBeLessThan(0.5 * (cold.info!.warmupGradEvals as number));
    // Explicit options win over the warm start.
    const e = await nuts(t, { seed: 3, draws: 100, warmup: 40, chains: 2, warmStart: ws });
    expect(e.info!.warmup).toBe(40);
    expect(e.chains).toBe(2);
    await expect(nuts(gaussian({ dim: 3 }), { seed: 1, warmStart: ws })).rejects.toThrow(DimensionError);
  });
});

describe('CmdStan files', () => {
  it('layout of inits and metric JSON (CmdStan User\'s Guide, JSON format), per-chain names', () => {
    expect(cmdstanInits(Float64Array.from([1, 2]), ['v', 'x1'], { kind: 'vector', name: 'x' })).toEqual({ x: [1, 2] });
    expect(cmdstanInits(Float64Array.from([1, 2]), ['v', 'x1'], { kind: 'scalars' })).toEqual({ v: 1, x1: 2 });
    expect(cmdstanMetric(Float64Array.from([1, 0.5, 0.5, 2]), 2)).toEqual({ inv_metric: [[1, 0.5], [0.5, 2]] });
    expect(cmdstanMetric(Float64Array.from([1, 2]), 2)).toEqual({ inv_metric: [1, 2] });
    expect(cmdstanChainFile('inits.json', 3)).toBe('inits_3.json');
    expect(() => cmdstanInits(Float64Array.from([NaN]), ['x'], { kind: 'scalars' })).toThrow(/finite/);
    expect(() => cmdstanInits(Float64Array.from([1]), ['x'], { kind: 'vector', name: 'lp__' })).toThrow(/Stan variable/);
  });
  it('flowsampler warmstart writes one inits file per chain and a dense metric, in the target\'s parameter order', async () => {
    const { initBackend } = await import('../src/core/backend.js');
    const { createDefaultFlow } = await import('../src/flows/index.js');
    const { saveFlow } = await import('../src/io/flowFile.js');
    await initBackend();
    const dir = await mkdtemp(join(tmpdir(), 'fs-warmstart-'));
    const flowFile = join(dir, 'flow.json');
    const flow = createDefaultFlow(10, { seed: 1 });
    await saveFlow(flow, flowFile, { target: { spec: 'funnel:dim=10' } });
    flow.dispose();
    const out = join(dir, 'ws');
    const r = await runCli(['warmstart', '--flow', flowFile, '--target', 'funnel:dim=10', '--chains', '3', '--n', '2000', '--out', out]);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out.join('\n')).toMatch(/num_chains=3/);
    const files = (await readdir(out)).sort();
    expect(files).toEqual(['inits_1.json', 'inits_2.json', 'inits_3.json', 'metric.json', 'warmstart.json']);
    for (const f of files.filter((x) => x.startsWith('inits'))) {
      const doc = JSON.parse(await readFile(join(out, f), 'utf8'));
      expect(Object.keys(doc)).toEqual(['x']);
      expect(doc.x).toHaveLength(10);
      expect(doc.x.every((v: unknown) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
    }
    const metric = JSON.parse(await readFile(join(out, 'metric.json'), 'utf8'));
    expect(Object.keys(metric)).toEqual(['inv_metric']);
    expect(metric.inv_metric).toHaveLength(10);
    for (let i = 0; i < 10; i++) {
      expect(metric.inv_metric[i]).toHaveLength(10);
      for (let j = 0; j < 10; j++) expect(metric.inv_metric[i][j]).toBe(metric.inv_metric[j][i]);
    }
    expect(() => cholesky(Float64Array.from(metric.inv_metric.flat()), 10)).not.toThrow();
    const info = JSON.parse(await readFile(join(out, 'warmstart.json'), 'utf8'));
    expect(info.paramNames).toEqual(['v', ...Array.from({ length: 9 }, (_, i) => `x${i + 1}`)]);
    // --scalars: one key per parameter, in order.
    const r2 = await runCli(['warmstart', '--flow', flowFile, '--chains', '1', '--n', '500', '--scalars', '--out', join(dir, 'ws2')]);
    expect(r2.code, r2.err.join('\n')).toBe(0);
    expect(Object.keys(JSON.parse(await readFile(join(dir, 'ws2', 'inits_1.json'), 'utf8')))).toEqual(info.paramNames);
    const bad = await runCli(['warmstart', '--flow', flowFile, '--target', 'banana', '--out', join(dir, 'ws3')]);
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(/dim 10/);
  });
});

describe('NeuTra', () => {
  const t = banana({ b: 0.1, sigma1: 3 });
  const f = sinhBijection([0.5, -1], [2, 1.5]);
  it('the pulled-back gradient matches central differences; tapes are disposed', () => {
    const pt = neutraTarget(t, f);
    const g = new Float64Array(2);
    for (const z of [[0.3, -0.7], [-1.2, 0.4], [0, 0]]) {
      const zz = Float64Array.from(z);
      const v = pt.gradLogDensity(zz, g);
      expect(v).toBeCloseTo(pt.logDensity(zz), 12);
      for (let i = 0; i < 2; i++) {
        const h = 1e-5;
        const a = zz.slice();
        const b = zz.slice();
        a[i] += h;
        b[i] -= h;
        expect(g[i]).toBeCloseTo((pt.logDensity(a) - pt.logDensity(b)) / (2 * h), 5);
      }
    }
    expect(f.tapes.open).toBe(0);
  });
  it('through the Cholesky factor of a Gaussian the pull-back is N(0, I) up to a constant', () => {
    const cov = Float64Array.from([4, 1.5, 1.5, 1]);
    const g = gaussian({ dim: 2, mean: [3, -1], cov: Array.from(cov) });
    const pt = neutraTarget(g, affineBijection(Float64Array.from([3, -1]), cholesky(cov, 2)));
    const c0 = pt.logDensity(new Float64Array(2));
    for (const z of [[1, 2], [-0.5, 0.3]]) expect(pt.logDensity(Float64Array.from(z)) - c0).toBeCloseTo(-0.5 * (z[0] ** 2 + z[1] ** 2), 10);
  });
  it('neutra samples the banana through the sinh map: draws in x with the right means', async () => {
    const d = await neutra(t, f, { seed: 4, chains: 4, draws: 1000, warmup: 500, trainTimeMs: 10 });
    expect(d.sampler).toBe('neutra');
    expect(d.paramNames).toEqual(['x1', 'x2']);
    expect(d.trainTimeMs).toBeGreaterThanOrEqual(10);
    expectMomentsWithin5Mcse(d, t);
    expect(f.tapes.open).toBe(0);
  });
  it('compare names what is missing when a flow has no input gradient', async () => {
    const entry = samplerRegistry.find((s) => s.name === 'neutra')!;
    const ctx = { target: t, seed: 1, chains: 1, draws: 10, signal: new AbortController().signal, onProgress: () => undefined, trainedFlow: async () => ({ flow: {} as never, trainTimeMs: 1, trainEvals: 1, curve: {} as never, method: 'reverse-kl' as const, result: {} as never, modeCovering: null, warnings: [], steps: 1, requestedSteps: 1, stoppedBy: 'steps' as const, notes: [] }) } as RunContext;
    await expect(entry.run(ctx)).rejects.toThrow(/forwardTape/);
  });
});

describe('flowmc', () => {
  const t = ring();
  const centres = Array.from({ length: 8 }, (_, k) => [4 * Math.cos((2 * Math.PI * k) / 8), 4 * Math.sin((2 * Math.PI * k) / 8)]);
  const modeOf = (x: number, y: number) => centres.reduce((best, c, k) => ((x - c[0]) ** 2 + (y - c[1]) ** 2 < (x - centres[best][0]) ** 2 + (y - centres[best][1]) ** 2 ? k : best), 0);

  it('with a proposal covering the modes: every mode at weight 1/8 within 5 MCSE, R-hat < 1.01, both acceptances reported', async () => {
    const q = mixtureProposal(centres, 0.4);
    const d = await flowMc(t, q, { seed: 1, chains: 4, draws: 1000, warmup: 300 });
    expect(d.info!.globalAcceptance as number).toBeGreaterThan(0.3);
    expect(d.info!.localAcceptance as number).toBeGreaterThan(0.5);
    for (let p = 0; p < 2; p++) expect(rhat(parameterChains(d, p))).toBeLessThan(1.01);
    const xs = parameterChains(d, 0);
    const ys = parameterChains(d, 1);
    for (let k = 0; k < 8; k++) {
      const ind = xs.map((c, ci) => Float64Array.from(c, (x, i) => (modeOf(x, ys[ci][i]) === k ? 1 : 0)));
      const w = ind.reduce((s, c) => s + c.reduce((a, b) => a + b, 0), 0) / 4000;
      expect(Math.abs(w - 1 / 8), `mode ${k}: weight ${w}`).toBeLessThan(5 * mcseMean(ind));
    }
    // log q is evaluated only where the state moved locally; one batched call per iteration at most.
    expect(q.calls.logProb).toBeLessThanOrEqual(1300);
    expect(d.info!.logqEvals as number).toBe(q.calls.logProbRows);
  });
  it('mala locally; the refit hook runs in warm-up and gets the draws so far', async () => {
    const q = mixtureProposal(centres, 0.4);
    const seen: number[] = [];
    const d = await flowMc(t, q, {
      seed: 2,
      chains: 2,
      draws: 200,
      warmup: 200,
      local: 'mala',
      refit: async (_x, n) => void seen.push(n),
      refits: 2,
    });
    expect(seen).toEqual([2 * 50, 2 * 100]);
    expect(d.info!.refits).toBe(2);
    expect(d.info!.local).toBe('mala');
  });
  it('bad options are ParameterErrors', async () => {
    const q = mixtureProposal(centres, 0.4);
    await expect(flowMc(t, q, { seed: 1, local: 'rwm' as never })).rejects.toThrow(ParameterError);
    await expect(flowMc(t, q, { seed: 1, refit: 'reverse-kl' })).rejects.toThrow(/train/);
    await expect(flowMc(gaussian({ dim: 3 }), q, { seed: 1 })).rejects.toThrow(DimensionError);
  });
});
