/**
 * Gaussian targets: isotropic, diagonal or full covariance, and the ill-conditioned rotated
 * Gaussian used as the `gauss50` anchor.
 *
 * The unnormalised form drops every constant, as the anchors do (test/fixtures/reference/gauss50):
 *   log p̃(x) = -(x - μ)ᵀ Σ⁻¹ (x - μ) / 2,   log Z = D/2 log 2π + ½ log det Σ.
 */
import * as tf from '@tensorflow/tfjs';
import { ParameterError, checkParam } from '../core/errors.js';
import { cholesky, logDetFromCholesky, inverseFromCholesky, lowerMatVec } from '../core/linalg.js';
import { RandomStream } from '../core/random.js';
import { checkArray, checkMemory, FLOAT64_BYTES } from '../core/memory.js';
import type { Target } from './target.js';
import { LOG_2PI, constTensor, checkBatch, checkDimension, checkPoint, matrixParam, vectorParam } from './checks.js';

export interface GaussianOptions {
  dim: number;
  /** Mean vector (default zeros). */
  mean?: ArrayLike<number>;
  /** Full covariance, row-major flat (dim*dim) or rows. Exclusive with `scale`. */
  cov?: ArrayLike<number> | ArrayLike<ArrayLike<number>>;
  /** Standard deviation: one number (isotropic) or one per dimension (diagonal). Default 1. */
  scale?: number | ArrayLike<number>;
  name?: string;
}

/** A Gaussian N(mean, cov) or N(mean, diag(scale²)). Non-PD covariance → ParameterError. */
export function gaussian(options: GaussianOptions): Target {
  if (options == null || typeof options !== 'object') throw new ParameterError('gaussian: options { dim, mean?, cov?, scale? } are required');
  const dim = checkDimension('dim', options.dim);
  const mean = options.mean === undefined ? new Float64Array(dim) : vectorParam('mean', options.mean, dim);
  const name = options.name ?? 'gaussian';
  if (options.cov !== undefined && options.scale !== undefined) {
    throw new ParameterError('gaussian: give either cov (full covariance) or scale (standard deviations), not both');
  }
  if (options.cov !== undefined) {
    const cov = matrixParam('cov', options.cov, dim);
    return fullGaussian(name, dim, mean, cov, undefined, `Gaussian in ${dim}-D with full covariance`, { dim });
  }
  let sd: Float64Array;
  if (options.scale === undefined) sd = new Float64Array(dim).fill(1);
  else if (typeof options.scale === 'number') {
    checkParam('scale', options.scale, (v) => v > 0, 'positive');
    sd = new Float64Array(dim).fill(options.scale);
  } else {
    sd = vectorParam('scale', options.scale, dim);
    sd.forEach((s, i) => checkParam(`scale[${i}]`, s, (v) => v > 0, 'positive'));
  }
  const isotropic = sd.every((s) => s === sd[0]);
  return diagonalGaussian(
    name,
    dim,
    mean,
    sd,
    isotropic ? `isotropic Gaussian in ${dim}-D, sd ${sd[0]}` : `diagonal Gaussian in ${dim}-D`,
    isotropic ? { dim, scale: sd[0] } : { dim },
  );
}

/** Zero-mean Gaussian with the given covariance (row-major dim x dim), e.g. the gauss50 anchor CSV. */
export function gaussianFromCovariance(cov: Float64Array, dim: number, name = 'gaussian'): Target {
  checkDimension('dim', dim);
  const c = matrixParam('cov', cov, dim);
  return fullGaussian(name, dim, new Float64Array(dim), c, undefined, `zero-mean Gaussian in ${dim}-D with given covariance`, { dim });
}

export interface IllConditionedOptions {
  dim: number;
  /** Condition number λ_max/λ_min of Σ (default 100). */
  condition?: number;
  /** Seed of the random rotation (default 0). */
  seed?: number;
}

/**
 * N(0, Q diag(λ) Qᵀ) with λ log-spaced so that cond Σ = `condition` and the geometric mean is 1
 * (log det Σ = 0): λ_i = condition^((i-1)/(D-1) - 1/2), which for condition 100 is the anchors'
 * 10^(-1 + 2(i-1)/(D-1)). Q is Haar-random: the Q of a QR decomposition of a seeded standard
 * normal matrix with signs fixed so diag(R) > 0 (Mezzadri 2007). The anchors' gauss50 used
 * numpy's generator; load its CSV with `gaussianFromCovariance` for the identical matrix.
 */
export function illConditionedGaussian(options: IllConditionedOptions): Target {
  if (options == null || typeof options !== 'object') throw new ParameterError('illConditionedGaussian: options { dim, condition?, seed? } are required');
  const dim = checkDimension('dim', options.dim);
  // The rotation, Σ, Σ⁻¹ and the Cholesky factor: dense dim x dim matrices.
  checkArray(`illgauss with dim = ${dim}`, dim * dim, FLOAT64_BYTES, 'a smaller dim');
  checkMemory(`illgauss with dim = ${dim}`, 4 * dim * dim * FLOAT64_BYTES, 'a smaller dim');
  const condition = checkParam('condition', options.condition ?? 100, (v) => v >= 1, 'at least 1');
  const seed = checkParam('seed', options.seed ?? 0, (v) => Number.isInteger(v), 'an integer');
  const lam = new Float64Array(dim);
  for (let i = 0; i < dim; i++) lam[i] = dim === 1 ? 1 : Math.pow(condition, i / (dim - 1) - 0.5);
  const q = randomRotation(dim, new RandomStream(`illgauss/${seed}`));
  const cov = new Float64Array(dim * dim);
  const prec = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      let t = 0;
      for (let k = 0; k < dim; k++) {
        const qq = q[i * dim + k] * q[j * dim + k];
        s += qq * lam[k];
        t += qq / lam[k];
      }
      cov[i * dim + j] = cov[j * dim + i] = s;
      prec[i * dim + j] = prec[j * dim + i] = t;
    }
  }
  let sumLogLam = 0;
  for (const l of lam) sumLogLam += Math.log(l);
  return fullGaussian(
    'illgauss',
    dim,
    new Float64Array(dim),
    cov,
    { prec, logDet: sumLogLam },
    `rotated Gaussian in ${dim}-D, condition number ${condition}, log det Σ = 0 (seed ${seed})`,
    { dim, condition, seed },
  );
}

/**
 * Haar-random orthogonal matrix (row-major): modified Gram–Schmidt on the columns of a standard
 * normal matrix, which gives the QR factor with diag(R) > 0 directly.
 */
export function randomRotation(dim: number, rng: RandomStream): Float64Array {
  const a = rng.fillNormal(new Float64Array(dim * dim));
  for (let j = 0; j < dim; j++) {
    for (let k = 0; k < j; k++) {
      let r = 0;
      for (let i = 0; i < dim; i++) r += a[i * dim + k] * a[i * dim + j];
      for (let i = 0; i < dim; i++) a[i * dim + j] -= r * a[i * dim + k];
    }
    let norm = 0;
    for (let i = 0; i < dim; i++) norm += a[i * dim + j] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < dim; i++) a[i * dim + j] /= norm;
  }
  return a;
}

function diagonalGaussian(
  name: string,
  dim: number,
  mean: Float64Array,
  sd: Float64Array,
  description: string,
  params: Record<string, number | string>,
): Target {
  const invVar = sd.map((s) => 1 / (s * s));
  let sumLogSd = 0;
  for (const s of sd) sumLogSd += Math.log(s);
  let muT: tf.Tensor | null = null;
  let ivT: tf.Tensor | null = null;
  return {
    name,
    dim,
    description,
    params,
    logZ: (dim / 2) * LOG_2PI + sumLogSd,
    mean: mean.slice(),
    variance: sd.map((s) => s * s),
    plotBounds: Array.from(mean, (m, i) => [m - 4 * sd[i], m + 4 * sd[i]] as [number, number]),
    initialPoint: () => mean.slice(),
    logDensity(x) {
      checkPoint(name, dim, x);
      let s = 0;
      for (let i = 0; i < dim; i++) {
        const d = x[i] - mean[i];
        s += d * d * invVar[i];
      }
      return -0.5 * s;
    },
    gradLogDensity(x, out) {
      checkPoint(name, dim, x);
      let s = 0;
      for (let i = 0; i < dim; i++) {
        const d = x[i] - mean[i];
        const g = d * invVar[i];
        s += d * g;
        out[i] = -g;
      }
      return -0.5 * s;
    },
    logProb(x) {
      checkBatch(name, dim, x);
      if (!muT) {
        muT = constTensor(mean, [dim]);
        ivT = constTensor(invVar, [dim]);
      }
      return tf.tidy(() => tf.sum(tf.mul(tf.square(tf.sub(x, muT!)), ivT!), 1).mul(-0.5) as tf.Tensor1D);
    },
    sampleExact(n, rng) {
      const out = rng.fillNormal(new Float64Array(n * dim));
      for (let r = 0; r < n; r++) for (let i = 0; i < dim; i++) out[r * dim + i] = mean[i] + sd[i] * out[r * dim + i];
      return out;
    },
  };
}

function fullGaussian(
  name: string,
  dim: number,
  mean: Float64Array,
  cov: Float64Array,
  known: { prec: Float64Array; logDet: number } | undefined,
  description: string,
  params: Record<string, number | string>,
): Target {
  const l = cholesky(cov, dim, 'covariance');
  const prec = known?.prec ?? inverseFromCholesky(l, dim);
  // Symmetrise: the inverse from two triangular solves is symmetric only up to rounding.
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) prec[i * dim + j] = prec[j * dim + i] = 0.5 * (prec[i * dim + j] + prec[j * dim + i]);
  const logDet = known?.logDet ?? logDetFromCholesky(l, dim);
  const variance = new Float64Array(dim);
  for (let i = 0; i < dim; i++) variance[i] = cov[i * dim + i];
  const d = new Float64Array(dim);
  let muT: tf.Tensor | null = null;
  let precT: tf.Tensor | null = null;
  // -(x-μ)ᵀP(x-μ)/2 and, when `out` is given, -P(x-μ). Four rows at a time: each d[k] load
  // feeds four independent multiply-add chains, which V8 keeps in flight together (bench/targets
  // measures it; one row with four partial sums was ~1.5x slower at D = 50).
  const quad = (x: Float64Array, out: Float64Array | null): number => {
    const n = dim;
    const p = prec;
    for (let i = 0; i < n; i++) d[i] = x[i] - mean[i];
    let s = 0;
    let i = 0;
    for (; i + 3 < n; i += 4) {
      const r0 = i * n;
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      let g0 = 0;
      let g1 = 0;
      let g2 = 0;
      let g3 = 0;
      for (let k = 0; k < n; k++) {
        const dk = d[k];
        g0 += p[r0 + k] * dk;
        g1 += p[r1 + k] * dk;
        g2 += p[r2 + k] * dk;
        g3 += p[r3 + k] * dk;
      }
      s += d[i] * g0 + d[i + 1] * g1 + (d[i + 2] * g2 + d[i + 3] * g3);
      if (out) {
        out[i] = -g0;
        out[i + 1] = -g1;
        out[i + 2] = -g2;
        out[i + 3] = -g3;
      }
    }
    for (; i < n; i++) {
      const r = i * n;
      let g = 0;
      for (let k = 0; k < n; k++) g += p[r + k] * d[k];
      s += d[i] * g;
      if (out) out[i] = -g;
    }
    return -0.5 * s;
  };
  return {
    name,
    dim,
    description,
    params,
    logZ: (dim / 2) * LOG_2PI + 0.5 * logDet,
    mean: mean.slice(),
    variance,
    plotBounds: Array.from(mean, (m, i) => [m - 4 * Math.sqrt(variance[i]), m + 4 * Math.sqrt(variance[i])] as [number, number]),
    initialPoint: () => mean.slice(),
    logDensity(x) {
      checkPoint(name, dim, x);
      return quad(x, null);
    },
    gradLogDensity(x, out) {
      checkPoint(name, dim, x);
      return quad(x, out);
    },
    logProb(x) {
      checkBatch(name, dim, x);
      if (!muT) {
        muT = constTensor(mean, [dim]);
        precT = constTensor(prec, [dim, dim]);
      }
      return tf.tidy(() => {
        const c = tf.sub(x, muT!) as tf.Tensor2D;
        // Plain matMul (no transpose flag: ~10x faster on wasm); P is symmetric.
        return tf.sum(tf.mul(tf.matMul(c, precT as tf.Tensor2D), c), 1).mul(-0.5) as tf.Tensor1D;
      });
    },
    sampleExact(n, rng) {
      const out = new Float64Array(n * dim);
      const z = new Float64Array(dim);
      const y = new Float64Array(dim);
      for (let r = 0; r < n; r++) {
        rng.fillNormal(z);
        lowerMatVec(l, z, dim, y);
        for (let i = 0; i < dim; i++) out[r * dim + i] = mean[i] + y[i];
      }
      return out;
    },
  };
}
