/**
 * Weighted maximum likelihood for a flow: minimise L = −Σ_i W_i log q(x_i) over weighted points
 * (x_i, W_i), Σ W_i = 1. When the weighted points represent the target p, this is the forward KL
 * KL(p‖q) up to a constant, the mass-covering direction (UDL §16.5.3 contrasts it with the
 * mode-seeking reverse KL): q pays −log q(x) at every point that carries weight, so a mode of p
 * that q leaves out costs without bound.
 *
 * Two sources of weighted points, both used by mode-covering training (./modeCovering.ts):
 * - `WeightedPoints`: a fixed population, e.g. the final particles of tempered SMC with their
 *   log weights; minibatches are drawn *by* weight (multinomial), so each minibatch is an
 *   unweighted mean;
 * - `importanceBatch`: fresh draws of q itself with self-normalised importance weights
 *   W_i ∝ (p̃/q)(x_i)^α. α = 1 estimates the forward-KL gradient −E_p[∇ log q]; α = 2 the
 *   gradient of the α = 2 divergence that FAB minimises (Midgley et al. 2023, which estimates it
 *   with AIS toward p²/q instead of plain importance sampling). Both need a q that already
 *   covers p's modes: weights cannot point to mass q never draws.
 *
 * The objective needs log q at given points: the flow's density direction, one parallel pass
 * for MAF, coupling and elementwise layers (`dim` passes per IAF layer, so it is slow there).
 * (Issue 15's general `fitMaximumLikelihood` over data sets is the unweighted case of the same
 * gradient; see the report of issue 13 on sharing it.)
 */
import type { Flow } from '../flow.js';
import type { Engine } from '../engine/engine.js';
import type { Param } from '../params.js';
import type { Target } from '../../targets/target.js';
import { kishEss } from '../../diagnostics/importance.js';
import { ParameterError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';

export interface WeightedNll {
  /** −Σ_i w_i log q(x_i). */
  loss: number;
  /** log q(x_i) (float32, from the density pass). */
  logq: Float32Array;
  /** dL/dθ for every trainable parameter reached. */
  grads: Map<Param, Float64Array>;
}

/** L = −Σ_i w_i log q(x_i) at `rows` points (row-major) and dL/dθ: one differentiated density pass. */
export function weightedNllGradient(flow: Flow, engine: Engine, x: ArrayLike<number>, rows: number, weights: ArrayLike<number>): WeightedNll {
  if (weights.length !== rows) throw new ParameterError(`weighted likelihood: ${weights.length} weights for ${rows} points`);
  const cot = new Float64Array(rows);
  for (let i = 0; i < rows; i++) cot[i] = -weights[i];
  let loss = 0;
  let logq: Float32Array = new Float32Array(0);
  const r = engine.differentiate(flow.store, flow.densityProgram(), [{ values: x, rows, cols: flow.dim }], ([, lq]) => {
    logq = lq;
    for (let i = 0; i < rows; i++) if (cot[i] !== 0) loss += cot[i] * lq[i];
    return [null, cot];
  });
  return { loss, logq, grads: r.paramGrads };
}

/** A fixed set of points with log weights (relative; −Infinity allowed), drawn from by weight. */
export class WeightedPoints {
  readonly rows: number;
  private readonly cum: Float64Array;
  /** Normalised weights. */
  readonly weights: Float64Array;

  constructor(
    readonly x: Float64Array,
    readonly dim: number,
    logWeights?: ArrayLike<number>,
  ) {
    if (!Number.isInteger(dim) || dim < 1 || x.length % dim !== 0 || x.length === 0) throw new ParameterError(`weighted points: ${x.length} values are not whole rows of dim ${dim}`);
    this.rows = x.length / dim;
    if (logWeights && logWeights.length !== this.rows) throw new ParameterError(`weighted points: ${logWeights.length} log weights for ${this.rows} points`);
    let m = -Infinity;
    if (logWeights) for (let i = 0; i < this.rows; i++) if (logWeights[i] > m) m = logWeights[i];
    if (logWeights && !Number.isFinite(m)) throw new ParameterError('weighted points: no point has a finite log weight');
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new ParameterError(`weighted points: value ${i} is ${x[i]}`);
    this.weights = new Float64Array(this.rows);
    let s = 0;
    for (let i = 0; i < this.rows; i++) s += this.weights[i] = logWeights ? Math.exp(logWeights[i] - m) : 1;
    this.cum = new Float64Array(this.rows);
    let c = 0;
    for (let i = 0; i < this.rows; i++) {
      this.weights[i] /= s;
      this.cum[i] = c += this.weights[i];
    }
  }

  /** Kish's effective number of points, (Σ W)² / Σ W². */
  ess(): number {
    let s2 = 0;
    for (const w of this.weights) s2 += w * w;
    return 1 / s2;
  }

  /** The index of a point drawn with probability W_i. */
  draw(rng: RandomStream): number {
    const u = rng.uniform() * this.cum[this.rows - 1];
    let lo = 0;
    let hi = this.rows - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** `n` points drawn by weight, row-major (into `out` when given). */
  minibatch(n: number, rng: RandomStream, out = new Float64Array(n * this.dim)): Float64Array {
    const D = this.dim;
    for (let b = 0; b < n; b++) {
      const i = this.draw(rng);
      for (let j = 0; j < D; j++) out[b * D + j] = this.x[i * D + j];
    }
    return out;
  }

  /** Weighted mean and standard deviation of each coordinate. */
  moments(): { mean: number[]; sd: number[] } {
    const D = this.dim;
    const mean = new Array<number>(D).fill(0);
    const v = new Array<number>(D).fill(0);
    for (let i = 0; i < this.rows; i++) for (let j = 0; j < D; j++) mean[j] += this.weights[i] * this.x[i * D + j];
    for (let i = 0; i < this.rows; i++) for (let j = 0; j < D; j++) v[j] += this.weights[i] * (this.x[i * D + j] - mean[j]) ** 2;
    return { mean, sd: v.map(Math.sqrt) };
  }
}

export interface ImportanceBatch {
  x: Float64Array;
  /** Self-normalised weights ∝ (p̃/q)^α (0 where p̃ is not finite). */
  weights: Float64Array;
  /** Kish ESS/n of the plain importance weights p̃/q of the batch. */
  essFraction: number;
  /** Mean of log p̃ − log q over the batch (the ELBO estimate). */
  elbo: number;
}

/** n fresh draws of the flow weighted against the target (see the file header); null when no weight is finite. */
export function importanceBatch(flow: Flow, target: Target, n: number, rng: RandomStream, alpha = 1): ImportanceBatch | null {
  const D = flow.dim;
  const { x, logq } = flow.sampleArrays(n, rng);
  const lw = new Float64Array(n);
  let m = -Infinity;
  let elbo = 0;
  for (let i = 0; i < n; i++) {
    const v = target.logDensity(x.subarray(i * D, (i + 1) * D)) - logq[i];
    lw[i] = Number.isFinite(v) ? v : -Infinity;
    elbo += lw[i] / n;
    if (lw[i] > m) m = lw[i];
  }
  if (!Number.isFinite(m)) return null;
  const weights = new Float64Array(n);
  let sa = 0;
  for (let i = 0; i < n; i++) sa += weights[i] = Math.exp(alpha * (lw[i] - m));
  for (let i = 0; i < n; i++) weights[i] /= sa;
  return { x, weights, essFraction: kishEss(lw) / n, elbo };
}
