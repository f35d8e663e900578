/**
 * PROTOTYPE (issue 13): Flow Annealed Importance Sampling Bootstrap (Midgley et al. 2023, "Flow
 * annealed importance sampling bootstrap", ICLR, https://arxiv.org/abs/2208.01893), with a
 * prioritised replay buffer, on the current Flow API.
 *
 * FAB minimises the mass-covering α-divergence with α = 2, whose minimiser of the importance
 * weights' variance needs samples from p²/q. Each iteration
 *   1. runs AIS from q to p²/q: K intermediate densities q^{1−2β} p̃^{2β}, β = k/K, one HMC
 *      transition each. We run it in the flow's latent space (NeuTra-style), where q becomes
 *      N(0, I) and the intermediate densities are log N(z) + 2β log w(z), w = p̃(f(z)) / q(f(z)),
 *      so every HMC step is one differentiable *forward* pass (no inverse); the AIS log weight is
 *      Σ_k 2(β_k − β_{k−1}) log w(z_{k−1});
 *   2. appends the end points (x, log W, log q(x)) to a FIFO buffer;
 *   3. takes `gradSteps` Adam steps on minibatches drawn from the buffer with probability ∝ W
 *      (prioritised replay), loss −mean(w_adj · log q(x)), w_adj = (q_old(x) / q(x))^{α − 1}
 *      clipped at `wAdjustClip` (the weight correction for a q that has moved since x was
 *      stored), and updates the drawn entries' log W and log q_old accordingly.
 * log q at buffer points is the flow's inverse: small dimensions only (like the lead's note).
 */
import * as tf from '@tensorflow/tfjs';
import type { Flow } from '../flow.js';
import type { Target } from '../../targets/target.js';
import { targetLogProbOp } from '../../targets/batch.js';
import { FusedAdam } from '../fusedAdam.js';
import { Cooperative } from '../../core/cooperative.js';
import { RandomStream } from '../../core/random.js';
import { checkPositiveInt } from '../../core/errors.js';
import { clippedStep, cumulativeWeights, drawIndex } from './maxLikelihood.js';

export interface FabOptions {
  /** AIS batches (default 500). */
  iterations?: number;
  /** AIS particles per batch (default 128). */
  batchSize?: number;
  /** Intermediate densities K (default 8). */
  aisSteps?: number;
  /** Leapfrog steps per HMC transition (default 5). */
  leapfrog?: number;
  /** Adam steps per AIS batch (default 4). */
  gradSteps?: number;
  /** Buffer capacity in points (default 12 800) and the fill before training starts (1 280). */
  bufferSize?: number;
  bufferMin?: number;
  learningRate?: number;
  wAdjustClip?: number;
  clipNorm?: number;
  seed?: number | string;
  maxSeconds?: number;
  signal?: AbortSignal;
}

export interface FabResult {
  iterations: number;
  gradSteps: number;
  seconds: number;
  /** Per iteration: mean HMC acceptance, and Kish ESS/N of the AIS weights. */
  history: { iteration: number; acceptance: number; aisEss: number; loss: number }[];
}

/** Identity whose gradient is zero (tfjs has no stop_gradient). */
const stopGradient = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [tf.zerosLike(dy as tf.Tensor)] };
}) as (x: tf.Tensor) => tf.Tensor;

export async function trainFab(flow: Flow, target: Target, options: FabOptions = {}): Promise<FabResult> {
  const dim = flow.dim;
  const iterations = checkPositiveInt('iterations', options.iterations ?? 500);
  const n = checkPositiveInt('batchSize', options.batchSize ?? 128);
  const K = checkPositiveInt('aisSteps', options.aisSteps ?? 8);
  const L = checkPositiveInt('leapfrog', options.leapfrog ?? 5);
  const gradSteps = options.gradSteps ?? 4;
  const cap = options.bufferSize ?? 12_800;
  const minFill = options.bufferMin ?? 1_280;
  const clipW = options.wAdjustClip ?? 10;
  const alpha = 2;
  const rng = new RandomStream(options.seed ?? 0).derive('fab');
  const logp = targetLogProbOp(target);
  const vars = flow.trainableVariables();
  const adam = new FusedAdam(vars, { learningRate: options.learningRate ?? 1e-3 });
  const coop = new Cooperative(options.signal, undefined, 100, 1);
  const maxMs = (options.maxSeconds ?? Infinity) * 1000;
  const t0 = performance.now();
  const stepSizes = new Float64Array(K).fill(0.5 / Math.pow(dim, 0.25));
  // The buffer (FIFO ring).
  const bx = new Float64Array(cap * dim);
  const bLogW = new Float64Array(cap);
  const bLogQ = new Float64Array(cap);
  let size = 0;
  let next = 0;
  const history: FabResult['history'] = [];
  let gradTotal = 0;

  /** log w(z) = log p̃(f(z)) − log q(f(z)) per row and its gradient in z. */
  const logwAndGrad = (z: Float64Array): { v: Float64Array; g: Float64Array } => {
    const zt = tf.tensor2d(Float32Array.from(z), [n, dim]);
    const { value, grad } = tf.valueAndGrad((u: tf.Tensor) => {
      const { x, logq } = flow.forwardFromNoise(u as tf.Tensor2D);
      return tf.sub(logp(x), logq);
    })(zt);
    const out = { v: Float64Array.from(value.dataSync()), g: Float64Array.from(grad.dataSync()) };
    tf.dispose([zt, value, grad]);
    for (let i = 0; i < n; i++) if (!Number.isFinite(out.v[i])) out.v[i] = -Infinity;
    return out;
  };

  const ais = (): { x: Float64Array; logW: Float64Array; logq: Float64Array; acceptance: number } => {
    const z = rng.fillNormal(new Float64Array(n * dim));
    let cur = logwAndGrad(z);
    const logW = new Float64Array(n);
    let acc = 0;
    for (let k = 1; k <= K; k++) {
      const b0 = (k - 1) / K;
      const b = k / K;
      for (let i = 0; i < n; i++) logW[i] += 2 * (b - b0) * cur.v[i];
      // One HMC transition for log g_b(z) = −|z|²/2 + 2b log w(z), identity mass.
      const eps = stepSizes[k - 1];
      const p = rng.fillNormal(new Float64Array(n * dim));
      const z1 = Float64Array.from(z);
      const p1 = Float64Array.from(p);
      const gradU = (zz: Float64Array, g: Float64Array, i: number, j: number) => zz[i * dim + j] - 2 * b * g[i * dim + j];
      let now = cur;
      for (let s = 0; s < L; s++) {
        for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) p1[i * dim + j] -= 0.5 * eps * gradU(z1, now.g, i, j);
        for (let q = 0; q < n * dim; q++) z1[q] += eps * p1[q];
        now = logwAndGrad(z1);
        for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) p1[i * dim + j] -= 0.5 * eps * gradU(z1, now.g, i, j);
      }
      let accK = 0;
      for (let i = 0; i < n; i++) {
        let h0 = -2 * b * cur.v[i];
        let h1 = -2 * b * now.v[i];
        for (let j = 0; j < dim; j++) {
          const q = i * dim + j;
          h0 += 0.5 * (z[q] * z[q] + p[q] * p[q]);
          h1 += 0.5 * (z1[q] * z1[q] + p1[q] * p1[q]);
        }
        const a = Number.isFinite(h1) ? Math.min(1, Math.exp(h0 - h1)) : 0;
        accK += a / n;
        if (rng.uniform() < a) {
          for (let j = 0; j < dim; j++) z[i * dim + j] = z1[i * dim + j];
          cur.v[i] = now.v[i];
          for (let j = 0; j < dim; j++) cur.g[i * dim + j] = now.g[i * dim + j];
        }
      }
      stepSizes[k - 1] *= Math.exp(accK - 0.65);
      acc += accK / K;
    }
    // End points in x with their log q (one forward pass).
    const zt = tf.tensor2d(Float32Array.from(z), [n, dim]);
    const r = flow.forwardFromNoise(zt);
    const x = Float64Array.from(r.x.dataSync());
    const logq = Float64Array.from(r.logq.dataSync());
    tf.dispose([zt, r.x, r.logq]);
    return { x, logW, logq, acceptance: acc };
  };

  let it = 0;
  try {
    for (; it < iterations && performance.now() - t0 < maxMs; it++) {
      const a = ais();
      for (let i = 0; i < n; i++) {
        if (a.logW[i] === -Infinity || !Number.isFinite(a.logq[i])) continue;
        bx.set(a.x.subarray(i * dim, (i + 1) * dim), next * dim);
        bLogW[next] = a.logW[i];
        bLogQ[next] = a.logq[i];
        next = (next + 1) % cap;
        size = Math.min(size + 1, cap);
      }
      let ess = 0;
      {
        let m = -Infinity;
        for (const v of a.logW) if (v > m) m = v;
        let s1 = 0;
        let s2 = 0;
        for (const v of a.logW) {
          const w = Math.exp(v - m);
          s1 += w;
          s2 += w * w;
        }
        ess = (s1 * s1) / s2 / n;
      }
      let lossSum = 0;
      if (size >= minFill) {
        for (let g = 0; g < gradSteps; g++) {
          const cum = cumulativeWeights(bLogW.subarray(0, size));
          const idx = Int32Array.from({ length: n }, () => drawIndex(cum, rng));
          const xb = tf.tensor2d(Float32Array.from(Array.from(idx).flatMap((i) => Array.from(bx.subarray(i * dim, (i + 1) * dim)))), [n, dim]);
          const oldQ = tf.tensor1d(Float32Array.from(idx, (i) => bLogQ[i]));
          let newQ: Float64Array | null = null;
          const { loss } = clippedStep(
            adam,
            vars,
            () => {
              const lq = flow.logProb(xb);
              const adj = tf.minimum(tf.exp(tf.mul(tf.sub(stopGradient(lq), oldQ), 1 - alpha)), clipW);
              newQ = Float64Array.from(lq.dataSync());
              return tf.neg(tf.mean(tf.mul(stopGradient(adj), lq))) as tf.Scalar;
            },
            options.clipNorm ?? 100,
          );
          tf.dispose([xb, oldQ]);
          // Re-weight the drawn entries for the q they were just evaluated under.
          if (newQ) {
            const nq = newQ as Float64Array;
            idx.forEach((i, r) => {
              bLogW[i] += (1 - alpha) * (nq[r] - bLogQ[i]);
              bLogQ[i] = nq[r];
            });
          }
          lossSum += loss / gradSteps;
          gradTotal++;
          await coop.tick();
        }
      }
      history.push({ iteration: it, acceptance: a.acceptance, aisEss: ess, loss: lossSum });
      await coop.tick();
    }
  } finally {
    adam.dispose();
  }
  return { iterations: it, gradSteps: gradTotal, seconds: (performance.now() - t0) / 1000, history };
}
