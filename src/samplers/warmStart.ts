/**
 * Warm starts for HMC and NUTS from a trained flow: starting points in the typical set and a
 * dense inverse metric, so that most of Stan-style warm-up (finding the typical set, then
 * learning the metric in doubling windows) can be skipped.
 *
 * - Starting points: n flow draws are importance-weighted against the target and `chains` of
 *   them are resampled (systematic resampling of the PSIS-smoothed weights; Vehtari et al. 2024),
 *   so the chains start at draws from (approximately) p, not from q.
 * - Inverse metric: the weighted covariance of the same draws, with the dense-window
 *   regularisation of adaptation.ts (shrinkage toward its diagonal; Kish's ESS plays the role of
 *   the window size).
 * - Warm-up rule (`warmStartRule`): how much warm-up remains, from PSIS k-hat and Kish's ESS.
 *
 * Example:
 *   const ws = warmStart(flow, target, { chains: 4, seed: 1, trainTimeMs: fit.seconds * 1000 });
 *   const draws = await nuts(target, { seed: 1, warmStart: ws });
 */
import { ParameterError, checkDim, checkPositiveInt } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import type { Flow } from '../flows/flow.js';
import { flowImportanceSample, systematicResample } from './flowImportance.js';
import { regulariseCovariance } from './adaptation.js';

export interface WarmStartOptions {
  seed: number | string;
  /** Chains to start (default 4). */
  chains?: number;
  /** Flow draws to weight (default 10 000). */
  n?: number;
  /** Base-noise widening of the flow draws (see flowImportanceSample; default 1). */
  baseScale?: number;
  /** The flow's training time in ms, charged to every sampler that uses this warm start. */
  trainTimeMs?: number;
  /** Target evaluations spent training the flow (charged the same way). */
  trainEvals?: number;
}

export interface WarmStartRule {
  /** Warm-up iterations that remain. */
  warmup: number;
  /** Whether warm-up still adapts the metric (else only the step size). */
  adaptMetric: boolean;
  /** Why, in one line (shown in Draws.info and the CLI). */
  reason: string;
}

export interface WarmStart {
  dim: number;
  /** One starting point per chain. */
  inits: Float64Array[];
  /** Dense inverse metric (row-major dim x dim): the regularised weighted covariance of the flow draws. */
  invMetric: Float64Array;
  /** Weighted mean of the flow draws. */
  mean: Float64Array;
  paretoK: number;
  kishEss: number;
  n: number;
  rule: WarmStartRule;
  /** Flow training time plus the time spent here (ms): what a warm-started sampler is charged. */
  costMs: number;
  trainTimeMs: number;
  /** Target evaluations of training (passed in) and of the weighting here. */
  trainEvals: number;
  densityEvals: number;
  /** Problems the user should see (degenerate weights, too few distinct starts, k-hat). */
  warnings: string[];
}

/**
 * Warm-up iterations when the flow is trusted: step-size adaptation only. 150 (Stan's two fast
 * buffers and a little more) left dual averaging unsettled on the banana (R-hat 1.30–1.50 over
 * three seeds against 1.02 cold); 300 gave 1.01–1.02 (docs/flow-mcmc.md).
 */
export const WARM_START_SHORT_WARMUP = 300;
/** Warm-up iterations when the metric still needs one set of slow windows. */
export const WARM_START_MEDIUM_WARMUP = 300;

/**
 * The documented rule for how much warm-up remains after a warm start:
 * - k-hat < 0.7 (importance weights reliable; Vehtari et al. 2024) and Kish ESS ≥ max(100, 10 d):
 *   300 iterations of step-size adaptation only; the flow's metric is kept.
 * - k-hat < 0.7 with fewer effective draws: 300 iterations, the metric adapted in Stan's
 *   windows starting from the flow's (init 75, windows 25 + 50 + ..., term 50).
 * - otherwise (k-hat ≥ 0.7 or not finite: q misses part of p): the full `coldWarmup`, starting
 *   from the resampled points and the flow's metric, with a warning.
 */
export function warmStartRule(paretoK: number, kishEss: number, dim: number, coldWarmup = 1000): WarmStartRule {
  const need = Math.max(100, 10 * dim);
  if (Number.isFinite(paretoK) && paretoK < 0.7) {
    if (kishEss >= need) {
      return { warmup: WARM_START_SHORT_WARMUP, adaptMetric: false, reason: `k-hat ${paretoK.toFixed(2)} < 0.7, ESS ${Math.round(kishEss)} >= ${need}: step size only` };
    }
    return { warmup: WARM_START_MEDIUM_WARMUP, adaptMetric: true, reason: `k-hat ${paretoK.toFixed(2)} < 0.7, ESS ${Math.round(kishEss)} < ${need}: metric refined in windows` };
  }
  return { warmup: coldWarmup, adaptMetric: true, reason: `k-hat ${Number.isFinite(paretoK) ? paretoK.toFixed(2) : 'inf'} >= 0.7: the flow is not trusted, full warm-up` };
}

/** Weighted mean and covariance (row-major) of n rows of x with weights summing to 1. */
export function weightedMoments(x: Float64Array, n: number, dim: number, w: Float64Array): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    const wr = w[r];
    if (wr === 0) continue;
    for (let i = 0; i < dim; i++) mean[i] += wr * x[r * dim + i];
  }
  const cov = new Float64Array(dim * dim);
  const c = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    const wr = w[r];
    if (wr === 0) continue;
    for (let i = 0; i < dim; i++) c[i] = x[r * dim + i] - mean[i];
    for (let i = 0; i < dim; i++) {
      const wci = wr * c[i];
      for (let j = 0; j <= i; j++) cov[i * dim + j] += wci * c[j];
    }
  }
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) cov[j * dim + i] = cov[i * dim + j];
  return { mean, cov };
}

/** What a warm start needs of a flow: draws with their log q (`Flow` has it). */
export type WarmStartFlow = Pick<Flow, 'dim' | 'sampleArrays'>;

export function warmStart(flow: WarmStartFlow, target: Target, options: WarmStartOptions): WarmStart {
  if (!options || (typeof options.seed !== 'number' && typeof options.seed !== 'string')) {
    throw new ParameterError('warmStart needs a seed (a number or a string)');
  }
  checkDim(`target ${target.name}`, flow.dim, target.dim);
  const chains = checkPositiveInt('chains', options.chains ?? 4);
  const n = checkPositiveInt('n', options.n ?? 10_000);
  if (n < chains) throw new ParameterError(`warmStart: n = ${n} flow draws cannot start ${chains} chains`);
  const dim = target.dim;
  const t0 = performance.now();
  const root = new RandomStream(options.seed);
  const is = flowImportanceSample(flow as Flow, target, { n, seed: `${String(options.seed)}/warmstart`, baseScale: options.baseScale });
  const x = is.draws.values;
  const w = is.psis.weights;
  const warnings: string[] = [];
  if (is.nonFinite > 0) warnings.push(`${is.nonFinite} of ${n} flow draws had a non-finite target density (weight 0)`);
  const { mean, cov } = weightedMoments(x, n, dim, w);
  const invMetric = regulariseCovariance(cov, dim, Math.max(2, is.kishEss));
  const idx = systematicResample(w, chains, root.derive('warmstart', 'inits'));
  const inits: Float64Array[] = [];
  const grad = new Float64Array(dim);
  for (const i of idx) {
    const p = x.slice(i * dim, (i + 1) * dim);
    const lp = target.gradLogDensity(p, grad);
    if (!Number.isFinite(lp) || !grad.every(Number.isFinite)) {
      throw new ParameterError(`warmStart: the resampled flow draw ${i} has a non-finite log density or gradient`);
    }
    inits.push(p);
  }
  const distinct = new Set(idx).size;
  if (distinct < chains) warnings.push(`only ${distinct} distinct starting points for ${chains} chains (degenerate importance weights)`);
  const rule = warmStartRule(is.paretoK, is.kishEss, dim);
  if (rule.adaptMetric && rule.warmup > WARM_START_MEDIUM_WARMUP) warnings.push(`warm start: ${rule.reason}`);
  const trainTimeMs = options.trainTimeMs ?? 0;
  return {
    dim,
    inits,
    invMetric,
    mean,
    paretoK: is.paretoK,
    kishEss: is.kishEss,
    n,
    rule,
    costMs: trainTimeMs + (performance.now() - t0),
    trainTimeMs,
    trainEvals: options.trainEvals ?? 0,
    densityEvals: n,
    warnings,
  };
}
