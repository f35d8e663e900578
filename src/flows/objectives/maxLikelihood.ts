/**
 * PROTOTYPE (issue 13, mode-covering training; the lead's flow engine will own maximum likelihood).
 *
 * Weighted maximum likelihood: minimise −Σ_i W_i log q(x_i) over given points x_i with normalised
 * weights W_i (forward KL from the weighted empirical distribution to q; mass-covering, unlike
 * the reverse KL of trainReverseKL). Each step takes a minibatch drawn *by* the weights
 * (multinomial, so every step's loss is an unweighted mean), evaluates log q through the flow's
 * differentiable `logProb` (for an IAF, the sequential inverse: `dim` MADE passes per layer, so
 * this is for small dimensions) and takes an Adam step with global-norm clipping and a cosine
 * learning-rate decay.
 */
import * as tf from '@tensorflow/tfjs';
import type { Flow } from '../flow.js';
import { FusedAdam } from '../fusedAdam.js';
import { learningRateAt } from '../train.js';
import { Cooperative } from '../../core/cooperative.js';
import { ParameterError, checkPositiveInt } from '../../core/errors.js';
import { RandomStream } from '../../core/random.js';

export interface MaxLikelihoodOptions {
  steps?: number;
  batchSize?: number;
  learningRate?: number;
  clipNorm?: number;
  seed?: number | string;
  maxSeconds?: number;
  signal?: AbortSignal;
}

export interface MaxLikelihoodResult {
  steps: number;
  /** Every ~1 % of the steps: the minibatch negative log likelihood. */
  history: { step: number; nll: number }[];
  seconds: number;
}

/** Cumulative normalised weights from log weights (−Infinity allowed). */
export function cumulativeWeights(logWeights: Float64Array): Float64Array {
  let m = -Infinity;
  for (const v of logWeights) if (v > m) m = v;
  if (m === -Infinity) throw new ParameterError('maximum likelihood: every weight is zero');
  const cum = new Float64Array(logWeights.length);
  let s = 0;
  for (let i = 0; i < logWeights.length; i++) cum[i] = s += Math.exp(logWeights[i] - m);
  for (let i = 0; i < cum.length; i++) cum[i] /= s;
  return cum;
}

/** An index drawn with probability W_i (binary search in the cumulative weights). */
export function drawIndex(cum: Float64Array, rng: RandomStream): number {
  const u = rng.uniform();
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One Adam step on `loss` with global-norm clipping; returns the loss and the gradient norm. */
export function clippedStep(adam: FusedAdam, vars: tf.Variable[], loss: () => tf.Scalar, clipNorm: number): { loss: number; norm: number } {
  const { value, grads } = tf.variableGrads(loss, vars);
  const list = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
  const norm = Math.sqrt(list.reduce((s, g) => s + (tf.tidy(() => tf.sum(tf.square(g))).dataSync()[0] as number), 0));
  const l = value.dataSync()[0];
  if (Number.isFinite(l) && Number.isFinite(norm)) adam.applyGradients(list, norm > clipNorm ? clipNorm / norm : 1);
  tf.dispose([value, ...list]);
  tf.dispose(grads);
  return { loss: l, norm };
}

export async function trainMaxLikelihood(flow: Flow, x: Float64Array, logWeights: Float64Array | null, options: MaxLikelihoodOptions = {}): Promise<MaxLikelihoodResult> {
  const dim = flow.dim;
  const n = x.length / dim;
  if (!Number.isInteger(n) || n < 1) throw new ParameterError(`maximum likelihood: ${x.length} values are not whole rows of dim ${dim}`);
  const steps = checkPositiveInt('steps', options.steps ?? 2000);
  const batch = checkPositiveInt('batchSize', options.batchSize ?? 512);
  const peak = options.learningRate ?? 5e-3;
  const clipNorm = options.clipNorm ?? 100;
  const cum = cumulativeWeights(logWeights ?? new Float64Array(n));
  const rng = new RandomStream(options.seed ?? 0).derive('ml-batches');
  const vars = flow.trainableVariables();
  const adam = new FusedAdam(vars, { learningRate: peak });
  const coop = new Cooperative(options.signal, undefined, 100, 1);
  const history: MaxLikelihoodResult['history'] = [];
  const t0 = performance.now();
  const maxMs = (options.maxSeconds ?? Infinity) * 1000;
  const buf = new Float32Array(batch * dim);
  let step = 0;
  try {
    for (; step < steps && performance.now() - t0 < maxMs; step++) {
      for (let b = 0; b < batch; b++) {
        const i = drawIndex(cum, rng);
        for (let j = 0; j < dim; j++) buf[b * dim + j] = x[i * dim + j];
      }
      adam.learningRate = learningRateAt(step, steps, peak, 'cosine', Math.min(100, steps / 10), 0.05);
      const xb = tf.tensor2d(buf, [batch, dim]);
      const { loss } = clippedStep(adam, vars, () => tf.neg(tf.mean(flow.logProb(xb))) as tf.Scalar, clipNorm);
      xb.dispose();
      if (step % Math.max(1, Math.floor(steps / 100)) === 0) history.push({ step, nll: loss });
      await coop.tick();
    }
  } finally {
    adam.dispose();
  }
  return { steps: step, history, seconds: (performance.now() - t0) / 1000 };
}
