/**
 * The "twisted Gaussian" banana of Haario, Saksman & Tamminen (1999, "Adaptive proposal
 * distribution for random walk Metropolis algorithm", Comput. Stat. 14): x1 ~ N(0, σ1²),
 * x2 | x1 ~ N(bσ1² - b x1², 1), x3.. ~ N(0, 1). Unnormalised exactly as the anchors' banana2d:
 *   log p̃(x) = -x1²/(2σ1²) - (x2 + b x1² - bσ1²)²/2 - Σ_{i≥3} xi²/2,
 *   log Z = log(2π σ1) + (D-2)/2 log 2π.
 * The shift bσ1² makes E[x] = 0; Var(x2) = 1 + 2b²σ1⁴ (201 for the defaults).
 */
import * as tf from '@tensorflow/tfjs';
import { ParameterError, checkParam } from '../core/errors.js';
import type { Target } from './target.js';
import { LOG_2PI, checkBatch, checkDimension, checkPoint } from './checks.js';

export interface BananaOptions {
  /** Dimension, at least 2 (default 2); coordinates 3.. are standard normal. */
  dim?: number;
  /** Twist (default 0.1). */
  b?: number;
  /** Standard deviation of x1 (default 10). */
  sigma1?: number;
}

export function banana(options: BananaOptions = {}): Target {
  if (options == null || typeof options !== 'object') throw new ParameterError('banana: options must be an object');
  const dim = checkDimension('dim', options.dim ?? 2, 2);
  const b = checkParam('b', options.b ?? 0.1, () => true, 'a finite number');
  const sigma1 = checkParam('sigma1', options.sigma1 ?? 10, (v) => v > 0, 'positive');
  const s2 = sigma1 * sigma1;
  const shift = b * s2;
  const name = 'banana';
  const variance = new Float64Array(dim).fill(1);
  variance[0] = s2;
  variance[1] = 1 + 2 * b * b * s2 * s2;
  return {
    name,
    dim,
    description: `twisted Gaussian of Haario et al. (1999) in ${dim}-D, b = ${b}, sd(x1) = ${sigma1}`,
    params: { dim, b, sigma1 },
    logZ: Math.log(2 * Math.PI * sigma1) + ((dim - 2) / 2) * LOG_2PI,
    mean: new Float64Array(dim),
    variance,
    // x2 has a long tail towards negative values (x2 = bσ1² - b x1²), so the box is asymmetric.
    plotBounds: Array.from({ length: dim }, (_, i) =>
      i === 0 ? [-3.5 * sigma1, 3.5 * sigma1] : i === 1 ? bananaX2Bounds(b, sigma1) : [-4, 4],
    ) as [number, number][],
    initialPoint: () => {
      const x = new Float64Array(dim);
      x[1] = shift; // the mode
      return x;
    },
    logDensity(x) {
      checkPoint(name, dim, x);
      const x1 = x[0];
      const r = x[1] + b * x1 * x1 - shift;
      let s = (x1 * x1) / s2 + r * r;
      for (let i = 2; i < dim; i++) s += x[i] * x[i];
      return -0.5 * s;
    },
    gradLogDensity(x, out) {
      checkPoint(name, dim, x);
      const x1 = x[0];
      const r = x[1] + b * x1 * x1 - shift;
      let s = (x1 * x1) / s2 + r * r;
      out[0] = -x1 / s2 - 2 * b * x1 * r;
      out[1] = -r;
      for (let i = 2; i < dim; i++) {
        s += x[i] * x[i];
        out[i] = -x[i];
      }
      return -0.5 * s;
    },
    logProb(x) {
      checkBatch(name, dim, x);
      return tf.tidy(() => {
        const x1 = x.slice([0, 0], [-1, 1]).reshape([-1]);
        const x2 = x.slice([0, 1], [-1, 1]).reshape([-1]);
        const x1sq = tf.square(x1);
        const r = tf.add(x2, tf.mul(x1sq, b)).sub(shift);
        let s = tf.add(tf.div(x1sq, s2), tf.square(r));
        if (dim > 2) s = s.add(tf.sum(tf.square(x.slice([0, 2], [-1, dim - 2])), 1));
        return s.mul(-0.5) as tf.Tensor1D;
      });
    },
    sampleExact(n, rng) {
      const out = rng.fillNormal(new Float64Array(n * dim));
      for (let r = 0; r < n; r++) {
        const o = r * dim;
        const x1 = sigma1 * out[o];
        out[o] = x1;
        out[o + 1] = shift - b * x1 * x1 + out[o + 1];
      }
      return out;
    },
  };
}

function bananaX2Bounds(b: number, sigma1: number): [number, number] {
  const s2 = sigma1 * sigma1;
  // x2 = bσ1²(1 - z²) + ε with z ~ N(0,1): z² below 3.5² covers all but ~5e-4 of the mass.
  const lo = Math.min(b * s2 * (1 - 3.5 * 3.5), b * s2) - 4;
  const hi = Math.max(b * s2 * (1 - 3.5 * 3.5), b * s2) + 4;
  return [lo, hi];
}
