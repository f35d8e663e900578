/**
 * The monotone piecewise-linear transformer (UDL §16.3.2; Müller, McWilliams, Rousselle, Gross &
 * Novák 2019, "Neural importance sampling", https://arxiv.org/abs/1808.03856, §3.1): on [−B, B],
 * K bins of equal width w = 2B/K are mapped onto bins of learned heights
 * h = 2B·(h_min + (1 − K h_min)·softmax(θ)); the identity outside. In bin k,
 *   y = y_k + (x − x_k)·h_k / w,   log|dy/dx| = log(h_k / w),
 * and the inverse finds the bin by the height knots. The log-determinant is piecewise constant
 * (its derivative in x is 0); the map is continuous with jumps in its slope.
 *
 * θ is [n or 1, K·D] parameter-major (bin p of coordinate j in column p·D + j). Inputs [x, θ],
 * outputs [y, logDet [n, 1]].
 */
import * as tf from '@tensorflow/tfjs';
import type { Kernel, Shape } from '../engine/ops.js';
import type { HeapBackwardIO, HeapForwardIO } from '../engine/heap/kernel.js';
import { checkTransformerShapes, type TransformerAttrs } from './transformerShapes.js';

export interface PwLinearAttrs extends TransformerAttrs {
  bins: number;
  bound: number;
  minBinHeight: number;
}

/** Heights [n, D, K] (tfjs) from θ [n, K·D]. */
function heightsTf(theta: tf.Tensor2D, D: number, a: PwLinearAttrs): tf.Tensor3D {
  const n = theta.shape[0];
  const u = tf.transpose(tf.reshape(theta, [n, a.bins, D]), [0, 2, 1]);
  return tf.add(2 * a.bound * a.minBinHeight, tf.mul(2 * a.bound * (1 - a.minBinHeight * a.bins), tf.softmax(u))) as tf.Tensor3D;
}

export const pwLinearKernel: Kernel<PwLinearAttrs> = {
  name: 'pw-linear',
  outputShapes(shapes: Shape[], a: PwLinearAttrs): Shape[] {
    const [n, D] = checkTransformerShapes('pw-linear', shapes, a.bins);
    return [
      [n, D],
      [n, 1],
    ];
  },
  tfjs([x, theta], a) {
    const [n, D] = x.shape;
    const K = a.bins;
    const B = a.bound;
    const w = (2 * B) / K;
    const th = theta.shape[0] === n ? theta : (tf.tile(theta, [n, 1]) as tf.Tensor2D);
    const h = heightsTf(th, D, a); // [n, D, K]
    const yLeft = tf.sub(tf.cumsum(h, 2, true), B); // [n, D, K]
    const inside = tf.greaterEqual(B, tf.abs(x));
    const xc = tf.clipByValue(x, -B, B);
    let k: tf.Tensor;
    if (!a.inverse) {
      k = tf.clipByValue(tf.floor(tf.div(tf.add(xc, B), w)), 0, K - 1);
    } else {
      // The number of interior height knots strictly below y (as the spline does).
      const inner = tf.slice(yLeft, [0, 0, 1], [-1, -1, K - 1]);
      k = tf.sum(tf.step(tf.sub(tf.expandDims(xc, -1), inner)), -1);
    }
    const mask = tf.oneHot(tf.cast(k, 'int32'), K);
    const hk = tf.sum(tf.mul(mask, h), -1);
    const yk = tf.sum(tf.mul(mask, yLeft), -1);
    const xk = tf.sub(tf.mul(k, w), B);
    const ld = tf.log(tf.div(hk, w));
    const y = a.inverse ? tf.add(xk, tf.div(tf.mul(tf.sub(xc, yk), w), hk)) : tf.add(yk, tf.div(tf.mul(tf.sub(xc, xk), hk), w));
    const out = tf.where(inside, y, x) as tf.Tensor2D;
    const lds = tf.where(inside, a.inverse ? tf.neg(ld) : ld, tf.zerosLike(x));
    return [out, tf.sum(lds, 1, true) as tf.Tensor2D];
  },
  heap: {
    forward({ H, inputs: [x, theta], outputs: [y, ld], attrs: a }: HeapForwardIO<PwLinearAttrs>) {
      const n = x.rows;
      const D = x.cols;
      const K = a.bins;
      const B = a.bound;
      const w = (2 * B) / K;
      const ts = theta.rows === 1 ? 0 : K * D;
      const h = new Float64Array(K);
      for (let r = 0; r < n; r++) {
        let sum = 0;
        for (let j = 0; j < D; j++) {
          const i = r * D + j;
          const v = H[x.off + i];
          if (!(Math.abs(v) <= B)) {
            H[y.off + i] = v;
            continue;
          }
          heights(H, theta.off + r * ts + j, D, a, h);
          const { k, yk } = locate(h, v, a);
          const xk = k * w - B;
          H[y.off + i] = a.inverse ? xk + ((v - yk) * w) / h[k] : yk + ((v - xk) * h[k]) / w;
          const l = Math.log(h[k] / w);
          sum += a.inverse ? -l : l;
        }
        H[ld.off + r] = sum;
      }
      return null;
    },
    backward({ H, inputs: [x, theta], outGrads: [gy, gl], inGrads: [dx, dtheta], attrs: a }: HeapBackwardIO<PwLinearAttrs>) {
      const n = x.rows;
      const D = x.cols;
      const K = a.bins;
      const B = a.bound;
      const w = (2 * B) / K;
      const ts = theta.rows === 1 ? 0 : K * D;
      const h = new Float64Array(K);
      const gh = new Float64Array(K);
      const sm = new Float64Array(K);
      const c = 2 * B * (1 - a.minBinHeight * K);
      for (let r = 0; r < n; r++) {
        const cl = gl ? H[gl.off + r] : 0;
        for (let j = 0; j < D; j++) {
          const i = r * D + j;
          const v = H[x.off + i];
          const cy = gy ? H[gy.off + i] : 0;
          if (!(Math.abs(v) <= B)) {
            if (dx) H[dx.off + i] += cy;
            continue;
          }
          const o = theta.off + r * ts + j;
          heights(H, o, D, a, h);
          const { k, yk } = locate(h, v, a);
          const xk = k * w - B;
          gh.fill(0);
          if (!a.inverse) {
            if (dx) H[dx.off + i] += (cy * h[k]) / w;
            // y = y_k + (x − x_k) h_k / w, y_k = −B + Σ_{i<k} h_i; log-det log h_k − log w.
            for (let m = 0; m < k; m++) gh[m] += cy;
            gh[k] += (cy * (v - xk)) / w + cl / h[k];
          } else {
            // x = x_k + (y − y_k) w / h_k; log-det −log h_k + log w.
            if (dx) H[dx.off + i] += (cy * w) / h[k];
            for (let m = 0; m < k; m++) gh[m] -= (cy * w) / h[k];
            gh[k] += (-cy * (v - yk) * w) / (h[k] * h[k]) - cl / h[k];
          }
          if (!dtheta) continue;
          // Through h = 2B h_min + c·softmax(u).
          for (let m = 0; m < K; m++) sm[m] = (h[m] - 2 * B * a.minBinHeight) / c;
          let dot = 0;
          for (let m = 0; m < K; m++) dot += sm[m] * gh[m];
          const go = dtheta.off + r * ts + j;
          for (let m = 0; m < K; m++) H[go + m * D] += c * sm[m] * (gh[m] - dot);
        }
      }
    },
  },
};

function heights(H: Float32Array, o: number, D: number, a: PwLinearAttrs, out: Float64Array): void {
  const K = a.bins;
  let mx = -Infinity;
  for (let k = 0; k < K; k++) mx = Math.max(mx, H[o + k * D]);
  let z = 0;
  for (let k = 0; k < K; k++) z += out[k] = Math.exp(H[o + k * D] - mx);
  const c = 2 * a.bound * (1 - a.minBinHeight * K);
  for (let k = 0; k < K; k++) out[k] = 2 * a.bound * a.minBinHeight + (c * out[k]) / z;
}

/** The bin of v (by the equal x widths forward, by the height knots inverse) and its y_k. */
function locate(h: Float64Array, v: number, a: PwLinearAttrs): { k: number; yk: number } {
  const K = a.bins;
  const B = a.bound;
  if (!a.inverse) {
    const k = Math.min(K - 1, Math.max(0, Math.floor((v + B) / ((2 * B) / K))));
    let yk = -B;
    for (let m = 0; m < k; m++) yk += h[m];
    return { k, yk };
  }
  let k = 0;
  let yk = -B;
  let knot = -B + h[0];
  for (let m = 1; m < K; m++) {
    if (knot < v) {
      k = m;
      yk = knot;
    }
    knot += h[m];
  }
  return { k, yk };
}
