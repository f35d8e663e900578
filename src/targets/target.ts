/**
 * The Target contract: a density known up to a constant, p̃(x) = Z p(x).
 *
 * Two paths compute the same log p̃:
 * - float64 scalar path for MCMC: `logDensity(x)` and the fused `gradLogDensity(x, out)`;
 * - batched, differentiable float32 path for flows: `logProb(x: [n, dim]) -> [n]` in tfjs.
 * Whatever is known exactly (log Z, an exact sampler, moments) is offered as optional fields;
 * consumers must check for them instead of assuming.
 */
import type * as tf from '@tensorflow/tfjs';
import type { RandomStream } from '../core/random.js';

export interface TargetParamInfo {
  name: string;
  description: string;
  default: number | string;
}

/**
 * The constrained scale of a target whose coordinates are unconstrained transforms of named
 * parameters (written-once models): output names (Stan's, e.g. `beta[1]`) and the map from n
 * unconstrained rows to n rows of outputs (parameters, transformed parameters, generated
 * quantities). Draws and summaries are reported through it (src/models/draws.ts).
 */
export interface ConstrainedView {
  readonly names: string[];
  map(x: ArrayLike<number>, n: number, opts?: { seed?: number | string }): Float64Array;
}

/**
 * The modes of a target whose components are known (mixtures, many-well): how many, their exact
 * weights, and which mode a point belongs to. Used to count the modes a sampler visited.
 */
export interface ModeStructure {
  /** Number of modes K. */
  readonly count: number;
  /** Exact probability mass of each mode, length K, summing to 1. */
  readonly weights: Float64Array;
  /** The mode (0..K-1) that x belongs to, e.g. the component of highest responsibility. */
  assign(x: Float64Array): number;
  /** The mode's location (for labels in plots), when it is a point. */
  center?(k: number): Float64Array;
}

export interface Target {
  readonly name: string;
  readonly dim: number;
  /** One line for `flowsampler targets`. */
  readonly description: string;
  /** The parameters this instance was built with. */
  readonly params: Readonly<Record<string, number | string>>;
  /** Parameter names (x1..xD by default). */
  readonly paramNames?: string[];

  /** log p̃(x), float64. May return -Infinity outside the support; never throws for finite x. */
  logDensity(x: Float64Array): number;
  /**
   * Writes ∇ log p̃(x) into `out` and returns log p̃(x) (fused: MCMC needs both and they share
   * work). Analytic for every built-in target.
   */
  gradLogDensity(x: Float64Array, out: Float64Array): number;
  /**
   * Batched log p̃ on a float32 [n, dim] tensor; differentiable; the caller owns the result.
   * Optional: a target without it trains flows through its float64 path
   * (src/targets/batch.ts), which needs only the value and gradient at the flow's draws.
   */
  logProb?(x: tf.Tensor2D): tf.Tensor1D;
  /**
   * Optional batched float64 value and gradient at the n rows of `x` (row-major n x dim):
   * writes log p̃ of row r into `logp[r]` and its gradient into `grad[r*dim ..]`. Targets whose
   * density is cheaper per batch than per point (e.g. written-once models) give it.
   */
  valueAndGradBatch?(x: Float64Array, n: number, logp: Float64Array, grad: Float64Array): void;
  /** Which batch path flow training should use when both exist (default 'tfjs' when logProb exists). */
  readonly batchPath?: 'tfjs' | 'float64';

  /** log Z = log ∫ p̃, when known exactly. */
  readonly logZ?: number;
  /** n exact draws, row-major n x dim. */
  sampleExact?(n: number, rng: RandomStream): Float64Array;
  /** Exact marginal means and variances, when known. */
  readonly mean?: Float64Array;
  readonly variance?: Float64Array;
  /** A reasonable starting point for MCMC (e.g. the mode or mean). Defaults to zeros. */
  initialPoint?(): Float64Array;
  /** A box that holds nearly all the mass, for plotting contours: [lo, hi] per dimension. */
  readonly plotBounds?: [number, number][];
  /** The constrained scale, for targets that are models of constrained parameters. */
  readonly constrained?: ConstrainedView;
  /** Known modes (mixture components), for counting which modes a sampler visited. */
  readonly modes?: ModeStructure;
}
