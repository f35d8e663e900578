/**
 * Gaussian mixtures: a general one (`gaussianMixture`), the 8-mode ring of the anchors' gmm2d
 * (`ring`) and the 40-mode 2-D mixture of Midgley et al. (2023, "Flow annealed importance
 * sampling bootstrap", ICLR) (`midgley40`).
 *
 * All are log p̃(x) = logsumexp_k( c_k - (x - μ_k)ᵀ Σ_k⁻¹ (x - μ_k) / 2 ) with a per-component
 * constant c_k: the general mixture and midgley40 are normalised (c_k = log w_k - log
 * N-normaliser, log Z = 0); the ring drops every constant as the anchors do (c_k = 0).
 * Gradients weight each component's gradient by its responsibility softmax_k(·), so far from
 * every mode they stay finite instead of 0/0.
 */
import * as tf from '@tensorflow/tfjs';
import { ParameterError, checkParam, checkPositiveInt } from '../core/errors.js';
import { cholesky, inverseFromCholesky, logDetFromCholesky, lowerMatVec } from '../core/linalg.js';
import type { ModeStructure, Target } from './target.js';
import { checkHeap } from '../core/memory.js';
import { LOG_2PI, checkBatch, checkDimension, checkPoint, constTensor, matrixParam, vectorParam } from './checks.js';

/** One component: either a diagonal (sd per dimension) or a full covariance (Cholesky + precision). */
interface Component {
  mean: Float64Array;
  /** Diagonal standard deviations, when the covariance is diagonal. */
  sd?: Float64Array;
  /** Full covariance: Cholesky factor and precision, row-major. */
  chol?: Float64Array;
  prec?: Float64Array;
  /** Additive constant c_k of the component's term. */
  c: number;
  /** Mixture weight (for sampling and moments), normalised. */
  w: number;
}

export interface GaussianMixtureOptions {
  /** Mixture weights, positive; normalised internally (default equal). */
  weights?: ArrayLike<number>;
  /** K component means, each of length D. */
  means: ArrayLike<ArrayLike<number>>;
  /** K full covariance matrices (flat row-major or rows). Exclusive with `sds`. */
  covs?: ArrayLike<ArrayLike<number> | ArrayLike<ArrayLike<number>>>;
  /**
   * Standard deviations: one number for all, K numbers (isotropic per component) or K rows of D
   * (diagonal per component). Default 1.
   */
  sds?: number | ArrayLike<number> | ArrayLike<ArrayLike<number>>;
  name?: string;
}

/** A normalised Gaussian mixture Σ_k w_k N(μ_k, Σ_k): log Z = 0. */
export function gaussianMixture(options: GaussianMixtureOptions): Target {
  if (options == null || typeof options !== 'object' || options.means == null || typeof options.means.length !== 'number') {
    throw new ParameterError('gaussianMixture: options { means, weights?, covs? | sds? } are required (means: K arrays of D numbers)');
  }
  const k = options.means.length;
  if (k < 1) throw new ParameterError('invalid parameter means: at least one component is needed');
  const first = options.means[0];
  if (first == null || typeof first.length !== 'number') throw new ParameterError('invalid parameter means: must be K arrays of D numbers');
  const dim = checkDimension('dimension of means[0]', first.length);
  const means = Array.from({ length: k }, (_, i) => vectorParam(`means[${i}]`, options.means[i], dim));
  const w = options.weights === undefined ? new Float64Array(k).fill(1) : vectorParam('weights', options.weights, k);
  w.forEach((v, i) => checkParam(`weights[${i}]`, v, (x) => x > 0, 'positive'));
  const wsum = w.reduce((a, b) => a + b, 0);
  if (options.covs !== undefined && options.sds !== undefined) {
    throw new ParameterError('gaussianMixture: give either covs (full covariances) or sds (standard deviations), not both');
  }
  const comps: Component[] = [];
  if (options.covs !== undefined) {
    if (options.covs.length !== k) throw new ParameterError(`invalid parameter covs: expected ${k} matrices, got ${options.covs.length}`);
    for (let i = 0; i < k; i++) {
      const cov = matrixParam(`covs[${i}]`, options.covs[i], dim);
      const chol = cholesky(cov, dim, `covs[${i}]`);
      const prec = inverseFromCholesky(chol, dim);
      for (let a = 0; a < dim; a++) for (let b = 0; b < a; b++) prec[a * dim + b] = prec[b * dim + a] = 0.5 * (prec[a * dim + b] + prec[b * dim + a]);
      const c = Math.log(w[i] / wsum) - (dim / 2) * LOG_2PI - 0.5 * logDetFromCholesky(chol, dim);
      comps.push({ mean: means[i], chol, prec, c, w: w[i] / wsum });
    }
  } else {
    const sds = sdsParam(options.sds ?? 1, k, dim);
    for (let i = 0; i < k; i++) {
      let logDet = 0;
      for (const s of sds[i]) logDet += 2 * Math.log(s);
      comps.push({ mean: means[i], sd: sds[i], c: Math.log(w[i] / wsum) - (dim / 2) * LOG_2PI - 0.5 * logDet, w: w[i] / wsum });
    }
  }
  return mixtureTarget(options.name ?? 'mixture', dim, comps, 0, `Gaussian mixture of ${k} components in ${dim}-D`, { dim, components: k });
}

export interface RingOptions {
  /** Number of modes, evenly spaced on the circle (default 8). */
  modes?: number;
  /** Circle radius (default 4). */
  radius?: number;
  /** Standard deviation of each mode (default 0.3). */
  sd?: number;
}

/**
 * Equal-weight isotropic modes on a circle, μ_k = r(cos 2πk/K, sin 2πk/K), k = 0..K-1, in the
 * anchors' unnormalised form log p̃ = logsumexp_k(-|x - μ_k|²/(2 sd²)): log Z = log(K 2π sd²)
 * (1.509373 for the defaults, the anchors' gmm2d).
 */
export function ring(options: RingOptions = {}): Target {
  if (options == null || typeof options !== 'object') throw new ParameterError('ring: options must be an object');
  const modes = checkPositiveInt('modes', options.modes ?? 8);
  // Each mode is a small JS object with its own vectors (about 400 bytes).
  checkHeap(`ring with modes = ${modes}`, 400 * modes, 'fewer modes');
  const radius = checkParam('radius', options.radius ?? 4, (v) => v >= 0, 'non-negative');
  const sd = checkParam('sd', options.sd ?? 0.3, (v) => v > 0, 'positive');
  const comps: Component[] = [];
  for (let k = 0; k < modes; k++) {
    const a = (2 * Math.PI * k) / modes;
    comps.push({ mean: Float64Array.from([radius * Math.cos(a), radius * Math.sin(a)]), sd: Float64Array.from([sd, sd]), c: 0, w: 1 / modes });
  }
  return mixtureTarget(
    'ring',
    2,
    comps,
    Math.log(modes * 2 * Math.PI * sd * sd),
    `${modes} equal Gaussian modes (sd ${sd}) on a circle of radius ${radius}`,
    { modes, radius, sd },
  );
}

/**
 * Means of the 40-mode mixture of Midgley et al. (2023), regenerated with PyTorch 1.13 exactly
 * as fab-torch's GMM target does (experiments/gmm/run.py and config/gmm.yaml: dim 2, n_mixes 40,
 * loc_scaling 40, log_var_scaling 1.0):
 *   torch.manual_seed(0); mean = (torch.rand((40, 2)) - 0.5) * 2 * 40   # float32
 * The float32 values are printed exactly.
 */
export const MIDGLEY40_MEANS: readonly [number, number][] = [
  [-0.2994728088378906, 21.457744598388672],
  [-32.92180633544922, -29.43756103515625],
  [-15.406174659729004, 10.72629451751709],
  [-0.7925271987915039, 31.715579986572266],
  [-3.5497617721557617, 10.584502220153809],
  [-12.088522911071777, -7.862615585327148],
  [-38.21393966674805, -26.491283416748047],
  [-16.488924026489258, 1.4817428588867188],
  [15.813407897949219, 24.000911712646484],
  [-27.117643356323242, -17.418514251708984],
  [14.528684616088867, 33.215518951416016],
  [-8.232007026672363, 29.932470321655273],
  [-6.447334289550781, 4.2325639724731445],
  [36.21904754638672, -37.106815338134766],
  [-25.1815185546875, -10.126609802246094],
  [-15.591998100280762, 34.56003189086914],
  [-25.92718505859375, -18.413314819335938],
  [-27.94561767578125, -37.462440490722656],
  [-23.349618911743164, 34.3839225769043],
  [17.848735809326172, 19.38690185546875],
  [2.1036624908447266, -20.507339477539062],
  [6.767387390136719, -37.3477897644043],
  [-28.90264892578125, -20.621200561523438],
  [25.237518310546875, 23.452850341796875],
  [-17.73980140686035, -1.4432954788208008],
  [25.582427978515625, 39.765323638916016],
  [15.875287055969238, 5.403714179992676],
  [26.819454193115234, -23.552093505859375],
  [7.453761100769043, -31.01222038269043],
  [-27.723445892333984, -20.663341522216797],
  [18.098922729492188, 16.086416244506836],
  [-23.69409942626953, 12.084283828735352],
  [21.958881378173828, -5.048694610595703],
  [1.527261734008789, 9.2681884765625],
  [24.8150634765625, 38.40776443481445],
  [-30.82494354248047, -14.65878963470459],
  [15.720396041870117, 33.14197540283203],
  [34.808292388916016, 35.29426956176758],
  [7.9605817794799805, -34.78330612182617],
  [3.6796998977661133, -25.024213790893555],
];

/**
 * fab-torch passes softplus(log_var_scaling) as `scale_tril` of each component, so it is the
 * standard deviation (not the variance): softplus(1) = log(1 + e) = 1.3132616875182228.
 */
export const MIDGLEY40_SD = Math.log1p(Math.E);

/** The 40-mode 2-D mixture of Midgley et al. (2023), normalised (log Z = 0). */
export function midgley40(): Target {
  const t = gaussianMixture({ means: MIDGLEY40_MEANS, sds: MIDGLEY40_SD, name: 'gmm40' });
  return {
    ...t,
    description: '40 equal Gaussian modes (sd softplus(1)) in [-40, 40]², Midgley et al. (2023)',
    params: {},
    plotBounds: [
      [-56, 56],
      [-56, 56],
    ],
  };
}

export interface Mixture1dOptions {
  /** Number of equal-weight modes (default 2). */
  modes?: number;
  /** Distance between neighbouring modes (default 4, i.e. N(±2, sd²) for two modes). */
  spacing?: number;
  /** Standard deviation of each mode (default 0.5). */
  sd?: number;
}

/**
 * Equal-weight 1-D Gaussian modes centred on 0, μ_k = (k − (K − 1)/2) · spacing; normalised
 * (log Z = 0). The defaults are N(±2, 0.5²), where an affine flow (a Gaussian in 1-D) can cover
 * one mode or straddle both, never fit both.
 */
export function mixture1d(options: Mixture1dOptions = {}): Target {
  if (options == null || typeof options !== 'object') throw new ParameterError('mixture1d: options must be an object');
  const modes = checkPositiveInt('modes', options.modes ?? 2);
  const spacing = checkParam('spacing', options.spacing ?? 4, (v) => v > 0, 'positive');
  const sd = checkParam('sd', options.sd ?? 0.5, (v) => v > 0, 'positive');
  const means = Array.from({ length: modes }, (_, k) => [(k - (modes - 1) / 2) * spacing]);
  const t = gaussianMixture({ means, sds: sd, name: 'mix1d' });
  return { ...t, description: `${modes} equal 1-D Gaussian modes (sd ${sd}) ${spacing} apart`, params: { modes, spacing, sd } };
}

function sdsParam(sds: number | ArrayLike<number> | ArrayLike<ArrayLike<number>>, k: number, dim: number): Float64Array[] {
  const pos = (name: string, v: Float64Array) => v.forEach((s, i) => checkParam(`${name}[${i}]`, s, (x) => x > 0, 'positive'));
  if (typeof sds === 'number') {
    checkParam('sds', sds, (v) => v > 0, 'positive');
    return Array.from({ length: k }, () => new Float64Array(dim).fill(sds));
  }
  if (sds == null || typeof sds.length !== 'number') throw new ParameterError('invalid parameter sds: must be a number, K numbers or K rows of D numbers');
  if (sds.length !== k) throw new ParameterError(`invalid parameter sds: expected ${k} entries (one per component), got ${sds.length}`);
  if (typeof sds[0] === 'number') {
    const v = vectorParam('sds', sds as ArrayLike<number>, k);
    pos('sds', v);
    return Array.from(v, (s) => new Float64Array(dim).fill(s));
  }
  return Array.from({ length: k }, (_, i) => {
    const v = vectorParam(`sds[${i}]`, (sds as ArrayLike<ArrayLike<number>>)[i], dim);
    pos(`sds[${i}]`, v);
    return v;
  });
}

function mixtureTarget(
  name: string,
  dim: number,
  comps: Component[],
  logZ: number,
  description: string,
  params: Record<string, number | string>,
): Target {
  const k = comps.length;
  const allDiag = comps.every((c) => c.sd);
  const invVar = comps.map((c) => (c.sd ? c.sd.map((s) => 1 / (s * s)) : null));
  // Moments of a mixture: E x = Σ w μ, Var x_d = Σ w (σ²_d + μ_d²) - (E x_d)².
  const mean = new Float64Array(dim);
  const second = new Float64Array(dim);
  for (const c of comps) {
    for (let d = 0; d < dim; d++) {
      const v = c.sd ? c.sd[d] * c.sd[d] : c.chol ? diagCov(c.chol, dim, d) : 0;
      mean[d] += c.w * c.mean[d];
      second[d] += c.w * (v + c.mean[d] * c.mean[d]);
    }
  }
  const variance = second.map((s, d) => Math.max(s - mean[d] * mean[d], 0));
  const plotBounds: [number, number][] = Array.from({ length: dim }, (_, d) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const c of comps) {
      const s = c.sd ? c.sd[d] : Math.sqrt(diagCov(c.chol!, dim, d));
      lo = Math.min(lo, c.mean[d] - 4 * s);
      hi = Math.max(hi, c.mean[d] + 4 * s);
    }
    return [lo, hi];
  });
  let heaviest = 0;
  for (let i = 1; i < k; i++) if (comps[i].w > comps[heaviest].w) heaviest = i;
  const cum = new Float64Array(k);
  comps.reduce((acc, c, i) => (cum[i] = acc + c.w), 0);

  const a = new Float64Array(k);
  const diff = new Float64Array(dim);
  const grads = new Float64Array(k * dim);
  /** Fills a[k] = c_k - quad_k/2 and, if wanted, grads (component gradients). Returns max a. */
  const terms = (x: Float64Array, wantGrad: boolean): number => {
    let m = -Infinity;
    for (let j = 0; j < k; j++) {
      const c = comps[j];
      let q = 0;
      if (c.sd) {
        const iv = invVar[j]!;
        for (let d = 0; d < dim; d++) {
          const r = x[d] - c.mean[d];
          const g = r * iv[d];
          q += r * g;
          if (wantGrad) grads[j * dim + d] = -g;
        }
      } else {
        const p = c.prec!;
        for (let d = 0; d < dim; d++) diff[d] = x[d] - c.mean[d];
        for (let d = 0; d < dim; d++) {
          let g = 0;
          for (let e = 0; e < dim; e++) g += p[d * dim + e] * diff[e];
          q += diff[d] * g;
          if (wantGrad) grads[j * dim + d] = -g;
        }
      }
      a[j] = c.c - 0.5 * q;
      if (a[j] > m) m = a[j];
    }
    return m;
  };

  let tensors: { means: tf.Tensor; iv?: tf.Tensor; c: tf.Tensor; prec?: tf.Tensor[] } | null = null;
  const getTensors = () => {
    if (!tensors) {
      const flatMeans = new Float64Array(k * dim);
      comps.forEach((c, j) => flatMeans.set(c.mean, j * dim));
      tensors = { means: constTensor(flatMeans, [k, dim]), c: constTensor(comps.map((c) => c.c), [k]) };
      if (allDiag) {
        const iv = new Float64Array(k * dim);
        invVar.forEach((v, j) => iv.set(v!, j * dim));
        tensors.iv = constTensor(iv, [k, dim]);
      } else {
        tensors.prec = comps.map((c) => {
          if (c.prec) return constTensor(c.prec, [dim, dim]);
          const p = new Float64Array(dim * dim);
          for (let d = 0; d < dim; d++) p[d * dim + d] = 1 / (c.sd![d] * c.sd![d]);
          return constTensor(p, [dim, dim]);
        });
      }
    }
    return tensors;
  };

  // Each component is a mode; a point belongs to the component of highest responsibility.
  const modes: ModeStructure = {
    count: k,
    weights: Float64Array.from(comps, (c) => c.w),
    assign(x) {
      checkPoint(name, dim, x);
      terms(x, false);
      let best = 0;
      for (let j = 1; j < k; j++) if (a[j] > a[best]) best = j;
      return best;
    },
    center: (j) => comps[j].mean.slice(),
  };

  return {
    name,
    dim,
    description,
    params,
    logZ,
    mean,
    variance,
    plotBounds,
    modes,
    initialPoint: () => comps[heaviest].mean.slice(),
    logDensity(x) {
      checkPoint(name, dim, x);
      const m = terms(x, false);
      if (m === -Infinity) return -Infinity;
      let s = 0;
      for (let j = 0; j < k; j++) s += Math.exp(a[j] - m);
      return m + Math.log(s);
    },
    gradLogDensity(x, out) {
      checkPoint(name, dim, x);
      const m = terms(x, true);
      let s = 0;
      for (let j = 0; j < k; j++) s += (a[j] = Math.exp(a[j] - m));
      out.fill(0, 0, dim);
      for (let j = 0; j < k; j++) {
        const r = a[j] / s;
        if (r === 0) continue;
        for (let d = 0; d < dim; d++) out[d] += r * grads[j * dim + d];
      }
      return m + Math.log(s);
    },
    logProb(x) {
      checkBatch(name, dim, x);
      const t = getTensors();
      return tf.tidy(() => {
        let q: tf.Tensor2D;
        if (allDiag) {
          // [n, 1, D] - [K, D] -> [n, K, D]: exact differences, no |x|² - 2xμ + |μ|² cancellation.
          const r = tf.sub(tf.expandDims(x, 1), t.means);
          q = tf.sum(tf.mul(tf.square(r), t.iv!), 2) as tf.Tensor2D;
        } else {
          const cols = t.prec!.map((p, j) => {
            const r = tf.sub(x, t.means.slice([j, 0], [1, dim])) as tf.Tensor2D;
            return tf.sum(tf.mul(tf.matMul(r, p as tf.Tensor2D), r), 1);
          });
          q = tf.stack(cols, 1) as tf.Tensor2D;
        }
        return tf.logSumExp(tf.sub(t.c, tf.mul(q, 0.5)), 1) as tf.Tensor1D;
      });
    },
    sampleExact(n, rng) {
      const out = new Float64Array(n * dim);
      const z = new Float64Array(dim);
      const y = new Float64Array(dim);
      for (let r = 0; r < n; r++) {
        const u = rng.uniform();
        let j = 0;
        while (j < k - 1 && u > cum[j]) j++;
        const c = comps[j];
        rng.fillNormal(z);
        if (c.sd) for (let d = 0; d < dim; d++) y[d] = c.sd[d] * z[d];
        else lowerMatVec(c.chol!, z, dim, y);
        for (let d = 0; d < dim; d++) out[r * dim + d] = c.mean[d] + y[d];
      }
      return out;
    },
  };
}

/** Σ_dd from a Cholesky factor: the squared norm of row d of L. */
function diagCov(l: Float64Array, dim: number, d: number): number {
  let s = 0;
  for (let e = 0; e <= d; e++) s += l[d * dim + e] ** 2;
  return s;
}
