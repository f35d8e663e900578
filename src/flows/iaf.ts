/**
 * Affine inverse autoregressive flow layer with the gated update of Kingma et al. (2016),
 * "Improved variational inference with inverse autoregressive flow", Algorithm 1
 * (https://arxiv.org/abs/1606.04934):
 *
 *   [m, s] = MADE(z);  σ = sigmoid(s);  y = σ ⊙ z + (1 − σ) ⊙ m;  log|det ∂y/∂z| = Σ log σ.
 *
 * The MADE makes ∂y_i/∂z triangular in the ordering with diagonal σ_i. log σ is computed as
 * −softplus(−s): stable for large |s|, and tf.logSigmoid's gradient throws in tfjs 4.22.
 * The s-bias starts at +2 (σ ≈ 0.88), "sufficiently positive" as the paper advises, so a fresh
 * layer is close to the identity.
 *
 * Cost: `forward` (sampling direction) is one MADE pass. `inverse` (density direction) is
 * sequential: coordinate i of z is only known once z_<i is, so it takes `dim` MADE passes on the
 * whole batch (fixed-point sweep z ← (y − (1 − σ(z)) m(z)) / σ(z), exact after `dim` sweeps).
 * Note 0 < σ < 1, so every layer contracts volume; pair it with an `AffineDiagonal` layer to
 * fit targets wider than the base.
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector, BijectorResult } from './bijector.js';
import { Made, type MadeConfig } from './made.js';
import { checkDim } from '../core/errors.js';

export interface IafAffineConfig extends MadeConfig {}

/** The gated update given the conditioner's outputs: y = σ z + (1 − σ) m, log|det| = Σ log σ. */
export function gatedUpdate(z: tf.Tensor2D, m: tf.Tensor2D, s: tf.Tensor2D): { y: tf.Tensor2D; logDet: tf.Tensor1D } {
  const y = tf.add(tf.mul(tf.sigmoid(s), tf.sub(z, m)), m) as tf.Tensor2D;
  const logDet = tf.neg(tf.sum(tf.softplus(tf.neg(s)), 1)) as tf.Tensor1D;
  return { y, logDet };
}

/**
 * The sequential inverse of the gated update for any autoregressive conditioner: `dim` sweeps of
 * z ← m(z) + (y − m(z)) / σ(s(z)), exact after `dim` (see the file header). Call inside tidy.
 */
export function gatedInverse(y: tf.Tensor2D, dim: number, conditioner: (z: tf.Tensor2D) => { m: tf.Tensor2D; s: tf.Tensor2D }): { y: tf.Tensor2D; logDet: tf.Tensor1D } {
  let z: tf.Tensor2D = y;
  let s: tf.Tensor2D | null = null;
  for (let pass = 0; pass < dim; pass++) {
    const out = conditioner(z);
    z = tf.add(out.m, tf.div(tf.sub(y, out.m), tf.sigmoid(out.s))) as tf.Tensor2D;
    s = out.s;
  }
  // After the last sweep s was computed from a z whose first dim-1 coordinates were exact,
  // and s_i depends only on z_<i, so s is exact.
  return { y: z, logDet: tf.sum(tf.softplus(tf.neg(s!)), 1) as tf.Tensor1D };
}

export class IafAffine implements Bijector {
  readonly type = 'iaf-affine';
  readonly dim: number;
  readonly made: Made;

  constructor(config: IafAffineConfig) {
    this.made = new Made(config);
    this.dim = this.made.dim;
  }

  forward(z: tf.Tensor2D): BijectorResult {
    checkDim('iaf-affine input', this.dim, z.shape[1]);
    return tf.tidy(() => {
      const { m, s } = this.made.apply(z);
      return gatedUpdate(z, m, s);
    });
  }

  /** The sequential inverse: `dim` MADE passes (see the file header). */
  inverse(y: tf.Tensor2D): BijectorResult {
    checkDim('iaf-affine input', this.dim, y.shape[1]);
    return tf.tidy(() => gatedInverse(y, this.dim, (z) => this.made.apply(z)));
  }

  trainableVariables(): tf.Variable[] {
    return this.made.trainableVariables();
  }

  getConfig(): Record<string, unknown> {
    return this.made.getConfig();
  }

  dispose(): void {
    this.made.dispose();
  }
}
