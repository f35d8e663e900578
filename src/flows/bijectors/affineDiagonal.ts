/**
 * Elementwise learnable affine bijector y = μ + σ ⊙ z, σ = exp(c·tanh(u / c)). Placed first in a
 * flow it is the learnable diagonal Gaussian base z0 = μ0 + σ0 ε that precedes the IAF chain in
 * Kingma et al. (2016); it is what lets a flow of volume-contracting gated IAF layers match
 * targets wider than N(0, I). The log-scale is soft-clipped to ±`maxLogScale` so one bad
 * optimiser step cannot make the flow explode. One pass both ways; log|det| = Σ log σ.
 *
 * `ActNorm` (Kingma & Dhariwal 2018, Glow) is the same map with a data-dependent start: given
 * points on its x side it sets μ and σ to their mean and standard deviation per coordinate, so
 * its z side starts standardised.
 */
import type { Ops } from '../engine/ops.js';
import { Param } from '../params.js';
import { affineKernel, softClip, softClipInverse } from '../kernels/affine.js';
import type { Bijector, BijectorResult } from './bijector.js';
import { ParameterError, checkPositiveInt } from '../../core/errors.js';

export interface AffineDiagonalConfig {
  dim: number;
  /** Initial shift (default 0). */
  loc?: number[];
  /** Initial scale σ (default 1). */
  scale?: number[];
  /** Bound of |log σ| (default 10). */
  maxLogScale?: number;
}

export class AffineDiagonal implements Bijector {
  readonly type: string = 'affine-diagonal';
  readonly dim: number;
  readonly cost = { forward: 'parallel', inverse: 'parallel' } as const;
  readonly maxLogScale: number;
  readonly loc: Param;
  /** Unclipped log-scale parameter u; log σ = c tanh(u / c). */
  readonly rawLogScale: Param;

  constructor(config: AffineDiagonalConfig) {
    if (config == null || typeof config !== 'object') throw new ParameterError('affine-diagonal: config { dim } is required');
    this.dim = checkPositiveInt('affine dim', config.dim);
    this.maxLogScale = config.maxLogScale ?? 10;
    if (!(this.maxLogScale > 0)) throw new ParameterError(`affine-diagonal: maxLogScale must be positive, got ${this.maxLogScale}`);
    const loc = config.loc ?? new Array(this.dim).fill(0);
    const scale = config.scale ?? new Array(this.dim).fill(1);
    if (loc.length !== this.dim || scale.length !== this.dim) throw new ParameterError(`affine-diagonal: loc and scale need ${this.dim} entries`);
    for (const v of loc) if (!Number.isFinite(v)) throw new ParameterError(`affine-diagonal: loc must be finite, got ${v}`);
    this.loc = new Param('affine.loc', 1, this.dim, Float32Array.from(loc));
    this.rawLogScale = new Param('affine.rawLogScale', 1, this.dim, Float32Array.from(scale, (s) => this.rawOf(s)));
  }

  private rawOf(s: number): number {
    if (!(s > 0) || !Number.isFinite(s)) throw new ParameterError(`affine-diagonal: scale must be positive, got ${s}`);
    const l = Math.log(s);
    if (Math.abs(l) >= 0.999 * this.maxLogScale) throw new ParameterError(`affine-diagonal: |log scale| ${l} exceeds the clip ${this.maxLogScale}`);
    return softClipInverse(l, this.maxLogScale);
  }

  params(): Param[] {
    return [this.loc, this.rawLogScale];
  }

  private apply<V>(ops: Ops<V>, x: V, inverse: boolean): BijectorResult<V> {
    const theta = ops.concatCols([ops.param(this.loc), ops.param(this.rawLogScale)]);
    const [y, logDet] = ops.apply(affineKernel, [x, theta], { inverse, clip: this.maxLogScale });
    return { y, logDet };
  }

  forward<V>(ops: Ops<V>, z: V): BijectorResult<V> {
    return this.apply(ops, z, false);
  }

  inverse<V>(ops: Ops<V>, x: V): BijectorResult<V> {
    return this.apply(ops, x, true);
  }

  /** log σ of the current parameters. */
  logScale(): Float64Array {
    return Float64Array.from(this.rawLogScale.values(), (u) => softClip(u, this.maxLogScale));
  }

  /** Sets μ and σ (e.g. from a pilot estimate of the target's location and scale). */
  setLocScale(loc: ArrayLike<number>, scale: ArrayLike<number>, set: (p: Param, v: ArrayLike<number>) => void): void {
    set(this.loc, loc);
    set(this.rawLogScale, Array.from(scale, (s) => this.rawOf(s)));
  }

  getConfig(): Record<string, unknown> {
    return { dim: this.dim, maxLogScale: this.maxLogScale };
  }
}

export class ActNorm extends AffineDiagonal {
  override readonly type: string = 'actnorm';

  /** μ, σ ← mean and sd of the points (sd floored at 1e-6 of the largest). */
  initializeFromData(x: Float64Array, n: number, set: (p: Param, values: ArrayLike<number>) => void): void {
    const D = this.dim;
    const mean = new Float64Array(D);
    const sd = new Float64Array(D);
    for (let r = 0; r < n; r++) for (let j = 0; j < D; j++) mean[j] += x[r * D + j] / n;
    for (let r = 0; r < n; r++) for (let j = 0; j < D; j++) sd[j] += (x[r * D + j] - mean[j]) ** 2 / Math.max(1, n - 1);
    let top = 0;
    for (let j = 0; j < D; j++) top = Math.max(top, (sd[j] = Math.sqrt(sd[j])));
    const clip = Math.exp(0.99 * this.maxLogScale);
    const scale = Array.from(sd, (s) => Math.min(clip, Math.max(s, 1e-6 * top, 1 / clip)));
    this.setLocScale(mean, scale, set);
  }
}
