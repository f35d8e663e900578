/**
 * Classical density estimators in float64, the baselines of a flow fitted to data:
 *
 * - `fitGaussian`: the full-covariance Gaussian of maximum likelihood (mean, covariance with
 *   denominator n);
 * - `fitGaussianMixture`: a K-component full-covariance Gaussian mixture by expectation–
 *   maximisation (Dempster, Laird & Rubin 1977; Bishop 2006, PRML §9.2), started from k-means++
 *   centres (Arthur & Vassilvitskii 2007), with `regCovar` added to every covariance's diagonal
 *   (scikit-learn's `reg_covar`, on the standardised scale) so that a component collapsing onto a
 *   few points cannot drive the likelihood to infinity; the best of `restarts` seeded starts;
 * - `selectGaussianMixture`: K chosen by BIC (Schwarz 1978) among 1..maxComponents.
 *
 * EM runs on the data standardised per column; the log density of the result is on the data's
 * own scale (the standardisation's log-det is added back).
 */
import { cholesky, logDetFromCholesky, solveLower } from '../core/linalg.js';
import { ParameterError, checkPositiveInt } from '../core/errors.js';
import { RandomStream } from '../core/random.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** A fitted density on R^dim (rows row-major). */
export interface DensityModel {
  readonly dim: number;
  /** log density of each row. */
  logDensity(x: ArrayLike<number>): Float64Array;
  /** Free parameters (for BIC). */
  readonly parameters: number;
  readonly description: string;
}

export interface GaussianMixtureModel extends DensityModel {
  readonly components: number;
  readonly weights: Float64Array;
  /** Component means, on the data's scale, K x dim. */
  readonly means: Float64Array;
  /** EM iterations of the kept start, and whether it met the tolerance. */
  readonly iterations: number;
  readonly converged: boolean;
  /** Mean log-likelihood per row on the fitted data. */
  readonly meanLogLik: number;
  readonly bic: number;
}

export interface GaussianMixtureOptions {
  components: number;
  seed?: number | string;
  /** EM iterations per start (default 500). */
  maxIter?: number;
  /** Stop when the mean log-likelihood gains less than this (default 1e-6). */
  tol?: number;
  /** Added to each covariance diagonal on the standardised scale (default 1e-6). */
  regCovar?: number;
  /** Seeded starts; the best final likelihood is kept (default 3). */
  restarts?: number;
}

interface Standardised {
  z: Float64Array;
  mean: Float64Array;
  sd: Float64Array;
  logDetScale: number;
}

function standardise(x: ArrayLike<number>, n: number, d: number): Standardised {
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j] += x[r * d + j] / n;
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) sd[j] += (x[r * d + j] - mean[j]) ** 2 / n;
  let logDetScale = 0;
  for (let j = 0; j < d; j++) {
    sd[j] = Math.sqrt(sd[j]) || 1;
    logDetScale += Math.log(sd[j]);
  }
  const z = new Float64Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) z[r * d + j] = (x[r * d + j] - mean[j]) / sd[j];
  return { z, mean, sd, logDetScale };
}

function rowsOf(x: ArrayLike<number>, d: number, what: string): number {
  if (x.length % d !== 0 || x.length === 0) throw new ParameterError(`${what}: ${x.length} values are not whole rows of dim ${d}`);
  return x.length / d;
}

/** log N(z_r; μ, L Lᵀ) for every row, into out. */
function gaussianLogPdfRows(z: Float64Array, n: number, d: number, mu: Float64Array, l: Float64Array, out: Float64Array, off = 0): void {
  const c = -0.5 * d * LOG_2PI - 0.5 * logDetFromCholesky(l, d);
  const diff = new Float64Array(d);
  const w = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) diff[j] = z[r * d + j] - mu[off * d + j];
    solveLower(l, diff, d, w);
    let q = 0;
    for (let j = 0; j < d; j++) q += w[j] * w[j];
    out[r] = c - 0.5 * q;
  }
}

/** The maximum-likelihood Gaussian with full covariance. */
export function fitGaussian(x: ArrayLike<number>, dim: number): DensityModel {
  checkPositiveInt('dim', dim);
  const n = rowsOf(x, dim, 'fitGaussian');
  const s = standardise(x, n, dim);
  const cov = new Float64Array(dim * dim);
  for (let r = 0; r < n; r++) for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) cov[i * dim + j] += (s.z[r * dim + i] * s.z[r * dim + j]) / n;
  for (let i = 0; i < dim; i++) cov[i * dim + i] += 1e-9;
  const l = cholesky(cov, dim, 'the data covariance');
  const zero = new Float64Array(dim);
  return {
    dim,
    parameters: dim + (dim * (dim + 1)) / 2,
    description: 'full-covariance Gaussian (maximum likelihood)',
    logDensity(y) {
      const m = rowsOf(y, dim, 'logDensity');
      const zy = new Float64Array(m * dim);
      for (let r = 0; r < m; r++) for (let j = 0; j < dim; j++) zy[r * dim + j] = (y[r * dim + j] - s.mean[j]) / s.sd[j];
      const out = new Float64Array(m);
      gaussianLogPdfRows(zy, m, dim, zero, l, out);
      for (let r = 0; r < m; r++) out[r] -= s.logDetScale;
      return out;
    },
  };
}

/** k-means++ seeding (Arthur & Vassilvitskii 2007) followed by 10 Lloyd iterations. */
function kmeansInit(z: Float64Array, n: number, d: number, k: number, rng: RandomStream): Float64Array {
  const centres = new Float64Array(k * d);
  const first = rng.int(n);
  centres.set(z.subarray(first * d, (first + 1) * d), 0);
  const dist = new Float64Array(n).fill(Infinity);
  const sq = (r: number, c: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (z[r * d + j] - centres[c * d + j]) ** 2;
    return s;
  };
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let r = 0; r < n; r++) {
      dist[r] = Math.min(dist[r], sq(r, c - 1));
      total += dist[r];
    }
    let u = rng.uniform() * total;
    let pick = n - 1;
    for (let r = 0; r < n; r++) {
      u -= dist[r];
      if (u <= 0) {
        pick = r;
        break;
      }
    }
    centres.set(z.subarray(pick * d, (pick + 1) * d), c * d);
  }
  const assign = new Int32Array(n);
  for (let it = 0; it < 10; it++) {
    for (let r = 0; r < n; r++) {
      let best = 0;
      let bd = Infinity;
      for (let c = 0; c < k; c++) {
        const v = sq(r, c);
        if (v < bd) (bd = v), (best = c);
      }
      assign[r] = best;
    }
    const sum = new Float64Array(k * d);
    const cnt = new Float64Array(k);
    for (let r = 0; r < n; r++) {
      cnt[assign[r]]++;
      for (let j = 0; j < d; j++) sum[assign[r] * d + j] += z[r * d + j];
    }
    for (let c = 0; c < k; c++) if (cnt[c] > 0) for (let j = 0; j < d; j++) centres[c * d + j] = sum[c * d + j] / cnt[c];
  }
  return centres;
}

interface EmState {
  weights: Float64Array;
  means: Float64Array;
  chols: Float64Array[];
  meanLogLik: number;
  iterations: number;
  converged: boolean;
}

function emRun(z: Float64Array, n: number, d: number, k: number, rng: RandomStream, maxIter: number, tol: number, reg: number): EmState {
  const means = kmeansInit(z, n, d, k, rng);
  const resp = new Float64Array(n * k);
  // Start: hard assignment to the nearest centre, then the M-step.
  for (let r = 0; r < n; r++) {
    let best = 0;
    let bd = Infinity;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (z[r * d + j] - means[c * d + j]) ** 2;
      if (s < bd) (bd = s), (best = c);
    }
    resp[r * k + best] = 1;
  }
  const weights = new Float64Array(k);
  let chols: Float64Array[] = [];
  const logp = new Float64Array(n);
  const comp = new Float64Array(n);
  let prev = -Infinity;
  let ll = -Infinity;
  let it = 0;
  let converged = false;
  for (; it < maxIter; it++) {
    // M-step.
    chols = [];
    for (let c = 0; c < k; c++) {
      let nk = 0;
      for (let r = 0; r < n; r++) nk += resp[r * k + c];
      nk += 10 * Number.EPSILON;
      weights[c] = nk / n;
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let r = 0; r < n; r++) s += resp[r * k + c] * z[r * d + j];
        means[c * d + j] = s / nk;
      }
      const cov = new Float64Array(d * d);
      for (let r = 0; r < n; r++) {
        const w = resp[r * k + c];
        if (w === 0) continue;
        for (let i = 0; i < d; i++) {
          const di = z[r * d + i] - means[c * d + i];
          for (let j = 0; j <= i; j++) cov[i * d + j] += w * di * (z[r * d + j] - means[c * d + j]);
        }
      }
      for (let i = 0; i < d; i++) {
        for (let j = 0; j <= i; j++) {
          cov[i * d + j] /= nk;
          cov[j * d + i] = cov[i * d + j];
        }
        cov[i * d + i] += reg;
      }
      chols.push(cholesky(cov, d, `mixture component ${c + 1} covariance`));
    }
    // E-step.
    logp.fill(-Infinity);
    const lw = new Float64Array(n * k);
    for (let c = 0; c < k; c++) {
      gaussianLogPdfRows(z, n, d, means, chols[c], comp, c);
      const a = Math.log(weights[c]);
      for (let r = 0; r < n; r++) lw[r * k + c] = comp[r] + a;
    }
    ll = 0;
    for (let r = 0; r < n; r++) {
      let m = -Infinity;
      for (let c = 0; c < k; c++) m = Math.max(m, lw[r * k + c]);
      let s = 0;
      for (let c = 0; c < k; c++) s += Math.exp(lw[r * k + c] - m);
      const l = m + Math.log(s);
      logp[r] = l;
      ll += l;
      for (let c = 0; c < k; c++) resp[r * k + c] = Math.exp(lw[r * k + c] - l);
    }
    ll /= n;
    if (Math.abs(ll - prev) < tol) {
      converged = true;
      it++;
      break;
    }
    prev = ll;
  }
  return { weights, means, chols, meanLogLik: ll, iterations: it, converged };
}

/** A K-component full-covariance mixture by EM (see the file header). */
export function fitGaussianMixture(x: ArrayLike<number>, dim: number, options: GaussianMixtureOptions): GaussianMixtureModel {
  checkPositiveInt('dim', dim);
  const n = rowsOf(x, dim, 'fitGaussianMixture');
  const k = checkPositiveInt('components', options.components);
  if (k > n) throw new ParameterError(`fitGaussianMixture: ${k} components for ${n} rows`);
  const maxIter = checkPositiveInt('maxIter', options.maxIter ?? 500);
  const tol = options.tol ?? 1e-6;
  const reg = options.regCovar ?? 1e-6;
  const restarts = checkPositiveInt('restarts', options.restarts ?? 3);
  const s = standardise(x, n, dim);
  const root = new RandomStream(String(options.seed ?? 0)).derive('gmm', k);
  let best: EmState | null = null;
  for (let i = 0; i < restarts; i++) {
    const run = emRun(s.z, n, dim, k, root.derive('start', i), maxIter, tol, reg);
    if (!best || run.meanLogLik > best.meanLogLik) best = run;
  }
  const b = best!;
  const meanLogLik = b.meanLogLik - s.logDetScale;
  const parameters = k - 1 + k * dim + (k * dim * (dim + 1)) / 2;
  const means = new Float64Array(k * dim);
  for (let c = 0; c < k; c++) for (let j = 0; j < dim; j++) means[c * dim + j] = s.mean[j] + s.sd[j] * b.means[c * dim + j];
  const logW = Array.from(b.weights, Math.log);
  return {
    dim,
    components: k,
    weights: b.weights,
    means,
    iterations: b.iterations,
    converged: b.converged,
    meanLogLik,
    parameters,
    bic: -2 * n * meanLogLik + parameters * Math.log(n),
    description: `${k}-component full-covariance Gaussian mixture (EM)`,
    logDensity(y) {
      const m = rowsOf(y, dim, 'logDensity');
      const zy = new Float64Array(m * dim);
      for (let r = 0; r < m; r++) for (let j = 0; j < dim; j++) zy[r * dim + j] = (y[r * dim + j] - s.mean[j]) / s.sd[j];
      const out = new Float64Array(m).fill(-Infinity);
      const comp = new Float64Array(m);
      const acc = new Float64Array(m * k);
      for (let c = 0; c < k; c++) {
        gaussianLogPdfRows(zy, m, dim, b.means, b.chols[c], comp, c);
        for (let r = 0; r < m; r++) acc[r * k + c] = comp[r] + logW[c];
      }
      for (let r = 0; r < m; r++) {
        let mx = -Infinity;
        for (let c = 0; c < k; c++) mx = Math.max(mx, acc[r * k + c]);
        let sum = 0;
        for (let c = 0; c < k; c++) sum += Math.exp(acc[r * k + c] - mx);
        out[r] = mx + Math.log(sum) - s.logDetScale;
      }
      return out;
    },
  };
}

/** The mixture with the lowest BIC among 1..maxComponents components (default 10). */
export function selectGaussianMixture(x: ArrayLike<number>, dim: number, options: Omit<GaussianMixtureOptions, 'components'> & { maxComponents?: number } = {}): { best: GaussianMixtureModel; bic: number[] } {
  const maxK = checkPositiveInt('maxComponents', options.maxComponents ?? 10);
  const n = rowsOf(x, dim, 'selectGaussianMixture');
  let best: GaussianMixtureModel | null = null;
  const bic: number[] = [];
  for (let k = 1; k <= Math.min(maxK, n); k++) {
    const m = fitGaussianMixture(x, dim, { ...options, components: k });
    bic.push(m.bic);
    if (!best || m.bic < best.bic) best = m;
  }
  return { best: best!, bic };
}
