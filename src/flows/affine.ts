/**
 * Elementwise learnable affine bijector y = μ + σ ⊙ z with σ = exp(softclip(logσ)).
 * Placed first in a flow it is the learnable diagonal Gaussian base z0 = μ0 + σ0 ε that precedes
 * the IAF chain in Kingma et al. (2016); it is what lets a flow of volume-contracting gated IAF
 * layers match targets wider than N(0, I). The log-scale is soft-clipped to ±`maxLogScale`
 * (c·tanh(u/c)) so that one bad optimiser step cannot make the flow explode (as zuko does).
 * Cost: one pass both ways; log|det| = Σ log σ, independent of z.
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector, BijectorResult } from './bijector.js';
import { ParameterError, checkDim, checkPositiveInt } from '../core/errors.js';

export interface AffineDiagonalConfig {
  dim: number;
  /** Initial shift (default 0). */
  loc?: number[];
  /** Initial scale σ (default 1). */
  scale?: number[];
  /** Bound of |log σ| (default 10). */
  maxLogScale?: number;
}

/** log σ = c·tanh(u / c) of the unclipped parameter u (the numeric form of `logScale()`). */
export function softClip(u: number, c: number): number {
  return c * Math.tanh(u / c);
}

/** d softClip(u, c) / du = 1 − tanh²(u / c). */
export function softClipDerivative(u: number, c: number): number {
  const t = Math.tanh(u / c);
  return 1 - t * t;
}

export class AffineDiagonal implements Bijector {
  readonly type = 'affine-diagonal';
  readonly dim: number;
  readonly maxLogScale: number;
  readonly loc: tf.Variable<tf.Rank.R1>;
  /** Unclipped log-scale parameter u; log σ = c tanh(u / c). */
  readonly rawLogScale: tf.Variable<tf.Rank.R1>;

  constructor(config: AffineDiagonalConfig) {
    this.dim = checkPositiveInt('affine dim', config.dim);
    this.maxLogScale = config.maxLogScale ?? 10;
    const c = this.maxLogScale;
    const loc = config.loc ?? new Array(this.dim).fill(0);
    const scale = config.scale ?? new Array(this.dim).fill(1);
    if (loc.length !== this.dim || scale.length !== this.dim) {
      throw new ParameterError(`affine-diagonal: loc and scale need ${this.dim} entries`);
    }
    const raw = scale.map((s) => {
      if (!(s > 0) || !Number.isFinite(s)) throw new ParameterError(`affine-diagonal: scale must be positive, got ${s}`);
      const l = Math.log(s);
      if (Math.abs(l) >= 0.999 * c) throw new ParameterError(`affine-diagonal: |log scale| ${l} exceeds the clip ${c}`);
      return c * Math.atanh(l / c);
    });
    this.loc = tf.tidy(() => tf.variable(tf.tensor1d(loc)));
    this.rawLogScale = tf.tidy(() => tf.variable(tf.tensor1d(raw)));
  }

  /** log σ after soft clipping, shape [dim]. */
  logScale(): tf.Tensor1D {
    const c = this.maxLogScale;
    return tf.tidy(() => tf.mul(tf.tanh(tf.div(this.rawLogScale, c)), c) as tf.Tensor1D);
  }

  forward(z: tf.Tensor2D): BijectorResult {
    checkDim('affine-diagonal input', this.dim, z.shape[1]);
    return tf.tidy(() => {
      const ls = this.logScale();
      const y = tf.add(tf.mul(z, tf.exp(ls)), this.loc) as tf.Tensor2D;
      const logDet = tf.mul(tf.ones([z.shape[0]]), tf.sum(ls)) as tf.Tensor1D;
      return { y, logDet };
    });
  }

  inverse(y: tf.Tensor2D): BijectorResult {
    checkDim('affine-diagonal input', this.dim, y.shape[1]);
    return tf.tidy(() => {
      const ls = this.logScale();
      const z = tf.mul(tf.sub(y, this.loc), tf.exp(tf.neg(ls))) as tf.Tensor2D;
      const logDet = tf.mul(tf.ones([y.shape[0]]), tf.neg(tf.sum(ls))) as tf.Tensor1D;
      return { y: z, logDet };
    });
  }

  trainableVariables(): tf.Variable[] {
    return [this.loc, this.rawLogScale];
  }

  getConfig(): Record<string, unknown> {
    return { dim: this.dim, maxLogScale: this.maxLogScale };
  }

  dispose(): void {
    this.loc.dispose();
    this.rawLogScale.dispose();
  }
}
