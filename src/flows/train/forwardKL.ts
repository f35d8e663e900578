/**
 * Training a flow q on a target p by the forward KL divergence, KL(p‖q) = E_p[log p − log q],
 * from the target's exact draws (UDL §16.5.3): each step minimises −mean log q over a fresh
 * batch x ~ p, which is maximum likelihood on an endless stream of data (./maximumLikelihood.ts),
 * so nothing overfits. Where reverse KL (./reverseKL.ts) needs log p̃ and its gradient at the
 * flow's draws and is mode-seeking, forward KL needs only draws of p and log q at them, and is
 * mode-covering: q must put mass wherever p has some, so a missed mode costs without bound.
 *
 * It needs `target.sampleExact`; a fixed set of exact draws drives early stopping, and, when log Z
 * is known, a second fresh set gives the estimate of KL(p‖q) = mean(log p̃ − log Z − log q)
 * reported at the end (paired on the same draws, so its noise is that of log p − log q, not of
 * log q alone).
 */
import type { Target } from '../../targets/target.js';
import type { Flow } from '../flow.js';
import { trainLikelihood, type LikelihoodTrainOptions, type LikelihoodTrainResult } from './maximumLikelihood.js';
import { standardizeFlow, standardizationParams } from './fitData.js';
import { ParameterError, checkDim, checkPositiveInt } from '../../core/errors.js';
import { RandomStream } from '../../core/random.js';

export interface ForwardKLOptions extends LikelihoodTrainOptions {
  /** Exact draws held out for early stopping and the KL estimate (default 4096). */
  validationDraws?: number;
  /** Set the data-side affine layer from the moments of the validation draws first (default true). */
  standardize?: boolean;
}

export interface ForwardKLResult extends LikelihoodTrainResult {
  /** KL(p‖q) estimated on the validation draws (NaN when the target's log Z is unknown). */
  forwardKL: number;
  /** Its Monte Carlo standard error. */
  forwardKLSe: number;
}

/** mean and standard error of log p − log q over draws of p (log p = log p̃ − log Z). */
export function pairedForwardKL(flow: Flow, target: Target, x: Float64Array, n: number): { kl: number; se: number } {
  if (target.logZ === undefined || !Number.isFinite(target.logZ)) return { kl: NaN, se: NaN };
  const lq = flow.logProbArrays(x);
  const D = flow.dim;
  let s = 0;
  let s2 = 0;
  for (let r = 0; r < n; r++) {
    const d = target.logDensity(x.subarray(r * D, (r + 1) * D)) - target.logZ - lq[r];
    s += d;
    s2 += d * d;
  }
  const m = s / n;
  return { kl: m, se: Math.sqrt(Math.max(0, s2 / n - m * m) / n) };
}

export async function trainForwardKL(flow: Flow, target: Target, options: ForwardKLOptions = {}): Promise<ForwardKLResult> {
  checkDim(`target ${target.name}`, flow.dim, target.dim);
  if (typeof target.sampleExact !== 'function') {
    throw new ParameterError(`forward KL needs exact draws of the target, and target ${target.name} has no exact sampler: train by reverse KL (trainReverseKL), or fit draws from MCMC with fitMaximumLikelihood`);
  }
  const nVal = checkPositiveInt('validationDraws', options.validationDraws ?? 4096);
  const seed = String(options.seed ?? 0);
  const root = new RandomStream(seed);
  const D = flow.dim;
  const val = target.sampleExact(nVal, root.derive('forward-kl-validation'));
  if (val.length !== nVal * D) throw new ParameterError(`target ${target.name}: sampleExact(${nVal}) returned ${val.length} values, expected ${nVal * D}`);
  const frozen = new Set(options.standardize !== false ? (standardizeFlow(flow, val, nVal), standardizationParams(flow)) : []);
  const stream = root.derive('forward-kl-draws');
  const source = {
    rows: Infinity,
    next: (b: number) => target.sampleExact!(b, stream),
  };
  const result = await trainLikelihood(flow, source, { x: val, n: nVal }, { ...options, seed }, `exact draws of ${target.name}`, frozen);
  // Fresh draws: the validation draws chose the kept parameters, so they would flatter them.
  const fresh = target.sampleExact(nVal, root.derive('forward-kl-estimate'));
  const { kl, se } = pairedForwardKL(flow, target, fresh, nVal);
  return { ...result, forwardKL: kl, forwardKLSe: se };
}
