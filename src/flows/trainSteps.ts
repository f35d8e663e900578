/**
 * One reverse-KL training step, two ways (src/flows/train.ts runs the loop around them):
 *
 * - `tfjsStepRunner`: the flow's differentiable tfjs path, tf.variableGrads and `FusedAdam`.
 *   Works for every flow and backend, and for the sticking-the-landing gradient.
 * - `kernelStepRunner`: the same step on the wasm kernels (src/flows/wasmTrainer.ts): no tfjs
 *   kernels, tensors or tape for the flow, Adam as a JS loop over the heap. For flows of
 *   `AffineDiagonal` and `FastIafAffine` layers on the wasm backend; null otherwise.
 *
 * Objective at inverse temperature β and Rényi order α (α = 1: the negative ELBO):
 *   lw = β log p̃(x) − log q(x);  L = −mean(lw)  (α = 1),
 *   L = (logsumexp((1 − α) lw) − log n) / (α − 1)  (Li & Turner 2016),
 * and the ELBO reported is mean(log p̃ − log q) at β = 1.
 */
import * as tf from '@tensorflow/tfjs';
import type { Target } from '../targets/target.js';
import type { RandomStream } from '../core/random.js';
import { Flow, baseNoise } from './flow.js';
import { ADAM_DEFAULTS, FusedAdam } from './fusedAdam.js';
import { flowFromJSON, flowToJSON } from './serialize.js';
import { WasmFlowTrainer, type ObjectiveGradient } from './wasmTrainer.js';
import { targetLogProbOp, targetValueAndGrad } from '../targets/batch.js';

export interface StepRunner {
  readonly path: 'wasm-kernels' | 'tfjs';
  /** Gradients on a fresh batch of base noise: the objective, the ELBO and the gradient norm. */
  compute(beta: number): { loss: number; elbo: number; norm: number };
  /** Adam step with learning rate `lr` on the last gradients times `scale` (clipping). */
  apply(lr: number, scale: number): void;
  /** Makes the flow's tfjs variables hold the current parameters (before user code sees it). */
  sync(): void;
  /** Leaves the trained parameters in the flow and frees what the runner holds. */
  finish(): void;
}

export function tfjsStepRunner(flow: Flow, target: Target, batchSize: number, rng: RandomStream, alpha: number, stl: boolean): StepRunner {
  const vars = flow.trainableVariables();
  const logProb = targetLogProbOp(target);
  // Adam over all variables at once: on wasm a JS loop over the heap, no kernels (src/flows/fusedAdam.ts).
  const optimizer = new FusedAdam(vars, { learningRate: 1e-3 });
  // STL: a twin with frozen weights computes log q; it is not in `vars`, so no gradient reaches it.
  const twin = stl ? flowFromJSON(flowToJSON(flow)) : null;
  const twinVars = twin?.trainableVariables() ?? [];
  let gradList: tf.Tensor[] = [];
  return {
    path: 'tfjs',
    compute(beta) {
      if (twin) for (let i = 0; i < vars.length; i++) twinVars[i].assign(vars[i]);
      tf.dispose(gradList);
      const eps = baseNoise(batchSize, flow.dim, rng);
      // The common case (ELBO at β = 1) records the loss alone and reads ELBO = −loss.
      const plain = alpha === 1 && beta === 1;
      let elboT: tf.Scalar | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const { x, logq: logqPath } = flow.forwardFromNoise(eps);
        const logq = twin ? twin.logProb(x) : logqPath;
        const logp = logProb(x);
        if (plain) return tf.mean(tf.sub(logq, logp)) as tf.Scalar;
        elboT = tf.keep(tf.mean(tf.sub(logp, logq)) as tf.Scalar);
        if (alpha === 1) return tf.mean(tf.sub(logq, tf.mul(logp, beta))) as tf.Scalar;
        const lw = beta === 1 ? tf.sub(logp, logq) : tf.sub(tf.mul(logp, beta), logq);
        return tf.div(tf.sub(tf.logSumExp(tf.mul(lw, 1 - alpha)), Math.log(batchSize)), alpha - 1) as tf.Scalar;
      }, vars);
      // A variable the loss does not reach has no entry: its gradient is zero.
      gradList = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
      // The norm comes from the optimiser: a JS loop over the wasm heap (no kernels) by default.
      const norm = optimizer.globalNorm(gradList);
      const loss = value.dataSync()[0];
      const elbo = elboT ? (elboT as tf.Scalar).dataSync()[0] : -loss;
      tf.dispose([value, eps]);
      if (elboT) (elboT as tf.Scalar).dispose();
      return { loss, elbo, norm };
    },
    apply(lr, scale) {
      optimizer.learningRate = lr;
      optimizer.applyGradients(gradList, scale);
    },
    sync() {
      // The variables are the parameters: nothing to do.
    },
    finish() {
      tf.dispose(gradList);
      gradList = [];
      optimizer.dispose();
      twin?.dispose();
    },
  };
}

/** dL/dx and dL/dlog q of the objective in the file header, from log p̃, ∇ log p̃ and log q. */
export function objectiveGradient(logp: ArrayLike<number>, gradLogp: ArrayLike<number>, logq: Float64Array, dim: number, beta: number, alpha: number): ObjectiveGradient {
  const n = logq.length;
  const dX = new Float64Array(n * dim);
  const dLogq = new Float64Array(n);
  let elbo = 0;
  for (let r = 0; r < n; r++) elbo += logp[r] - logq[r];
  elbo /= n;
  // w_r = −dL/dlw_r: 1/n for the ELBO, the self-normalised weights softmax((1 − α) lw) for Rényi.
  const w = new Float64Array(n);
  let loss: number;
  if (alpha === 1) {
    let s = 0;
    for (let r = 0; r < n; r++) s += beta * logp[r] - logq[r];
    loss = -s / n;
    w.fill(1 / n);
  } else {
    const a = 1 - alpha;
    let mx = -Infinity;
    for (let r = 0; r < n; r++) mx = Math.max(mx, a * (beta * logp[r] - logq[r]));
    let z = 0;
    for (let r = 0; r < n; r++) z += (w[r] = Math.exp(a * (beta * logp[r] - logq[r]) - mx));
    for (let r = 0; r < n; r++) w[r] /= z;
    loss = (mx + Math.log(z) - Math.log(n)) / (alpha - 1);
  }
  for (let r = 0; r < n; r++) {
    dLogq[r] = w[r];
    const c = -w[r] * beta;
    for (let j = 0; j < dim; j++) dX[r * dim + j] = c * gradLogp[r * dim + j];
  }
  return { loss, elbo, dX, dLogq };
}

export function kernelStepRunner(flow: Flow, target: Target, batchSize: number, rng: RandomStream, alpha: number): StepRunner | null {
  const trainer = WasmFlowTrainer.create(flow, batchSize, ADAM_DEFAULTS);
  if (!trainer) return null;
  const dim = flow.dim;
  return {
    path: 'wasm-kernels',
    compute(beta) {
      const obj = trainer.computeGradients(rng, (x, logq) => {
        const { logp, grad } = targetValueAndGrad(target, x, batchSize, dim);
        return objectiveGradient(logp, grad, logq, dim, beta, alpha);
      });
      return { loss: obj.loss, elbo: obj.elbo, norm: trainer.gradNorm() };
    },
    apply(lr, scale) {
      trainer.applyAdam(lr, scale);
    },
    sync() {
      trainer.syncToFlow();
    },
    finish() {
      try {
        trainer.syncToFlow();
      } finally {
        trainer.dispose();
      }
    },
  };
}
