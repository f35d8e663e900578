/**
 * Maximum likelihood and forward KL (src/flows/train/maximumLikelihood.ts, forwardKL.ts): a
 * Gaussian is recovered from its draws, the standardisation is undone exactly (log-det
 * included: a fit on a·x + b is the fit on x moved by the map), early stopping keeps the best
 * validation parameters, non-finite steps are skipped and counted, both engines agree, and
 * bad input is refused in one line.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { createFamilyFlow, createFlow } from '../src/flows/builder.js';
import { createDensityFlow } from '../src/flows/densityFlow.js';
import { fitMaximumLikelihood, trainLikelihood, meanNll, epochBatches } from '../src/flows/train/maximumLikelihood.js';
import { trainForwardKL } from '../src/flows/train/forwardKL.js';
import { selectEngine } from '../src/flows/engine/select.js';
import { TrainingError } from '../src/flows/train/checks.js';
import { gaussian } from '../src/targets/gaussian.js';
import { mixture1d } from '../src/targets/mixture.js';
import { banana } from '../src/targets/banana.js';
import { RandomStream } from '../src/core/random.js';
import { DimensionError, NonFiniteError, ParameterError } from '../src/core/errors.js';

beforeAll(async () => {
  await initBackend('wasm');
});

/** mean and standard error of log p − log q over n exact draws (KL(p‖q) estimate). */
function pairedKL(logp: (x: Float64Array) => number, lq: Float64Array, x: Float64Array, dim: number): { kl: number; se: number } {
  const n = lq.length;
  let s = 0;
  let s2 = 0;
  for (let r = 0; r < n; r++) {
    const d = logp(x.subarray(r * dim, (r + 1) * dim)) - lq[r];
    s += d;
    s2 += d * d;
  }
  const m = s / n;
  return { kl: m, se: Math.sqrt((s2 / n - m * m) / n) };
}

describe('fitMaximumLikelihood', () => {
  it('recovers a correlated Gaussian far from the origin at a small scale (KL(p‖q) ≈ 0)', async () => {
    const target = gaussian({ dim: 2, mean: [300, -0.02], cov: [400, 0.16, 0.16, 1e-4] }); // sds 20 and 0.01, correlation 0.8
    const rng = new RandomStream(1);
    const data = target.sampleExact!(3000, rng.derive('data'));
    const flow = createFamilyFlow('maf', 2, { layers: 2, hidden: [16, 16], seed: 2 });
    const fit = await fitMaximumLikelihood(flow, data, { seed: 3, steps: 1500, maxSeconds: Infinity });
    expect(fit.skippedNonFinite).toBe(0);
    expect(fit.nTrain + fit.nValidation).toBe(3000);
    expect(fit.nValidation).toBe(300);
    expect(fit.standardization!.mean[0]).toBeCloseTo(300, -1);
    const test = target.sampleExact!(20000, rng.derive('test'));
    const { kl, se } = pairedKL((x) => target.logDensity(x) - target.logZ!, flow.logProbArrays(test), test, 2);
    // A Gaussian is in the model class; 3000 rows leave ~ (parameters)/(2n) ≈ 0.01 nats of
    // estimation error. Bound: 0.03 fit tolerance + 5 SE of the estimate.
    expect(kl).toBeLessThan(0.03 + 5 * se);
    expect(kl).toBeGreaterThan(-5 * se);
    // The reported NLLs are the ones the flow gives now.
    expect(fit.bestValidationNll).toBeGreaterThan(fit.trainNll - 0.2);
    flow.dispose();
  });

  it('undoes the standardisation exactly: the fit on a·x + b is the fit on x, moved (log-det included)', async () => {
    const rng = new RandomStream(4);
    const base = banana().sampleExact!(1000, rng);
    const a = [1000, 1e-3];
    const b = [5e4, -2];
    const moved = base.map((v, k) => a[k % 2] * v + b[k % 2]);
    const fits = [];
    for (const data of [base, moved]) {
      const flow = createFamilyFlow('coupling', 2, { layers: 2, hidden: [16], seed: 5 });
      await fitMaximumLikelihood(flow, data, { seed: 6, steps: 200, maxSeconds: Infinity });
      fits.push(flow);
    }
    const probe = base.subarray(0, 400);
    const lq0 = fits[0].logProbArrays(probe);
    const lq1 = fits[1].logProbArrays(probe.map((v, k) => a[k % 2] * v + b[k % 2]));
    const logDet = Math.log(a[0]) + Math.log(a[1]);
    // Same standardised data up to rounding, same seed: the same inner fit, float32 rounding apart.
    let worst = 0;
    for (let i = 0; i < 200; i++) worst = Math.max(worst, Math.abs(lq1[i] + logDet - lq0[i]));
    expect(worst).toBeLessThan(2e-3);
    // And q on the moved scale integrates to 1 (midpoint rule on a box holding nearly all the mass).
    const G = 300;
    const lo = [b[0] - 45 * a[0], b[1] - 50 * a[1]];
    const hi = [b[0] + 45 * a[0], b[1] + 15 * a[1]];
    const h = [(hi[0] - lo[0]) / G, (hi[1] - lo[1]) / G];
    const grid = new Float64Array(G * G * 2);
    for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) grid.set([lo[0] + (i + 0.5) * h[0], lo[1] + (j + 0.5) * h[1]], (i * G + j) * 2);
    const lq = fits[1].logProbArrays(grid);
    let mass = 0;
    for (const v of lq) mass += Math.exp(v) * h[0] * h[1];
    expect(mass).toBeGreaterThan(0.97);
    expect(mass).toBeLessThan(1.01);
    for (const f of fits) f.dispose();
  });

  it('early stopping keeps the parameters of the best validation NLL', async () => {
    // 40 rows and a wide flow: it overfits, so the validation NLL turns up and the fit stops.
    const data = gaussian({ dim: 2 }).sampleExact!(40, new RandomStream(7));
    const flow = createFamilyFlow('maf', 2, { layers: 3, hidden: [64, 64], seed: 8 });
    const fit = await fitMaximumLikelihood(flow, data, { seed: 9, steps: 20000, validationFraction: 0.25, validateEvery: 25, patience: 8, learningRate: 1e-2, maxSeconds: Infinity });
    expect(fit.stoppedBy).toBe('early-stopping');
    expect(fit.bestStep).toBeLessThan(fit.steps);
    const best = Math.min(...fit.history.map((h) => h.validationNll));
    expect(fit.bestValidationNll).toBe(best);
    expect(fit.history.find((h) => h.validationNll === best)!.step).toBe(fit.bestStep);
    // Overfitting: the training rows fit better than the held-out ones.
    expect(fit.trainNll).toBeLessThan(fit.bestValidationNll);
    flow.dispose();
  });

  it('on a validation plateau divides the learning rate, from the best parameters, before it stops', async () => {
    const data = gaussian({ dim: 2 }).sampleExact!(40, new RandomStream(7));
    const fitWith = async (plateauReductions: number) => {
      const flow = createFamilyFlow('maf', 2, { layers: 3, hidden: [64, 64], seed: 8 });
      const rates: { step: number; lr: number }[] = [];
      const fit = await fitMaximumLikelihood(flow, data, {
        seed: 9, steps: 20000, validationFraction: 0.25, validateEvery: 25, patience: 8, learningRate: 1e-2, maxSeconds: Infinity, schedule: 'constant', warmupSteps: 0, plateauReductions, plateauFactor: 4,
        progressEvery: 1, onProgress: (p) => rates.push({ step: p.step, lr: p.learningRate }),
      });
      flow.dispose();
      return { fit, rates };
    };
    const none = await fitWith(0);
    const two = await fitWith(2);
    expect(none.fit.plateauReductions).toBe(0);
    expect(two.fit.plateauReductions).toBe(2);
    expect(two.fit.stoppedBy).toBe('early-stopping');
    // Same seed: identical until the first plateau, where one stops and the other goes on at a quarter of the rate.
    expect(two.fit.steps).toBeGreaterThan(none.fit.steps);
    const distinct = [...new Set(two.rates.map((r) => r.lr))];
    expect(distinct).toEqual([1e-2, 1e-2 / 4, 1e-2 / 16]);
    expect(two.rates.find((r) => r.lr < 1e-2)!.step).toBe(none.fit.steps + 1);
    // The reduction restarts from the best parameters: at a rate too small to move a float32
    // weight, the next check sees exactly the best validation NLL, not the plateau's last one.
    const frozen = createFamilyFlow('maf', 2, { layers: 3, hidden: [64, 64], seed: 8 });
    const f = await fitMaximumLikelihood(frozen, data, { seed: 9, steps: none.fit.steps + 50, validationFraction: 0.25, validateEvery: 25, patience: 8, learningRate: 1e-2, maxSeconds: Infinity, schedule: 'constant', warmupSteps: 0, plateauReductions: 1, plateauFactor: 1e12 });
    frozen.dispose();
    const atStop = f.history.find((h) => h.step === none.fit.steps)!;
    const after = f.history.find((h) => h.step > none.fit.steps)!;
    expect(atStop.validationNll).toBeGreaterThan(none.fit.bestValidationNll);
    expect(after.validationNll).toBe(none.fit.bestValidationNll);
    await expect(fitMaximumLikelihood(createFamilyFlow('maf', 2), data, { plateauFactor: 1 })).rejects.toThrow(/plateauFactor/);
  });

  it('the same seed gives the same fit; heap and tfjs engines agree', async () => {
    const data = banana().sampleExact!(500, new RandomStream(10));
    const run = async (engine: 'heap' | 'tfjs') => {
      const flow = createFamilyFlow('maf', 2, { layers: 2, hidden: [16], seed: 11 });
      const fit = await fitMaximumLikelihood(flow, data, { seed: 12, steps: 60, maxSeconds: Infinity, engine });
      const lq = flow.logProbArrays(data.subarray(0, 200));
      flow.dispose();
      return { fit, lq };
    };
    const a = await run('heap');
    const b = await run('heap');
    expect(Array.from(b.lq)).toEqual(Array.from(a.lq));
    expect(a.fit.bestStep).toBe(60);
    expect(a.fit.path).toBe('heap');
    const c = await run('tfjs');
    expect(c.fit.path).toBe('tfjs');
    // Gradients agree to float32 rounding; 60 Adam steps keep the fits within 1e-3 nats.
    for (let i = 0; i < 100; i++) expect(Math.abs(c.lq[i] - a.lq[i])).toBeLessThan(1e-3);
  });

  it('skips and counts non-finite steps, and gives up with a TrainingError when most are', async () => {
    const good = gaussian({ dim: 2 }).sampleExact!(2000, new RandomStream(13));
    const val = { x: good.subarray(0, 200), n: 100 };
    let calls = 0;
    const source = (every: number) => ({
      rows: 2000,
      next: (b: number) => {
        const batch = good.slice(0, b * 2);
        if (++calls % every === 0) batch[0] = 1e30; // log q overflows float32
        return batch;
      },
    });
    const flow = createFamilyFlow('maf', 2, { layers: 1, hidden: [8], seed: 14 });
    const r = await trainLikelihood(flow, source(3), val, { steps: 90, batchSize: 16, validateEvery: 30, maxSeconds: Infinity }, 'test rows');
    expect(r.skippedNonFinite).toBe(30);
    expect(r.warnings.map((w) => w.code)).toContain('skipped-steps');
    for (const p of flow.trainableParams()) for (const v of p.values()) expect(Number.isFinite(v)).toBe(true);
    calls = 0;
    await expect(trainLikelihood(flow, source(1), val, { steps: 20, batchSize: 16, maxSeconds: Infinity }, 'test rows')).rejects.toThrow(TrainingError);
    flow.dispose();
  });

  it('stops on abort and on the time budget, keeping the best parameters so far', async () => {
    const data = banana().sampleExact!(2000, new RandomStream(15));
    const flow = createFamilyFlow('maf', 2, { layers: 1, hidden: [8], seed: 16 });
    const ac = new AbortController();
    const fit = await fitMaximumLikelihood(flow, data, { seed: 1, maxSeconds: Infinity, validateEvery: 10, onProgress: (p) => p.step >= 100 && ac.abort(), progressEvery: 10, signal: ac.signal });
    expect(fit.stoppedBy).toBe('abort');
    expect(fit.steps).toBeLessThan(200);
    const timed = await fitMaximumLikelihood(flow, data, { seed: 1, maxSeconds: 0.3, patience: Infinity });
    expect(timed.stoppedBy).toBe('time');
    expect(meanNll(flow, selectEngine(), data, 2000)).toBeLessThan(Infinity);
    flow.dispose();
    // A step limit reached while the validation NLL still falls (a fresh flow, 30 steps) warns;
    // a step limit rather than a time budget keeps this independent of the machine's speed.
    const fresh = createFamilyFlow('maf', 2, { layers: 1, hidden: [8], seed: 16 });
    const short = await fitMaximumLikelihood(fresh, data, { seed: 1, steps: 30, validateEvery: 10, maxSeconds: Infinity, patience: Infinity });
    expect(short.stoppedBy).toBe('steps');
    expect(short.warnings.map((w) => w.code)).toContain('fit-unconverged');
    fresh.dispose();
  });

  it('keeps its final evaluations inside the time budget, and says so when the budget allows no step', async () => {
    // The steps end when elapsed time plus the measured time of the evaluations after them reaches
    // the budget: rows to evaluate afterwards that would take far longer than the 60 s budget stop
    // the fit right after the first timed validation check (step 1), instead of at its 50-step
    // limit. (The wall-time effect is measured in bench/density.ts, not timed here.)
    const data = banana().sampleExact!(2000, new RandomStream(18));
    const flow = createDensityFlow(2, { seed: 1 });
    const fit = await fitMaximumLikelihood(flow, data, { seed: 1, steps: 50, maxSeconds: 60, validateEvery: 1, patience: Infinity, reserveRows: 1e9 });
    expect(fit.stoppedBy).toBe('time');
    expect(fit.steps).toBeLessThanOrEqual(2);
    expect(Number.isFinite(fit.trainNll)).toBe(true);
    const free = await fitMaximumLikelihood(flow, data, { seed: 1, steps: 50, maxSeconds: 60, validateEvery: 1, patience: Infinity });
    expect(free.stoppedBy).toBe('steps');
    // A budget shorter than the first validation check: no step, an untrained flow, and a warning.
    const none = await fitMaximumLikelihood(flow, banana().sampleExact!(10_000, new RandomStream(19)), { seed: 1, maxSeconds: 0.005 });
    expect(none.steps).toBe(0);
    expect(none.warnings.find((w) => w.code === 'fit-unconverged')?.message).toMatch(/made no step in its 0\.005 s time budget.*untrained/);
    await expect(fitMaximumLikelihood(flow, data, { reserveRows: -1 })).rejects.toThrow(/reserveRows/);
    flow.dispose();
  });

  it('refuses an IAF (sequential density direction) and bad data, in one line', async () => {
    const data = gaussian({ dim: 2 }).sampleExact!(100, new RandomStream(17));
    const iaf = createFamilyFlow('iaf', 2, { layers: 1, hidden: [8] });
    await expect(fitMaximumLikelihood(iaf, data)).rejects.toThrow(/sequential passes.*'maf' or 'coupling'/);
    iaf.dispose();
    const flow = createFamilyFlow('maf', 2, { layers: 1, hidden: [8] });
    const bad = data.slice();
    bad[7] = NaN;
    await expect(fitMaximumLikelihood(flow, bad, { names: ['a', 'b'] })).rejects.toThrow(NonFiniteError);
    await expect(fitMaximumLikelihood(flow, bad, { names: ['a', 'b'] })).rejects.toThrow(/row 4, column 'b' is NaN/);
    const constant = data.map((v, k) => (k % 2 ? 3 : v));
    await expect(fitMaximumLikelihood(flow, constant)).rejects.toThrow(/column 2 is constant/);
    await expect(fitMaximumLikelihood(flow, data.subarray(0, 10))).rejects.toThrow(/too few/);
    await expect(fitMaximumLikelihood(flow, data.subarray(0, 11))).rejects.toThrow(DimensionError);
    await expect(fitMaximumLikelihood(flow, data, { validationFraction: 1 })).rejects.toThrow(ParameterError);
    const noAffine = createFlow({ dim: 2, layers: [{ type: 'coupling', hidden: [8] }] });
    await expect(fitMaximumLikelihood(noAffine, data)).rejects.toThrow(/standardize: false/);
    noAffine.dispose();
    // Counts (few distinct values) are fitted, with a warning.
    const counts = data.map((v, k) => (k % 2 ? Math.round(v) : v));
    const fit = await fitMaximumLikelihood(flow, counts, { steps: 10 });
    expect(fit.warnings.map((w) => w.code)).toContain('discrete-data');
    flow.dispose();
  });
});

describe('maximumLikelihoodRefit', () => {
  it('refits the flow of flowmc in warm-up on the chains\' draws', async () => {
    const { flowMc } = await import('../src/samplers/flowMc.js');
    const target = gaussian({ dim: 2, mean: [3, -1] });
    const flow = createFamilyFlow('coupling', 2, { layers: 2, hidden: [8], seed: 1 });
    const before = flow.store.snapshot();
    const { maximumLikelihoodRefit } = await import('../src/flows/train/maximumLikelihood.js');
    const draws = await flowMc(target, flow, { seed: 1, chains: 4, draws: 100, warmup: 200, refit: maximumLikelihoodRefit(flow, { steps: 50, maxSeconds: Infinity }) });
    expect(draws.info?.refits).toBe(1);
    const after = flow.store.snapshot();
    expect(after.some((a, i) => a.some((v, k) => v !== before[i][k]))).toBe(true);
    // The chains still target p: the means are within 5 MCSE-ish bounds of the truth (sd 1, ≥ 50 ESS).
    let m0 = 0;
    for (let r = 0; r < 400; r++) m0 += draws.values[r * 2] / 400;
    expect(Math.abs(m0 - 3)).toBeLessThan(5 / Math.sqrt(50));
    flow.dispose();
  });
});

describe('trainForwardKL', () => {
  it('covers both modes of a 1-D mixture from its exact draws (KL(p‖q) small)', async () => {
    const target = mixture1d();
    const flow = createFlow({ dim: 1, layers: [{ type: 'elementwise', transformer: { kind: 'rq-spline', bins: 8, bound: 4 } }, { type: 'affine-diagonal' }], seed: 1 });
    const r = await trainForwardKL(flow, target, { seed: 2, steps: 1500, learningRate: 1e-2, maxSeconds: Infinity });
    expect(r.skippedNonFinite).toBe(0);
    // An 8-bin spline fits two Gaussians closely; the bound is a fit tolerance plus 5 SE.
    expect(r.forwardKL).toBeLessThan(0.05 + 5 * r.forwardKLSe);
    expect(r.forwardKL).toBeGreaterThan(-5 * r.forwardKLSe);
    flow.dispose();
  });

  it('needs exact draws', async () => {
    const t = { ...gaussian({ dim: 2 }), sampleExact: undefined };
    const flow = createFamilyFlow('maf', 2, { layers: 1, hidden: [8] });
    await expect(trainForwardKL(flow, t)).rejects.toThrow(/no exact sampler/);
    flow.dispose();
  });
});

describe('epochBatches', () => {
  it('visits every row once per epoch', () => {
    const x = Float64Array.from({ length: 10 }, (_, i) => i);
    const src = epochBatches(x, 10, 1, new RandomStream(1));
    const seen = Array.from(src.next(5)).concat(Array.from(src.next(5)));
    expect(seen.sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
