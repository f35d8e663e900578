/**
 * Reverse-KL training: a correlated Gaussian is recovered, no tensors leak over thousands of
 * steps, non-finite steps are skipped and counted, time/abort/plateau stops are clean.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { createDefaultFlow } from '../src/flows/builder.js';
import { learningRateAt, trainReverseKL } from '../src/flows/train/reverseKL.js';
import { HeapKernels } from '../src/flows/engine/heap/kernels.js';
import { gaussian } from '../src/targets/gaussian.js';
import { funnel } from '../src/targets/funnel.js';
import type { Target } from '../src/targets/target.js';
import { DimensionError, ParameterError } from '../src/core/errors.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('trainReverseKL', () => {
  it('recovers a correlated 3-D Gaussian (mean and covariance)', async () => {
    const cov = [4, 1.2, 0, 1.2, 1, 0.3, 0, 0.3, 0.5];
    const mean = [1, -2, 0.5];
    const target = gaussian({ dim: 3, mean, cov });
    const flow = createDefaultFlow(3, { layers: 2, hidden: [16, 16], seed: 3 });
    const r = await trainReverseKL(flow, target, { steps: 800, batchSize: 128, learningRate: 1e-2, seed: 5, earlyStopping: false });
    expect(r.stoppedBy).toBe('steps');
    expect(r.skippedNonFinite).toBe(0);
    const N = 20000;
    const { x, logq } = flow.sampleArrays(N, 77);
    // KL(q||p) = log Z − ELBO ≥ 0; a good fit has it near 0. MCSE of the ELBO mean is < 0.005 here.
    let elbo = 0;
    for (let i = 0; i < N; i++) elbo += target.logDensity(x.subarray(i * 3, i * 3 + 3)) - logq[i];
    elbo /= N;
    expect(target.logZ! - elbo).toBeLessThan(0.03);
    expect(target.logZ! - elbo).toBeGreaterThan(-0.02);
    // Moments of q. Tolerance: 5 MCSE (independent draws: sd/sqrt(N)) plus 0.03 sd of fit error;
    // false-failure budget from sampling noise alone < 1e-5 per check.
    const m = [0, 0, 0];
    for (let i = 0; i < N; i++) for (let d = 0; d < 3; d++) m[d] += x[i * 3 + d] / N;
    const c = new Array(9).fill(0);
    for (let i = 0; i < N; i++) for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) c[a * 3 + b] += ((x[i * 3 + a] - m[a]) * (x[i * 3 + b] - m[b])) / (N - 1);
    for (let d = 0; d < 3; d++) {
      const sd = Math.sqrt(cov[d * 3 + d]);
      expect(Math.abs(m[d] - mean[d])).toBeLessThan(5 * sd / Math.sqrt(N) + 0.03 * sd);
    }
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        // MCSE of a sample covariance ≈ sqrt((Σaa Σbb + Σab²)/N); plus 5% of sd_a sd_b for the fit.
        const sab = Math.sqrt(cov[a * 3 + a] * cov[b * 3 + b]);
        const mcse = Math.sqrt((cov[a * 3 + a] * cov[b * 3 + b] + cov[a * 3 + b] ** 2) / N);
        expect(Math.abs(c[a * 3 + b] - cov[a * 3 + b])).toBeLessThan(5 * mcse + 0.05 * sab);
      }
    }
    flow.dispose();
  });

  for (const engine of ['heap', 'tfjs'] as const) {
    it(`does not leak tensors or heap buffers over 2000 steps (${engine} engine)`, async () => {
      const target = gaussian({ dim: 2, scale: [2, 0.5] });
      const flow = createDefaultFlow(2, { layers: 1, hidden: [4], seed: 1 });
      const counts: number[] = [];
      const kernels = HeapKernels.get()!;
      // tfjs creates two cached tensors the first time some gradients run; warm that up first.
      await trainReverseKL(flow, target, { steps: 5, batchSize: 8, earlyStopping: false, engine });
      const before = tf.memory().numTensors;
      const buffersBefore = kernels.liveBuffers;
      const r = await trainReverseKL(flow, target, {
        steps: 2000,
        batchSize: 8,
        seed: 2,
        earlyStopping: false,
        progressEvery: 250,
        engine,
        onProgress: () => counts.push(tf.memory().numTensors),
      });
      expect(r.steps).toBe(2000);
      expect(r.path).toBe(engine);
      // Flat during training (the optimiser's moments are allocated once, by step 250)...
      expect(new Set(counts.slice(0, -1)).size).toBe(1);
      // ...and nothing is left at the end: no tensor, and no heap buffer beyond the reused pool
      // of the warm-up run (same sizes every step).
      expect(tf.memory().numTensors).toBe(before);
      expect(kernels.liveBuffers).toBe(buffersBefore);
      flow.dispose();
    });
  }

  it('skips and counts non-finite steps without corrupting the weights', async () => {
    const good = gaussian({ dim: 2 });
    let calls = 0;
    // A target whose log density is NaN on every third call.
    const flaky: Target = {
      ...good,
      logProb: (x) => {
        calls++;
        const lp = good.logProb!(x);
        if (calls % 3 !== 0) return lp;
        const bad = tf.mul(lp, NaN) as tf.Tensor1D;
        lp.dispose();
        return bad;
      },
    };
    const flow = createDefaultFlow(2, { layers: 1, hidden: [8], seed: 1 });
    const r = await trainReverseKL(flow, flaky, { steps: 90, batchSize: 16, seed: 1, earlyStopping: false });
    expect(r.skippedNonFinite).toBe(30);
    expect(r.history.length).toBeGreaterThan(0);
    for (const h of r.history) expect(Number.isFinite(h.elbo) && Number.isFinite(h.loss)).toBe(true);
    for (const p of flow.trainableParams()) {
      const a = p.values();
      for (let i = 0; i < a.length; i++) expect(Number.isFinite(a[i])).toBe(true);
    }
    flow.dispose();
  });

  it('stops cleanly on abort, on the time budget and on a plateau', async () => {
    const target = gaussian({ dim: 2 });
    const flow = createDefaultFlow(2, { layers: 1, hidden: [8], seed: 1 });
    const ac = new AbortController();
    const r1 = await trainReverseKL(flow, target, {
      steps: 100000,
      batchSize: 8,
      earlyStopping: false,
      signal: ac.signal,
      progressEvery: 10,
      onProgress: (step) => {
        if (step >= 50) ac.abort();
      },
    });
    expect(r1.stoppedBy).toBe('abort');
    expect(r1.steps).toBeGreaterThanOrEqual(50);
    expect(r1.steps).toBeLessThan(100000);
    const r2 = await trainReverseKL(flow, target, { steps: 1e6, batchSize: 8, earlyStopping: false, maxSeconds: 0.5 });
    expect(r2.stoppedBy).toBe('time');
    expect(r2.seconds).toBeLessThan(3);
    // A flow that already equals N(0, I) cannot improve: the plateau rule fires.
    const r3 = await trainReverseKL(flow, target, { steps: 5000, batchSize: 64, learningRate: 1e-4, earlyStopping: { window: 100, minDelta: 0.01 } });
    expect(r3.stoppedBy).toBe('plateau');
    expect(r3.steps).toBeLessThan(5000);
    flow.dispose();
  });

  it('annealing and the path-derivative (STL) gradient train too', async () => {
    const target = gaussian({ dim: 2, mean: [1, 1], scale: [1.5, 0.7] });
    const flow = createDefaultFlow(2, { layers: 1, hidden: [8], seed: 1 });
    const r = await trainReverseKL(flow, target, { steps: 300, batchSize: 64, learningRate: 1e-2, stl: true, anneal: { from: 0.3, steps: 100 }, earlyStopping: false, seed: 4 });
    expect(r.skippedNonFinite).toBe(0);
    // log Z − ELBO (KL) is small at the end; batch MA over 100 steps of 64 draws.
    expect(target.logZ! - r.finalElboMA).toBeLessThan(0.05);
    flow.dispose();
  });

  it('the Rényi objective (alpha 0.5) fits a Gaussian too', async () => {
    const target = gaussian({ dim: 2, mean: [-1, 2], scale: [0.5, 3] });
    const flow = createDefaultFlow(2, { layers: 1, hidden: [8], seed: 2 });
    const r = await trainReverseKL(flow, target, { steps: 400, batchSize: 128, renyiAlpha: 0.5, earlyStopping: false, seed: 3 });
    expect(r.skippedNonFinite).toBe(0);
    // KL(q||p) from the final ELBO moving average (100 batches of 128: MCSE < 0.01).
    expect(target.logZ! - r.finalElboMA).toBeLessThan(0.05);
    await expect(trainReverseKL(flow, target, { renyiAlpha: 2 })).rejects.toThrow(/renyiAlpha/);
    flow.dispose();
  });

  it('rejects bad options and mismatched dimensions', async () => {
    const flow = createDefaultFlow(2, { layers: 1, hidden: [4] });
    await expect(trainReverseKL(flow, gaussian({ dim: 3 }), {})).rejects.toThrow(DimensionError);
    await expect(trainReverseKL(flow, gaussian({ dim: 2 }), { learningRate: -1 })).rejects.toThrow(ParameterError);
    await expect(trainReverseKL(flow, gaussian({ dim: 2 }), { schedule: 'linear' as never })).rejects.toThrow(/schedule/);
    flow.dispose();
  });

  it('learning-rate schedules: warm-up, then cosine/exponential down to the final factor', () => {
    expect(learningRateAt(0, 1000, 1, 'cosine', 100, 0.05)).toBeCloseTo(0.01);
    expect(learningRateAt(100, 1000, 1, 'cosine', 100, 0.05)).toBeCloseTo(1);
    expect(learningRateAt(999, 1000, 1, 'cosine', 100, 0.05)).toBeCloseTo(0.05, 3);
    expect(learningRateAt(999, 1000, 1, 'exponential', 100, 0.05)).toBeCloseTo(0.05, 3);
    expect(learningRateAt(500, 1000, 1, 'constant', 100, 0.05)).toBe(1);
  });

  it('an interrupted run resumed from its checkpoint equals the uninterrupted run, bit for bit', async () => {
    const target = funnel({ dim: 3 });
    const opts = { steps: 120, batchSize: 64, seed: 5, earlyStopping: { window: 30, minDelta: 0 } as const, untilUsable: { every: 50, draws: 256, paretoK: -1, essFraction: 2 } };
    const a = createDefaultFlow(3, { layers: 2, hidden: [12], seed: 1 });
    const ra = await trainReverseKL(a, target, opts);
    expect(ra.steps).toBeGreaterThan(60);
    const b = createDefaultFlow(3, { layers: 2, hidden: [12], seed: 1 });
    const ctl = new AbortController();
    const rb1 = await trainReverseKL(b, target, { ...opts, signal: ctl.signal, progressEvery: 1, onProgress: (s) => s >= 47 && ctl.abort() });
    expect(rb1.stoppedBy).toBe('abort');
    expect(rb1.steps).toBe(47);
    // The checkpoint travels as JSON (as `flowsampler train --resume` stores it).
    const cp = JSON.parse(JSON.stringify(rb1.checkpoint));
    const rb2 = await trainReverseKL(b, target, { ...opts, resume: cp });
    expect(rb2.steps).toBe(ra.steps);
    expect(rb2.stoppedBy).toBe(ra.stoppedBy);
    a.trainableParams().forEach((p, i) => expect(Array.from(b.trainableParams()[i].values()), p.name).toEqual(Array.from(p.values())));
    expect(rb2.history).toEqual(ra.history);
    expect(rb2.checks).toEqual(ra.checks);
    expect(rb2.finalElboMA).toBe(ra.finalElboMA);
    await expect(trainReverseKL(b, target, { ...opts, batchSize: 32, resume: cp })).rejects.toThrow(/resume: the checkpoint was made with/);
    a.dispose();
    b.dispose();
  });

  it('untilUsable stops once k-hat and ESS/N pass the check twice in a row, and records every check', async () => {
    const target = gaussian({ dim: 2, mean: [1, -1], scale: [2, 0.5] });
    const flow = createDefaultFlow(2, { layers: 1, hidden: [8], seed: 3 });
    const r = await trainReverseKL(flow, target, { steps: 3000, batchSize: 128, seed: 1, untilUsable: { every: 50 } });
    expect(r.stoppedBy).toBe('usable');
    expect(r.steps).toBeLessThan(3000);
    const last = r.checks[r.checks.length - 1];
    expect(last.passed).toBe(true);
    expect(last.paretoK).toBeLessThan(0.6);
    expect(last.essFraction).toBeGreaterThanOrEqual(0.6);
    // The default asks for 2 passing checks in a row: the last two passed, and no earlier pair did.
    expect(r.checks.length).toBeGreaterThanOrEqual(2);
    expect(r.checks[r.checks.length - 2].passed).toBe(true);
    const earlier = r.checks.slice(0, -1);
    expect(earlier.slice(1).some((c, i) => c.passed && earlier[i].passed)).toBe(false);
    flow.dispose();
  });
});
