/**
 * Shared checks for the target tests: finite-difference gradients, float64 vs tfjs agreement,
 * 2-D grid quadrature of log Z, Monte Carlo moment checks and a Kolmogorov–Smirnov statistic.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { RandomStream } from '../src/core/random.js';
import type { Target } from '../src/targets/target.js';

/** Central differences with step h·max(1,|x_i|), compared with gradLogDensity. */
export function checkGradient(target: Target, x: Float64Array, relTol = 1e-5): void {
  const g = new Float64Array(target.dim);
  const lp = target.gradLogDensity(x, g);
  expect(lp).toBeCloseTo(target.logDensity(x), 10);
  for (let i = 0; i < target.dim; i++) {
    const h = 1e-5 * Math.max(1, Math.abs(x[i]));
    const xp = x.slice();
    const xm = x.slice();
    xp[i] += h;
    xm[i] -= h;
    const fd = (target.logDensity(xp) - target.logDensity(xm)) / (2 * h);
    const scale = 1 + Math.abs(fd) + Math.abs(g[i]);
    if (!(Math.abs(fd - g[i]) <= relTol * scale)) {
      throw new Error(`${target.name}: d/dx${i + 1} analytic ${g[i]} vs finite difference ${fd} at [${Array.from(x).join(', ')}]`);
    }
  }
}

/**
 * tfjs logProb and its gradient (tf.grad) against the float64 path at the float32-rounded
 * points (so input rounding is not counted). Tolerances are float32: ~1e-4 relative to the
 * size of the value, looser for gradients where cancellation is worse.
 */
export function checkTfAgrees(target: Target, points: Float64Array[], tol = 1e-4): void {
  const n = points.length;
  const d = target.dim;
  const flat = new Float32Array(n * d);
  points.forEach((p, r) => flat.set(p, r * d));
  const rounded = points.map((_, r) => Float64Array.from(flat.subarray(r * d, (r + 1) * d)));
  const x = tf.tensor2d(flat, [n, d]);
  const lp = target.logProb!(x);
  expect(lp.shape).toEqual([n]);
  const vals = lp.dataSync();
  const gradT = tf.grad((z: tf.Tensor) => tf.sum(target.logProb!(z as tf.Tensor2D)))(x);
  const grads = gradT.dataSync();
  const g = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const want = target.gradLogDensity(rounded[r], g);
    const scale = 1 + Math.abs(want);
    if (!(Math.abs(vals[r] - want) <= tol * scale)) {
      throw new Error(`${target.name}: tfjs logProb ${vals[r]} vs float64 ${want} at [${Array.from(rounded[r]).join(', ')}]`);
    }
    let gnorm = 0;
    for (let i = 0; i < d; i++) gnorm += g[i] * g[i];
    gnorm = Math.sqrt(gnorm);
    for (let i = 0; i < d; i++) {
      const got = grads[r * d + i];
      if (!(Math.abs(got - g[i]) <= 10 * tol * (1 + Math.abs(g[i]) + gnorm + Math.abs(want)))) {
        throw new Error(`${target.name}: tfjs gradient ${got} vs float64 ${g[i]} (dx${i + 1}) at [${Array.from(rounded[r]).join(', ')}]`);
      }
    }
  }
  x.dispose();
  lp.dispose();
  gradT.dispose();
  // The target may keep a few constant tensors alive on first use; nothing per call.
  const x2 = tf.tensor2d(flat, [n, d]);
  const mid = tf.memory().numTensors;
  target.logProb!(x2).dispose();
  expect(tf.memory().numTensors).toBe(mid);
  x2.dispose();
}

/** Seeded points: exact draws when available, else normals scaled to the plot box. */
export function testPoints(target: Target, n: number, seed = 1): Float64Array[] {
  const rng = new RandomStream(`points/${target.name}/${seed}`);
  const out: Float64Array[] = [];
  if (target.sampleExact) {
    const s = target.sampleExact(n, rng);
    for (let r = 0; r < n; r++) out.push(s.slice(r * target.dim, (r + 1) * target.dim));
    return out;
  }
  const b = target.plotBounds;
  for (let r = 0; r < n; r++) {
    const p = new Float64Array(target.dim);
    for (let i = 0; i < target.dim; i++) {
      const [lo, hi] = b ? b[i] : [-3, 3];
      p[i] = lo + (hi - lo) * rng.uniform();
    }
    out.push(p);
  }
  return out;
}

/** log ∫∫ p̃ over a box by the midpoint rule on an m x m grid (log-sum-exp for stability). */
export function logZGrid2d(target: Target, box: [[number, number], [number, number]], m: number): number {
  const [[a, b], [c, d]] = box;
  const hx = (b - a) / m;
  const hy = (d - c) / m;
  const x = new Float64Array(2);
  const vals = new Float64Array(m * m);
  let mx = -Infinity;
  for (let i = 0; i < m; i++) {
    x[0] = a + (i + 0.5) * hx;
    for (let j = 0; j < m; j++) {
      x[1] = c + (j + 0.5) * hy;
      const v = target.logDensity(x);
      vals[i * m + j] = v;
      if (v > mx) mx = v;
    }
  }
  let s = 0;
  for (const v of vals) s += Math.exp(v - mx);
  return mx + Math.log(s * hx * hy);
}

/** Sample mean and variance of column `col` of a row-major n x dim sample, with their MCSEs (iid). */
export function columnMoments(values: Float64Array, dim: number, col: number) {
  const n = values.length / dim;
  let m = 0;
  for (let r = 0; r < n; r++) m += values[r * dim + col];
  m /= n;
  let m2 = 0;
  let m4 = 0;
  for (let r = 0; r < n; r++) {
    const c = values[r * dim + col] - m;
    m2 += c * c;
    m4 += c * c * c * c;
  }
  m2 /= n - 1;
  m4 /= n;
  return { mean: m, variance: m2, mcseMean: Math.sqrt(m2 / n), mcseVariance: Math.sqrt(Math.max(m4 - m2 * m2, 0) / n) };
}

/** Complementary error function (Numerical Recipes erfcc, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export function normalCdf(x: number, mean = 0, sd = 1): number {
  return 0.5 * erfc(-(x - mean) / (sd * Math.SQRT2));
}

/** Kolmogorov–Smirnov statistic D_n of a sample against a continuous CDF. */
export function ksStatistic(sample: Float64Array, cdf: (x: number) => number): number {
  const s = Float64Array.from(sample).sort();
  const n = s.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(s[i]);
    d = Math.max(d, f - i / n, (i + 1) / n - f);
  }
  return d;
}

/** The KS critical value at level 0.001: D_n > 1.949/√n rejects (asymptotic Kolmogorov law). */
export function ksCritical001(n: number): number {
  return 1.949 / Math.sqrt(n);
}

export function column(values: Float64Array, dim: number, col: number): Float64Array {
  const n = values.length / dim;
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) out[r] = values[r * dim + col];
  return out;
}
