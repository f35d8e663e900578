/**
 * The optimisation loop every flow trainer runs (reverse KL, maximum likelihood, mode-covering):
 * stop on abort or the time budget, the learning rate of the step (warm-up, then the schedule,
 * which follows elapsed time when a time budget is ahead of the step count), the step's loss
 * and gradients from the trainer, global-norm clipping and the Adam update, or a skipped step
 * when anything is non-finite; then the trainer's own bookkeeping, which may stop the run. One
 * copy of it, so the trainers differ only in what a step computes and what they record.
 */
import type { Param } from '../params.js';
import { Adam, gradientNorm } from './adam.js';
import { learningRateAt, type LearningRateSchedule } from './schedule.js';
import { Cooperative } from '../../core/cooperative.js';
import { AbortedError } from '../../core/errors.js';

export interface LoopSettings {
  steps: number;
  /** Peak learning rate, reached after `warmup` steps, then decayed by `schedule` to `finalFactor` × peak. */
  peak: number;
  schedule: LearningRateSchedule;
  warmup: number;
  finalFactor: number;
  clipNorm: number;
  /** Wall-time budget in ms (Infinity for none). */
  maxMs: number;
  /**
   * Time the trainer still needs after its last step (its final evaluations), in ms, read every
   * step: stepping stops when elapsed time plus this reaches `maxMs`, and the schedule runs on
   * what is left of the budget, so the whole run stays within it (default none).
   */
  reserveMs?: () => number;
  /** Let the schedule follow elapsed time when that is ahead of the step count (default true). */
  scheduleByTime?: boolean;
  signal?: AbortSignal;
}

/** What a trainer's step computed: the loss and the gradients (with their norm, when the trainer has it). */
export interface StepResult {
  loss: number;
  grads: Map<Param, Float64Array> | null;
  norm?: number;
  /** False marks the step non-finite for a reason the loop cannot see (an ELBO, a weight). */
  finite?: boolean;
}

export interface LoopHooks<Stop extends string> {
  /** The step's loss and gradients (`step` counts from 0; `lr` is this step's learning rate). */
  compute(step: number, lr: number): StepResult;
  /** A factor on the scheduled learning rate, read every step (default 1; a plateau's reduction). */
  rateFactor?(): number;
  /** After the update (or the skip), with `step` already counted: a reason to stop, or nothing. */
  after(step: number, applied: boolean, result: StepResult, lr: number): Stop | void;
}

export interface LoopOutcome<Stop extends string> {
  steps: number;
  skipped: number;
  stoppedBy: 'steps' | 'time' | 'abort' | Stop;
  /** The last step's learning rate. */
  learningRate: number;
}

/** Runs `settings.steps - startStep` steps (fewer if stopped), yielding to the event loop now and then. */
export async function runOptimiser<Stop extends string>(
  adam: Adam,
  settings: LoopSettings,
  hooks: LoopHooks<Stop>,
  /** A resumed run: the step it starts at and the time it had already spent (counted in the budget). */
  opts: { startStep?: number; elapsedMs?: number; coop?: Cooperative } = {},
): Promise<LoopOutcome<Stop>> {
  const { steps, peak, schedule, warmup, finalFactor, clipNorm, maxMs, signal } = settings;
  const byTime = maxMs < Infinity && settings.scheduleByTime !== false;
  const coop = opts.coop ?? new Cooperative(signal, undefined, 50, 1);
  const t0 = performance.now() - (opts.elapsedMs ?? 0);
  let step = opts.startStep ?? 0;
  let skipped = 0;
  let lr = peak;
  let stoppedBy: LoopOutcome<Stop>['stoppedBy'] = 'steps';
  try {
    while (step < steps) {
      if (signal?.aborted) {
        stoppedBy = 'abort';
        break;
      }
      const elapsed = performance.now() - t0;
      const budget = maxMs - (settings.reserveMs?.() ?? 0);
      if (elapsed > budget) {
        stoppedBy = 'time';
        break;
      }
      // With a time budget the schedule runs on whichever is further along, steps or time, so the
      // decay completes even when the budget (not the step count) ends training.
      const effStep = byTime ? Math.max(step, Math.min(steps - 1, Math.floor((elapsed / Math.max(budget, 1)) * steps))) : step;
      lr = learningRateAt(step < warmup ? step : effStep, steps, peak, schedule, warmup, finalFactor) * (hooks.rateFactor?.() ?? 1);
      const r = hooks.compute(step, lr);
      const norm = r.norm ?? (r.grads ? gradientNorm(r.grads) : NaN);
      const applied = r.grads !== null && r.finite !== false && Number.isFinite(r.loss) && Number.isFinite(norm);
      if (applied) adam.step(r.grads!, lr, norm > clipNorm ? clipNorm / norm : 1);
      else skipped++;
      step++;
      const stop = hooks.after(step, applied, { ...r, norm }, lr);
      if (stop) {
        stoppedBy = stop;
        break;
      }
      await coop.tick();
    }
  } catch (e) {
    if (!(e instanceof AbortedError)) throw e;
    stoppedBy = 'abort';
  }
  return { steps: step, skipped, stoppedBy, learningRate: lr };
}
