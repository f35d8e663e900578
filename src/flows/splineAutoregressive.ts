/**
 * Autoregressive rational-quadratic spline layer in the IAF direction: the neural spline flow
 * of Durkan, Bekasov, Murray & Papamakarios (2019, "Neural Spline Flows",
 * https://arxiv.org/abs/1906.04032, §3.2 "RQ-NSF (AR)") used like an IAF (Kingma et al. 2016):
 *
 *   θ = MADE(z)  (3K−1 parameters per coordinate: K widths, K heights, K−1 knot derivatives);
 *   y_i = g(z_i; θ_i(z_<i)),  g the monotonic RQ spline on [−B, B], identity outside;
 *   log|det ∂y/∂z| = Σ_i log g'(z_i).
 *
 * Cost: `forward` (sampling, with log q) is one MADE pass, parallel over coordinates. `inverse`
 * (density) is sequential: `dim` MADE passes, each followed by the spline's closed-form inverse
 * (exact after `dim` sweeps, as for the affine IAF).
 *
 * A spline maps [−B, B] onto itself, so it reshapes mass but cannot widen it: put a learnable
 * `AffineDiagonal` after the spline layers for targets wider than N(0, I) (createSplineFlow does).
 * At initialisation the output weights are small, the bins equal and the knot derivatives 1, so
 * a fresh layer is close to the identity.
 *
 * Example:
 * ```ts
 * const layer = new SplineAutoregressive({ dim: 2, hidden: [64, 64], bins: 8, bound: 4 });
 * const { y, logDet } = layer.forward(tf.randomNormal([256, 2]));
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector, BijectorResult } from './bijector.js';
import { madeMasks, naturalOrder } from './made.js';
import { fusedMaskedMlp } from './fusedMaskedMlp.js';
import { rqSplineForward, rqSplineInverse, splitSplineParams, identityDerivativeParam } from './rqSpline.js';
import { AffineDiagonal } from './affine.js';
import { Flow } from './flow.js';
import { registerBijector } from './serialize.js';
import { ParameterError, checkDim, checkParam, checkPositiveInt } from '../core/errors.js';
import { RandomStream } from '../core/random.js';

export interface SplineAutoregressiveConfig {
  dim: number;
  /** MADE hidden widths, e.g. [64, 64]. */
  hidden: number[];
  /** Number of spline bins K (default 8). */
  bins?: number;
  /** Half-width B of the spline box (default 4). */
  bound?: number;
  /** Input degrees (a permutation of 1..dim); natural order by default. */
  order?: number[];
  /** Seed of the weight initialisation (default 0). */
  seed?: number | string;
}

export class SplineAutoregressive implements Bijector {
  readonly type = 'iaf-rq-spline';
  readonly dim: number;
  readonly hidden: number[];
  readonly bins: number;
  readonly bound: number;
  readonly order: number[];
  readonly seed: number | string;
  private readonly ws: tf.Variable<tf.Rank.R2>[] = [];
  private readonly bs: tf.Variable<tf.Rank.R1>[] = [];
  private readonly masks: (tf.Tensor2D | null)[] = [];

  constructor(config: SplineAutoregressiveConfig) {
    if (config == null || typeof config !== 'object') throw new ParameterError('spline layer: config { dim, hidden, bins?, bound? } is required');
    this.dim = checkPositiveInt('spline dim', config.dim);
    if (!Array.isArray(config.hidden) || config.hidden.length === 0) {
      throw new ParameterError('spline layer: hidden must be a non-empty list of widths, e.g. [64, 64]');
    }
    this.hidden = config.hidden.map((h) => checkPositiveInt('spline hidden width', h));
    this.bins = checkParam('bins', config.bins ?? 8, (v) => Number.isInteger(v) && v >= 2, 'an integer >= 2');
    this.bound = checkParam('bound', config.bound ?? 4, (v) => v > 0, 'positive');
    this.order = config.order ?? naturalOrder(this.dim);
    this.seed = config.seed ?? 0;
    const sorted = [...this.order].sort((a, b) => a - b);
    if (this.order.length !== this.dim || sorted.some((v, i) => v !== i + 1)) {
      throw new ParameterError(`spline layer: order must be a permutation of 1..${this.dim}, got [${this.order.join(', ')}]`);
    }
    const per = 3 * this.bins - 1;
    const rng = new RandomStream(this.seed);
    const specs = madeMasks(this.order, this.hidden, per);
    const dParam = identityDerivativeParam();
    specs.forEach((spec, l) => {
      const [fanIn, fanOut] = spec.shape;
      const last = l === specs.length - 1;
      let alive = 0;
      for (let k = 0; k < spec.mask.length; k++) alive += spec.mask[k];
      const scale = (last ? 0.01 : 1) * Math.sqrt(2 / Math.max(1, alive / fanOut));
      const w = new Float32Array(fanIn * fanOut);
      // Stored pre-masked: the fused MLP's gradient is masked, so they stay masked.
      for (let k = 0; k < w.length; k++) w[k] = spec.mask[k] * scale * rng.normal();
      const b = new Float32Array(fanOut);
      // Block-major output: block p (parameter p) of coordinate j at column p * dim + j; the
      // derivative blocks (p >= 2K) start at softplus⁻¹(1 − minDerivative), i.e. slope 1.
      if (last) for (let c = 2 * this.bins * this.dim; c < fanOut; c++) b[c] = dParam;
      this.ws.push(tf.variable(tf.tensor2d(w, [fanIn, fanOut]), true));
      this.bs.push(tf.variable(tf.tensor1d(b), true));
      this.masks.push(spec.mask.every((v) => v === 1) ? null : tf.tensor2d(spec.mask, [fanIn, fanOut]));
    });
  }

  /** Spline parameters for every coordinate, each [n, dim, ·], as functions of z_<i. */
  private params(z: tf.Tensor2D) {
    const raw = fusedMaskedMlp(z, this.ws, this.bs, this.masks);
    return splitSplineParams(raw, this.dim, this.bins, 'param-major');
  }

  forward(z: tf.Tensor2D): BijectorResult {
    checkDim('iaf-rq-spline input', this.dim, z.shape[1]);
    return tf.tidy(() => {
      const p = this.params(z);
      const r = rqSplineForward(z, p.widths, p.heights, p.derivatives, { bound: this.bound });
      return { y: r.y as tf.Tensor2D, logDet: tf.sum(r.logDet, 1) as tf.Tensor1D };
    });
  }

  /** Sequential inverse: `dim` MADE passes, each followed by the closed-form spline inverse. */
  inverse(y: tf.Tensor2D): BijectorResult {
    checkDim('iaf-rq-spline input', this.dim, y.shape[1]);
    return tf.tidy(() => {
      let z: tf.Tensor2D = y;
      let logDet: tf.Tensor | null = null;
      for (let pass = 0; pass < this.dim; pass++) {
        const p = this.params(z);
        const r = rqSplineInverse(y, p.widths, p.heights, p.derivatives, { bound: this.bound });
        z = r.y as tf.Tensor2D;
        logDet = r.logDet;
      }
      // The last sweep's parameters came from a z whose first dim−1 coordinates (in the order)
      // were exact, and θ_i depends only on z_<i, so its log-det is exact.
      return { y: z, logDet: tf.sum(logDet!, 1) as tf.Tensor1D };
    });
  }

  trainableVariables(): tf.Variable[] {
    const v: tf.Variable[] = [];
    for (let l = 0; l < this.ws.length; l++) v.push(this.ws[l], this.bs[l]);
    return v;
  }

  getConfig(): Record<string, unknown> {
    return { dim: this.dim, hidden: [...this.hidden], bins: this.bins, bound: this.bound, order: [...this.order], seed: this.seed };
  }

  dispose(): void {
    for (const w of this.ws) w.dispose();
    for (const b of this.bs) b.dispose();
    for (const m of this.masks) m?.dispose();
  }
}

export interface SplineFlowOptions {
  /** Number of spline layers (default 4). */
  layers?: number;
  hidden?: number[];
  bins?: number;
  bound?: number;
  /** Learnable diagonal affine layer after the splines (default true). */
  outputAffine?: boolean;
  seed?: number | string;
}

/**
 * Base N(0, I) → `layers` autoregressive RQ-spline layers (order reversed between layers, folded
 * into the MADE order) → optional learnable diagonal affine layer.
 */
export function createSplineFlow(dim: number, options: SplineFlowOptions = {}): Flow {
  checkPositiveInt('flow dim', dim);
  const layers = checkPositiveInt('spline layers', options.layers ?? 4);
  const hidden = options.hidden ?? [Math.min(256, Math.max(32, 4 * dim)), Math.min(256, Math.max(32, 4 * dim))];
  const seed = options.seed ?? 0;
  const bij: Bijector[] = [];
  for (let k = 0; k < layers; k++) {
    const order = Array.from({ length: dim }, (_, i) => (k % 2 === 1 ? dim - i : i + 1));
    bij.push(new SplineAutoregressive({ dim, hidden, bins: options.bins, bound: options.bound, order, seed: `${seed}/spline${k}` }));
  }
  if (options.outputAffine ?? true) bij.push(new AffineDiagonal({ dim }));
  return new Flow(bij);
}

// Saved flows name their layers by type; this makes spline layers loadable by loadFlow.
registerBijector('iaf-rq-spline', (c) => new SplineAutoregressive(c as unknown as SplineAutoregressiveConfig));
