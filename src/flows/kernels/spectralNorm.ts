/**
 * Spectral normalisation of one weight matrix (Miyato et al. 2018, "Spectral normalization for
 * generative adversarial networks", https://arxiv.org/abs/1802.05957), in the capped form of
 * i-ResNet (Behrmann et al. 2019, §3): W̃ = W · min(1, c / σ), so ‖W̃‖₂ ≤ c.
 *
 * σ = u W vᵀ from the leading singular vectors u, v (row vectors, found by power iteration in
 * the layer: src/flows/nn/lipschitzMlp.ts) that enter as constants, so the gradient flows
 * through σ as in PyTorch's spectral_norm: with f = c/σ > 1 clipped,
 *   dL/dW = f·G − (f/σ)·⟨G, W⟩·uᵀv,    G = dL/dW̃.
 * Without the σ term an optimiser would grow W without bound while W̃ stays put.
 * Inputs [W [R, C], u [1, R], v [1, C]], output [W̃ [R, C]]; attrs { c }.
 */
import * as tf from '@tensorflow/tfjs';
import type { Kernel, Shape } from '../engine/ops.js';
import type { HeapBackwardIO, HeapForwardIO } from '../engine/heap/kernel.js';
import { DimensionError } from '../../core/errors.js';

export interface SpectralNormAttrs {
  /** The bound c of ‖W̃‖₂. */
  c: number;
}

function sigmaOf(H: Float32Array, w: number, u: number, v: number, R: number, C: number): number {
  let s = 0;
  for (let i = 0; i < R; i++) {
    let row = 0;
    for (let j = 0; j < C; j++) row += H[w + i * C + j] * H[v + j];
    s += H[u + i] * row;
  }
  return s;
}

export const spectralNormKernel: Kernel<SpectralNormAttrs> = {
  name: 'spectral-norm',
  outputShapes([w, u, v]: Shape[]): Shape[] {
    if (u[0] !== 1 || v[0] !== 1 || u[1] !== w[0] || v[1] !== w[1]) throw new DimensionError(`spectral-norm: W [${w.join(', ')}] needs u [1, ${w[0]}] and v [1, ${w[1]}], got [${u.join(', ')}], [${v.join(', ')}]`);
    return [w];
  },
  tfjs([w, u, v], { c }) {
    const sigma = tf.sum(tf.mul(tf.matMul(u, w), v));
    return [tf.mul(w, tf.minimum(1, tf.div(c, sigma))) as tf.Tensor2D];
  },
  heap: {
    forward({ H, inputs: [w, u, v], outputs: [out], attrs: { c } }: HeapForwardIO<SpectralNormAttrs>) {
      const R = w.rows;
      const C = w.cols;
      const sigma = sigmaOf(H, w.off, u.off, v.off, R, C);
      const f = sigma > c ? c / sigma : 1;
      for (let i = 0; i < R * C; i++) H[out.off + i] = f * H[w.off + i];
      return { sigma, f };
    },
    backward({ H, inputs: [w, u, v], outGrads: [g], inGrads: [dw], saved }: HeapBackwardIO<SpectralNormAttrs>) {
      if (!dw || !g) return;
      const { sigma, f } = saved as { sigma: number; f: number };
      const R = w.rows;
      const C = w.cols;
      if (f === 1) {
        for (let i = 0; i < R * C; i++) H[dw.off + i] += H[g.off + i];
        return;
      }
      let gw = 0;
      for (let i = 0; i < R * C; i++) gw += H[g.off + i] * H[w.off + i];
      const k = (f / sigma) * gw;
      for (let i = 0; i < R; i++) {
        const ui = H[u.off + i];
        for (let j = 0; j < C; j++) H[dw.off + i * C + j] += f * H[g.off + i * C + j] - k * ui * H[v.off + j];
      }
    },
  },
};
