/**
 * Exact normal draws: Box–Muller (Box & Muller 1958, "A note on the generation of random normal
 * deviates", Ann. Math. Stat. 29) through our seeded RandomStream, and multivariate normals as
 * mean + L z with L the Cholesky factor of the covariance. `exactNormal` wraps them as a sampler
 * returning Draws, a ground truth to set beside the MCMC samplers.
 *
 * Example:
 *   const z = boxMullerNormals(1000, 42);                                  // 1000 N(0, 1)
 *   const x = multivariateNormal([0, 0], [1, 0.9, 0.9, 1], 500, 'seed');  // 500 x 2, row-major
 */
import { Cooperative } from '../core/cooperative.js';
import { makeDraws, type Draws } from '../core/draws.js';
import { DimensionError, ParameterError, checkParam } from '../core/errors.js';
import { cholesky } from '../core/linalg.js';
import { RandomStream } from '../core/random.js';
import { commonConfig } from './chains.js';
import type { SamplerOptions } from './sampler.js';

function checkCount(n: number): void {
  checkParam('n', n, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0');
}

/** n standard normals from the stream of `seed` (Box–Muller pairs; see RandomStream.fillNormal). */
export function boxMullerNormals(n: number, seed: number | string): Float64Array {
  checkCount(n);
  return new RandomStream(seed).fillNormal(new Float64Array(n));
}

function checkMeanCov(mean: ArrayLike<number>, cov: ArrayLike<number>): { d: number; mu: Float64Array; l: Float64Array } {
  const d = mean?.length;
  if (!Number.isInteger(d) || d < 1) throw new ParameterError('multivariate normal: mean must be a non-empty vector');
  if (cov?.length !== d * d) {
    throw new DimensionError(`dimension mismatch: mean has dim ${d}, covariance needs ${d * d} entries (row-major), got ${cov?.length}`);
  }
  const mu = Float64Array.from(mean);
  mu.forEach((v, i) => checkParam(`mean[${i}]`, v, () => true, 'finite'));
  const l = cholesky(Float64Array.from(cov), d, 'covariance'); // ParameterError if not SPD
  return { d, mu, l };
}

function fillMvn(rng: RandomStream, mu: Float64Array, l: Float64Array, d: number, out: Float64Array, n: number, offset = 0): void {
  const z = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    rng.fillNormal(z);
    const base = offset + r * d;
    for (let i = 0; i < d; i++) {
      let s = mu[i];
      for (let k = 0; k <= i; k++) s += l[i * d + k] * z[k];
      out[base + i] = s;
    }
  }
}

/** n draws of N(mean, cov) as a row-major n x d array; cov is row-major d x d, symmetric positive definite. */
export function multivariateNormal(mean: ArrayLike<number>, cov: ArrayLike<number>, n: number, seed: number | string): Float64Array {
  checkCount(n);
  const { d, mu, l } = checkMeanCov(mean, cov);
  const out = new Float64Array(n * d);
  fillMvn(new RandomStream(seed), mu, l, d, out, n);
  return out;
}

export interface ExactNormalOptions extends Omit<SamplerOptions, 'init' | 'warmup'> {
  mean: ArrayLike<number>;
  /** Row-major d x d covariance. */
  cov: ArrayLike<number>;
}

/** Independent exact draws of N(mean, cov) as Draws (chain c from `derive('chain', c)`). */
export async function exactNormal(options: ExactNormalOptions): Promise<Draws> {
  const cfg = commonConfig({ ...options, warmup: 0 } as SamplerOptions, 0);
  const { d, mu, l } = checkMeanCov(options.mean, options.cov);
  const root = new RandomStream(cfg.seed);
  const values = new Float64Array(cfg.chains * cfg.draws * d);
  const coop = new Cooperative(options.signal);
  coop.checkAborted();
  const t0 = performance.now();
  for (let c = 0; c < cfg.chains; c++) {
    fillMvn(root.derive('chain', c), mu, l, d, values, cfg.draws, c * cfg.draws * d);
    options.onProgress?.({ sampler: 'exact-normal', done: (c + 1) * cfg.draws, total: cfg.chains * cfg.draws, phase: 'sampling' });
    await coop.tick();
  }
  return makeDraws({
    sampler: 'exact-normal',
    target: 'gaussian',
    chains: cfg.chains,
    draws: cfg.draws,
    dim: d,
    values,
    wallTimeMs: performance.now() - t0,
    densityEvals: 0,
    gradEvals: 0,
    acceptance: 1,
  });
}
