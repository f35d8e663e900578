/**
 * The optimisation loop the flow trainers share (src/flows/train/optimiserLoop.ts): the
 * learning rate each step gets, clipping, skipped non-finite steps, the trainer's stop, abort,
 * and a resumed run's start. The trainers' own tests run it end to end.
 */
import { describe, expect, it } from 'vitest';
import { runOptimiser, type LoopSettings, type StepResult } from '../src/flows/train/optimiserLoop.js';
import { learningRateAt } from '../src/flows/train/schedule.js';
import type { Adam } from '../src/flows/train/adam.js';
import type { Param } from '../src/flows/params.js';

/** Records the updates instead of applying them. */
function recordingAdam() {
  const updates: { lr: number; scale: number }[] = [];
  const adam = { step: (_g: Map<Param, Float64Array>, lr: number, scale: number) => updates.push({ lr, scale }) } as unknown as Adam;
  return { adam, updates };
}

const grads = (v: number) => new Map([[{} as Param, Float64Array.of(v, 0)]]);
const settings: LoopSettings = { steps: 10, peak: 0.1, schedule: 'cosine', warmup: 3, finalFactor: 0.1, clipNorm: 2, maxMs: Infinity };

describe('runOptimiser', () => {
  it('gives each step its scheduled learning rate and clips the gradient to clipNorm', async () => {
    const { adam, updates } = recordingAdam();
    const seen: number[] = [];
    const out = await runOptimiser(adam, settings, {
      compute: (step, lr) => {
        seen.push(lr);
        return { loss: 1, grads: grads(step % 2 === 0 ? 1 : 8) };
      },
      after: () => undefined,
    });
    expect(out).toMatchObject({ steps: 10, skipped: 0, stoppedBy: 'steps' });
    seen.forEach((lr, k) => expect(lr).toBe(learningRateAt(k, 10, 0.1, 'cosine', 3, 0.1)));
    expect(updates.map((u) => u.scale)).toEqual(seen.map((_, k) => (k % 2 === 0 ? 1 : 2 / 8)));
  });

  it("multiplies the scheduled rate by the trainer's factor from the step after it changes", async () => {
    const { adam, updates } = recordingAdam();
    let factor = 1;
    await runOptimiser(adam, settings, {
      compute: () => ({ loss: 1, grads: grads(1) }),
      after: (step) => {
        if (step === 5) factor = 0.2;
      },
      rateFactor: () => factor,
    });
    updates.forEach((u, k) => expect(u.lr).toBeCloseTo(learningRateAt(k, 10, 0.1, 'cosine', 3, 0.1) * (k >= 5 ? 0.2 : 1), 15));
  });

  it('skips a step whose loss, gradient or own check is not finite, and the trainer sees it', async () => {
    const { adam, updates } = recordingAdam();
    const bad: StepResult[] = [
      { loss: NaN, grads: grads(1) },
      { loss: 1, grads: grads(Infinity) },
      { loss: 1, grads: null },
      { loss: 1, grads: grads(1), finite: false },
    ];
    const applied: boolean[] = [];
    const out = await runOptimiser(adam, { ...settings, steps: 6 }, {
      compute: (step) => bad[step] ?? { loss: 1, grads: grads(1) },
      after: (_s, ok) => void applied.push(ok),
    });
    expect(out.skipped).toBe(4);
    expect(applied).toEqual([false, false, false, false, true, true]);
    expect(updates).toHaveLength(2);
  });

  it("stops where the trainer says, on abort, and on the time budget", async () => {
    const { adam } = recordingAdam();
    const step = () => ({ loss: 1, grads: grads(1) });
    const stopped = await runOptimiser<'enough'>(adam, settings, { compute: step, after: (s) => (s === 4 ? 'enough' : undefined) });
    expect(stopped).toMatchObject({ steps: 4, stoppedBy: 'enough' });

    const ac = new AbortController();
    const aborted = await runOptimiser(adam, { ...settings, signal: ac.signal }, { compute: step, after: (s) => void (s === 3 && ac.abort()) });
    expect(aborted).toMatchObject({ steps: 3, stoppedBy: 'abort' });

    // A resumed run that has already spent its budget stops before its first step.
    const late = await runOptimiser(adam, { ...settings, maxMs: 1000 }, { compute: step, after: () => undefined }, { startStep: 5, elapsedMs: 2000 });
    expect(late).toMatchObject({ steps: 5, stoppedBy: 'time' });
  });

  it('continues a resumed run from its step, on the same schedule', async () => {
    const { adam } = recordingAdam();
    const seen: number[] = [];
    const out = await runOptimiser(adam, settings, { compute: (k, lr) => (seen.push(k), { loss: 1, grads: grads(lr) }), after: () => undefined }, { startStep: 7 });
    expect(seen).toEqual([7, 8, 9]);
    expect(out.learningRate).toBe(learningRateAt(9, 10, 0.1, 'cosine', 3, 0.1));
  });
});
