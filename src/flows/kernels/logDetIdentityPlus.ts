/**
 * log det(I + M) row-wise for a batch of small D x D matrices M (each row of the input holds one
 * M, row-major): the exact log-determinant of a contractive residual block x + g(x)
 * (src/flows/bijectors/iresnet.ts) from its Jacobian.
 *
 * Gaussian elimination without pivoting. That is safe here, and only here: for ‖M‖₂ < 1 every
 * leading block I_k + M_k has ‖M_k‖₂ < 1, so every leading minor is positive and so is every
 * pivot (the pivots are ratios of successive minors); for the same reason det(I + M) > 0, so
 * log det, not log |det|. A non-positive pivot (M not contractive) gives NaN.
 * The gradient is d log det(A) / dA = A⁻ᵀ. Inputs [M [n, D²]], output [n, 1]; attrs { dim }.
 */
import * as tf from '@tensorflow/tfjs';
import type { Kernel, Shape } from '../engine/ops.js';
import type { HeapBackwardIO, HeapForwardIO } from '../engine/heap/kernel.js';
import { DimensionError } from '../../core/errors.js';

export interface LogDetAttrs {
  dim: number;
}

/** LU of A = I + M in place (no pivoting, float64); returns log det, NaN for a bad pivot. */
function luLogDet(a: Float64Array, D: number): number {
  let s = 0;
  for (let k = 0; k < D; k++) {
    const p = a[k * D + k];
    if (!(p > 0)) return NaN;
    s += Math.log(p);
    for (let i = k + 1; i < D; i++) {
      const f = a[i * D + k] / p;
      a[i * D + k] = f;
      if (f === 0) continue;
      for (let j = k + 1; j < D; j++) a[i * D + j] -= f * a[k * D + j];
    }
  }
  return s;
}

/** A⁻¹ from its packed LU factors (unit L below the diagonal, U on and above). */
function luInverse(lu: Float64Array, D: number): Float64Array {
  const inv = new Float64Array(D * D);
  const col = new Float64Array(D);
  for (let c = 0; c < D; c++) {
    for (let i = 0; i < D; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= lu[i * D + k] * col[k];
      col[i] = s;
    }
    for (let i = D - 1; i >= 0; i--) {
      let s = col[i];
      for (let k = i + 1; k < D; k++) s -= lu[i * D + k] * col[k];
      col[i] = s / lu[i * D + i];
    }
    for (let i = 0; i < D; i++) inv[i * D + c] = col[i];
  }
  return inv;
}

export const logDetIdentityPlusKernel: Kernel<LogDetAttrs> = {
  name: 'log-det-identity-plus',
  outputShapes([m]: Shape[], { dim }): Shape[] {
    if (m[1] !== dim * dim) throw new DimensionError(`log-det-identity-plus: rows of ${m[1]} values are not ${dim} x ${dim} matrices`);
    return [[m[0], 1]];
  },
  tfjs([m], { dim: D }) {
    // The same elimination on columns of the batch, unrolled (D is small where this is used).
    const n = m.shape[0];
    const a: tf.Tensor2D[][] = [];
    for (let i = 0; i < D; i++) {
      a.push([]);
      for (let j = 0; j < D; j++) {
        const e = tf.slice(m, [0, i * D + j], [n, 1]);
        a[i].push(i === j ? tf.add(e, 1) : e);
      }
    }
    let s: tf.Tensor2D = tf.zeros([n, 1]);
    for (let k = 0; k < D; k++) {
      const p = a[k][k];
      s = tf.add(s, tf.log(p));
      for (let i = k + 1; i < D; i++) {
        const f = tf.div(a[i][k], p);
        for (let j = k + 1; j < D; j++) a[i][j] = tf.sub(a[i][j], tf.mul(f, a[k][j]));
      }
    }
    return [s];
  },
  heap: {
    forward({ H, inputs: [m], outputs: [out], attrs: { dim: D }, recording }: HeapForwardIO<LogDetAttrs>) {
      const n = m.rows;
      const saved: Float64Array[] = [];
      const a = new Float64Array(D * D);
      for (let r = 0; r < n; r++) {
        const o = m.off + r * D * D;
        for (let k = 0; k < D * D; k++) a[k] = H[o + k];
        for (let i = 0; i < D; i++) a[i * D + i] += 1;
        const ld = luLogDet(a, D);
        H[out.off + r] = ld;
        if (recording) saved.push(Number.isFinite(ld) ? luInverse(a, D) : new Float64Array(D * D).fill(NaN));
      }
      return saved;
    },
    backward({ H, inputs: [m], outGrads: [g], inGrads: [dm], attrs: { dim: D }, saved }: HeapBackwardIO<LogDetAttrs>) {
      if (!dm || !g) return;
      const inv = saved as Float64Array[];
      for (let r = 0; r < m.rows; r++) {
        const gr = H[g.off + r];
        const o = dm.off + r * D * D;
        const ai = inv[r];
        for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) H[o + i * D + j] += gr * ai[j * D + i];
      }
    },
  },
};
