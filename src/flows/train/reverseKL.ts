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
 *   is dropped. Its cost: ∇ₓ log q needs the flow's density direction, `dim` passes per IAF
 *   layer (one for MAF and coupling layers).
 *
 * Training cooperates with the event loop every step (Ctrl-C works) and stops cleanly on abort,
 * returning what was trained with `stoppedBy: 'abort'`.
 *
 * Each step is one `differentiate` call of the flow's sampling program on its engine
 * (src/flows/engine/): the forward pass, the target's value and gradient at the draws
 * (src/targets/batch.ts), the objective's cotangents (./objective.ts), the backward pass; then
 * the gradient norm, clipping and one Adam step (./adam.ts) on the flow's parameter store, in
 * the loop every trainer shares (./optimiserLoop.ts). The same code runs on the heap engine and
 * on tfjs.
 */
import type { LearningRateSchedule } from './schedule.js';
import { runOptimiser } from './optimiserLoop.js';
import type { Target } from '../../targets/target.js';
import type { Flow } from '../flow.js';
import type { Param } from '../params.js';
import { selectEngine } from '../engine/select.js';
import type { EngineChoice } from '../engine/engine.js';
import { Adam, gradientNorm } from './adam.js';
import { objectiveGradient } from './objective.js';
import { shardGradient, type GradientShards } from './shards.js';
import { targetValueAndGrad } from '../../targets/batch.js';
import { FlowsamplerError, ParameterError, checkDim, checkParam, checkPositiveInt } from '../../core/errors.js';
import { pilotFlow, type PilotKind } from '../pilot.js';
import { RandomStream, type RandomStreamState } from '../../core/random.js';
import { float32ToBase64, base64ToFloat32 } from '../serialize.js';
import { psis } from '../../diagnostics/psis.js';
import { kishEss } from '../../diagnostics/importance.js';
import type { Warning } from '../../core/warnings.js';
import { TrainCounters, checkTrainingStart, trainWarnings } from './checks.js';

// The schedule moved to ./schedule.ts; it stays importable from here, where callers found it.
export { learningRateAt, type LearningRateSchedule } from './schedule.js';

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
  /** The engine: the flow's own choice by default (`flow.engine`: heap when available), 'heap' or 'tfjs'. */
  engine?: EngineChoice;
  /**
   * Stop as soon as the flow is a usable importance proposal (see `ProposalCheck`): every
   * `every` steps, `draws` fresh draws are weighted against the target, and training stops once
   * PSIS k̂ < `paretoK` and Kish ESS/N ≥ `essFraction` (checked with a margin below the usual
   * bars k̂ < 0.7, ESS/N ≥ 0.5, so that a larger evaluation sample passes too). Off by default
   * in the library; the CLI turns it on.
   */
  untilUsable?: Partial<ProposalCheck> | boolean;
  /** Continue a run from its checkpoint (`TrainResult.checkpoint`): the same result as an uninterrupted run. */
  resume?: TrainCheckpoint;
  /**
   * Start where the target is (src/flows/pilot.ts): before the first step, the flow's output
   * layers get the target's Laplace approximation when that scores a better ELBO than the
   * untouched flow (default true; a resumed run never re-pilots).
   */
  pilot?: boolean;
  /**
   * Parameter averaging (Polyak & Juditsky 1992): an exponential moving average of the iterates
   * with this decay (e.g. 0.98, a window of ~50 steps) is what the proposal checks see and what
   * the flow holds at the end; the optimiser itself runs on the raw iterates. Averaging removes
   * most of the step-to-step jitter of a high learning rate. Default false.
   */
  averaging?: number | false;
  /**
   * Data-parallel gradients on other threads (src/flows/train/shards.ts; Node: WorkerShards in
   * src/flows/train/parallel/). Used for the ELBO objective (renyiAlpha 1, no STL); the draws are
   * the same as on one thread, the gradient sums differ in rounding only.
   */
  shards?: GradientShards;
  /** Called with a checkpoint about every `checkpointSeconds` (default 30), e.g. to save it. */
  onCheckpoint?: (checkpoint: TrainCheckpoint) => void;
  checkpointSeconds?: number;
}

/** The proposal check of `untilUsable`. */
export interface ProposalCheck {
  /** Steps between checks (default 100). */
  every: number;
  /** Draws per check (default 2048). */
  draws: number;
  /** Stop below this PSIS k̂ (default 0.6). */
  paretoK: number;
  /** ...and at or above this Kish ESS/N (default 0.6). */
  essFraction: number;
  /** Stop when a check passes (default true; false only records the checks). */
  stop: boolean;
  /** Checks in a row that must pass, each on fresh draws (default 2: one lucky sample is not enough). */
  consecutive: number;
}

export const PROPOSAL_CHECK_DEFAULTS: ProposalCheck = { every: 100, draws: 2048, paretoK: 0.6, essFraction: 0.6, stop: true, consecutive: 2 };

/** One proposal check: at which step, and what it measured. */
export interface ProposalCheckResult {
  step: number;
  paretoK: number;
  essFraction: number;
  passed: boolean;
}

/**
 * Everything a run needs to continue exactly where it stopped (the flow's parameters travel
 * with the flow itself): optimiser moments, random-stream states, counters and the ELBO trace
 * that the plateau rule and the moving average read. JSON-serialisable.
 */
export interface TrainCheckpoint {
  version: 1;
  step: number;
  seconds: number;
  adam: { t: number; m: string[]; v: string[] };
  noise: RandomStreamState;
  checkNoise: RandomStreamState;
  elbos: number[];
  history: { step: number; loss: number; elbo: number }[];
  checks: ProposalCheckResult[];
  skipped: number;
  lastLoss: number;
  /** With averaging: the raw iterates and their running average. */
  raw?: string[];
  average?: string[];
  /** The options the run was started with (a resumed run must use the same). */
  options: { steps: number; batchSize: number; learningRate: number; schedule: LearningRateSchedule; seed: string };
}

export interface TrainResult {
  /** Optimiser steps attempted (skipped ones included). */
  steps: number;
  /** Subsampled: step, loss (the objective), ELBO (at β = 1, batch estimate); finite steps only. */
  history: { step: number; loss: number; elbo: number }[];
  skippedNonFinite: number;
  seconds: number;
  stoppedBy: 'steps' | 'plateau' | 'time' | 'abort' | 'usable';
  /** The proposal checks run (with `untilUsable`). */
  checks: ProposalCheckResult[];
  /** The state to continue from (`options.resume`). */
  checkpoint: TrainCheckpoint;
  /** Skipped steps, a plateau far from convergence (./checks.ts). */
  warnings: Warning[];
  /** Moving average of the batch ELBO over the last 100 steps. */
  finalElboMA: number;
  /** The engine the steps ran on. */
  path: 'heap' | 'tfjs';
  /** Threads the gradients ran on (1, or the shards of `options.shards`). */
  threads: number;
  /** The start the pilot chose ('none' when it kept the untouched flow or did not run). */
  pilot: PilotKind;
  options: Required<Pick<TrainOptions, 'steps' | 'batchSize' | 'learningRate' | 'schedule' | 'clipNorm' | 'stl'>> & { seed: string };
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

/**
 * Records one proposal check in `checks`; true once the last `check.consecutive` checks have all
 * passed (k̂ below and ESS/N at or above the thresholds).
 */
export function recordCheck(checks: ProposalCheckResult[], step: number, q: { paretoK: number; essFraction: number }, check: ProposalCheck): boolean {
  const passed = q.paretoK < check.paretoK && q.essFraction >= check.essFraction;
  checks.push({ step, paretoK: q.paretoK, essFraction: q.essFraction, passed });
  let run = 0;
  for (let i = checks.length - 1; i >= 0 && checks[i].passed; i--) run++;
  return run >= check.consecutive;
}

/** Kish ESS/N and PSIS k̂ of `n` fresh draws of the flow against the target (log p̃ by its float64 path). */
export function proposalQuality(flow: Flow, target: Target, n: number, rng: RandomStream): { paretoK: number; essFraction: number } {
  const { x, logq } = flow.sampleArrays(n, rng);
  const D = flow.dim;
  const lw = new Float64Array(n);
  const row = new Float64Array(D);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < D; j++) row[j] = x[r * D + j];
    const v = target.logDensity(row) - logq[r];
    lw[r] = Number.isNaN(v) ? -Infinity : v;
  }
  if (!lw.some(Number.isFinite)) return { paretoK: Infinity, essFraction: 0 };
  let k: number;
  try {
    k = psis(lw).paretoK;
  } catch {
    k = Infinity;
  }
  return { paretoK: Number.isFinite(k) ? k : Infinity, essFraction: kishEss(lw) / n };
}

/** avg ← d·avg + (1 − d)·x. */
function averageInto(avg: Float32Array, x: Float32Array, d: number): void {
  const c = 1 - d;
  for (let k = 0; k < avg.length; k++) avg[k] = d * avg[k] + c * x[k];
}

function encodeMoments(a: Float32Array[]): string[] {
  return a.map(float32ToBase64);
}

function decodeMoments(a: string[], sizes: number[]): Float32Array[] {
  return a.map((s, i) => {
    const v = base64ToFloat32(s, sizes[i]);
    if (!v) throw new ParameterError(`resume: optimiser moment ${i} does not match the flow`);
    return v;
  });
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
  const stl = options.stl ?? false;
  const alpha = checkParam('renyiAlpha', options.renyiAlpha ?? 1, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  const check: ProposalCheck | null = options.untilUsable ? { ...PROPOSAL_CHECK_DEFAULTS, ...(options.untilUsable === true ? {} : options.untilUsable) } : null;
  if (check) {
    checkPositiveInt('untilUsable.every', check.every);
    checkParam('untilUsable.draws', check.draws, (v) => Number.isInteger(v) && v >= 100, 'an integer >= 100');
  }

  if (!resume0(options)) checkTrainingStart(flow, target, batchSize, seed);
  let pilot: PilotKind = 'none';
  if (!resume0(options) && (options.pilot ?? true)) {
    try {
      pilot = pilotFlow(flow, target, { seed }).kind;
    } catch (e) {
      // A target without a usable gradient (or an exotic one) simply starts untouched.
      if (!(e instanceof FlowsamplerError)) throw e;
    }
  }
  const counters = new TrainCounters();
  const engine = selectEngine(options.engine ?? flow.engine);
  const adam = new Adam(flow.store);
  const params = flow.trainableParams();
  let rng = new RandomStream(seed).derive('train-noise');
  let checkRng = new RandomStream(seed).derive('proposal-checks');
  const history: TrainResult['history'] = [];
  const checks: ProposalCheckResult[] = [];
  let elbos: number[] = [];
  let skipped = 0;
  let step = 0;
  let lastLoss = NaN;
  let secondsBefore = 0;
  const resume = options.resume;
  if (resume) {
    if (resume.version !== 1) throw new ParameterError(`resume: checkpoint version ${String(resume.version)} is not supported`);
    const o = resume.options;
    if (o.steps !== steps || o.batchSize !== batchSize || o.learningRate !== peak || o.schedule !== schedule || o.seed !== seed) {
      throw new ParameterError(
        `resume: the checkpoint was made with steps ${o.steps}, batch ${o.batchSize}, learning rate ${o.learningRate}, schedule ${o.schedule}, seed ${o.seed}; give the same to continue it`,
      );
    }
    adam.restore({ t: resume.adam.t, m: decodeMoments(resume.adam.m, params.map((p) => p.size)), v: decodeMoments(resume.adam.v, params.map((p) => p.size)) });
    rng = new RandomStream(resume.noise.seed, resume.noise);
    checkRng = new RandomStream(resume.checkNoise.seed, resume.checkNoise);
    elbos = [...resume.elbos];
    history.push(...resume.history);
    checks.push(...resume.checks);
    skipped = resume.skipped;
    step = resume.step;
    lastLoss = resume.lastLoss;
    secondsBefore = resume.seconds;
  }

  const decay = options.averaging === undefined || options.averaging === false ? 0 : checkParam('averaging', options.averaging, (v) => v > 0 && v < 1, 'in (0, 1)');
  // The average starts at the current parameters; a resumed run gets its raw iterates back.
  const sizes = params.map((p) => p.size);
  const ema: Float32Array[] | null = decay > 0 ? (resume?.average ? decodeMoments(resume.average, sizes) : params.map((p) => p.values().slice())) : null;
  if (ema && resume?.raw) {
    const raw = decodeMoments(resume.raw, sizes);
    params.forEach((p, i) => flow.store.set(p, raw[i]));
  }
  /** Runs fn with the averaged parameters in the flow (the raw ones put back after). */
  const withAverage = <T>(fn: () => T): T => {
    if (!ema) return fn();
    const raw = params.map((p) => p.values().slice());
    params.forEach((p, i) => flow.store.set(p, ema[i]));
    try {
      return fn();
    } finally {
      params.forEach((p, i) => flow.store.set(p, raw[i]));
    }
  };

  const D = flow.dim;
  const program = flow.samplingProgram();
  let grads: Map<Param, Float64Array> = new Map();
  const shards = options.shards && alpha === 1 && !stl ? options.shards : null;
  const computeSharded = (beta: number, eps: Float64Array) => {
    const s = shards!;
    const rows = s.rows(batchSize);
    const m = rows[1] - rows[0];
    s.start(flow.store, eps, batchSize, beta);
    let own: { sumObjective: number; sumElbo: number; grads: Map<Param, Float64Array> } | null = null;
    try {
      own = shardGradient(engine, flow, program, target, eps.subarray(0, m * D), m, batchSize, beta);
    } finally {
      // Always collect the other shards, so the next step starts clean.
      const others = s.wait();
      if (own) {
        let so = own.sumObjective;
        let se = own.sumElbo;
        for (const o of others) {
          so += o.sumObjective;
          se += o.sumElbo;
          for (const [p, g] of o.grads) {
            const acc = own.grads.get(p);
            if (!acc) own.grads.set(p, g);
            else for (let k = 0; k < acc.length; k++) acc[k] += g[k];
          }
        }
        own.sumObjective = so;
        own.sumElbo = se;
      }
    }
    grads = own!.grads;
    return { loss: -own!.sumObjective / batchSize, elbo: own!.sumElbo / batchSize, norm: gradientNorm(grads) };
  };
  const compute = (beta: number) => {
    const eps = new Float64Array(batchSize * D);
    rng.fillNormal(eps);
    if (shards) return computeSharded(beta, eps);
    let loss = NaN;
    let elbo = NaN;
    const r = engine.differentiate(flow.store, program, [{ values: eps, rows: batchSize, cols: D }], ([x, logq]) => {
      const { logp, grad } = targetValueAndGrad(target, x, batchSize, D);
      const obj = objectiveGradient(logp, grad, logq, D, beta, alpha);
      loss = obj.loss;
      elbo = obj.elbo;
      if (!stl) return [obj.dX, obj.dLogq];
      // Path derivative: the score term goes, ∇ₓ log q (parameters held) joins the x path.
      const lq = flow.logProbGrad(x);
      for (let i = 0; i < obj.dX.length; i++) obj.dX[i] += obj.dLogq[Math.floor(i / D)] * lq.grad[i];
      return [obj.dX, null];
    });
    grads = r.paramGrads;
    return { loss, elbo, norm: gradientNorm(grads) };
  };

  // The plateau window keeps only what the rules read (the last 2 windows and the moving average).
  const keep = Math.max(early ? 2 * early.window : 0, 100);
  const t0 = performance.now() - 1000 * secondsBefore;
  let beta = 1;
  let lastElbo = NaN;
  let lr = peak;
  const maWindow = 100;
  const elboMA = () => {
    const n = Math.min(maWindow, elbos.length);
    if (n === 0) return NaN;
    let s = 0;
    for (let i = elbos.length - n; i < elbos.length; i++) s += elbos[i];
    return s / n;
  };
  const makeCheckpoint = (): TrainCheckpoint => {
    const a = adam.state();
    return {
      version: 1,
      step,
      seconds: (performance.now() - t0) / 1000,
      adam: { t: a.t, m: encodeMoments(a.m), v: encodeMoments(a.v) },
      noise: rng.state(),
      checkNoise: checkRng.state(),
      elbos: elbos.slice(-keep),
      history: [...history],
      checks: [...checks],
      skipped,
      lastLoss,
      ...(ema ? { raw: params.map((p) => float32ToBase64(p.values())), average: ema.map(float32ToBase64) } : {}),
      options: { steps, batchSize, learningRate: peak, schedule, seed },
    };
  };
  const checkpointMs = 1000 * (options.checkpointSeconds ?? 30);
  let lastCheckpoint = performance.now();
  const report = () => {
    if (options.onCheckpoint && performance.now() - lastCheckpoint >= checkpointMs) {
      lastCheckpoint = performance.now();
      options.onCheckpoint(makeCheckpoint());
    }
    if (!options.onProgress) return;
    const sec = (performance.now() - t0) / 1000;
    options.onProgress(step, lastLoss, elboMA(), sec > 0 ? step / sec : 0, {
      steps,
      beta,
      learningRate: lr,
      skippedNonFinite: skipped,
      elapsedSeconds: sec,
    });
  };

  const run = await runOptimiser<'usable' | 'plateau'>(
    adam,
    { steps, peak, schedule, warmup, finalFactor, clipNorm, maxMs, signal: options.signal },
    {
      compute: (k) => {
        beta = anneal && k < anneal.steps ? anneal.from + ((1 - anneal.from) * k) / Math.max(1, anneal.steps) : 1;
        const c = compute(beta);
        lastElbo = c.elbo;
        return { loss: c.loss, grads, norm: c.norm, finite: Number.isFinite(c.elbo) };
      },
      after: (done, applied, { loss, norm }, rate) => {
        lr = rate;
        if (applied) {
          if (ema) params.forEach((p, i) => averageInto(ema[i], p.values(), decay));
          lastLoss = loss;
          elbos.push(lastElbo);
          if (elbos.length > 2 * keep) elbos = elbos.slice(-keep);
        } else {
          skipped++;
          counters.skip(done - 1, loss, lastElbo, norm ?? NaN);
        }
        step = done;
        if (applied && (step % historyEvery === 0 || step === 1)) history.push({ step, loss, elbo: lastElbo });
        if (step % progressEvery === 0) report();
        if (check && step % check.every === 0 && beta === 1) {
          const q = withAverage(() => proposalQuality(flow, target, check.draws, checkRng));
          if (recordCheck(checks, step, q, check) && check.stop) return 'usable';
        }
        // Plateau: compare the ELBO moving averages of the last two windows (only once β = 1).
        if (early && (!anneal || step >= anneal.steps + 2 * early.window) && elbos.length >= 2 * early.window && step % 50 === 0) {
          const w = early.window;
          let now = 0;
          let prev = 0;
          for (let i = elbos.length - w; i < elbos.length; i++) now += elbos[i];
          for (let i = elbos.length - 2 * w; i < elbos.length - w; i++) prev += elbos[i];
          if ((now - prev) / w < early.minDelta) return 'plateau';
        }
      },
    },
    { startStep: step, elapsedMs: 1000 * secondsBefore },
  );
  const stoppedBy: TrainResult['stoppedBy'] = run.stoppedBy;
  report();
  if (elbos.length > 0 && (history.length === 0 || history[history.length - 1].step !== step)) {
    history.push({ step, loss: lastLoss, elbo: elbos[elbos.length - 1] });
  }
  const seconds = (performance.now() - t0) / 1000;
  const checkpoint = makeCheckpoint();
  // The flow keeps the average (the checkpoint keeps the raw iterates to continue from).
  if (ema) params.forEach((p, i) => flow.store.set(p, ema[i]));
  const result: TrainResult = {
    steps: step,
    history,
    skippedNonFinite: skipped,
    seconds,
    stoppedBy,
    finalElboMA: elboMA(),
    path: engine.name,
    threads: shards ? shards.shards : 1,
    pilot,
    checks,
    checkpoint,
    warnings: [],
    options: { steps, batchSize, learningRate: peak, schedule, clipNorm, stl, seed },
  };
  result.warnings = trainWarnings(result, counters, flow, target);
  return result;
}

/** A resumed run was checked when it started. */
function resume0(options: TrainOptions): boolean {
  return options.resume !== undefined;
}
