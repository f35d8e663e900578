/**
 * Chain: applies `bijectors[0]` first, then `bijectors[1]`, ... in `forward`, and the inverses
 * in the reverse order in `inverse`; the log-determinants add up. Neighbours must agree on
 * `dim` (the error names both).
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector, BijectorResult } from './bijector.js';
import { DimensionError, ParameterError } from '../core/errors.js';

export class Chain implements Bijector {
  readonly type = 'chain';
  readonly dim: number;
  readonly bijectors: Bijector[];

  constructor(bijectors: Bijector[]) {
    if (bijectors.length === 0) throw new ParameterError('chain: needs at least one bijector');
    for (let i = 1; i < bijectors.length; i++) {
      if (bijectors[i].dim !== bijectors[i - 1].dim) {
        throw new DimensionError(
          `chain: bijector ${i - 1} (${bijectors[i - 1].type}, dim ${bijectors[i - 1].dim}) feeds bijector ${i} (${bijectors[i].type}, dim ${bijectors[i].dim})`,
        );
      }
    }
    this.bijectors = [...bijectors];
    this.dim = bijectors[0].dim;
  }

  forward(z: tf.Tensor2D): BijectorResult {
    return tf.tidy(() => {
      let x = z;
      let logDet: tf.Tensor1D | null = null;
      for (const b of this.bijectors) {
        const r = b.forward(x);
        x = r.y;
        logDet = logDet ? (tf.add(logDet, r.logDet) as tf.Tensor1D) : r.logDet;
      }
      return { y: x, logDet: logDet! };
    });
  }

  inverse(y: tf.Tensor2D): BijectorResult {
    return tf.tidy(() => {
      let z = y;
      let logDet: tf.Tensor1D | null = null;
      for (let i = this.bijectors.length - 1; i >= 0; i--) {
        const r = this.bijectors[i].inverse(z);
        z = r.y;
        logDet = logDet ? (tf.add(logDet, r.logDet) as tf.Tensor1D) : r.logDet;
      }
      return { y: z, logDet: logDet! };
    });
  }

  trainableVariables(): tf.Variable[] {
    return this.bijectors.flatMap((b) => b.trainableVariables());
  }

  getConfig(): Record<string, unknown> {
    return { bijectors: this.bijectors.map((b) => ({ type: b.type, config: b.getConfig() })) };
  }

  dispose(): void {
    for (const b of this.bijectors) b.dispose();
  }
}
