/**
 * A flow q(x): base N(0, I) pushed through a chain of bijectors, x = f(ε) with
 * log q(x) = log N(ε; 0, I) − log|det ∂f/∂ε|.
 *
 * - `sample(n, seed)` returns x and log q together in one forward pass (for IAF layers, the
 *   parallel direction); the base noise comes from a seeded RandomStream, so the same seed gives
 *   the same draws. Flows of `AffineDiagonal` and `FastIafAffine` layers (the default) sample on
 *   the wasm kernels (src/flows/wasmFlow.ts), ~1.3-1.5x faster, with the same numbers to float32
 *   rounding; `forwardFromNoise` is always the differentiable tfjs path.
 * - `logProb(x)` evaluates log q at arbitrary points through the inverse chain: for IAF layers
 *   that is `dim` MADE passes per layer (sequential), i.e. ~dim times the cost of sampling.
 *
 * The flow owns its bijectors: `dispose()` frees them.
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from './bijector.js';
import { Chain } from './chain.js';
import { DimensionError, ParameterError, checkPositiveInt } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import { sampleWithKernels } from './wasmFlow.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log N(z; 0, I) row-wise, shape [n]. */
export function standardNormalLogProb(z: tf.Tensor2D): tf.Tensor1D {
  const d = z.shape[1];
  return tf.tidy(() => tf.sub(tf.mul(tf.sum(tf.square(z), 1), -0.5), d * HALF_LOG_2PI) as tf.Tensor1D);
}

export type SeedLike = number | string | RandomStream;

function toStream(seed: SeedLike): RandomStream {
  return seed instanceof RandomStream ? seed : new RandomStream(seed);
}

/** n x dim standard normals from the stream as a float32 tensor. */
export function baseNoise(n: number, dim: number, seed: SeedLike): tf.Tensor2D {
  const rng = toStream(seed);
  const buf = new Float64Array(n * dim);
  rng.fillNormal(buf);
  return tf.tensor2d(Float32Array.from(buf), [n, dim]);
}

function checkSampleArgs(n: number, baseScale: number): void {
  checkPositiveInt('number of flow samples', n);
  if (!(baseScale > 0) || !Number.isFinite(baseScale)) throw new ParameterError(`baseScale must be positive, got ${baseScale}`);
}

export class Flow {
  readonly dim: number;
  readonly chain: Chain;

  constructor(bijectors: Bijector[] | Chain) {
    this.chain = bijectors instanceof Chain ? bijectors : new Chain(bijectors);
    this.dim = this.chain.dim;
  }

  get bijectors(): Bijector[] {
    return this.chain.bijectors;
  }

  /**
   * x = f(ε) and log q(x), differentiable in the flow's variables; the caller owns both.
   * `baseScale` τ ≠ 1 means ε was drawn from N(0, τ² I): log q is then the density of that
   * widened proposal (see `sample`).
   */
  forwardFromNoise(eps: tf.Tensor2D, baseScale = 1): { x: tf.Tensor2D; logq: tf.Tensor1D } {
    if (eps.shape[1] !== this.dim) throw new DimensionError(`dimension mismatch: flow has dim ${this.dim}, got ${eps.shape[1]}`);
    return tf.tidy(() => {
      const { y, logDet } = this.chain.forward(eps);
      const logBase =
        baseScale === 1
          ? standardNormalLogProb(eps)
          : (tf.sub(standardNormalLogProb(tf.div(eps, baseScale) as tf.Tensor2D), this.dim * Math.log(baseScale)) as tf.Tensor1D);
      return { x: y, logq: tf.sub(logBase, logDet) as tf.Tensor1D };
    });
  }

  /**
   * n draws and their log q in one parallel pass. With `baseScale` τ > 1 the base noise is
   * N(0, τ² I) instead of N(0, I): a *widened* flow whose log q is still exact in one pass
   * (no inverse), a cheap defensive proposal for importance sampling — where the flow is exact
   * the weights are bounded by τ^dim.
   */
  sample(n: number, seed: SeedLike, baseScale = 1): { x: tf.Tensor2D; logq: tf.Tensor1D } {
    checkSampleArgs(n, baseScale);
    const fast = sampleWithKernels(this, n, toStream(seed), baseScale);
    if (fast) return { x: tf.tensor2d(Float32Array.from(fast.x), [n, this.dim]), logq: tf.tensor1d(Float32Array.from(fast.logq)) };
    return this.sampleTfjs(n, seed, baseScale);
  }

  /** `sample` through the tfjs forward pass (for flows or backends the kernels do not take). */
  private sampleTfjs(n: number, seed: SeedLike, baseScale: number): { x: tf.Tensor2D; logq: tf.Tensor1D } {
    const eps0 = baseNoise(n, this.dim, seed);
    const eps = baseScale === 1 ? eps0 : (tf.mul(eps0, baseScale) as tf.Tensor2D);
    try {
      return this.forwardFromNoise(eps, baseScale);
    } finally {
      eps0.dispose();
      eps.dispose();
    }
  }

  /**
   * n draws as a row-major n x dim Float64Array with their log q, computed in batches of
   * `batchSize` so that memory stays bounded for large n. `baseScale` as in `sample`.
   */
  sampleArrays(n: number, seed: SeedLike, batchSize = 10_000, baseScale = 1): { x: Float64Array; logq: Float64Array } {
    checkSampleArgs(n, baseScale);
    const rng = toStream(seed);
    const fast = sampleWithKernels(this, n, rng, baseScale);
    if (fast) return fast;
    const x = new Float64Array(n * this.dim);
    const logq = new Float64Array(n);
    for (let start = 0; start < n; start += batchSize) {
      const m = Math.min(batchSize, n - start);
      const r = this.sampleTfjs(m, rng, baseScale);
      x.set(r.x.dataSync(), start * this.dim);
      logq.set(r.logq.dataSync(), start);
      r.x.dispose();
      r.logq.dispose();
    }
    return { x, logq };
  }

  /**
   * log q(x) at arbitrary points (the inverse direction; see the file header for its cost).
   * With `baseScale` τ, the density of the widened flow of `sample(n, seed, τ)`.
   */
  logProb(x: tf.Tensor2D, baseScale = 1): tf.Tensor1D {
    if (x.shape[1] !== this.dim) throw new DimensionError(`dimension mismatch: flow has dim ${this.dim}, got ${x.shape[1]}`);
    return tf.tidy(() => {
      const { y: z, logDet } = this.chain.inverse(x);
      const logBase =
        baseScale === 1 ? standardNormalLogProb(z) : tf.sub(standardNormalLogProb(tf.div(z, baseScale) as tf.Tensor2D), this.dim * Math.log(baseScale));
      return tf.add(logBase, logDet) as tf.Tensor1D;
    });
  }

  /** log q at the rows of a row-major n x dim Float64Array (`baseScale` as in `logProb`). */
  logProbArrays(x: Float64Array, batchSize = 10_000, baseScale = 1): Float64Array {
    if (x.length % this.dim !== 0) throw new DimensionError(`flow has dim ${this.dim}: ${x.length} values are not whole rows`);
    const n = x.length / this.dim;
    const out = new Float64Array(n);
    for (let start = 0; start < n; start += batchSize) {
      const m = Math.min(batchSize, n - start);
      const xt = tf.tensor2d(Float32Array.from(x.subarray(start * this.dim, (start + m) * this.dim)), [m, this.dim]);
      const lq = this.logProb(xt, baseScale);
      out.set(lq.dataSync(), start);
      xt.dispose();
      lq.dispose();
    }
    return out;
  }

  trainableVariables(): tf.Variable[] {
    return this.chain.trainableVariables();
  }

  /** Total number of trainable scalars. */
  parameterCount(): number {
    return this.trainableVariables().reduce((s, v) => s + v.size, 0);
  }

  dispose(): void {
    this.chain.dispose();
  }
}
