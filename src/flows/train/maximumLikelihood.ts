/**
 * Fitting a flow to data by maximum likelihood (UDL §16.1.3, §16.2; Papamakarios et al. 2021
 * §2.3.1): minimise the negative log-likelihood −(1/n) Σ log q(x_i) over minibatches with Adam.
 * For data drawn from p this is the forward KL, KL(p‖q) = −H(p) − E_p[log q], up to the constant
 * entropy H(p): mode-covering, where the reverse KL of ./reverseKL.ts is mode-seeking (§16.5.3).
 *
 * Each step is one `differentiate` call of the flow's density program x ↦ (z, log q) on its
 * engine, with cotangent −1/n on log q: one pass for MAF and coupling layers (their density
 * direction is parallel), `dim` passes per layer for an IAF, which is refused unless asked for
 * (`allowSequentialDensity`). The same code runs on the heap engine and on tfjs.
 *
 * Around the step:
 * - a seeded validation split (`validationFraction`, or `validation` rows given), evaluated every
 *   `validateEvery` steps; when the validation NLL has not improved by `minDelta` for `patience`
 *   evaluations, the fit goes back to its best parameters and divides the learning rate by
 *   `plateauFactor` (a plateau at one rate is often a noise floor that a smaller rate goes
 *   below; "reduce on plateau" as in Keras and PyTorch), and stops after `plateauReductions`
 *   such reductions; the flow ends with the parameters of the best evaluation (early stopping;
 *   Prechelt 1998, "Early stopping — but when?");
 * - standardisation (./fitData.ts): the flow's data-side affine layer is set to the data's mean
 *   and sd and held there, so log q(x) includes the standardisation's log-det exactly and Adam's
 *   steps (of about the learning rate in each parameter's own units) act on standardised
 *   quantities whatever the data's scale;
 * - the guards of reverse KL: steps whose loss or gradient is not finite are skipped and counted,
 *   the global gradient norm is clipped, abort and a time budget stop cleanly, progress is
 *   reported, and the learning-rate schedule follows elapsed time when the budget binds.
 * Same seed, same data, same engine: the same fit (unless the time budget ends it).
 */
import type { Flow } from '../flow.js';
import type { Param } from '../params.js';
import { selectEngine } from '../engine/select.js';
import type { Engine, EngineChoice } from '../engine/engine.js';
import { Adam } from './adam.js';
import type { LearningRateSchedule } from './schedule.js';
import { runOptimiser } from './optimiserLoop.js';
import { TrainingError } from './checks.js';
import { discreteColumns, holdOut, standardizeFlow, standardizationParams, toDataMatrix, shuffledIndices, type FitData } from './fitData.js';
import { ParameterError, checkParam, checkPositiveInt } from '../../core/errors.js';
import { RandomStream } from '../../core/random.js';
import { fmt, makeWarning, pct, type Warning } from '../../core/warnings.js';

/** What a progress callback receives. */
export interface FitProgress {
  step: number;
  steps: number;
  /** Moving average of the minibatch NLL (nats per row). */
  trainNll: number;
  /** The last validation NLL, and the best so far. */
  validationNll: number;
  bestValidationNll: number;
  learningRate: number;
  skippedNonFinite: number;
  stepsPerSec: number;
  elapsedSeconds: number;
}

export interface LikelihoodTrainOptions {
  /** Maximum optimiser steps (default 20 000; early stopping usually ends sooner). */
  steps?: number;
  /** Rows per step (default 256, at most the training rows). */
  batchSize?: number;
  /** Peak Adam learning rate (default 5e-3), after a linear warm-up, decayed by `schedule`. */
  learningRate?: number;
  /** Decay after warm-up (default 'cosine' over `steps`). */
  schedule?: LearningRateSchedule;
  /** Final learning rate as a fraction of the peak (default 0.05). */
  finalLearningRateFactor?: number;
  /** Linear warm-up steps (default min(100, steps / 10)). */
  warmupSteps?: number;
  /** Clip the global gradient norm (default 100; Infinity disables). */
  clipNorm?: number;
  /** Decoupled weight decay λ of the conditioners' weights (AdamW; default 0). */
  weightDecay?: number;
  /** Steps between validation evaluations (default: one epoch, at least 10 and at most 100 steps). */
  validateEvery?: number;
  /** Stop after this many evaluations without improvement (default 20; Infinity disables). */
  patience?: number;
  /** Learning-rate reductions on a validation plateau before early stopping (default 2; 0 stops at the first plateau). */
  plateauReductions?: number;
  /** What each reduction divides the learning rate by (default 5). */
  plateauFactor?: number;
  /** An improvement smaller than this (nats per row) does not count (default 1e-3). */
  minDelta?: number;
  /**
   * Wall-time budget in seconds of the whole fit (default 60; Infinity for none): the steps end
   * early by the measured time of the evaluations after them (the last validation check, the
   * training NLL, `reserveRows`).
   */
  maxSeconds?: number;
  /** Seed of the split, the minibatch order and the draws (default 0). */
  seed?: number | string;
  /** Called every `progressEvery` steps and at the end. */
  onProgress?: (p: FitProgress) => void;
  progressEvery?: number;
  signal?: AbortSignal;
  /** The engine (default the flow's own choice). */
  engine?: EngineChoice;
  /** Fit through a sequential density direction (an IAF's `dim`-pass inverse); default false. */
  allowSequentialDensity?: boolean;
  /**
   * Rows the caller will evaluate with the fitted flow within the same `maxSeconds` (for example
   * a model selection's comparison on the validation rows; default 0): the steps end early by
   * their estimated time, as they do for the fit's own final evaluations.
   */
  reserveRows?: number;
}

export interface FitOptions extends LikelihoodTrainOptions {
  /** Share of the rows held out for validation and early stopping (default 0.1; 0 for none). */
  validationFraction?: number;
  /** Validation rows given explicitly (then nothing is split off the data). */
  validation?: FitData;
  /** Set the data-side affine layer from the data's mean and sd first (default true). */
  standardize?: boolean;
  /** Column names for messages and warnings. */
  names?: readonly string[];
}

export interface FitHistoryEntry {
  step: number;
  trainNll: number;
  validationNll: number;
}

export interface LikelihoodTrainResult {
  steps: number;
  /** Passes over the training rows (fractional). */
  epochs: number;
  seconds: number;
  stoppedBy: 'steps' | 'early-stopping' | 'time' | 'abort';
  /** The step whose parameters the flow holds (the best validation NLL), 0 for the initial flow. */
  bestStep: number;
  /** Mean −log q over the validation rows at `bestStep` (NaN without validation). */
  bestValidationNll: number;
  history: FitHistoryEntry[];
  skippedNonFinite: number;
  /** Learning-rate reductions made on validation plateaus. */
  plateauReductions: number;
  warnings: Warning[];
  path: 'heap' | 'tfjs';
  nTrain: number;
  nValidation: number;
  options: { steps: number; batchSize: number; learningRate: number; schedule: LearningRateSchedule; clipNorm: number; weightDecay: number; validateEvery: number; patience: number; maxSeconds: number; seed: string };
}

export interface FitResult extends LikelihoodTrainResult {
  /** Mean −log q over the training rows with the final parameters. */
  trainNll: number;
  /** The data's mean and sd the flow was standardised with (null with standardize: false). */
  standardization: { mean: number[]; sd: number[] } | null;
}

/** The defaults (docs/density.md has the measurements behind them). */
export const FIT_DEFAULTS = {
  steps: 20_000,
  batchSize: 256,
  learningRate: 5e-3,
  validationFraction: 0.1,
  validateEvery: 100,
  patience: 20,
  plateauReductions: 2,
  plateauFactor: 5,
  minDelta: 1e-3,
  maxSeconds: 60,
  clipNorm: 100,
  weightDecay: 0,
} as const;

/** Where the training rows of each step come from. */
export interface BatchSource {
  /** Training rows per pass (for the epoch count); Infinity for a stream. */
  readonly rows: number;
  /** The next `batchSize` rows (row-major). */
  next(batchSize: number): Float64Array;
}

/** Minibatches of a fixed set, reshuffled every epoch. */
export function epochBatches(x: Float64Array, n: number, dim: number, rng: RandomStream): BatchSource {
  let order = shuffledIndices(n, rng);
  let pos = 0;
  return {
    rows: n,
    next(b: number) {
      const out = new Float64Array(b * dim);
      for (let r = 0; r < b; r++) {
        if (pos === n) {
          order = shuffledIndices(n, rng);
          pos = 0;
        }
        const i = order[pos++];
        out.set(x.subarray(i * dim, (i + 1) * dim), r * dim);
      }
      return out;
    },
  };
}

/** Mean −log q over the rows of x, in chunks, on the given engine (Infinity if any is not finite). */
export function meanNll(flow: Flow, engine: Engine, x: Float64Array, n: number, chunk = 4096): number {
  if (n === 0) return NaN;
  const D = flow.dim;
  const program = flow.densityProgram();
  let s = 0;
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    const [, lq] = engine.evaluate(flow.store, program, [{ values: x.subarray(start * D, (start + m) * D), rows: m, cols: D }]);
    for (let r = 0; r < m; r++) s -= lq[r];
  }
  const v = s / n;
  return Number.isFinite(v) ? v : Infinity;
}

function checkReserveRows(v: number | undefined): number {
  return checkParam('reserveRows', v ?? 0, (r) => Number.isInteger(r) && r >= 0, 'an integer >= 0');
}

/** Refuses a flow whose density direction is sequential (see the file header). */
export function checkDensityDirection(flow: Flow, allow: boolean, what: string): void {
  if (allow) return;
  const seq = flow.bijectors.map((b, i) => ({ b, i })).filter(({ b }) => b.cost.inverse === 'sequential');
  if (seq.length === 0) return;
  const { b, i } = seq[0];
  throw new ParameterError(
    `${what}: layer ${i} (${b.type}${(b.getConfig() as { direction?: string }).direction ? `, ${(b.getConfig() as { direction?: string }).direction}` : ''}) evaluates log q in ${flow.dim} sequential passes; maximum likelihood needs the parallel density direction: use the 'maf' or 'coupling' family (createFamilyFlow('maf', dim)), or pass allowSequentialDensity: true to accept the cost`,
  );
}

interface Resolved {
  steps: number;
  batchSize: number;
  peak: number;
  schedule: LearningRateSchedule;
  finalFactor: number;
  warmup: number;
  clipNorm: number;
  weightDecay: number;
  validateEvery: number;
  patience: number;
  plateauReductions: number;
  plateauFactor: number;
  minDelta: number;
  maxMs: number;
  progressEvery: number;
  seed: string;
}

function resolveOptions(o: LikelihoodTrainOptions, trainRows: number): Resolved {
  const steps = checkPositiveInt('steps', o.steps ?? FIT_DEFAULTS.steps);
  const batchSize = Math.min(checkPositiveInt('batchSize', o.batchSize ?? FIT_DEFAULTS.batchSize), trainRows);
  const peak = checkParam('learningRate', o.learningRate ?? FIT_DEFAULTS.learningRate, (v) => v > 0, 'positive');
  const schedule = o.schedule ?? 'cosine';
  if (!['constant', 'cosine', 'exponential'].includes(schedule)) throw new ParameterError(`unknown learning-rate schedule '${String(schedule)}': use constant, cosine or exponential`);
  const finalFactor = checkParam('finalLearningRateFactor', o.finalLearningRateFactor ?? 0.05, (v) => v > 0 && v <= 1, 'in (0, 1]');
  const warmup = Math.floor(checkParam('warmupSteps', o.warmupSteps ?? Math.min(100, steps / 10), (v) => v >= 0, 'non-negative'));
  const clipNorm = o.clipNorm ?? FIT_DEFAULTS.clipNorm;
  if (!(clipNorm > 0)) throw new ParameterError(`invalid parameter clipNorm = ${clipNorm}: must be positive`);
  const weightDecay = checkParam('weightDecay', o.weightDecay ?? FIT_DEFAULTS.weightDecay, (v) => v >= 0 && v < Infinity, 'a finite number >= 0');
  // Small data sets overfit within a few epochs: check them every epoch.
  const epochSteps = Number.isFinite(trainRows) ? Math.ceil(trainRows / batchSize) : Infinity;
  const validateEvery = checkPositiveInt('validateEvery', o.validateEvery ?? Math.max(10, Math.min(FIT_DEFAULTS.validateEvery, epochSteps)));
  const patience = o.patience ?? FIT_DEFAULTS.patience;
  if (!(patience === Infinity || (Number.isInteger(patience) && patience > 0))) throw new ParameterError(`invalid parameter patience = ${patience}: must be a positive integer or Infinity`);
  const plateauReductions = checkParam('plateauReductions', o.plateauReductions ?? FIT_DEFAULTS.plateauReductions, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
  const plateauFactor = checkParam('plateauFactor', o.plateauFactor ?? FIT_DEFAULTS.plateauFactor, (v) => v > 1 && v < Infinity, 'greater than 1');
  const minDelta = checkParam('minDelta', o.minDelta ?? FIT_DEFAULTS.minDelta, (v) => v >= 0, 'non-negative');
  const maxSeconds = o.maxSeconds ?? FIT_DEFAULTS.maxSeconds;
  if (!(maxSeconds > 0)) throw new ParameterError(`invalid parameter maxSeconds = ${maxSeconds}: must be positive (Infinity for no budget)`);
  const progressEvery = checkPositiveInt('progressEvery', o.progressEvery ?? 25);
  return { steps, batchSize, peak, schedule, finalFactor, warmup, clipNorm, weightDecay, validateEvery, patience, plateauReductions, plateauFactor, minDelta, maxMs: 1000 * maxSeconds, progressEvery, seed: String(o.seed ?? 0) };
}

/**
 * The likelihood loop shared by `fitMaximumLikelihood` (minibatches of a data set) and
 * `trainForwardKL` (fresh exact draws of a target): minimise the mean −log q of each batch.
 * `validation` rows (may be empty) drive early stopping; `what` names the data in messages;
 * `frozen` parameters keep their values (the standardisation layer); `startedAt` is when the
 * caller's fit began (its preparation of the rows counts against the time budget).
 */
export async function trainLikelihood(
  flow: Flow,
  source: BatchSource,
  validation: { x: Float64Array; n: number },
  options: LikelihoodTrainOptions,
  what: string,
  frozen: ReadonlySet<Param> = new Set(),
  startedAt = performance.now(),
): Promise<LikelihoodTrainResult> {
  checkDensityDirection(flow, options.allowSequentialDensity ?? false, what);
  const o = resolveOptions(options, source.rows);
  const engine = selectEngine(options.engine ?? flow.engine);
  const D = flow.dim;
  const program = flow.densityProgram();
  const history: FitHistoryEntry[] = [];
  const hasVal = validation.n > 0;

  // The time per evaluated row, measured on every validation check after the first (whose
  // evaluations are slower while the JIT warms up), estimates the final evaluations kept out of
  // the budget; without validation rows the fit's time so far per trained row stands in, an upper bound.
  let msPerRow = NaN;
  const timedNll = (x: Float64Array, n: number): number => {
    const t = performance.now();
    const v = meanNll(flow, engine, x, n);
    if (n > 0) msPerRow = (performance.now() - t) / n;
    return v;
  };
  const finalRows = (hasVal ? validation.n : 0) + checkReserveRows(options.reserveRows);
  let best = hasVal ? meanNll(flow, engine, validation.x, validation.n) : NaN;
  let bestStep = 0;
  let bestParams = flow.store.snapshot();
  let sinceBest = 0;
  let lastVal = best;
  if (hasVal) history.push({ step: 0, trainNll: NaN, validationNll: best });

  let step = 0;
  let skipped = 0;
  let firstBad = null as { step: number; loss: number; norm: number } | null;
  let finiteSteps = 0;
  const recent: number[] = [];
  let recentSum = 0;
  const trainMA = () => (recent.length ? recentSum / recent.length : NaN);
  let lr = o.peak;
  let rateFactor = 1;
  let reductions = 0;
  let improvingAtEnd = false;
  const t0 = startedAt;
  const report = () => {
    if (!options.onProgress) return;
    const sec = (performance.now() - t0) / 1000;
    options.onProgress({ step, steps: o.steps, trainNll: trainMA(), validationNll: lastVal, bestValidationNll: best, learningRate: lr, skippedNonFinite: skipped, stepsPerSec: sec > 0 ? step / sec : 0, elapsedSeconds: sec });
  };
  const b = o.batchSize;
  // d(mean −log q)/d log q for every row: the same each step.
  const cot = new Float64Array(b).fill(-1 / b);
  const reserveMs = () => finalRows * (hasVal ? (Number.isNaN(msPerRow) ? 0 : msPerRow) : step > 0 ? (performance.now() - t0) / (step * b) : 0);
  const run = await runOptimiser<'early-stopping'>(
    new Adam(flow.store, { weightDecay: o.weightDecay }),
    { steps: o.steps, peak: o.peak, schedule: o.schedule, warmup: o.warmup, finalFactor: o.finalFactor, clipNorm: o.clipNorm, maxMs: o.maxMs, reserveMs, signal: options.signal },
    {
      compute: () => {
        const batch = source.next(b);
        let loss = NaN;
        const r = engine.differentiate(flow.store, program, [{ values: batch, rows: b, cols: D }], ([, lq]) => {
          let sum = 0;
          for (let i = 0; i < b; i++) sum -= lq[i];
          loss = sum / b;
          return [null, cot];
        });
        const grads = r.paramGrads;
        for (const p of frozen) grads.delete(p);
        return { loss, grads };
      },
      after: (done, applied, { loss, norm }, rate) => {
        step = done;
        lr = rate;
        if (applied) {
          finiteSteps++;
          recent.push(loss);
          recentSum += loss;
          if (recent.length > 100) recentSum -= recent.shift()!;
        } else {
          skipped++;
          firstBad ??= { step, loss, norm: norm ?? NaN };
        }
        if (step % o.progressEvery === 0) report();
        if (step % o.validateEvery !== 0) return;
        const v = hasVal ? timedNll(validation.x, validation.n) : NaN;
        lastVal = v;
        history.push({ step, trainNll: trainMA(), validationNll: v });
        if (!hasVal) return;
        if (v < best - o.minDelta) {
          best = v;
          bestStep = step;
          bestParams = flow.store.snapshot();
          sinceBest = 0;
          improvingAtEnd = true;
          return;
        }
        if (v < best) {
          // A small improvement still moves the kept parameters, without resetting patience.
          best = v;
          bestStep = step;
          bestParams = flow.store.snapshot();
        }
        sinceBest++;
        improvingAtEnd = false;
        if (sinceBest < o.patience) return;
        if (reductions >= o.plateauReductions) return 'early-stopping';
        reductions++;
        rateFactor /= o.plateauFactor;
        sinceBest = 0;
        flow.store.restore(bestParams);
      },
      rateFactor: () => rateFactor,
    },
    // The initial validation check (and the caller's preparation) count against the budget.
    { elapsedMs: performance.now() - t0 },
  );
  const stoppedBy: LikelihoodTrainResult['stoppedBy'] = run.stoppedBy;
  // The last steps since the last evaluation count too.
  if (hasVal && step > 0 && step % o.validateEvery !== 0) {
    const v = meanNll(flow, engine, validation.x, validation.n);
    lastVal = v;
    history.push({ step, trainNll: trainMA(), validationNll: v });
    if (v < best) {
      improvingAtEnd = v < best - o.minDelta;
      best = v;
      bestStep = step;
      bestParams = flow.store.snapshot();
    }
  }
  if (hasVal) flow.store.restore(bestParams);
  else bestStep = step;
  report();
  const seconds = (performance.now() - t0) / 1000;

  const warnings: Warning[] = [];
  if (step > 0 && stoppedBy !== 'abort' && (finiteSteps === 0 || skipped / step > 0.5)) {
    const bad = firstBad ? `; the first bad batch was step ${firstBad.step} (NLL ${fmt(firstBad.loss)}, gradient norm ${fmt(firstBad.norm)})` : '';
    throw new TrainingError(`maximum likelihood on ${what} ${finiteSteps === 0 ? 'never reached a finite loss' : `skipped ${skipped} of ${step} steps (${pct(skipped / step)})`}${bad}: the flow's log q overflowed float32 on the data; check the data's scale (standardize) or lower the learning rate`);
  }
  if (step > 0 && skipped / step > 0.01) {
    warnings.push(makeWarning('skipped-steps', `maximum likelihood on ${what} skipped ${skipped} of ${step} steps (${pct(skipped / step)}) whose loss or gradient was not finite${firstBad ? ` (first at step ${firstBad.step})` : ''}; the flow learnt from the rest`, { skipped, steps: step, share: skipped / step }));
  }
  if (stoppedBy === 'time' && step === 0) {
    warnings.push(
      makeWarning(
        'fit-unconverged',
        `maximum likelihood on ${what} made no step in its ${+(o.maxMs / 1000).toPrecision(2)} s time budget (preparing the rows, the first validation check and the time kept for the final evaluations took it): the flow is untrained; give a longer budget`,
        { steps: 0, maxSeconds: o.maxMs / 1000 },
      ),
    );
  } else if (hasVal && (stoppedBy === 'time' || stoppedBy === 'steps') && improvingAtEnd) {
    warnings.push(
      makeWarning(
        'fit-unconverged',
        `maximum likelihood on ${what} stopped on its ${stoppedBy === 'time' ? `${+(o.maxMs / 1000).toFixed(1)} s time budget` : `${o.steps}-step limit`} while the validation NLL was still improving (best ${fmt(best)} at step ${bestStep}); a longer budget would fit better`,
        { steps: step, bestStep, bestValidationNll: best },
      ),
    );
  }
  return {
    steps: step,
    epochs: Number.isFinite(source.rows) ? (step * o.batchSize) / source.rows : NaN,
    seconds,
    stoppedBy,
    bestStep,
    bestValidationNll: best,
    history,
    skippedNonFinite: skipped,
    plateauReductions: reductions,
    warnings,
    path: engine.name,
    nTrain: source.rows,
    nValidation: validation.n,
    options: { steps: o.steps, batchSize: o.batchSize, learningRate: o.peak, schedule: o.schedule, clipNorm: o.clipNorm, weightDecay: o.weightDecay, validateEvery: o.validateEvery, patience: o.patience, maxSeconds: o.maxMs / 1000, seed: o.seed },
  };
}

/**
 * Fits the flow to the rows of `data` (n x flow.dim) by maximum likelihood, in place: the flow
 * ends with the parameters of its best validation NLL. See the file header.
 *
 *   const flow = createFamilyFlow('maf', 2, { seed: 1 });
 *   const fit = await fitMaximumLikelihood(flow, rows, { seed: 1 });
 *   fit.bestValidationNll, fit.stoppedBy, flow.logProbArrays(newRows)
 */
export async function fitMaximumLikelihood(flow: Flow, data: FitData, options: FitOptions = {}): Promise<FitResult> {
  const startedAt = performance.now();
  const D = flow.dim;
  const { x, n } = toDataMatrix(data, D, 'data', options.names);
  const seed = String(options.seed ?? 0);
  const root = new RandomStream(seed);
  let train: Float64Array;
  let nTrain: number;
  let val: Float64Array;
  let nVal: number;
  if (options.validation !== undefined) {
    const v = toDataMatrix(options.validation, D, 'validation data', options.names);
    train = x;
    nTrain = n;
    val = v.x;
    nVal = v.n;
  } else {
    const s = holdOut(x, n, D, options.validationFraction ?? FIT_DEFAULTS.validationFraction, seed);
    train = s.train;
    nTrain = s.nTrain;
    val = s.validation;
    nVal = s.nValidation;
  }
  const warnings = discreteColumns(train, nTrain, D, options.names);
  checkDensityDirection(flow, options.allowSequentialDensity ?? false, 'fitMaximumLikelihood');
  const standardization = options.standardize === false ? null : standardizeFlow(flow, train, nTrain);
  const source = epochBatches(train, nTrain, D, root.derive('minibatches'));
  const frozen = new Set(standardization ? standardizationParams(flow) : []);
  // The training NLL over every training row, after the fit, is inside the budget too.
  const reserveRows = nTrain + checkReserveRows(options.reserveRows);
  const result = await trainLikelihood(flow, source, { x: val, n: nVal }, { ...options, seed, reserveRows }, `${n} rows of ${D} columns`, frozen, startedAt);
  const engine = selectEngine(options.engine ?? flow.engine);
  return { ...result, warnings: [...warnings, ...result.warnings], trainNll: meanNll(flow, engine, train, nTrain), standardization };
}

/** log q at the rows of `data` (checked as in the fit), float64. */
export function logDensityRows(flow: Flow, data: FitData, names?: readonly string[]): Float64Array {
  const { x } = toDataMatrix(data, flow.dim, 'data', names, false);
  return flow.logProbArrays(x);
}


/**
 * A refit for the flow-assisted MCMC (src/samplers/flowMc.ts `refit`, flowMC's choice): each call
 * continues fitting the flow in place on the chains' draws so far by maximum likelihood, without
 * re-standardising (the flow keeps its scale), e.g.
 *   flowMc(target, flow, { refit: maximumLikelihoodRefit(flow, { steps: 300 }), ... })
 * The flow needs a parallel density direction (coupling or MAF layers).
 */
export function maximumLikelihoodRefit(flow: Flow, options: FitOptions = {}): (draws: Float64Array, n: number, signal?: AbortSignal) => Promise<void> {
  checkDensityDirection(flow, options.allowSequentialDensity ?? false, 'maximumLikelihoodRefit');
  let call = 0;
  return async (draws, n, signal) => {
    call++;
    await fitMaximumLikelihood(flow, draws.subarray(0, n * flow.dim), { steps: 300, patience: 5, ...options, standardize: false, signal: signal ?? options.signal, seed: `${String(options.seed ?? 0)}/refit${call}` });
  };
}
