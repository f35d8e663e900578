/**
 * Trains the flow of `compare`, `demo` and `train`, and records the training curve: the loss
 * from the trainer's history, and the importance efficiency ESS/n of fresh batches.
 *
 * Three methods (`method`):
 * - 'reverse-kl': the default IAF fitted by reverse KL (src/flows/train/reverseKL.ts);
 * - 'mode-covering': a tempered-SMC population (src/samplers/smc.ts), then a spline-coupling flow
 *   fitted to it by weighted maximum likelihood and refined on its own importance-weighted draws
 *   (src/flows/train/modeCovering.ts);
 * - 'auto' (the default): reverse KL first, then the missed-mass half of the coverage check
 *   (src/cli/coverageProbe.ts) against an SMC pilot; when reverse KL missed mass (it is
 *   mode-seeking), the mode-covering method is trained from the pilot's particles, and the flow
 *   with the higher importance log Ẑ is kept (missed mass can only lower it). Measured in
 *   bench/modeCovering.ts: docs/flows.md#mode-covering-training-issue-13.
 */
import { AbortedError, FlowsamplerError } from '../core/errors.js';
import { initBackend } from '../core/backend.js';
import { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import { createFamilyFlow, type Flow, type FlowFamily } from '../flows/index.js';
import { trainReverseKL, TRAIN_DEFAULTS, defaultBatchSize, type TrainCheckpoint, type TrainResult } from '../flows/index.js';
import { WorkerShards } from '../flows/train/parallel/workerShards.js';
import type { TargetSource } from '../study/targetSource.js';
import { createModeCoveringFlow, trainModeCovering, type ModeCoveringResult } from '../flows/train/modeCovering.js';
import { WeightedPoints } from '../flows/train/weightedLikelihood.js';
import { temperedSmc, type SmcResult } from '../samplers/smc.js';
import { flowImportanceSample } from '../samplers/flowImportance.js';
import { flowCoverage, type CoverageReport } from './coverageProbe.js';
import type { TrainedFlow } from './samplerRegistry.js';
import type { TrainingPoint } from '../report/trainingFigure.js';
import type { Warning } from '../core/warnings.js';

export type TrainMethod = 'auto' | 'reverse-kl' | 'mode-covering';
export const TRAIN_METHODS: Record<TrainMethod, string> = {
  auto: 'reverse KL; if the coverage check finds missed mass, retrain mode-covering (default)',
  'reverse-kl': 'the flow family by reverse KL only (mode-seeking: may miss modes)',
  'mode-covering': 'tempered-SMC population -> spline-coupling flow by weighted maximum likelihood, refined on its importance-weighted draws',
};

export interface TrainOptions {
  /** How the flow is trained (default 'auto'; see the file header). */
  method?: TrainMethod;
  /** Optimiser steps (default: the trainer's, TRAIN_DEFAULTS.steps). */
  steps?: number;
  /** Base draws per step (default cliBatchSize(dim, untilUsable)). */
  batchSize?: number;
  /** Flow family of reverse-KL training (default 'iaf'): see FLOW_FAMILIES in src/flows/builder.ts. */
  family?: FlowFamily;
  /** Flow layers (default: the family's). */
  layers?: number;
  /** An LU linear layer before each flow layer (default CLI_LU). */
  lu?: boolean;
  /** An ActNorm layer before each flow layer. */
  actnorm?: boolean;
  /** Peak learning rate (trainer's default when absent). */
  learningRate?: number;
  /** Wall-time budget in seconds (of each training phase). */
  maxSeconds?: number;
  /**
   * Temperature annealing: β rises from this value to 1 over the first half of training
   * (helps a mode-seeking reverse-KL fit spread over separated modes; hurts on unimodal ones).
   */
  annealFrom?: number;
}

export interface TrainRunOptions extends TrainOptions {
  seed: number | string;
  signal?: AbortSignal;
  /**
   * About every 25 steps: steps done of the total and the phase (reverse-KL training, the SMC
   * pilot, the mode-covering fit); while training by reverse KL also the last batch's loss, the
   * ELBO's moving average and `flow`, which holds the current parameters during the call (the
   * playground draws from it).
   */
  onProgress?: (p: { done: number; total: number; phase?: string; loss?: number; elboMA?: number; stepsPerSec?: number; flow?: Flow }) => void;
  /**
   * Stop once the flow is a usable proposal (default true: `trainReverseKL`'s `untilUsable`
   * checks); false trains every step (the checks still run, for the curve).
   */
  untilUsable?: boolean;
  /** Return the partly trained flow on Ctrl-C (stoppedBy 'abort') instead of throwing. */
  keepOnAbort?: boolean;
  /** Continue this flow from its checkpoint instead of a fresh flow (reverse KL only). */
  resume?: { flow: Flow; checkpoint: TrainCheckpoint };
  /**
   * Gradient threads (default 1): with more, the batch is split over worker threads that each
   * hold a replica of the flow and rebuild the target from `source` (src/flows/train/parallel/).
   */
  threads?: number;
  source?: TargetSource;
  /** Called with the flow and its checkpoint about every `checkpointSeconds` (default 30). */
  onCheckpoint?: (flow: Flow, checkpoint: TrainCheckpoint) => void;
  checkpointSeconds?: number;
}

/**
 * The CLI's training defaults, chosen by the time to a usable proposal (bench/timeToProposal.ts,
 * docs/flows.md "Time to a usable proposal"): proposal checks every 100 steps on 4096 fresh
 * draws (2048 let k̂'s noise pass flows that failed on 10 000), parameter averaging, an LU layer
 * before each flow layer, and 256 draws per step while training stops at the first usable
 * proposal (a fixed number of steps, --all-steps, keeps the trainer's larger default batch).
 */
export const CLI_PROPOSAL_CHECK = { every: 100, draws: 4096 } as const;
export const CLI_AVERAGING = 0.98;
export const CLI_LU = true;

/** Base draws per step of CLI training. */
export function cliBatchSize(dim: number, untilUsable: boolean): number {
  return untilUsable ? 256 : defaultBatchSize(dim);
}

/** The SMC population of mode-covering training (and the pilot of 'auto'): 10 runs x 1000 particles. */
export const SMC_POPULATION = { chains: 10, draws: 1000 } as const;

/** Default time budget of the mode-covering fit (after the SMC population), seconds. */
export const MODE_COVERING_SECONDS = 90;

function aborted(opts: TrainRunOptions): never {
  throw new AbortedError(opts.signal?.aborted ? 'stopped by the user during flow training' : 'flow training stopped');
}

async function reverseKLFor(target: Target, opts: TrainRunOptions): Promise<TrainedFlow> {
  const steps = opts.steps ?? TRAIN_DEFAULTS.steps;
  const batchSize = opts.batchSize ?? cliBatchSize(target.dim, opts.untilUsable ?? true);
  const root = new RandomStream(opts.seed).derive('flow');
  const family = opts.family ?? 'iaf';
  const flow = opts.resume?.flow ?? createFamilyFlow(family, target.dim, { layers: opts.layers, lu: opts.lu ?? CLI_LU, actnorm: opts.actnorm, seed: root.derive('init').seed });
  const t0 = performance.now();
  let result: TrainResult;
  let shards: WorkerShards | null = null;
  try {
    if ((opts.threads ?? 1) > 1 && opts.source) {
      shards = await WorkerShards.create({ flow, source: opts.source, baseDir: process.cwd(), batchSize, workers: opts.threads! - 1 });
    }
    result = await trainReverseKL(flow, target, {
      ...(shards ? { shards } : {}),
      steps,
      batchSize,
      ...(opts.learningRate !== undefined ? { learningRate: opts.learningRate } : {}),
      ...(opts.maxSeconds !== undefined ? { maxSeconds: opts.maxSeconds } : {}),
      ...(opts.annealFrom !== undefined ? { anneal: { from: opts.annealFrom, steps: Math.floor(steps / 2) } } : {}),
      averaging: CLI_AVERAGING,
      seed: root.derive('train').seed,
      signal: opts.signal,
      untilUsable: { ...CLI_PROPOSAL_CHECK, stop: opts.untilUsable ?? true },
      ...(opts.resume ? { resume: opts.resume.checkpoint } : {}),
      progressEvery: 25,
      onProgress: (step, loss, elboMA, stepsPerSec) => opts.onProgress?.({ done: step, total: steps, phase: 'training', loss, elboMA, stepsPerSec, flow }),
      ...(opts.onCheckpoint ? { onCheckpoint: (cp: TrainCheckpoint) => opts.onCheckpoint!(flow, cp), checkpointSeconds: opts.checkpointSeconds } : {}),
    });
  } catch (e) {
    if (!opts.resume) flow.dispose();
    throw e;
  } finally {
    shards?.dispose();
  }
  const trainTimeMs = performance.now() - t0;
  if (result.stoppedBy === 'abort' && !opts.keepOnAbort) {
    if (!opts.resume) flow.dispose();
    aborted(opts);
  }
  const points: TrainingPoint[] = result.history.map((h) => ({ step: h.step, loss: -h.elbo }));
  // The proposal checks as their own points (the figure draws each metric separately).
  for (const c of result.checks) points.push({ step: c.step, loss: NaN, essFraction: c.essFraction });
  points.sort((a, b) => a.step - b.step);
  return {
    flow,
    method: 'reverse-kl',
    trainTimeMs,
    trainEvals: (result.steps - (opts.resume?.checkpoint.step ?? 0)) * batchSize + result.checks.length * CLI_PROPOSAL_CHECK.draws,
    curve: { name: `${family} (reverse KL)`, points },
    result,
    modeCovering: null,
    warnings: result.warnings,
    steps: result.steps,
    requestedSteps: steps,
    stoppedBy: result.stoppedBy,
    notes: [],
  };
}

/** Tempered SMC's particles and log Ẑ (10 runs x 1000 particles, HMC moves). */
export async function smcPopulation(target: Target, seed: number | string, signal?: AbortSignal): Promise<SmcResult> {
  return temperedSmc(target, { seed: new RandomStream(seed).derive('flow').derive('smc-population').seed, ...SMC_POPULATION, signal });
}

async function modeCoveringFor(target: Target, opts: TrainRunOptions, smc: SmcResult): Promise<TrainedFlow> {
  const steps = opts.steps ?? TRAIN_DEFAULTS.steps;
  const batchSize = opts.batchSize ?? defaultBatchSize(target.dim);
  const root = new RandomStream(opts.seed).derive('flow');
  const population = { x: smc.draws.values, logWeights: smc.draws.logWeights ?? undefined };
  const { mean, sd } = new WeightedPoints(population.x, target.dim, population.logWeights).moments();
  const flow = createModeCoveringFlow(target.dim, { loc: mean, scale: sd.map((s) => Math.max(s, 1e-3)), seed: root.derive('mode-covering-init').seed });
  const t0 = performance.now();
  let result: ModeCoveringResult;
  try {
    result = await trainModeCovering(flow, target, {
      population,
      steps,
      batchSize,
      ...(opts.learningRate !== undefined ? { learningRate: opts.learningRate } : {}),
      maxSeconds: opts.maxSeconds ?? MODE_COVERING_SECONDS,
      // The default budget is a safety stop only: same seed, same flow on any machine.
      scheduleByTime: opts.maxSeconds !== undefined,
      seed: root.derive('mode-covering').seed,
      signal: opts.signal,
      untilUsable: opts.untilUsable === false ? { stop: false } : {},
      onProgress: (step, total, info) => opts.onProgress?.({ done: step, total, phase: info.phase === 'population' ? 'fitting the SMC particles' : 'refining on own draws' }),
    });
  } catch (e) {
    flow.dispose();
    throw e;
  }
  const trainTimeMs = performance.now() - t0;
  if (result.stoppedBy === 'abort' && !opts.keepOnAbort) {
    flow.dispose();
    aborted(opts);
  }
  const points: TrainingPoint[] = result.history.map((h) => ({ step: h.step, loss: h.loss, ...(h.essFraction !== undefined ? { essFraction: h.essFraction } : {}) }));
  const smcEvals = smc.draws.densityEvals ?? 0;
  return {
    flow,
    method: 'mode-covering',
    trainTimeMs,
    trainEvals: smcEvals + (result.steps - result.populationSteps) * batchSize + result.checks.length * CLI_PROPOSAL_CHECK.draws,
    curve: { name: 'spline coupling (mode-covering: SMC + maximum likelihood; loss = cross-entropy)', points },
    result: null,
    modeCovering: { result, smcLogZ: smc.logZ, smcLogZSe: smc.logZSe, smcSeconds: (smc.draws.wallTimeMs ?? 0) / 1000, populationEss: result.populationEss },
    warnings: result.warnings,
    steps: result.steps,
    requestedSteps: steps,
    stoppedBy: result.stoppedBy,
    notes: (opts.threads ?? 1) > 1 ? ['note: --workers splits reverse-KL gradients only; the mode-covering fit ran on one thread'] : [],
  };
}

/** log Ẑ of the flow by importance sampling on `n` fresh draws. */
function isLogZ(flow: Flow, target: Target, seed: string, n = 10_000): { logZ: number; se: number } {
  const r = flowImportanceSample(flow, target, { n, seed });
  return { logZ: r.logZ, se: r.logZSe };
}

export async function trainFlowFor(target: Target, opts: TrainRunOptions): Promise<TrainedFlow> {
  await initBackend();
  const method = opts.method ?? 'auto';
  if (!(method in TRAIN_METHODS)) throw new FlowsamplerError(`unknown training method '${String(method)}': use ${Object.keys(TRAIN_METHODS).join(', ')}`);
  if (method === 'mode-covering') {
    const t0 = performance.now();
    opts.onProgress?.({ done: 0, total: 1, phase: 'SMC population' });
    const smc = await smcPopulation(target, opts.seed, opts.signal);
    const smcMs = performance.now() - t0;
    const mc = await modeCoveringFor(target, opts, smc);
    // The fit's own time, plus the population it was fitted to (as `auto` adds its pilot).
    mc.trainTimeMs += smcMs;
    mc.pilotSmc = smc.draws;
    return mc;
  }
  const rkl = await reverseKLFor(target, opts);
  if (method === 'reverse-kl' || rkl.stoppedBy === 'abort') return rkl;

  // 'auto': did reverse KL miss mass?
  let smc: SmcResult;
  let cov: CoverageReport;
  const t1 = performance.now();
  try {
    opts.onProgress?.({ done: 0, total: 1, phase: 'coverage pilot' });
    smc = await smcPopulation(target, opts.seed, opts.signal);
    cov = await flowCoverage(target, rkl.flow, { seed: `${opts.seed}/auto`, signal: opts.signal, smcDraws: smc.draws, tails: false });
  } catch (e) {
    // Ctrl-C in the pilot: the reverse-KL flow and its checkpoint are kept (a resumed run redoes the pilot).
    if (opts.signal?.aborted && opts.keepOnAbort) return { ...rkl, stoppedBy: 'abort' };
    if (!(e instanceof FlowsamplerError) || opts.signal?.aborted) {
      if (!opts.resume) rkl.flow.dispose();
      throw e;
    }
    rkl.notes.push(`auto: the coverage pilot failed (${e.message}); kept the reverse-KL flow, which may miss modes`);
    return rkl;
  }
  rkl.coverage = cov;
  const pilotMs = performance.now() - t1;
  rkl.pilotSeconds = pilotMs / 1000;
  rkl.pilotSmc = smc.draws;
  if (!cov.result.status.includes('missed-mass')) {
    const vs = `reverse KL's log Z ${cov.flow.logZ.toFixed(3)} ± ${cov.flow.se.toFixed(3)}, SMC's ${smc.logZ.toFixed(3)} ± ${smc.logZSe.toFixed(3)}`;
    rkl.notes.push(
      cov.result.inconclusive
        ? `auto: the missed-mass check could not decide (${vs}); kept the reverse-KL flow, which may miss modes (try --method mode-covering)`
        : `auto: no missed mass found (${vs}); kept the reverse-KL flow`,
    );
    rkl.trainTimeMs += pilotMs;
    rkl.trainEvals += smc.draws.densityEvals ?? 0;
    return rkl;
  }
  const missed = cov.result.missedMass ?? NaN;
  let mc: TrainedFlow;
  try {
    mc = await modeCoveringFor(target, opts, smc);
  } catch (e) {
    if (!opts.resume) rkl.flow.dispose();
    throw e;
  }
  if (mc.stoppedBy === 'abort') {
    mc.flow.dispose();
    return { ...rkl, stoppedBy: 'abort' };
  }
  // Missed mass can only lower an importance estimate of log Z: keep the higher, within the noise.
  const a = { logZ: cov.flow.logZ, se: cov.flow.se };
  const b = isLogZ(mc.flow, target, `${opts.seed}/auto-compare`);
  const keepMc = !(b.logZ < a.logZ - 3 * Math.hypot(a.se, b.se));
  const note = `auto: reverse KL missed about ${Number.isFinite(missed) ? Math.round(100 * missed) : '?'} % of the mass (its log Z ${a.logZ.toFixed(3)} against SMC's ${smc.logZ.toFixed(3)} ± ${smc.logZSe.toFixed(3)}); retrained mode-covering (SMC population + maximum likelihood): log Z ${b.logZ.toFixed(3)} ± ${b.se.toFixed(3)}`;
  const total = rkl.trainTimeMs + pilotMs + mc.trainTimeMs;
  const evals = rkl.trainEvals + mc.trainEvals;
  const warnings: Warning[] = [...rkl.warnings.filter((w) => w.code !== 'plateau-unconverged'), ...mc.warnings];
  if (keepMc) {
    rkl.flow.dispose();
    return { ...mc, trainTimeMs: total, trainEvals: evals, result: rkl.result, warnings, notes: [note, ...mc.notes], coverage: undefined, pilotSeconds: pilotMs / 1000, pilotSmc: smc.draws };
  }
  mc.flow.dispose();
  return { ...rkl, trainTimeMs: total, trainEvals: evals, notes: [`${note}; kept reverse KL (its log Z is higher), which still misses mass: see the coverage lines`] };
}
