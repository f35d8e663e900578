/**
 * The local–global sampler `flowmc` (Gabrié, Rotskoff & Vanden-Eijnden 2022, "Adaptive Monte
 * Carlo augmented with normalizing flows", PNAS 119; Wong, Gabrié & Foreman-Mackey 2023, flowMC,
 * JOSS 8). Each iteration of each chain is
 *   1. `localSteps` local transitions (MALA, or HMC with `numSteps` leapfrog steps), whose step
 *      size is tuned by dual averaging in warm-up; then
 *   2. one global independence Metropolis–Hastings jump proposed by the flow q:
 *      accept x' ~ q with probability min(1, p̃(x') q(x) / (p̃(x) q(x'))).
 * Local moves explore a mode; global moves carry chains between the modes the flow covers. Both
 * kernels leave p invariant, so their composition does too.
 *
 * log q at the current state is the flow's density direction (for an IAF the sequential inverse,
 * dim passes). It is cached: a state reached by an accepted global jump keeps its log q, and the
 * inverse is evaluated only for chains whose state moved locally since, all chains in one batch
 * (the chains run in lockstep for that reason).
 *
 * Optional refit in warm-up: `refit` trains the flow further between warm-up phases (in place;
 * the caller's flow changes) given the chains' draws so far. 'reverse-kl' continues
 * reverse-KL training (which does not use the draws); a function can fit by maximum likelihood
 * on them (flowMC's choice) once the flow engine offers it. After warm-up nothing adapts.
 *
 * Example:
 *   const draws = await flowMc(ring(), flow, { seed: 1, chains: 4, draws: 1000 });
 *   draws.info.localAcceptance, draws.info.globalAcceptance
 */
import { Cooperative } from '../core/cooperative.js';
import { makeDraws, type Draws } from '../core/draws.js';
import { DimensionError, ParameterError, checkParam, checkPositiveInt } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import { log } from '../core/portableMath.js';
import type { Target } from '../targets/target.js';
import { WarmupAdaptation } from './adaptation.js';
import { CountedTarget, checkTargetContract, commonConfig, initialPoints } from './chains.js';
import { findReasonableStepSize } from './hmcCore.js';
import { hmcInit, hmcStep, stateToPoint, type HmcState } from './hmc.js';
import { Metric } from './metric.js';
import type { SamplerOptions } from './sampler.js';

/** What flowmc needs of a flow: draws with log q, and log q at given points. `Flow` has both. */
export interface FlowProposal {
  readonly dim: number;
  sampleArrays(n: number, seed: RandomStream, batchSize?: number, baseScale?: number): { x: Float64Array; logq: Float64Array };
  logProbArrays(x: Float64Array, batchSize?: number, baseScale?: number): Float64Array;
}

/** Refits the flow in place from the chains' draws so far (row-major n x dim). */
export type FlowRefit = (draws: Float64Array, n: number, signal?: AbortSignal) => Promise<void>;

export interface FlowMcOptions extends SamplerOptions {
  /** Local kernel (default 'hmc'). */
  local?: 'mala' | 'hmc';
  /** Local transitions per iteration (default 1). */
  localSteps?: number;
  /** Leapfrog steps of the local HMC kernel (default 8; step size jittered ±20 %). */
  numSteps?: number;
  /** Initial local step size (found by the Hoffman–Gelman heuristic when omitted). */
  stepSize?: number;
  /** Target local acceptance for dual averaging (default 0.574 for MALA, 0.8 for HMC). */
  targetAccept?: number;
  /** Global proposals are drawn from the base N(0, τ² I) with τ = baseScale (default 1). */
  baseScale?: number;
  /**
   * Refit the flow during warm-up: 'reverse-kl' (continue reverse-KL training; needs `train`),
   * a FlowRefit, or none (default).
   */
  refit?: 'reverse-kl' | FlowRefit;
  /** Number of refits, evenly spaced over the first half of warm-up (default 1). */
  refits?: number;
  /** For refit 'reverse-kl': continues training the flow by this many steps per refit. */
  train?: (steps: number, signal?: AbortSignal) => Promise<void>;
  /** Steps per reverse-KL refit (default 300). */
  refitSteps?: number;
  /** Flow training time in ms, charged in the Draws. */
  trainTimeMs?: number;
}

interface ChainState {
  rng: RandomStream;
  state: HmcState;
  /** log q(state.position) when known (cached from an accepted proposal or evaluated). */
  logq: number;
  logqValid: boolean;
  adapt: WarmupAdaptation;
  localAccept: number;
  localTries: number;
  globalAccept: number;
  globalTries: number;
}

export async function flowMc(target: Target, flow: FlowProposal, options: FlowMcOptions): Promise<Draws> {
  checkTargetContract(target, true);
  const config = commonConfig(options);
  if (!flow || typeof flow.sampleArrays !== 'function' || typeof flow.logProbArrays !== 'function') {
    throw new ParameterError('flowmc needs a flow with sampleArrays and logProbArrays');
  }
  if (flow.dim !== target.dim) throw new DimensionError(`dimension mismatch: target ${target.name} has dim ${target.dim}, the flow has dim ${flow.dim}`);
  const local = options.local ?? 'hmc';
  if (local !== 'mala' && local !== 'hmc') throw new ParameterError(`invalid parameter local = ${String(local)}: must be 'mala' or 'hmc'`);
  const localSteps = checkPositiveInt('localSteps', options.localSteps ?? 1);
  const numSteps = local === 'mala' ? 1 : checkPositiveInt('numSteps', options.numSteps ?? 8);
  const baseScale = checkParam('baseScale', options.baseScale ?? 1, (v) => v > 0, 'a positive number');
  const targetAccept = checkParam('targetAccept', options.targetAccept ?? (local === 'mala' ? 0.574 : 0.8), (v) => v > 0 && v < 1, 'in (0, 1)');
  if (options.stepSize !== undefined) checkParam('stepSize', options.stepSize, (v) => v > 0, 'a positive number');
  const refits = options.refit ? checkPositiveInt('refits', options.refits ?? 1) : 0;
  if (options.refit === 'reverse-kl' && typeof options.train !== 'function') {
    throw new ParameterError("refit 'reverse-kl' needs train(steps) (e.g. steps => trainReverseKL(flow, target, { steps }))");
  }
  const refitSteps = checkPositiveInt('refitSteps', options.refitSteps ?? 300);
  const { chains, draws, warmup } = config;
  const dim = target.dim;
  const root = new RandomStream(config.seed);
  const starts = initialPoints(target, options.init, chains, root, true);
  const counted = new CountedTarget(target);
  const coop = new Cooperative(options.signal, () => options.onProgress?.({ sampler: 'flowmc', done, total, phase: done < chains * warmup ? 'warmup' : 'sampling' }));
  coop.checkAborted();
  const total = chains * (warmup + draws);
  let done = 0;
  const t0 = performance.now();

  const metric = Metric.identity('diag', dim);
  const cs: ChainState[] = starts.map((x0, c) => {
    const rng = root.derive('chain', c);
    const state = hmcInit(counted, x0);
    const eps0 = options.stepSize ?? findReasonableStepSize(counted, stateToPoint(state), metric, rng, 1);
    // The metric stays the identity: windows over mode-hopping draws would estimate the
    // mixture's covariance, not a mode's; global jumps handle the large scales.
    const adapt = new WarmupAdaptation(dim, warmup, eps0, metric, { targetAccept, adaptMetric: false });
    return { rng, state, logq: NaN, logqValid: false, adapt, localAccept: 0, localTries: 0, globalAccept: 0, globalTries: 0 };
  });
  const proposals = root.derive('proposals');
  const refitAt = new Set<number>();
  for (let k = 1; k <= refits; k++) refitAt.add(Math.floor((k * warmup) / (2 * refits)));
  const history: Float64Array[] = [];
  let refitsDone = 0;
  let logqEvals = 0;
  let refitMs = 0;
  const values = new Float64Array(chains * draws * dim);
  const grad = new Float64Array(dim);
  const row = new Float64Array(dim);

  for (let it = 0; it < warmup + draws; it++) {
    const warm = it < warmup;
    if (warm && refitAt.has(it) && it > 0) {
      const tr = performance.now();
      const n = history.length;
      const buf = new Float64Array(n * dim);
      history.forEach((x, i) => buf.set(x, i * dim));
      if (options.refit === 'reverse-kl') await options.train!(refitSteps, options.signal);
      else await (options.refit as FlowRefit)(buf, n, options.signal);
      for (const ch of cs) ch.logqValid = false;
      refitsDone++;
      refitMs += performance.now() - tr;
    }
    // 1. Local moves.
    for (const ch of cs) {
      for (let s = 0; s < localSteps; s++) {
        const base = ch.adapt.stepSize;
        const eps = local === 'hmc' ? base * (1 + 0.2 * (2 * ch.rng.uniform() - 1)) : base;
        const [next, info] = hmcStep(ch.rng, counted, ch.state, { stepSize: eps, invMetric: metric, numSteps, maxEnergyError: 1000 });
        if (info.accepted) {
          ch.state = next;
          ch.logqValid = false;
        }
        if (warm) ch.adapt.afterTransition(it, ch.state.position, info.acceptStat);
        else {
          ch.localTries++;
          if (info.accepted) ch.localAccept++;
        }
      }
    }
    // 2. One global jump per chain: log q where the cache is stale, all chains in one batch.
    const stale = cs.filter((ch) => !ch.logqValid);
    if (stale.length > 0) {
      const xs = new Float64Array(stale.length * dim);
      stale.forEach((ch, i) => xs.set(ch.state.position, i * dim));
      const lq = flow.logProbArrays(xs, stale.length, baseScale);
      logqEvals += stale.length;
      stale.forEach((ch, i) => {
        ch.logq = lq[i];
        ch.logqValid = true;
      });
    }
    const prop = flow.sampleArrays(chains, proposals, chains, baseScale);
    cs.forEach((ch, c) => {
      row.set(prop.x.subarray(c * dim, (c + 1) * dim));
      const lqNew = prop.logq[c];
      const lpNew = counted.gradLogDensity(row, grad);
      const logR = lpNew - lqNew - (ch.state.logDensity - ch.logq);
      // q(x) = 0 at the current state gives logR = -Infinity: no global move can leave it (as MH
      // requires); a NaN ratio is rejected.
      const ok = lpNew > -Infinity && Number.isFinite(lqNew) && log(ch.rng.uniform()) < logR;
      if (ok) {
        ch.state = { position: Float64Array.from(row), logDensity: lpNew, grad: Float64Array.from(grad) };
        ch.logq = lqNew;
        ch.logqValid = true;
      }
      if (!warm) {
        ch.globalTries++;
        if (ok) ch.globalAccept++;
        values.set(ch.state.position, (c * draws + (it - warmup)) * dim);
      } else if (options.refit) history.push(ch.state.position.slice());
      if (warm && it === warmup - 1) ch.adapt.finish();
      done++;
    });
    await coop.tick();
  }
  options.onProgress?.({ sampler: 'flowmc', done, total, phase: 'sampling' });
  const info: Record<string, number | string | boolean> = { warmup, local, localSteps, numSteps, baseScale, refits: refitsDone, refitTimeMs: refitMs, logqEvals };
  let la = 0;
  let lt = 0;
  let ga = 0;
  let gt = 0;
  cs.forEach((ch, c) => {
    info[`localAcceptance[${c}]`] = ch.localAccept / Math.max(1, ch.localTries);
    info[`globalAcceptance[${c}]`] = ch.globalAccept / Math.max(1, ch.globalTries);
    info[`stepSize[${c}]`] = ch.adapt.stepSize;
    la += ch.localAccept;
    lt += ch.localTries;
    ga += ch.globalAccept;
    gt += ch.globalTries;
  });
  info.localAcceptance = la / Math.max(1, lt);
  info.globalAcceptance = ga / Math.max(1, gt);
  info.stepSize = cs.reduce((s, ch) => s + ch.adapt.stepSize, 0) / chains;
  return makeDraws({
    sampler: 'flowmc',
    target: target.name ?? '',
    chains,
    draws,
    dim,
    paramNames: target.paramNames,
    values,
    wallTimeMs: performance.now() - t0 - refitMs,
    // Refits are training: charged with the flow's training time.
    trainTimeMs: (options.trainTimeMs ?? 0) + refitMs,
    densityEvals: counted.densityEvals,
    gradEvals: counted.gradEvals,
    acceptance: info.globalAcceptance as number,
    nonFinite: counted.nonFinite,
    info,
  });
}
