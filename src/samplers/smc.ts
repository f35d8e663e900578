/**
 * Adaptive tempered sequential Monte Carlo (Del Moral, Doucet & Jasra 2006) and annealed
 * importance sampling (Neal 2001) on the geometric path π_β ∝ ref^(1−β) p̃^β from a normalised
 * Gaussian reference (smcReference.ts) to the target. Each stage
 *   1. picks the next β by the conditional ESS (Zhou, Johansen & Aston 2016; resampling every
 *      stage, as BlackJAX's adaptive tempered SMC, it is the ESS of the incremental weights),
 *   2. reweights: log w_i += (β' − β)(log p̃ − log ref)(x_i), and log Ẑ += log Σ W_i u_i,
 *   3. resamples (systematic; every stage by default, when ESS/N < `resampleThreshold`
 *      otherwise, never for AIS),
 *   4. moves every particle with `moves` HMC or RWM transitions invariant for π_β' (smcMoves.ts),
 *      scaled by the population and tuned between moves toward an acceptance target.
 * `chains` independent runs of `draws` particles each: log Ẑ = log mean_r Ẑ_r, with the
 * delta-method standard error sd_r(Ẑ_r) / (√R mean Ẑ_r) from the spread between runs, which needs
 * no assumption about the kernel's mixing (R ≥ 2; with few runs the standard error is itself
 * rough: a t-distribution with R − 1 degrees of freedom).
 *
 * Ẑ_r is unbiased for Z when the temperatures are fixed in advance (Del Moral 2004); choosing
 * each β from the same particles that then estimate its increment is not, and the bias can be
 * many standard errors where those particles miss mass the next temperature weighs heavily (on
 * the 10-D funnel every seed read low; docs/multimodal.md). So by default (`schedule: 'pilot'`)
 * one extra run picks the temperatures adaptively and is then discarded, and the `chains` runs
 * follow its schedule: the "two-pass" remedy for adaptive SMC (Chopin & Papaspiliopoulos 2020,
 * "An Introduction to Sequential Monte Carlo", §17.2). `schedule: 'adaptive'` lets every run
 * pick its own (cheaper, biased); an array gives the temperatures.
 *
 * The Draws hold the final particles (run r = chain r) and their log weights log Ẑ_r + log W_ri
 * (relative across runs: a run that found more mass counts more); `info` carries log Z, its
 * standard error, each run's log Ẑ_r and number of stages.
 *
 * Example:
 *   const r = await temperedSmc(midgley40(), { seed: 1, chains: 8, draws: 2000 });
 *   console.log(r.logZ, r.logZSe);     // about 0 ± 0.01
 */
import { Cooperative } from '../core/cooperative.js';
import { makeDraws, type Draws } from '../core/draws.js';
import { NonFiniteError, ParameterError, checkParam, checkPositiveInt } from '../core/errors.js';
import { logSumExp } from '../core/linalg.js';
import { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import { CountedTarget, checkTargetContract, commonConfig } from './chains.js';
import { systematicResample } from './flowImportance.js';
import type { SamplerOptions } from './sampler.js';
import { hmcMove, rwmMove, type Population } from './smcMoves.js';
import { nextTemperature, referenceFor, referenceLogDensity, sampleReference, type GaussianReference, type ReferenceSpec } from './smcReference.js';

export interface SmcOptions extends SamplerOptions {
  /** (SamplerOptions.draws) particles per run, default 1000; (chains) independent runs, default 4. `warmup` is not used. */
  /** Move kernel (default 'hmc'; 'rwm' needs no gradient). */
  kernel?: 'hmc' | 'rwm';
  /** MCMC transitions per stage (default 5 for HMC, 20 for RWM). */
  moves?: number;
  /** Leapfrog steps per HMC transition (default 10). */
  leapfrogSteps?: number;
  /** HMC step sizes log-uniform over this ratio (see smcMoves.ts; default 1). */
  stepSizeSpread?: number;
  /** HMC step size scaled by the local gradient (see smcMoves.ts; default false). */
  localStep?: boolean;
  /** The conditional ESS kept at each stage, as a fraction of the particles (default 0.5). */
  targetEss?: number;
  /** Resample when ESS/N drops below this (default 1: every stage; 0: never, i.e. AIS). */
  resampleThreshold?: number;
  /** The Gaussian reference (default from the target's plotBounds; see smcReference.ts). */
  reference?: ReferenceSpec;
  /** Stop with an error after this many stages of one run (default 2000). */
  maxStages?: number;
  /**
   * The inverse temperatures (default 'pilot': chosen by the conditional ESS in one discarded
   * run, then fixed for every run, so each Ẑ_r is unbiased; 'adaptive': each run chooses its own;
   * or the schedule itself, increasing in (0, 1] and ending at 1).
   */
  schedule?: 'pilot' | 'adaptive' | readonly number[];
}

/** One run's record. */
export interface SmcRun {
  logZ: number;
  /** The inverse temperatures, from 0 to 1. */
  betas: number[];
  /** ESS/N of the weights at each stage before resampling. */
  ess: number[];
  /** Mean acceptance over the run's moves. */
  acceptance: number;
  /** The final HMC step size or RWM scale. */
  scale: number;
}

export interface SmcResult {
  draws: Draws;
  /** How the temperatures were chosen, and the pilot run that chose them ('pilot' only; not in log Z). */
  schedule: 'pilot' | 'adaptive' | 'given';
  pilot: SmcRun | null;
  logZ: number;
  /** Standard error of log Ẑ from the spread between runs (NaN with one run). */
  logZSe: number;
  runs: SmcRun[];
  reference: GaussianReference;
}

const HMC_ACCEPT = 0.65;
const RWM_ACCEPT = 0.234;

function normalise(logW: Float64Array): void {
  const s = logSumExp(logW);
  for (let i = 0; i < logW.length; i++) logW[i] -= s;
}

function essFraction(logW: Float64Array): number {
  // With Σ W = 1: ESS / N = 1 / (N Σ W²).
  let s2 = 0;
  for (const v of logW) s2 += Math.exp(2 * v);
  return 1 / (logW.length * s2);
}

/** Population variance per coordinate (weighted by W), floored so a collapsed coordinate keeps moving. */
function populationVariance(pop: Population, logW: Float64Array, ref: GaussianReference): Float64Array {
  const { n, dim, x } = pop;
  const mean = new Float64Array(dim);
  const v = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    const w = Math.exp(logW[r]);
    for (let i = 0; i < dim; i++) mean[i] += w * x[r * dim + i];
  }
  for (let r = 0; r < n; r++) {
    const w = Math.exp(logW[r]);
    for (let i = 0; i < dim; i++) v[i] += w * (x[r * dim + i] - mean[i]) ** 2;
  }
  for (let i = 0; i < dim; i++) v[i] = Math.max(v[i], 1e-8 * ref.sd[i] * ref.sd[i]);
  return v;
}

function resample(pop: Population, logW: Float64Array, rng: RandomStream): void {
  const { n, dim } = pop;
  const w = Float64Array.from(logW, (v) => Math.exp(v));
  const idx = systematicResample(w, n, rng);
  const x = new Float64Array(n * dim);
  const logP = new Float64Array(n);
  const logRef = new Float64Array(n);
  const grad = pop.gradP ? new Float64Array(n * dim) : null;
  for (let k = 0; k < n; k++) {
    const j = idx[k];
    x.set(pop.x.subarray(j * dim, (j + 1) * dim), k * dim);
    if (grad) grad.set(pop.gradP!.subarray(j * dim, (j + 1) * dim), k * dim);
    logP[k] = pop.logP[j];
    logRef[k] = pop.logRef[j];
  }
  pop.x = x;
  pop.logP = logP;
  pop.logRef = logRef;
  pop.gradP = grad;
  logW.fill(-Math.log(n));
}

/** A given schedule: finite, strictly increasing in (0, 1], ending at 1 (a leading 0 is allowed). */
function checkSchedule(schedule: readonly number[]): number[] {
  if (!Array.isArray(schedule) || schedule.length === 0) throw new ParameterError('smc schedule must be a non-empty array of inverse temperatures ending at 1');
  const betas = schedule[0] === 0 ? [...schedule] : [0, ...schedule];
  for (let i = 1; i < betas.length; i++) {
    const b = betas[i];
    if (!(typeof b === 'number' && b > betas[i - 1] && b <= 1)) {
      throw new ParameterError(`smc schedule[${i - (schedule[0] === 0 ? 0 : 1)}] = ${String(b)}: inverse temperatures must increase strictly within (0, 1]`);
    }
  }
  if (betas[betas.length - 1] !== 1) throw new ParameterError(`smc schedule must end at 1, not ${betas[betas.length - 1]}`);
  return betas;
}

export async function temperedSmc(target: Target, options: SmcOptions): Promise<SmcResult> {
  const kernel = options?.kernel ?? 'hmc';
  if (kernel !== 'hmc' && kernel !== 'rwm') throw new ParameterError(`unknown SMC kernel '${String(kernel)}': use hmc or rwm`);
  checkTargetContract(target, kernel === 'hmc');
  const config = commonConfig(options, 0);
  const runs = config.chains;
  const n = config.draws;
  if (n < 2) throw new ParameterError('smc needs at least 2 particles per run (draws >= 2)');
  const dim = target.dim;
  const moves = checkParam('moves', options.moves ?? (kernel === 'hmc' ? 5 : 20), (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0');
  const steps = checkPositiveInt('leapfrogSteps', options.leapfrogSteps ?? 10);
  const spread = checkParam('stepSizeSpread', options.stepSizeSpread ?? 1, (v) => v >= 1, '>= 1');
  const rho = checkParam('targetEss', options.targetEss ?? 0.5, (v) => v > 0 && v < 1, 'in (0, 1)');
  const threshold = checkParam('resampleThreshold', options.resampleThreshold ?? 1, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  const maxStages = checkPositiveInt('maxStages', options.maxStages ?? 2000);
  const ref = referenceFor(target, options.reference);
  const counted = new CountedTarget(target);
  const root = new RandomStream(config.seed);
  const coop = new Cooperative(options.signal, undefined, 100, 1);
  coop.checkAborted();
  const values = new Float64Array(runs * n * dim);
  const logWeights = new Float64Array(runs * n);
  const runRecords: SmcRun[] = [];
  let accSum = 0;
  let accCount = 0;
  const t0 = performance.now();
  const scheduleOption = options.schedule ?? 'pilot';
  const given = typeof scheduleOption === 'string' ? null : checkSchedule(scheduleOption);
  if (given === null && scheduleOption !== 'pilot' && scheduleOption !== 'adaptive') {
    throw new ParameterError(`unknown SMC schedule '${String(scheduleOption)}': use 'pilot', 'adaptive' or an array of inverse temperatures`);
  }
  const pilotRuns = scheduleOption === 'pilot' ? 1 : 0;
  const progress = (done: number, beta: number) =>
    options.onProgress?.({ sampler: 'smc', done: done * 1000 + Math.round(1000 * beta), total: (runs + pilotRuns) * 1000, phase: 'sampling' });

  /** One run: from reference draws to β = 1, by `fixed` temperatures or adaptively. */
  const runOnce = async (rng: RandomStream, fixed: readonly number[] | null, label: string, done: number): Promise<{ pop: Population; logW: Float64Array; accSum: number; accCount: number; run: SmcRun }> => {
    const pop: Population = { n, dim, x: new Float64Array(n * dim), logP: new Float64Array(n), gradP: kernel === 'hmc' ? new Float64Array(n * dim) : null, logRef: new Float64Array(n) };
    sampleReference(ref, n, rng.derive('reference'), pop.x);
    for (let k = 0; k < n; k++) {
      const xk = pop.x.subarray(k * dim, (k + 1) * dim);
      pop.logP[k] = pop.gradP ? counted.gradLogDensity(xk, pop.gradP.subarray(k * dim, (k + 1) * dim)) : counted.logDensity(xk);
      pop.logRef[k] = referenceLogDensity(ref, xk);
    }
    if (pop.logP.every((v) => v === -Infinity)) {
      throw new ParameterError(`smc: none of the ${n} reference draws has a finite density under ${target.name}; give a reference that covers the target's support`);
    }
    const logW = new Float64Array(n).fill(-Math.log(n));
    const delta = new Float64Array(n);
    let beta = 0;
    let logZ = 0;
    let scale = kernel === 'hmc' ? Math.pow(dim, -0.25) : 2.38 / Math.sqrt(dim);
    const betas = [0];
    const essList: number[] = [];
    let runAcc = 0;
    let runMoves = 0;
    while (beta < 1) {
      if (betas.length > maxStages) {
        throw new ParameterError(
          `smc: ${label} reached only β = ${beta.toPrecision(3)} after ${maxStages} stages; use more particles (draws), a lower targetEss or a reference closer to the target`,
        );
      }
      for (let k = 0; k < n; k++) delta[k] = pop.logP[k] === -Infinity ? -Infinity : pop.logP[k] - pop.logRef[k];
      const next = fixed ? fixed[betas.length] : nextTemperature(beta, delta, logW, rho);
      const d = next - beta;
      // log Ẑ increment: log Σ W_i u_i (W normalised).
      for (let k = 0; k < n; k++) logW[k] = delta[k] === -Infinity ? -Infinity : logW[k] + d * delta[k];
      const inc = logSumExp(logW);
      if (inc === -Infinity) {
        throw new NonFiniteError(`smc: at β = ${next.toPrecision(3)} every particle of ${label} has zero density under ${target.name}`);
      }
      logZ += inc;
      normalise(logW);
      beta = next;
      betas.push(beta);
      const ess = essFraction(logW);
      essList.push(ess);
      if (threshold === 1 || ess < threshold) resample(pop, logW, rng.derive('resample', betas.length));
      if (moves > 0) {
        const variance = populationVariance(pop, logW, ref);
        const sd = variance.map(Math.sqrt);
        const moveRng = rng.derive('move', betas.length);
        for (let m = 0; m < moves; m++) {
          const acc =
            kernel === 'hmc'
              ? hmcMove(pop, beta, ref, counted, { stepSize: scale, steps, invMetric: variance, spread, localStep: options.localStep ?? false }, moveRng)
              : rwmMove(pop, beta, ref, counted, { scale, sd }, moveRng);
          // Tune toward the acceptance target between moves (the kernel of each move depends
          // only on the past population, so every move stays π_β-invariant).
          scale *= Math.exp(1.5 * (acc - (kernel === 'hmc' ? HMC_ACCEPT : RWM_ACCEPT)));
          scale = Math.min(Math.max(scale, 1e-6), 10);
          runAcc += acc;
          runMoves++;
          await coop.tick();
        }
      }
      progress(done, beta);
      await coop.tick();
    }
    return { pop, logW, accSum: runAcc, accCount: runMoves, run: { logZ, betas, ess: essList, acceptance: runMoves > 0 ? runAcc / runMoves : NaN, scale } };
  };

  let fixed: readonly number[] | null = given;
  let pilot: SmcRun | null = null;
  if (scheduleOption === 'pilot') {
    pilot = (await runOnce(root.derive('pilot'), null, 'the pilot run', 0)).run;
    fixed = pilot.betas;
  }
  for (let r = 0; r < runs; r++) {
    const { pop, logW, run, ...acc } = await runOnce(root.derive('run', r), fixed, `run ${r + 1}`, r + pilotRuns);
    // The Draws' acceptance is the runs' own (not the pilot's).
    accSum += acc.accSum;
    accCount += acc.accCount;
    values.set(pop.x, r * n * dim);
    for (let k = 0; k < n; k++) logWeights[r * n + k] = run.logZ + logW[k];
    runRecords.push(run);
  }
  const wallTimeMs = performance.now() - t0;

  const zs = Float64Array.from(runRecords, (u) => u.logZ);
  const logZ = logSumExp(zs) - Math.log(runs);
  let logZSe = NaN;
  if (runs >= 2) {
    let ss = 0;
    for (const z of zs) ss += (Math.exp(z - logZ) - 1) ** 2;
    logZSe = Math.sqrt(ss / (runs - 1)) / Math.sqrt(runs);
  }
  const info: Record<string, number | string | boolean> = {
    logZ,
    logZSe,
    kernel,
    moves,
    particles: n,
    runs,
    targetEss: rho,
    resampleThreshold: threshold,
    stages: runRecords.reduce((s, u) => s + u.betas.length - 1, 0) / runs,
    schedule: given ? 'given' : String(scheduleOption),
  };
  runRecords.forEach((u, i) => {
    info[`logZ[${i}]`] = u.logZ;
    info[`stages[${i}]`] = u.betas.length - 1;
    info[`scale[${i}]`] = u.scale;
  });
  if (runs < 10) {
    // The spread of few runs understates that of the right-skewed Ẑ_r (measured in test/samplers.smc.test.ts).
    info.warning = `log Z standard error from ${runs} run(s) is rough; use chains >= 10 for a reliable one`;
  }
  const draws = makeDraws({
    sampler: 'smc',
    target: target.name,
    chains: runs,
    draws: n,
    dim,
    paramNames: target.paramNames,
    values,
    wallTimeMs,
    densityEvals: counted.densityEvals,
    gradEvals: counted.gradEvals,
    acceptance: accCount > 0 ? accSum / accCount : 1,
    nonFinite: counted.nonFinite,
    logWeights,
    info,
  });
  progress(runs + pilotRuns, 0);
  return { draws, logZ, logZSe, runs: runRecords, reference: ref, schedule: given ? 'given' : scheduleOption === 'pilot' ? 'pilot' : 'adaptive', pilot };
}

/** Tempered SMC as a sampler: the Draws of `temperedSmc` (log Z and its standard error in `info`). */
export async function smc(target: Target, options: SmcOptions): Promise<Draws> {
  return (await temperedSmc(target, options)).draws;
}
