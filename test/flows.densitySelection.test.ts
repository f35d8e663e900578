/**
 * The density family chosen by validation NLL (`fit --flow auto`): on a bimodal conditional the
 * spline coupling flow is kept over the affine MAF (which cannot split a conditional); the kept
 * flow is the candidate with the lowest NLL on the one validation split; the others are
 * disposed; an interrupted fit keeps what it has; no validation rows is refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { fitDensityWithSelection, AUTO_DENSITY_CANDIDATES } from '../src/flows/train/densitySelection.js';
import { fitMaximumLikelihood } from '../src/flows/train/maximumLikelihood.js';
import { createDensityFlow } from '../src/flows/densityFlow.js';
import { HeapKernels } from '../src/flows/engine/heap/kernels.js';
import { RandomStream } from '../src/core/random.js';
import { ParameterError } from '../src/core/errors.js';

beforeAll(async () => {
  await initBackend();
});

/** x1 ~ N(0, 1); x2 = ±2 + 0.3 ε, independent of x1: a conditional with two modes. */
function twoBands(n: number, seed: number): Float64Array {
  const rng = new RandomStream(seed);
  const x = new Float64Array(2 * n);
  for (let r = 0; r < n; r++) {
    x[2 * r] = rng.normal();
    x[2 * r + 1] = (rng.uniform() < 0.5 ? -2 : 2) + 0.3 * rng.normal();
  }
  return x;
}

const SMALL = { layers: 2, hidden: [16, 16] };

describe('density flow selection by validation NLL', () => {
  it('keeps the spline coupling flow on a bimodal conditional, the lowest validation NLL of the candidates', async () => {
    const data = twoBands(2000, 1);
    const sel = await fitDensityWithSelection(2, data, { flow: SMALL, seed: 3, steps: 600, maxSeconds: 120 });
    expect(sel.candidates.map((c) => c.name)).toEqual(AUTO_DENSITY_CANDIDATES.map((c) => c.name));
    expect(sel.chosen.name).toBe('coupling spline');
    expect(sel.chosen.validationNll).toBe(Math.min(...sel.candidates.map((c) => c.validationNll)));
    expect(sel.candidates[1].versusKept).toMatchObject({ against: 'coupling spline', replaced: false });
    expect(sel.candidates[1].versusKept!.gain).toBeCloseTo(sel.chosen.validationNll - sel.candidates[1].validationNll, 6);
    expect(sel.fit.bestValidationNll).toBe(sel.chosen.validationNll);
    expect(sel.interrupted).toBe(false);
    // The bimodal x2 costs the affine MAF clearly more than sampling noise (~0.05 nats on 200 rows).
    const maf = sel.candidates.find((c) => c.name === 'maf affine')!;
    expect(maf.validationNll - sel.chosen.validationNll).toBeGreaterThan(0.2);
    expect(maf.weightDecay).toBe(1);
    // The candidates were judged on the same rows: refitting the MAF candidate alone gives its NLL.
    const alone = createDensityFlow(2, { ...SMALL, family: 'maf', transformer: 'affine', seed: 3 });
    const fit = await fitMaximumLikelihood(alone, data, { seed: 3, steps: 600, maxSeconds: 120, weightDecay: 1 });
    expect(fit.bestValidationNll).toBeCloseTo(maf.validationNll, 10);
    alone.dispose();
    sel.flow.dispose();
  });

  it('disposes the candidates it does not keep (no tensor or heap buffer left after the kept flow is disposed)', async () => {
    const data = twoBands(500, 2);
    const run = async () => (await fitDensityWithSelection(2, data, { flow: SMALL, seed: 1, steps: 30, maxSeconds: 60 })).flow.dispose();
    await run();
    const kernels = HeapKernels.get()!;
    const tensors = tf.memory().numTensors;
    const buffers = kernels.liveBuffers;
    await run();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(kernels.liveBuffers).toBe(buffers);
  });

  it('an interrupted fit keeps the best of what was fitted and says so; no validation rows is refused', async () => {
    const data = twoBands(500, 4);
    const ctl = new AbortController();
    const sel = await fitDensityWithSelection(2, data, {
      flow: SMALL,
      seed: 1,
      steps: 100_000,
      patience: 1000,
      signal: ctl.signal,
      onCandidateProgress: (_name, _k, p) => p.step >= 50 && ctl.abort(),
    });
    expect(sel.interrupted).toBe(true);
    expect(sel.candidates).toHaveLength(1);
    expect(sel.chosen.stoppedBy).toBe('abort');
    expect(Number.isFinite(sel.chosen.validationNll)).toBe(true);
    sel.flow.dispose();
    await expect(fitDensityWithSelection(2, data, { validationFraction: 0 })).rejects.toThrow(/compares the candidates on held-out rows/);
    // One candidate needs no comparison: it fits as fitMaximumLikelihood does, here without validation rows.
    const one = await fitDensityWithSelection(2, data, { flow: SMALL, seed: 1, steps: 20, validationFraction: 0, candidates: [AUTO_DENSITY_CANDIDATES[0]] });
    expect(one.fit.nValidation).toBe(0);
    expect(one.candidates[0].versusKept).toBeNull();
    one.flow.dispose();
    await expect(fitDensityWithSelection(2, data, { candidates: [] })).rejects.toThrow(/no candidates/);
  });
});

describe('the rule for replacing the kept candidate', () => {
  it('a later candidate replaces the first only when better by more than minZ paired standard errors', async () => {
    const data = twoBands(600, 7);
    // The same flow twice: the second is identical to the first (gain 0), so it never replaces it...
    const same = [{ name: 'a', flow: { family: 'coupling' as const, transformer: 'affine' as const } }, { name: 'b', flow: { family: 'coupling' as const, transformer: 'affine' as const } }];
    const s1 = await fitDensityWithSelection(2, data, { flow: SMALL, seed: 2, steps: 40, candidates: same });
    expect(s1.candidates[1].versusKept).toMatchObject({ against: 'a', gain: 0, replaced: false });
    expect(s1.chosen.name).toBe('a');
    s1.flow.dispose();
    // ...while an untrained first candidate (1 step) is replaced by a trained one, clearly better.
    const s2 = await fitDensityWithSelection(2, data, { flow: SMALL, seed: 2, candidates: [{ ...same[0], fit: { learningRate: 1e-9 } }, { ...same[1] }], steps: 300 });
    const v = s2.candidates[1].versusKept!;
    expect(v.gain).toBeGreaterThan(2 * v.se);
    expect(v.replaced).toBe(true);
    expect(s2.chosen.name).toBe('b');
    s2.flow.dispose();
  });
});

describe('candidates fitted side by side on worker threads', () => {
  it('gives the same fits and the same choice as one thread, each candidate with the whole budget', async () => {
    const data = twoBands(800, 5);
    const opts = { flow: SMALL, seed: 4, steps: 200, maxSeconds: 600 };
    const one = await fitDensityWithSelection(2, data, opts);
    const two = await fitDensityWithSelection(2, data, { ...opts, workers: 2 });
    expect(one.workers).toBe(1);
    expect(two.workers).toBe(2);
    // One thread: the first candidate gets half the time, the second what is left, more than that.
    const [a, b] = one.candidates.map((c) => c.maxSeconds);
    expect(a).toBeGreaterThan(299.5);
    expect(a).toBeLessThanOrEqual(300);
    expect(b).toBeGreaterThan(a);
    // Two threads: each has the whole budget, less the threads' start-up and the hand-back time.
    for (const c of two.candidates) expect(c.maxSeconds).toBeGreaterThan(590);
    expect(two.candidates.map((c) => [c.name, c.steps, c.validationNll])).toEqual(one.candidates.map((c) => [c.name, c.steps, c.validationNll]));
    expect(two.candidates[1].versusKept).toEqual(one.candidates[1].versusKept);
    expect(two.chosen.name).toBe(one.chosen.name);
    const points = twoBands(50, 6);
    expect(Array.from(two.flow.logProbArrays(points))).toEqual(Array.from(one.flow.logProbArrays(points)));
    one.flow.dispose();
    two.flow.dispose();
  });

  it('an interrupt stops every running fit, which keeps its best parameters; a worker error reaches the caller', async () => {
    const data = twoBands(500, 8);
    const ctl = new AbortController();
    const seen = new Set<number>();
    const sel = await fitDensityWithSelection(2, data, {
      flow: SMALL,
      seed: 1,
      steps: 1_000_000,
      patience: 1e6,
      workers: 2,
      signal: ctl.signal,
      onCandidateProgress: (_name, k, p) => {
        if (p.step >= 50) seen.add(k);
        if (seen.size === 2) ctl.abort();
      },
    });
    expect(sel.interrupted).toBe(true);
    expect(sel.candidates).toHaveLength(2);
    for (const c of sel.candidates) {
      expect(c.stoppedBy).toBe('abort');
      expect(Number.isFinite(c.validationNll)).toBe(true);
    }
    sel.flow.dispose();
    const bad = [AUTO_DENSITY_CANDIDATES[0], { name: 'bad', flow: { family: 'maf' as const, bins: -1 } }];
    await expect(fitDensityWithSelection(2, data, { flow: SMALL, steps: 20, workers: 2, candidates: bad })).rejects.toMatchObject({ name: 'ParameterError', message: expect.stringMatching(/bins/) });
  });

  it('maxSeconds holds for the whole fit: shared on one thread, start-up included on two', async () => {
    const data = twoBands(500, 9);
    const started = performance.now();
    const sel = await fitDensityWithSelection(2, data, { flow: SMALL, seed: 1, steps: 1_000_000, patience: 1e6, maxSeconds: 3 });
    // Each fit keeps its own final evaluations inside its budget; 0.5 s covers the last step and timer noise.
    expect((performance.now() - started) / 1000).toBeLessThan(3 + 0.5);
    expect(sel.candidates[0].maxSeconds).toBeLessThanOrEqual(1.5);
    for (const c of sel.candidates) {
      expect(c.stoppedBy).toBe('time');
      // The budget is checked between steps: a step of this small flow takes milliseconds.
      expect(c.seconds).toBeLessThan(c.maxSeconds + 0.5);
    }
    sel.flow.dispose();
    // On a thread each, the threads' start-up counts against the one budget of the whole fit.
    const t2 = performance.now();
    const par = await fitDensityWithSelection(2, data, { flow: SMALL, seed: 1, steps: 1_000_000, patience: 1e6, maxSeconds: 3, workers: 2 });
    expect((performance.now() - t2) / 1000).toBeLessThan(3 + 0.5);
    for (const c of par.candidates) expect(c.stoppedBy).toBe('time');
    par.flow.dispose();
  });
});
