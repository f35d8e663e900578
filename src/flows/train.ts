/**
 * Fitting a flow q to a target p̃ by minimising the reverse KL divergence, equivalently
 * maximising the ELBO E_q[log p̃(x) − log q(x)] = log Z − KL(q‖p) (UDL §16.5.3; Rezende &
 * Mohamed 2015). Gradients use the reparameterisation x = f_θ(ε), ε ~ N(0, I), on a batch of
 * fresh base draws each step.
 *
 * Options beyond plain Adam:
 * - learning-rate schedule (linear warm-up, then cosine or exponential decay, or constant);
 * - gradient clipping by global norm;
 * - a guard that *skips* a step whose loss or gradient is non-finite (and counts it) instead of
 *   letting one NaN corrupt the weights;
 * - early stopping when the moving average of the ELBO stops improving;
 * - temperature annealing: the target enters as β log p̃ with β rising linearly from `from` to 1
 *   over `steps` steps, which helps a mode-seeking fit spread over multimodal targets;
 * - the path-derivative gradient ("sticking the landing", Roeder, Wu & Duvenaud 2017,
 *   https://arxiv.org/abs/1703.09194): log q is evaluated with a frozen copy of the weights, so
 *   only the path through x carries gradient and the score term (zero in expectation, but noisy)
 *   is dropped. Its cost: log q at x needs the flow's *inverse*, `dim` MADE passes per IAF
 *   layer, so it is practical for small dimensions only.
 *
 * Training cooperates with the event loop every step (Ctrl-C works) and stops cleanly on abort,
 * returning what was trained with `stoppedBy: 'abort'`.
 *
 * Each step runs on the wasm kernels when it can (src/flows/trainSteps.ts): same numbers as the
 * tfjs path, about 1.5x faster at small dimension (docs/flows-performance.md).
 */
import type { Target } from '../targets/target.js';
import type { Flow } from './flow.js';
import { kernelStepRunner, tfjsStepRunner, type StepRunner } from './trainSteps.js';
import { Cooperative } from '../core/cooperative.js';
import { AbortedError, ParameterError, checkDim, checkParam, checkPositiveInt } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import type { Warning } from '../core/warnings.js';
import { TrainCounters, checkTrainingStart, trainWarnings } from './trainChecks.js';

export type LearningRateSchedule = 'constant' | 'cosine' | 'exponential';

/** Extra progress fields (the first four arguments are the ones a progress bar needs). */
export interface TrainProgressInfo {
  steps: number;
  beta: number;
  learningRate: number;
  skippedNonFinite: number;
  elapsedSeconds: number;
}

export interface TrainOptions {
  /** Maximum number of optimiser steps (default 3000). */
  steps?: number;
  /** Base draws per step (default `defaultBatchSize(dim)`: 1024 up to 16 dimensions, 512 above). */
  batchSize?: number;
  /** Peak Adam learning rate (default 1e-2, decayed by the schedule). */
  learningRate?: number;
  /** Decay after warm-up (default 'cosine'). */
  schedule?: LearningRateSchedule;
  /** Final learning rate as a fraction of the peak for cosine/exponential (default 0.05). */
  finalLearningRateFactor?: number;
  /** Linear learning-rate warm-up steps (default min(100, steps / 10)). */
  warmupSteps?: number;
  /** Clip the global gradient norm to this value (default 100; Infinity disables). */
  clipNorm?: number;
  /** Seed of the base-noise stream (default 0). */
  seed?: number | string;
  /**
   * Objective: α = 1 (default) is the ELBO / reverse KL. α in [0, 1) maximises the batch
   * estimate of the Rényi variational bound (Li & Turner 2016, "Rényi divergence variational
   * inference", https://arxiv.org/abs/1602.02311), L_α = log E_q[(p̃/q)^(1−α)] / (1 − α), which
   * lies between the ELBO and log Z and is more mass-covering: it penalises q's thin tails.
   */
  renyiAlpha?: number;
  /** Path-derivative gradient (Roeder et al. 2017); default false. */
  stl?: boolean;
  /** Anneal the target's inverse temperature β from `from` to 1 over `steps` steps. */
  anneal?: { from: number; steps: number };
  /** Stop when MA_window(ELBO) improved by less than `minDelta` over the last `window` steps. */
  earlyStopping?: { window: number; minDelta: number } | false;
  /** Wall-time budget in seconds; the learning-rate schedule follows elapsed time too. */
  maxSeconds?: number;
  /** Called about every `progressEvery` steps and at the end; the flow holds the current parameters then. */
  onProgress?: (step: number, loss: number, elboMA: number, stepsPerSec: number, info: TrainProgressInfo) => void;
  /** Steps between progress calls (default 25). */
  progressEvery?: number;
  /** Steps between history entries (default: about 200 entries in all). */
  historyEvery?: number;
  /** Stops training cleanly; the result is flagged `stoppedBy: 'abort'`. */
  signal?: AbortSignal;
  /**
   * Run each step on the wasm kernels (src/flows/wasmTrainer.ts) when the flow is made of
   * `AffineDiagonal` and `FastIafAffine` layers and the backend is wasm (default true). The
   * numbers are those of the tfjs path to float32 rounding; false forces the tfjs path.
   */
  fastPath?: boolean;
}

export interface TrainResult {
  /** Optimiser steps attempted (skipped ones included). */
  steps: number;
  /** Subsampled: step, loss (the objective), ELBO (at β = 1, batch estimate); finite steps only. */
  history: { step: number; loss: number; elbo: number }[];
  skippedNonFinite: number;
  seconds: number;
  stoppedBy: 'steps' | 'plateau' | 'time' | 'abort';
  /** Moving average of the batch ELBO over the last 100 steps. */
  finalElboMA: number;
  /** How the steps ran: on the wasm kernels, or through tfjs autodiff. */
  path: 'wasm-kernels' | 'tfjs';
  /** Skipped steps, a plateau far from convergence (src/flows/trainChecks.ts). */
  warnings: Warning[];
  options: Required<Pick<TrainOptions, 'steps' | 'batchSize' | 'learningRate' | 'schedule' | 'clipNorm' | 'stl'>> & { seed: string };
}

/** Learning rate at `step` (0-based) of `total`. */
export function learningRateAt(
  step: number,
  total: number,
  peak: number,
  schedule: LearningRateSchedule,
  warmup: number,
  finalFactor: number,
): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const t = total > warmup ? Math.min(1, (step - warmup) / (total - warmup)) : 1;
  switch (schedule) {
    case 'constant':
      return peak;
    case 'cosine':
      return peak * (finalFactor + (1 - finalFactor) * 0.5 * (1 + Math.cos(Math.PI * t)));
    case 'exponential':
      return peak * Math.pow(finalFactor, t);
  }
}

/** The default training budget (docs/flows.md has the measurements behind each choice). */
export const TRAIN_DEFAULTS = { steps: 3000, learningRate: 1e-2 } as const;

/**
 * Default base draws per step: 1024 up to 16 dimensions, 512 above. A larger batch cuts the
 * gradient noise, which mattered more than extra steps (docs/flows.md); where a step is cheap
 * (small flows) 1024 fits in any budget, but in 50-D a 60 s budget then holds half the steps and
 * the fit got worse (ELBO gap 0.13 against 0.09 nats with 512).
 */
export function defaultBatchSize(dim: number): number {
  return dim <= 16 ? 1024 : 512;
}

export async function trainReverseKL(flow: Flow, target: Target, options: TrainOptions = {}): Promise<TrainResult> {
  checkDim(`target ${target.name}`, flow.dim, target.dim);
  const steps = checkPositiveInt('steps', options.steps ?? TRAIN_DEFAULTS.steps);
  const batchSize = checkPositiveInt('batchSize', options.batchSize ?? defaultBatchSize(flow.dim));
  const peak = checkParam('learningRate', options.learningRate ?? TRAIN_DEFAULTS.learningRate, (v) => v > 0, 'positive');
  const schedule = options.schedule ?? 'cosine';
  if (!['constant', 'cosine', 'exponential'].includes(schedule)) {
    throw new ParameterError(`unknown learning-rate schedule '${schedule}': use constant, cosine or exponential`);
  }
  const finalFactor = checkParam('finalLearningRateFactor', options.finalLearningRateFactor ?? 0.05, (v) => v > 0 && v <= 1, 'in (0, 1]');
  const warmup = Math.floor(options.warmupSteps ?? Math.min(100, steps / 10));
  const clipNorm = options.clipNorm ?? 100;
  if (!(clipNorm > 0)) throw new ParameterError(`clipNorm must be positive, got ${clipNorm}`);
  const anneal = options.anneal;
  if (anneal) {
    checkParam('anneal.from', anneal.from, (v) => v > 0 && v <= 1, 'in (0, 1]');
    checkParam('anneal.steps', anneal.steps, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
  }
  const early = options.earlyStopping === undefined ? { window: 500, minDelta: 0.01 } : options.earlyStopping;
  if (early) {
    checkPositiveInt('earlyStopping.window', early.window);
    checkParam('earlyStopping.minDelta', early.minDelta, (v) => v >= 0, 'non-negative');
  }
  const maxMs = options.maxSeconds !== undefined ? 1000 * checkParam('maxSeconds', options.maxSeconds, (v) => v > 0, 'positive') : Infinity;
  const progressEvery = options.progressEvery ?? 25;
  const historyEvery = options.historyEvery ?? Math.max(1, Math.ceil(steps / 200));
  const seed = String(options.seed ?? 0);
  const rng = new RandomStream(seed).derive('train-noise');
  const stl = options.stl ?? false;
  const alpha = checkParam('renyiAlpha', options.renyiAlpha ?? 1, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  checkTrainingStart(flow, target, batchSize, seed);
  const counters = new TrainCounters();

  // The wasm kernels when the flow and backend allow (STL needs the flow's inverse: tfjs only).
  const fast = (options.fastPath ?? true) && !stl ? kernelStepRunner(flow, target, batchSize, rng, alpha) : null;
  const runner: StepRunner = fast ?? tfjsStepRunner(flow, target, batchSize, rng, alpha, stl);

  const history: TrainResult['history'] = [];
  const elbos: number[] = [];
  let skipped = 0;
  let stoppedBy: TrainResult['stoppedBy'] = 'steps';
  const coop = new Cooperative(options.signal, undefined, 50, 1);
  const t0 = performance.now();
  let step = 0;
  let lastLoss = NaN;
  let beta = 1;
  let lr = peak;
  const maWindow = 100;
  const elboMA = () => {
    const n = Math.min(maWindow, elbos.length);
    if (n === 0) return NaN;
    let s = 0;
    for (let i = elbos.length - n; i < elbos.length; i++) s += elbos[i];
    return s / n;
  };
  const report = (sync = true) => {
    if (!options.onProgress) return;
    // The callback may use the flow (e.g. sample it): give it the current parameters.
    if (sync) runner.sync();
    const sec = (performance.now() - t0) / 1000;
    options.onProgress(step, lastLoss, elboMA(), sec > 0 ? step / sec : 0, {
      steps,
      beta,
      learningRate: lr,
      skippedNonFinite: skipped,
      elapsedSeconds: sec,
    });
  };

  try {
    for (; step < steps; ) {
      if (options.signal?.aborted) {
        stoppedBy = 'abort';
        break;
      }
      if (performance.now() - t0 > maxMs) {
        stoppedBy = 'time';
        break;
      }
      // With a time budget the schedule runs on whichever is further along, steps or time, so
      // the decay completes even when the budget (not the step count) ends training.
      const elapsed = performance.now() - t0;
      const effStep = maxMs < Infinity ? Math.max(step, Math.min(steps - 1, Math.floor((elapsed / maxMs) * steps))) : step;
      lr = learningRateAt(step < warmup ? step : effStep, steps, peak, schedule, warmup, finalFactor);
      beta = anneal && step < anneal.steps ? anneal.from + ((1 - anneal.from) * step) / Math.max(1, anneal.steps) : 1;
      const { loss, elbo, norm } = runner.compute(beta);
      const finite = Number.isFinite(loss) && Number.isFinite(norm) && Number.isFinite(elbo);
      if (finite) {
        runner.apply(lr, norm > clipNorm ? clipNorm / norm : 1);
        lastLoss = loss;
        elbos.push(elbo);
      } else {
        skipped++;
        counters.skip(step, loss, elbo, norm);
      }
      step++;
      if (finite && (step % historyEvery === 0 || step === 1)) history.push({ step, loss, elbo });
      if (step % progressEvery === 0) report();

      // Plateau: compare the ELBO moving averages of the last two windows (only once β = 1).
      if (early && (!anneal || step >= anneal.steps + 2 * early.window) && elbos.length >= 2 * early.window && step % 50 === 0) {
        const w = early.window;
        let now = 0;
        let prev = 0;
        for (let i = elbos.length - w; i < elbos.length; i++) now += elbos[i];
        for (let i = elbos.length - 2 * w; i < elbos.length - w; i++) prev += elbos[i];
        if ((now - prev) / w < early.minDelta) {
          stoppedBy = 'plateau';
          break;
        }
      }
      await coop.tick();
    }
  } catch (e) {
    if (!(e instanceof AbortedError)) throw e;
    stoppedBy = 'abort';
  } finally {
    // Also on an error or abort: the flow keeps what was trained.
    runner.finish();
  }
  report(false); // (finish() has synced)
  if (elbos.length > 0 && (history.length === 0 || history[history.length - 1].step !== step)) {
    history.push({ step, loss: lastLoss, elbo: elbos[elbos.length - 1] });
  }
  const result: TrainResult = {
    steps: step,
    history,
    skippedNonFinite: skipped,
    seconds: (performance.now() - t0) / 1000,
    stoppedBy,
    finalElboMA: elboMA(),
    path: runner.path,
    warnings: [],
    options: { steps, batchSize, learningRate: peak, schedule, clipNorm, stl, seed },
  };
  result.warnings = trainWarnings(result, counters, flow, target);
  return result;
}
