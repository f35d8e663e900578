/**
 * Neal's funnel (Neal 2003, "Slice sampling", Ann. Statist. 31, §8): x = (v, x_1..x_{D-1}) with
 * v ~ N(0, σ²) and x_i | v ~ N(0, e^v). Unnormalised exactly as the anchors' funnel10:
 *   log p̃ = -v²/(2σ²) - e^{-v} Σ x_i²/2 - (D-1)/2 · v,
 *   Z = √(2π) σ · (2π)^((D-1)/2),  log Z = log σ + D/2 log 2π  (10.287998 for D = 10, σ = 3).
 */
import * as tf from '@tensorflow/tfjs';
import { ParameterError, checkParam } from '../core/errors.js';
import type { Target } from './target.js';
import { LOG_2PI, checkBatch, checkDimension, checkPoint } from './checks.js';

export interface FunnelOptions {
  /** Total dimension including v, at least 2 (default 10). */
  dim?: number;
  /** Standard deviation of v (default 3). */
  sigma?: number;
}

export function funnel(options: FunnelOptions = {}): Target {
  if (options == null || typeof options !== 'object') throw new ParameterError('funnel: options must be an object');
  const dim = checkDimension('dim', options.dim ?? 10, 2);
  const sigma = checkParam('sigma', options.sigma ?? 3, (v) => v > 0, 'positive');
  const s2 = sigma * sigma;
  const half = (dim - 1) / 2;
  const name = 'funnel';
  const variance = new Float64Array(dim).fill(Math.exp(s2 / 2));
  variance[0] = s2;
  const xBound = 4 * Math.sqrt(variance[1]);
  const paramNames = ['v', ...Array.from({ length: dim - 1 }, (_, i) => `x${i + 1}`)];
  // e^{-v} S with S = 0 stays 0 even where e^{-v} overflows (v < -709), instead of NaN.
  const scaled = (v: number, s: number) => (s === 0 ? 0 : Math.exp(-v) * s);
  return {
    name,
    dim,
    description: `Neal's funnel in ${dim}-D: v ~ N(0, ${sigma}²), x_i | v ~ N(0, e^v)`,
    params: { dim, sigma },
    paramNames,
    logZ: Math.log(sigma) + (dim / 2) * LOG_2PI,
    mean: new Float64Array(dim),
    variance,
    plotBounds: Array.from({ length: dim }, (_, i) => (i === 0 ? [-3.5 * sigma, 3.5 * sigma] : [-xBound, xBound])) as [number, number][],
    initialPoint: () => new Float64Array(dim),
    logDensity(x) {
      checkPoint(name, dim, x);
      const v = x[0];
      let s = 0;
      for (let i = 1; i < dim; i++) s += x[i] * x[i];
      return -(v * v) / (2 * s2) - 0.5 * scaled(v, s) - half * v;
    },
    gradLogDensity(x, out) {
      checkPoint(name, dim, x);
      const v = x[0];
      const e = Math.exp(-v);
      let s = 0;
      for (let i = 1; i < dim; i++) {
        s += x[i] * x[i];
        out[i] = x[i] === 0 ? 0 : -e * x[i];
      }
      const es = scaled(v, s);
      out[0] = -v / s2 + 0.5 * es - half;
      return -(v * v) / (2 * s2) - 0.5 * es - half * v;
    },
    logProb(x) {
      checkBatch(name, dim, x);
      return tf.tidy(() => {
        const v = x.slice([0, 0], [-1, 1]).reshape([-1]);
        const s = tf.sum(tf.square(x.slice([0, 1], [-1, dim - 1])), 1);
        return tf.square(v).div(-2 * s2).sub(tf.mul(tf.exp(tf.neg(v)), s).mul(0.5)).sub(v.mul(half)) as tf.Tensor1D;
      });
    },
    sampleExact(n, rng) {
      const out = rng.fillNormal(new Float64Array(n * dim));
      for (let r = 0; r < n; r++) {
        const o = r * dim;
        const v = sigma * out[o];
        out[o] = v;
        const sd = Math.exp(v / 2);
        for (let i = 1; i < dim; i++) out[o + i] *= sd;
      }
      return out;
    },
  };
}
