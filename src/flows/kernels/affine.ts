/**
 * The affine transformer of RealNVP and MAF (Dinh et al. 2017; Papamakarios et al. 2017):
 *
 *   log σ = c·tanh(α / c);  y = x ⊙ σ + μ;  log|det| = Σ log σ,
 *
 * with θ = [μ | α] ([n or 1, 2D]) and the log-scale soft-clipped to ±c (`clip`) so that one bad
 * optimiser step cannot make a flow explode (as zuko does). The inverse is x = (y − μ)/σ with
 * log|det| = −Σ log σ. Inputs [x, θ], outputs [y, logDet [n, 1]].
 */
import * as tf from '@tensorflow/tfjs';
import type { Kernel, Shape } from '../engine/ops.js';
import type { HeapBackwardIO, HeapForwardIO } from '../engine/heap/kernel.js';
import { checkTransformerShapes, type TransformerAttrs } from './transformerShapes.js';

export interface AffineAttrs extends TransformerAttrs {
  /** Bound c of |log σ|. */
  clip: number;
}

/** log σ = c·tanh(u / c) of the unclipped parameter u. */
export function softClip(u: number, c: number): number {
  return c * Math.tanh(u / c);
}

/** u with softClip(u, c) = l (|l| < c). */
export function softClipInverse(l: number, c: number): number {
  return c * Math.atanh(l / c);
}

export const affineKernel: Kernel<AffineAttrs> = {
  name: 'affine',
  outputShapes(shapes: Shape[]): Shape[] {
    const [n, D] = checkTransformerShapes('affine', shapes, 2);
    return [
      [n, D],
      [n, 1],
    ];
  },
  tfjs([x, theta], { inverse, clip }) {
    const D = x.shape[1];
    const mu = tf.slice(theta, [0, 0], [-1, D]);
    const ls = tf.mul(tf.tanh(tf.div(tf.slice(theta, [0, D], [-1, D]), clip)), clip);
    const ld = tf.add(tf.sum(ls, 1, true), tf.zeros([x.shape[0], 1])) as tf.Tensor2D;
    if (!inverse) return [tf.add(tf.mul(x, tf.exp(ls)), mu) as tf.Tensor2D, ld];
    return [tf.mul(tf.sub(x, mu), tf.exp(tf.neg(ls))) as tf.Tensor2D, tf.neg(ld) as tf.Tensor2D];
  },
  heap: {
    forward({ H, inputs: [x, theta], outputs: [y, ld], attrs: { inverse, clip } }: HeapForwardIO<AffineAttrs>) {
      const n = x.rows;
      const D = x.cols;
      const ts = theta.rows === 1 ? 0 : 2 * D;
      for (let r = 0; r < n; r++) {
        const xo = x.off + r * D;
        const yo = y.off + r * D;
        const to = theta.off + r * ts;
        let sum = 0;
        for (let j = 0; j < D; j++) {
          const l = softClip(H[to + D + j], clip);
          sum += l;
          H[yo + j] = inverse ? (H[xo + j] - H[to + j]) * Math.exp(-l) : H[xo + j] * Math.exp(l) + H[to + j];
        }
        H[ld.off + r] = inverse ? -sum : sum;
      }
      return null;
    },
    backward({ H, inputs: [x, theta], outGrads: [gy, gl], inGrads: [dx, dtheta], attrs: { inverse, clip } }: HeapBackwardIO<AffineAttrs>) {
      const n = x.rows;
      const D = x.cols;
      const ts = theta.rows === 1 ? 0 : 2 * D;
      for (let r = 0; r < n; r++) {
        const xo = x.off + r * D;
        const to = theta.off + r * ts;
        const glr = gl ? H[gl.off + r] : 0;
        for (let j = 0; j < D; j++) {
          const t = Math.tanh(H[to + D + j] / clip);
          const l = clip * t;
          const dl = 1 - t * t; // d log σ / dα
          const g = gy ? H[gy.off + r * D + j] : 0;
          if (!inverse) {
            const e = Math.exp(l);
            if (dx) H[dx.off + r * D + j] += g * e;
            if (dtheta) {
              H[dtheta.off + r * ts + j] += g;
              H[dtheta.off + r * ts + D + j] += (g * H[xo + j] * e + glr) * dl;
            }
          } else {
            const ei = Math.exp(-l);
            if (dx) H[dx.off + r * D + j] += g * ei;
            if (dtheta) {
              H[dtheta.off + r * ts + j] -= g * ei;
              H[dtheta.off + r * ts + D + j] += (-g * (H[xo + j] - H[to + j]) * ei - glr) * dl;
            }
          }
        }
      }
    },
  },
};
