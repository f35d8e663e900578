/**
 * 1-Lipschitz activations for contractive residual blocks (src/flows/bijectors/iresnet.ts), as
 * one kernel with two outputs: φ(h) and φ'(h). A residual block needs φ' as a value because
 * its log-determinant is built from Jacobian–vector products J_g·t = ((t W₁) ⊙ φ'(h₁)) W₂ …,
 * and training differentiates those products, so the kernel's backward needs φ'':
 *   dL/dh = dL/dφ · φ'(h) + dL/dφ' · φ''(h).
 *
 * - `lipswish`: φ(h) = h·sigmoid(h) / 1.1 (Chen et al. 2019, "Residual Flows", §4,
 *   https://arxiv.org/abs/1906.02735): smooth, |φ'| ≤ 1, and φ'' does not vanish where φ' ≈ 1,
 *   which their paper shows matters for training through the log-det;
 * - `elu`: φ(h) = h for h > 0, eʰ − 1 otherwise (the i-ResNet paper's choice, Behrmann et al.
 *   2019); 0 ≤ φ' ≤ 1.
 * Inputs [h], outputs [φ(h), φ'(h)], same shape.
 */
import * as tf from '@tensorflow/tfjs';
import type { Kernel, Shape } from '../engine/ops.js';
import type { HeapBackwardIO, HeapForwardIO } from '../engine/heap/kernel.js';

export type LipschitzActivation = 'lipswish' | 'elu';

export const LIPSCHITZ_ACTIVATIONS: readonly LipschitzActivation[] = ['lipswish', 'elu'];

export interface LipschitzActivationAttrs {
  kind: LipschitzActivation;
}

/** 1 / max_h Swish'(h), rounded up (max Swish' ≈ 1.0998). */
const LIPSWISH_DIV = 1.1;

function sigmoid(h: number): number {
  return h >= 0 ? 1 / (1 + Math.exp(-h)) : Math.exp(h) / (1 + Math.exp(h));
}

export const lipschitzActivationKernel: Kernel<LipschitzActivationAttrs> = {
  name: 'lipschitz-activation',
  outputShapes([h]: Shape[]): Shape[] {
    return [h, h];
  },
  tfjs([h], { kind }) {
    if (kind === 'lipswish') {
      const s = tf.sigmoid(h);
      const phi = tf.div(tf.mul(h, s), LIPSWISH_DIV) as tf.Tensor2D;
      const d = tf.div(tf.add(s, tf.mul(h, tf.mul(s, tf.sub(1, s)))), LIPSWISH_DIV) as tf.Tensor2D;
      return [phi, d];
    }
    const e = tf.exp(tf.minimum(h, 0));
    return [tf.sub(tf.add(tf.relu(h), e), 1) as tf.Tensor2D, e as tf.Tensor2D];
  },
  heap: {
    forward({ H, inputs: [h], outputs: [phi, d], attrs: { kind } }: HeapForwardIO<LipschitzActivationAttrs>) {
      const n = h.rows * h.cols;
      if (kind === 'lipswish') {
        for (let i = 0; i < n; i++) {
          const x = H[h.off + i];
          const s = sigmoid(x);
          H[phi.off + i] = (x * s) / LIPSWISH_DIV;
          H[d.off + i] = (s + x * s * (1 - s)) / LIPSWISH_DIV;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const x = H[h.off + i];
          const e = Math.exp(Math.min(x, 0));
          H[phi.off + i] = Math.max(x, 0) + e - 1;
          H[d.off + i] = e;
        }
      }
      return null;
    },
    backward({ H, inputs: [h], outGrads: [gPhi, gD], inGrads: [dh], attrs: { kind } }: HeapBackwardIO<LipschitzActivationAttrs>) {
      if (!dh) return;
      const n = h.rows * h.cols;
      for (let i = 0; i < n; i++) {
        const x = H[h.off + i];
        let d1: number;
        let d2: number;
        if (kind === 'lipswish') {
          const s = sigmoid(x);
          const s1 = s * (1 - s);
          d1 = (s + x * s1) / LIPSWISH_DIV;
          d2 = (s1 * (2 + x * (1 - 2 * s))) / LIPSWISH_DIV;
        } else {
          d1 = Math.exp(Math.min(x, 0));
          d2 = x < 0 ? d1 : 0;
        }
        H[dh.off + i] += (gPhi ? H[gPhi.off + i] * d1 : 0) + (gD ? H[gD.off + i] * d2 : 0);
      }
    },
  },
};
