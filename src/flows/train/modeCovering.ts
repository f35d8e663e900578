/**
 * Mode-covering training: fit a flow to a weighted population that already covers the target's
 * modes (tempered SMC's particles, src/samplers/smc.ts), by weighted maximum likelihood, then
 * refine it on its own importance-weighted draws. Reverse KL, the default objective, is
 * mode-seeking (UDL §16.5.3): started from one Gaussian it settles on the modes it finds first and
 * never pays for the rest. The forward KL KL(p‖q) pays for every mode that carries weight.
 *
 * 1. **Population phase** (`populationSteps`): Adam on −mean log q over minibatches drawn by
 *    weight from the population (./weightedLikelihood.ts). SMC reaches the modes because it
 *    starts from a wide reference and tempers (Del Moral, Doucet & Jasra 2006); maximum likelihood
 *    turns its particles into a density with exact log q and one-pass sampling.
 * 2. **Refinement phase**: the population is finite (and its resampled particles repeat), so the
 *    fit then continues on fresh draws of q weighted by (p̃/q)^α and self-normalised per batch:
 *    α = 1 is a stochastic forward-KL step, α = 2 the α-divergence FAB minimises (Midgley et al.
 *    2023); unlike their AIS estimator, plain importance weights suffice once q covers the modes.
 *    Proposal checks (PSIS k̂ and Kish ESS/N of fresh draws, as in reverse-KL training, in
 *    either phase) stop training once the flow is a good proposal.
 *
 * The flow must have a one-pass density direction (coupling, MAF or elementwise layers):
 * `createModeCoveringFlow` builds rational-quadratic spline coupling layers (Durkan et al. 2019)
 * whose data-side affine layer starts at the population's mean and sd, or, in one dimension,
 * elementwise splines. bench/modeCovering.ts measured this against reverse KL, annealing and FAB.
 */
import type { Target } from '../../targets/target.js';
import type { Flow } from '../flow.js';
import { selectEngine } from '../engine/select.js';
import type { EngineChoice } from '../engine/engine.js';
import { createFamilyFlow, createFlow } from '../builder.js';
import { Adam } from './adam.js';
import { proposalQuality, recordCheck, defaultBatchSize, PROPOSAL_CHECK_DEFAULTS, type ProposalCheck, type ProposalCheckResult } from './reverseKL.js';
import type { LearningRateSchedule } from './schedule.js';
import { runOptimiser } from './optimiserLoop.js';
import { WeightedPoints, importanceBatch, weightedNllGradient } from './weightedLikelihood.js';
import { checkDensityDirection } from './maximumLikelihood.js';
import { ParameterError, checkDim, checkParam, checkPositiveInt } from '../../core/errors.js';
import { RandomStream } from '../../core/random.js';
import { makeWarning, pct, type Warning } from '../../core/warnings.js';
import { TrainingError } from './checks.js';

export interface ModeCoveringFlowOptions {
  /** Data-side affine layer's start: the population's mean and sd. */
  loc?: number[];
  scale?: number[];
  /** Coupling layers (default 4; one dimension: 2 elementwise splines). */
  layers?: number;
  /** Hidden widths of each coupling conditioner (default [64, 64]). */
  hidden?: number[];
  /** Spline bins (default 16) and bound (default 3.5, in the standardised units of the affine layer). */
  bins?: number;
  bound?: number;
  seed?: number | string;
}

/** The defaults of `createModeCoveringFlow` (bench/modeCovering.ts measured them). */
export const MODE_COVERING_FLOW = { layers: 4, hidden: [64, 64], bins: 16, bound: 3.5 } as const;

/**
 * A flow whose density is one pass: base N(0, I) → rational-quadratic spline coupling layers of
 * alternating parity → diagonal affine (at the population's location and scale). In one
 * dimension (no coupling possible) two elementwise splines before the affine layer.
 */
export function createModeCoveringFlow(dim: number, options: ModeCoveringFlowOptions = {}): Flow {
  checkPositiveInt('flow dim', dim);
  const transformer = { kind: 'rq-spline' as const, bins: options.bins ?? MODE_COVERING_FLOW.bins, bound: options.bound ?? MODE_COVERING_FLOW.bound };
  if (dim === 1) {
    const layers = options.layers ?? 2;
    return createFlow({
      dim,
      seed: options.seed ?? 0,
      layers: [...Array.from({ length: layers }, () => ({ type: 'elementwise', transformer })), { type: 'affine-diagonal', loc: options.loc, scale: options.scale }],
    });
  }
  return createFamilyFlow('coupling', dim, {
    layers: options.layers ?? MODE_COVERING_FLOW.layers,
    hidden: options.hidden ?? [...MODE_COVERING_FLOW.hidden],
    transformer,
    affine: 'output',
    loc: options.loc,
    scale: options.scale,
    seed: options.seed,
  });
}

export interface ModeCoveringOptions {
  /** Weighted points covering the target (row-major, with relative log weights), e.g. SMC's particles. */
  population: { x: Float64Array; logWeights?: ArrayLike<number> };
  /** Maximum optimiser steps in all (default 3000). */
  steps?: number;
  /** Steps on the population before the refinement (default 1000, at most `steps`). */
  populationSteps?: number;
  /** Points per step (default `defaultBatchSize(dim)`). */
  batchSize?: number;
  /** Peak Adam learning rate (default 5e-3), after a linear warm-up of `warmupSteps` (default 100). */
  learningRate?: number;
  warmupSteps?: number;
  /** Decay over all steps (default 'cosine' to `finalLearningRateFactor`, default 0.02). */
  schedule?: LearningRateSchedule;
  finalLearningRateFactor?: number;
  /** Global gradient-norm clipping (default 100). */
  clipNorm?: number;
  /** Weights (p̃/q)^α of the refinement (default 1: forward KL; 2: FAB's α = 2 divergence). */
  refineAlpha?: number;
  /**
   * Stop once the flow is a usable proposal (PSIS k̂ and Kish ESS/N of fresh draws every
   * `every` steps, passing `consecutive` times in a row, `ProposalCheck`; default on, with
   * ESS/N ≥ 0.8); false trains every step.
   */
  untilUsable?: Partial<ProposalCheck> | boolean;
  seed?: number | string;
  /** Wall-time budget; the learning-rate schedule follows elapsed time too unless `scheduleByTime` is false. */
  maxSeconds?: number;
  /**
   * Let the schedule follow elapsed time when that is ahead of the step count (default true): a
   * time-bound run still decays, but is then not reproducible across machines or loads. False
   * makes `maxSeconds` a plain stop, so the same seed gives the same run.
   */
  scheduleByTime?: boolean;
  signal?: AbortSignal;
  engine?: EngineChoice;
  /** Called every `progressEvery` (25) steps. */
  onProgress?: (step: number, total: number, info: { phase: 'population' | 'refine'; loss: number; essFraction: number }) => void;
  progressEvery?: number;
}

/** The default proposal check of the refinement: stricter than reverse KL's (ESS/N 0.6), since a covering fit gets there. */
export const MODE_COVERING_CHECK: ProposalCheck = { ...PROPOSAL_CHECK_DEFAULTS, essFraction: 0.8 };

export interface ModeCoveringResult {
  steps: number;
  /** Steps of the population phase. */
  populationSteps: number;
  /** Subsampled: the minibatch loss (−Σ W log q) and, in the refinement, the batch's ESS/N and ELBO. */
  history: { step: number; phase: 'population' | 'refine'; loss: number; essFraction?: number; elbo?: number }[];
  checks: ProposalCheckResult[];
  skippedNonFinite: number;
  seconds: number;
  stoppedBy: 'steps' | 'time' | 'abort' | 'usable';
  /** Kish's effective size of the population's weights. */
  populationEss: number;
  warnings: Warning[];
  path: 'heap' | 'tfjs';
  options: { steps: number; populationSteps: number; batchSize: number; learningRate: number; refineAlpha: number; seed: string };
}

export async function trainModeCovering(flow: Flow, target: Target, options: ModeCoveringOptions): Promise<ModeCoveringResult> {
  checkDim(`target ${target.name}`, flow.dim, target.dim);
  // Every step is a density pass: an IAF's is sequential (dim passes per layer), so it is refused.
  checkDensityDirection(flow, false, 'trainModeCovering');
  if (!options?.population) throw new ParameterError('mode-covering training needs a population { x, logWeights? } (e.g. tempered SMC particles)');
  const D = flow.dim;
  const points = new WeightedPoints(options.population.x, D, options.population.logWeights);
  const steps = checkPositiveInt('steps', options.steps ?? 3000);
  const popSteps = Math.min(steps, checkParam('populationSteps', options.populationSteps ?? 1000, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'));
  const batchSize = checkPositiveInt('batchSize', options.batchSize ?? defaultBatchSize(D));
  const peak = checkParam('learningRate', options.learningRate ?? 5e-3, (v) => v > 0, 'positive');
  const warmup = Math.floor(options.warmupSteps ?? Math.min(100, steps / 10));
  const schedule = options.schedule ?? 'cosine';
  const finalFactor = checkParam('finalLearningRateFactor', options.finalLearningRateFactor ?? 0.02, (v) => v > 0 && v <= 1, 'in (0, 1]');
  const clipNorm = checkParam('clipNorm', options.clipNorm ?? 100, (v) => v > 0, 'positive');
  const alpha = checkParam('refineAlpha', options.refineAlpha ?? 1, (v) => v > 0 && v <= 4, 'in (0, 4]');
  const maxMs = options.maxSeconds !== undefined ? 1000 * checkParam('maxSeconds', options.maxSeconds, (v) => v > 0, 'positive') : Infinity;
  const check: ProposalCheck | null = options.untilUsable === false ? null : { ...MODE_COVERING_CHECK, ...(typeof options.untilUsable === 'object' ? options.untilUsable : {}) };
  const seed = String(options.seed ?? 0);
  const progressEvery = options.progressEvery ?? 25;
  const historyEvery = Math.max(1, Math.ceil(steps / 200));

  const engine = selectEngine(options.engine ?? flow.engine);
  const rng = new RandomStream(seed).derive('mode-covering');
  const checkRng = new RandomStream(seed).derive('proposal-checks');
  const history: ModeCoveringResult['history'] = [];
  const checks: ProposalCheckResult[] = [];
  const xb = new Float64Array(batchSize * D);
  const uniform = new Float64Array(batchSize).fill(1 / batchSize);
  const phaseOf = (step: number) => (step < popSteps ? 'population' : 'refine');
  let ess: number | undefined;
  let elbo: number | undefined;
  const t0 = performance.now();
  const run = await runOptimiser<'usable'>(
    new Adam(flow.store),
    { steps, peak, schedule, warmup, finalFactor, clipNorm, maxMs, scheduleByTime: options.scheduleByTime, signal: options.signal },
    {
      compute: (step) => {
        ess = elbo = undefined;
        if (phaseOf(step) === 'population') {
          points.minibatch(batchSize, rng, xb);
          return weightedNllGradient(flow, engine, xb, batchSize, uniform);
        }
        const b = importanceBatch(flow, target, batchSize, rng, alpha);
        if (!b) return { loss: NaN, grads: null };
        ess = b.essFraction;
        elbo = b.elbo;
        return weightedNllGradient(flow, engine, b.x, batchSize, b.weights);
      },
      after: (step, _applied, { loss }) => {
        const phase = phaseOf(step - 1);
        if (Number.isFinite(loss) && (step % historyEvery === 0 || step === 1 || step === popSteps)) history.push({ step, phase, loss, ...(ess !== undefined ? { essFraction: ess, elbo } : {}) });
        if (step % progressEvery === 0) options.onProgress?.(step, steps, { phase, loss, essFraction: ess ?? NaN });
        if (check && step % check.every === 0) {
          const q = proposalQuality(flow, target, check.draws, checkRng);
          if (recordCheck(checks, step, q, check) && check.stop) return 'usable';
        }
      },
    },
  );
  const { steps: step, skipped, stoppedBy } = run;
  const warnings: Warning[] = [];
  if (step > 0 && stoppedBy !== 'abort' && skipped > step / 2) {
    throw new TrainingError(`mode-covering training on target ${target.name} skipped ${skipped} of ${step} steps (non-finite loss or gradient, or no finite importance weight)`);
  }
  if (skipped > 0.01 * step) {
    warnings.push(makeWarning('skipped-steps', `${skipped} of ${step} training steps (${pct(skipped / step)}) were skipped: non-finite loss or gradient, or a batch without a finite importance weight`, { skipped, steps: step }));
  }
  return {
    steps: step,
    populationSteps: Math.min(step, popSteps),
    history,
    checks,
    skippedNonFinite: skipped,
    seconds: (performance.now() - t0) / 1000,
    stoppedBy,
    populationEss: points.ess(),
    warnings,
    path: engine.name,
    options: { steps, populationSteps: popSteps, batchSize, learningRate: peak, refineAlpha: alpha, seed },
  };
}
