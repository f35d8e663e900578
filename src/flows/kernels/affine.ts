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
      // σ per column once when θ is one row for all (the flows' diagonal affine layers), else per row.
      const e = new Float64Array(D);
      // Fills e with σ (σ⁻¹ for the inverse) of the θ row at `to`; returns Σ log σ.
      const scales = (to: number): number => {
        let sum = 0;
        for (let j = 0; j < D; j++) {
          const l = softClip(H[to + D + j], clip);
          sum += l;
          e[j] = Math.exp(inverse ? -l : l);
        }
        return sum;
      };
      let sum = ts === 0 ? scales(theta.off) : 0;
      for (let r = 0; r < n; r++) {
        const xo = x.off + r * D;
        const yo = y.off + r * D;
        const to = theta.off + r * ts;
        if (ts !== 0) sum = scales(to);
        for (let j = 0; j < D; j++) H[yo + j] = inverse ? (H[xo + j] - H[to + j]) * e[j] : H[xo + j] * e[j] + H[to + j];
        H[ld.off + r] = inverse ? -sum : sum;
      }
      return null;
    },
    backward({ H, inputs: [x, theta], outGrads: [gy, gl], inGrads: [dx, dtheta], attrs: { inverse, clip } }: HeapBackwardIO<AffineAttrs>) {
      const n = x.rows;
      const D = x.cols;
      const ts = theta.rows === 1 ? 0 : 2 * D;
      // e = σ (σ⁻¹ for the inverse) and d log σ / dα per column, once when θ is shared by all rows.
      const e = new Float64Array(D);
      const dl = new Float64Array(D);
      const scales = (to: number) => {
        for (let j = 0; j < D; j++) {
          const t = Math.tanh(H[to + D + j] / clip);
          dl[j] = 1 - t * t;
          e[j] = Math.exp(inverse ? -clip * t : clip * t);
        }
      };
      if (ts === 0) scales(theta.off);
      for (let r = 0; r < n; r++) {
        const xo = x.off + r * D;
        const to = theta.off + r * ts;
        if (ts !== 0) scales(to);
        const glr = gl ? H[gl.off + r] : 0;
        for (let j = 0; j < D; j++) {
          const g = gy ? H[gy.off + r * D + j] : 0;
          if (dx) H[dx.off + r * D + j] += g * e[j];
          if (!dtheta) continue;
          if (!inverse) {
            H[dtheta.off + r * ts + j] += g;
            H[dtheta.off + r * ts + D + j] += (g * H[xo + j] * e[j] + glr) * dl[j];
          } else {
            H[dtheta.off + r * ts + j] -= g * e[j];
            H[dtheta.off + r * ts + D + j] += (-g * (H[xo + j] - H[to + j]) * e[j] - glr) * dl[j];
          }
        }
      }
    },
  },
};
