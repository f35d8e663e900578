/**
 * Mode-covering training (src/flows/train/modeCovering.ts) and its objective
 * (src/flows/train/weightedLikelihood.ts): the weighted negative log likelihood and its gradient,
 * drawing by weight, self-normalised importance batches, and a fit that covers both modes of
 * the 1-D mixture where reverse KL's Gaussian cannot.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { RandomStream } from '../src/core/random.js';
import { ParameterError } from '../src/core/errors.js';
import { createModeCoveringFlow, trainModeCovering } from '../src/flows/train/modeCovering.js';
import { WeightedPoints, importanceBatch, weightedNllGradient } from '../src/flows/train/weightedLikelihood.js';
import { flowImportanceSample } from '../src/samplers/flowImportance.js';
import { gaussian } from '../src/targets/gaussian.js';
import { mixture1d } from '../src/targets/mixture.js';
import { modeVisits } from '../src/diagnostics/modes.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('weighted likelihood objective', () => {
  it('loss is −Σ w log q and its gradient matches central differences (both engines)', () => {
    for (const engine of ['heap', 'tfjs'] as const) {
      const flow = createModeCoveringFlow(2, { layers: 2, hidden: [8], bins: 4, seed: 3 });
      flow.engine = engine;
      const rng = new RandomStream(1);
      const x = rng.fillNormal(new Float64Array(6 * 2));
      const w = [0.1, 0.3, 0.05, 0.25, 0.2, 0.1];
      const r = weightedNllGradient(flow, flow.activeEngine(), x, 6, w);
      const lq = flow.logProbArrays(x);
      const loss = -w.reduce((s, wi, i) => s + wi * lq[i], 0);
      expect(r.loss).toBeCloseTo(loss, 4);
      // One weight of the first coupling conditioner, by central differences in float64 of float32 passes.
      const p = flow.trainableParams()[0];
      const k = 3;
      const v = p.values().slice();
      const h = 1e-2;
      const at = (d: number) => {
        const u = v.slice();
        u[k] += d;
        flow.store.set(p, u);
        const l = flow.logProbArrays(x);
        return -w.reduce((s, wi, i) => s + wi * l[i], 0);
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      flow.store.set(p, v);
      const g = r.grads.get(p)![k];
      expect(Math.abs(g - fd)).toBeLessThan(2e-3 + 0.02 * Math.abs(fd));
      flow.dispose();
    }
  });

  it('WeightedPoints draws by weight (within 5 multinomial SE) and gives weighted moments', () => {
    const x = Float64Array.from([0, 1, 2, 3]);
    const pts = new WeightedPoints(x, 1, [Math.log(1), Math.log(2), -Infinity, Math.log(5)]);
    expect(Array.from(pts.weights)).toEqual([1 / 8, 2 / 8, 0, 5 / 8]);
    expect(pts.ess()).toBeCloseTo(64 / 30, 10);
    const n = 40_000;
    const counts = [0, 0, 0, 0];
    const rng = new RandomStream(2);
    for (let i = 0; i < n; i++) counts[pts.draw(rng)]++;
    expect(counts[2]).toBe(0);
    for (const [i, p] of [[0, 1 / 8], [1, 2 / 8], [3, 5 / 8]] as const) expect(Math.abs(counts[i] / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    const m = pts.moments();
    expect(m.mean[0]).toBeCloseTo((0 * 1 + 1 * 2 + 3 * 5) / 8, 12);
    expect(() => new WeightedPoints(x, 3)).toThrow(ParameterError);
    expect(() => new WeightedPoints(x, 1, [-Infinity, -Infinity, -Infinity, -Infinity])).toThrow(/finite log weight/);
    expect(() => new WeightedPoints(Float64Array.from([0, NaN]), 1)).toThrow(ParameterError);
  });

  it('an exact flow gets equal importance weights (ESS/N = 1)', () => {
    // The target is the flow's own density (normalised): weights equal up to float32 rounding.
    const flow = createModeCoveringFlow(3, { seed: 1 });
    const self = { ...gaussian({ dim: 3 }), logDensity: (x: Float64Array) => flow.logProbArrays(x)[0] };
    const b = importanceBatch(flow, self, 256, new RandomStream(4))!;
    expect(b.essFraction).toBeGreaterThan(1 - 1e-6);
    for (const w of b.weights) expect(w).toBeCloseTo(1 / 256, 6);
    expect(b.elbo).toBeCloseTo(0, 4);
    // Against N(0, I) (the flow is near, not at, the identity) the weights spread.
    const g = importanceBatch(flow, gaussian({ dim: 3 }), 256, new RandomStream(4), 2)!;
    expect(g.essFraction).toBeLessThan(1);
    expect(g.weights.reduce((a, c) => a + c, 0)).toBeCloseTo(1, 12);
    flow.dispose();
  });
});

describe('trainModeCovering', () => {
  it('refuses a flow whose density direction is sequential (an IAF), naming the layer', async () => {
    const { createDefaultFlow } = await import('../src/flows/index.js');
    const flow = createDefaultFlow(2, { seed: 1 });
    await expect(trainModeCovering(flow, gaussian({ dim: 2 }), { population: { x: new Float64Array(20) }, steps: 5 })).rejects.toThrow(/trainModeCovering: layer \d+ .* sequential passes/);
    flow.dispose();
  });

  it('covers both modes of N(±2, 0.5²) from a population, where a Gaussian cannot', async () => {
    const target = mixture1d();
    const pop = target.sampleExact!(4000, new RandomStream(5));
    const pts = new WeightedPoints(pop, 1);
    const { mean, sd } = pts.moments();
    const flow = createModeCoveringFlow(1, { loc: mean, scale: sd, seed: 2 });
    const r = await trainModeCovering(flow, target, { population: { x: pop }, steps: 600, populationSteps: 300, batchSize: 256, seed: 3 });
    expect(r.skippedNonFinite).toBe(0);
    // The proposal checks run from the population phase on (a fit of exact draws may pass them before refining).
    expect(r.checks.some((c) => c.step <= 300)).toBe(true);
    expect(['steps', 'usable']).toContain(r.stoppedBy);
    // Stopped as usable: its last two checks passed with ESS/N ≥ 0.8; run to the end: it refined.
    if (r.stoppedBy === 'usable') expect(r.checks.slice(-2).every((c) => c.passed && c.essFraction >= 0.8)).toBe(true);
    else expect(r.history.some((h) => h.phase === 'refine' && h.essFraction! > 0.5)).toBe(true);
    const n = 20_000;
    const is = flowImportanceSample(flow, target, { n, seed: 9, resample: true });
    // log Ẑ within 5 standard errors of the truth (log Z = 0), plus 0.01 for the fit.
    expect(Math.abs(is.logZ - target.logZ!)).toBeLessThan(5 * is.logZSe + 0.01);
    expect(is.kishEss / n).toBeGreaterThan(0.8);
    // Each mode's share of the raw (unweighted) flow draws is near 1/2: the flow itself covers both.
    const raw = flow.sampleArrays(n, 10).x;
    const mv = modeVisits(raw, 1, target.modes!);
    expect(mv.visited).toBe(2);
    for (const c of mv.counts) expect(Math.abs(c / n - 0.5)).toBeLessThan(0.05);
    flow.dispose();
  });

  it('is reproducible for a seed and refuses bad options', async () => {
    const target = gaussian({ dim: 2, scale: [2, 0.5] });
    const pop = target.sampleExact!(500, new RandomStream(1));
    const run = async () => {
      const flow = createModeCoveringFlow(2, { layers: 2, hidden: [8], bins: 4, seed: 1 });
      await trainModeCovering(flow, target, { population: { x: pop }, steps: 30, populationSteps: 15, batchSize: 64, seed: 7, untilUsable: false });
      const v = Array.from(flow.trainableParams()[0].values());
      flow.dispose();
      return v;
    };
    expect(await run()).toEqual(await run());
    const flow = createModeCoveringFlow(2, { seed: 1 });
    await expect(trainModeCovering(flow, target, { population: { x: Float64Array.from([1, 2, 3]) } })).rejects.toThrow(/whole rows/);
    await expect(trainModeCovering(flow, target, {} as never)).rejects.toThrow(/population/);
    await expect(trainModeCovering(flow, target, { population: { x: pop }, refineAlpha: 0 })).rejects.toThrow(ParameterError);
    await expect(trainModeCovering(flow, gaussian({ dim: 3 }), { population: { x: pop } })).rejects.toThrow(/dim/);
    flow.dispose();
  });

  it('stops cleanly on abort and on its time budget', async () => {
    const target = gaussian({ dim: 2 });
    const pop = target.sampleExact!(500, new RandomStream(1));
    const flow = createModeCoveringFlow(2, { layers: 2, hidden: [8], bins: 4, seed: 1 });
    const ac = new AbortController();
    ac.abort();
    const r = await trainModeCovering(flow, target, { population: { x: pop }, steps: 100, signal: ac.signal });
    expect(r.stoppedBy).toBe('abort');
    expect(r.steps).toBe(0);
    const t = await trainModeCovering(flow, target, { population: { x: pop }, steps: 1_000_000, batchSize: 32, maxSeconds: 0.3, untilUsable: false });
    expect(t.stoppedBy).toBe('time');
    flow.dispose();
  });
});
