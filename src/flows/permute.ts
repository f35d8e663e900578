/**
 * Fixed permutation of coordinates, y_i = z_perm[i]; volume-preserving (log|det| = 0).
 * Implemented as a product with a 0/1 permutation matrix (exact in float32) with an explicit
 * gradient, because tf.gather's gradient kernel (UnsortedSegmentSum) is missing in tfjs-wasm.
 * Between autoregressive layers a reversal lets every coordinate condition on every other
 * one somewhere in the chain (Kingma et al. 2016, §5; Papamakarios et al. 2017).
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector, BijectorResult } from './bijector.js';
import { ParameterError, checkDim } from '../core/errors.js';

export class Permute implements Bijector {
  readonly type = 'permute';
  readonly dim: number;
  readonly perm: number[];
  /** P with (z P)_i = z_perm[i], and its transpose (the inverse permutation). */
  private readonly pMat: tf.Tensor2D;
  private readonly pMatT: tf.Tensor2D;

  constructor(config: { perm: number[] }) {
    const perm = config.perm;
    this.dim = perm.length;
    const seen = new Array(this.dim).fill(false);
    for (const p of perm) {
      if (!Number.isInteger(p) || p < 0 || p >= this.dim || seen[p]) {
        throw new ParameterError(`permute: [${perm.join(', ')}] is not a permutation of 0..${this.dim - 1}`);
      }
      seen[p] = true;
    }
    this.perm = [...perm];
    const p = new Float32Array(this.dim * this.dim);
    perm.forEach((src, i) => (p[src * this.dim + i] = 1));
    this.pMat = tf.tensor2d(p, [this.dim, this.dim]);
    this.pMatT = tf.transpose(this.pMat);
  }

  private static apply(x: tf.Tensor2D, m: tf.Tensor2D, mT: tf.Tensor2D): tf.Tensor2D {
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const xi = args[0] as tf.Tensor2D;
      return { value: tf.matMul(xi, m), gradFunc: (dy: tf.Tensor) => [tf.matMul(dy as tf.Tensor2D, mT)] };
    });
    return f(x) as tf.Tensor2D;
  }

  /** The reversal y_i = z_{dim-1-i}. */
  static reverse(dim: number): Permute {
    return new Permute({ perm: Array.from({ length: dim }, (_, i) => dim - 1 - i) });
  }

  forward(z: tf.Tensor2D): BijectorResult {
    checkDim('permute input', this.dim, z.shape[1]);
    return tf.tidy(() => ({ y: Permute.apply(z, this.pMat, this.pMatT), logDet: tf.zeros([z.shape[0]]) as tf.Tensor1D }));
  }

  inverse(y: tf.Tensor2D): BijectorResult {
    checkDim('permute input', this.dim, y.shape[1]);
    return tf.tidy(() => ({ y: Permute.apply(y, this.pMatT, this.pMat), logDet: tf.zeros([y.shape[0]]) as tf.Tensor1D }));
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  getConfig(): Record<string, unknown> {
    return { perm: [...this.perm] };
  }

  dispose(): void {
    this.pMat.dispose();
    this.pMatT.dispose();
  }
}
