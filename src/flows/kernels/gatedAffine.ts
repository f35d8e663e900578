/**
 * The gated affine transformer of Kingma et al. (2016, "Improved variational inference with
 * inverse autoregressive flow", Algorithm 1, https://arxiv.org/abs/1606.04934):
 *
 *   σ = sigmoid(s);  y = σ ⊙ (x − m) + m;  log|det| = Σ log σ,
 *
 * with θ = [m | s] ([n or 1, 2D]: m in columns 0..D−1, s in D..2D−1). The inverse is
 * x = m + (y − m) / σ with log|det| = −Σ log σ. Since 0 < σ < 1 every gated layer contracts
 * volume; pair it with an affine layer to fit targets wider than the base.
 *
 * Inputs [x, θ], outputs [y, logDet [n, 1]]. log σ is −softplus(−s), computed on the heap as the
 * log of a running product per row (one log per row instead of one per coordinate; renormalised
 * before float64 underflow; s − log(1 + eˢ) directly where σ underflows).
 * Backward (forward direction): ∂y/∂x = σ, ∂y/∂m = 1 − σ, ∂y/∂s = σ(1 − σ)(x − m),
 * ∂log|det|/∂s = 1 − σ. Inverse direction: ∂x/∂y = 1/σ, ∂x/∂m = 1 − 1/σ,
 * ∂x/∂s = −(y − m)(1 − σ)/σ, ∂log|det|/∂s = −(1 − σ).
 */
import * as tf from '@tensorflow/tfjs';
import type { Kernel, Shape } from '../engine/ops.js';
import type { HeapBackwardIO, HeapForwardIO } from '../engine/heap/kernel.js';
import { checkTransformerShapes, type TransformerAttrs } from './transformerShapes.js';

function logSigmoidRowSum(s: tf.Tensor2D): tf.Tensor2D {
  return tf.neg(tf.sum(tf.softplus(tf.neg(s)), 1, true)) as tf.Tensor2D;
}

function sigmoid(s: number): number {
  return 1 / (1 + Math.exp(-s));
}

export const gatedAffineKernel: Kernel<TransformerAttrs> = {
  name: 'gated-affine',
  outputShapes(shapes: Shape[]): Shape[] {
    const [n, D] = checkTransformerShapes('gated-affine', shapes, 2);
    return [
      [n, D],
      [n, 1],
    ];
  },
  tfjs([x, theta], { inverse }) {
    const D = x.shape[1];
    const m = tf.slice(theta, [0, 0], [-1, D]) as tf.Tensor2D;
    const s = tf.slice(theta, [0, D], [-1, D]) as tf.Tensor2D;
    const sig = tf.sigmoid(s);
    const ld = logSigmoidRowSum(s);
    if (!inverse) {
      const y = tf.add(tf.mul(sig, tf.sub(x, m)), m) as tf.Tensor2D;
      return [y, tf.add(ld, tf.zeros([x.shape[0], 1])) as tf.Tensor2D];
    }
    const z = tf.add(m, tf.div(tf.sub(x, m), sig)) as tf.Tensor2D;
    return [z, tf.add(tf.neg(ld), tf.zeros([x.shape[0], 1])) as tf.Tensor2D];
  },
  heap: {
    forward({ H, inputs: [x, theta], outputs: [y, ld], attrs: { inverse } }: HeapForwardIO<TransformerAttrs>) {
      const n = x.rows;
      const D = x.cols;
      const ts = theta.rows === 1 ? 0 : 2 * D;
      for (let r = 0; r < n; r++) {
        const xo = x.off + r * D;
        const yo = y.off + r * D;
        const to = theta.off + r * ts;
        let p = 1;
        let a = 0;
        for (let j = 0; j < D; j++) {
          const m = H[to + j];
          const s = H[to + D + j];
          const sg = sigmoid(s);
          H[yo + j] = inverse ? m + (H[xo + j] - m) / sg : sg * (H[xo + j] - m) + m;
          if (sg > 1e-12) {
            p *= sg;
            if (p < 1e-280) {
              a += Math.log(p);
              p = 1;
            }
          } else {
            // (NaN stays NaN: it fails the test above and propagates here.)
            a += s - Math.log1p(Math.exp(s));
          }
        }
        const sum = a + Math.log(p);
        H[ld.off + r] = inverse ? -sum : sum;
      }
      return null;
    },
    backward({ H, inputs: [x, theta], outGrads: [gy, gl], inGrads: [dx, dtheta], attrs: { inverse } }: HeapBackwardIO<TransformerAttrs>) {
      const n = x.rows;
      const D = x.cols;
      const ts = theta.rows === 1 ? 0 : 2 * D;
      for (let r = 0; r < n; r++) {
        const xo = x.off + r * D;
        const to = theta.off + r * ts;
        const gyo = gy ? gy.off + r * D : -1;
        const glr = gl ? H[gl.off + r] : 0;
        const dxo = dx ? dx.off + r * D : -1;
        const dto = dtheta ? dtheta.off + r * ts : -1;
        for (let j = 0; j < D; j++) {
          const m = H[to + j];
          const sg = sigmoid(H[to + D + j]);
          const om = 1 - sg;
          const g = gyo >= 0 ? H[gyo + j] : 0;
          const xm = H[xo + j] - m;
          if (!inverse) {
            if (dxo >= 0) H[dxo + j] += g * sg;
            if (dto >= 0) {
              H[dto + j] += g * om;
              H[dto + D + j] += om * (sg * xm * g + glr);
            }
          } else {
            if (dxo >= 0) H[dxo + j] += g / sg;
            if (dto >= 0) {
              H[dto + j] += g * (1 - 1 / sg);
              H[dto + D + j] += -om * ((xm * g) / sg + glr);
            }
          }
        }
      }
    },
  },
};
