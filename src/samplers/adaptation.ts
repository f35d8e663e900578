/**
 * Warm-up adaptation shared by RWM, MALA, HMC and NUTS:
 * - dual averaging of the log step size toward a target acceptance statistic
 *   (Nesterov 2009; Hoffman & Gelman 2014, "The No-U-Turn Sampler", JMLR 15, Algorithm 5);
 * - Welford's running mean and (co)variance (Welford 1962);
 * - Stan's windowed schedule for the metric (diagonal, or dense as Stan's dense_e): a fast initial buffer (75 iterations), slow
 *   windows that double from 25, a terminal buffer (50); after each slow window the inverse
 *   metric becomes the regularised variance of the window's draws and step-size adaptation restarts.
 * Everything here is used during warm-up only; the post-warm-up kernel is fixed, so the chain after
 * warm-up is a valid (time-homogeneous) Markov chain.
 */
import { exp, log, powPositive } from '../core/portableMath.js';
import { ParameterError } from '../core/errors.js';
import type { Metric } from './metric.js';

export interface DualAveragingOptions {
  /** Target acceptance statistic δ. */
  targetAccept: number;
  /** γ: shrinkage toward μ (default 0.05). */
  gamma?: number;
  /** t0: stabilises early iterations (default 10). */
  t0?: number;
  /** κ: decay of the averaging weights (default 0.75). */
  kappa?: number;
}

/** Dual averaging of log ε (Hoffman & Gelman 2014, Algorithm 5, as in Stan). */
export class DualAveraging {
  private counter = 0;
  private sBar = 0;
  private xBar = 0;
  private mu: number;
  readonly targetAccept: number;
  private readonly gamma: number;
  private readonly t0: number;
  private readonly kappa: number;

  constructor(initialStepSize: number, opts: DualAveragingOptions) {
    this.targetAccept = opts.targetAccept;
    this.gamma = opts.gamma ?? 0.05;
    this.t0 = opts.t0 ?? 10;
    this.kappa = opts.kappa ?? 0.75;
    this.mu = log(10 * initialStepSize);
  }

  /** Restarts the averaging around μ = log(10 ε), as after a metric update. */
  restart(stepSize: number): void {
    this.counter = 0;
    this.sBar = 0;
    this.xBar = 0;
    this.mu = log(10 * stepSize);
  }

  /** Feeds one acceptance statistic; returns the next step size to use. */
  learn(acceptStat: number): number {
    this.counter++;
    const a = Number.isFinite(acceptStat) ? Math.min(1, acceptStat) : 0;
    const eta = 1 / (this.counter + this.t0);
    this.sBar = (1 - eta) * this.sBar + eta * (this.targetAccept - a);
    const x = this.mu - (this.sBar * Math.sqrt(this.counter)) / this.gamma;
    const w = powPositive(this.counter, -this.kappa);
    this.xBar = (1 - w) * this.xBar + w * x;
    return exp(x);
  }

  /** The averaged step size exp(x̄) to freeze after warm-up (null before any learning). */
  final(): number | null {
    return this.counter > 0 ? exp(this.xBar) : null;
  }
}

/** Welford's running mean and per-coordinate variance. */
export class WelfordVariance {
  n = 0;
  readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(readonly dim: number) {
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dim);
  }

  add(x: Float64Array): void {
    this.n++;
    for (let i = 0; i < this.dim; i++) {
      const d = x[i] - this.mean[i];
      this.mean[i] += d / this.n;
      this.m2[i] += d * (x[i] - this.mean[i]);
    }
  }

  /** Sample variance (n - 1 denominator); zeros when n < 2. */
  variance(out = new Float64Array(this.dim)): Float64Array {
    for (let i = 0; i < this.dim; i++) out[i] = this.n > 1 ? this.m2[i] / (this.n - 1) : 0;
    return out;
  }

  reset(): void {
    this.n = 0;
    this.mean.fill(0);
    this.m2.fill(0);
  }
}

/** Welford's running mean and full covariance (row-major d x d). */
export class WelfordCovariance {
  n = 0;
  readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly delta: Float64Array;

  constructor(readonly dim: number) {
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dim * dim);
    this.delta = new Float64Array(dim);
  }

  add(x: Float64Array): void {
    const d = this.dim;
    this.n++;
    for (let i = 0; i < d; i++) {
      this.delta[i] = x[i] - this.mean[i];
      this.mean[i] += this.delta[i] / this.n;
    }
    // m2 += (x - mean_old)(x - mean_new)^T, symmetric.
    for (let i = 0; i < d; i++) {
      const after = x[i] - this.mean[i];
      for (let j = 0; j < d; j++) this.m2[i * d + j] += this.delta[j] * after;
    }
  }

  reset(): void {
    this.n = 0;
    this.mean.fill(0);
    this.m2.fill(0);
  }

  /** Sample covariance (n - 1 denominator), symmetrised; zeros when n < 2. */
  covariance(out = new Float64Array(this.dim * this.dim)): Float64Array {
    const d = this.dim;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        out[i * d + j] = this.n > 1 ? (0.5 * (this.m2[i * d + j] + this.m2[j * d + i])) / (this.n - 1) : 0;
      }
    }
    return out;
  }
}

export interface WindowOptions {
  /** Fast initial buffer (default 75). */
  initBuffer?: number;
  /** Fast terminal buffer (default 50). */
  termBuffer?: number;
  /** First slow window (default 25; each next one doubles). */
  baseWindow?: number;
}

/**
 * Stan's windowed warm-up schedule. `inWindow(i)` says whether iteration i's draw feeds the
 * variance estimate; `windowEnds(i)` says whether the metric is updated after iteration i. When
 * the buffers do not fit (warm-up < 150 with defaults), they shrink to 15% / 10% / 75% of the
 * warm-up as in Stan; with fewer than 20 warm-up iterations the metric is not adapted.
 */
export class WindowSchedule {
  private readonly initBuffer: number;
  private readonly termBuffer: number;
  private readonly ends = new Set<number>();
  readonly active: boolean;

  constructor(readonly warmup: number, opts: WindowOptions = {}) {
    let init = opts.initBuffer ?? 75;
    let term = opts.termBuffer ?? 50;
    let base = opts.baseWindow ?? 25;
    for (const [k, v] of [['initBuffer', init], ['termBuffer', term], ['baseWindow', base]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new ParameterError(`invalid parameter ${k} = ${v}: must be an integer >= 0`);
    }
    this.active = warmup >= 20 && base > 0;
    if (init + base + term > warmup) {
      init = Math.floor(0.15 * warmup);
      term = Math.floor(0.1 * warmup);
      base = warmup - (init + term);
    }
    this.initBuffer = init;
    this.termBuffer = term;
    if (!this.active) return;
    // Window ends: each window doubles; the last one stretches to the terminal buffer when the
    // window after it would not fit.
    const lastEnd = warmup - term - 1;
    let size = base;
    let end = init + size - 1;
    for (;;) {
      if (end >= lastEnd) {
        this.ends.add(lastEnd);
        break;
      }
      this.ends.add(end);
      size *= 2;
      let next = end + size;
      if (next + 2 * size >= warmup - term) next = lastEnd;
      end = next;
    }
  }

  inWindow(i: number): boolean {
    return this.active && i >= this.initBuffer && i < this.warmup - this.termBuffer;
  }

  windowEnds(i: number): boolean {
    return this.active && this.ends.has(i);
  }

  /** The iterations after which the metric is updated (for tests and docs). */
  windowEndList(): number[] {
    return [...this.ends].sort((a, b) => a - b);
  }
}

/**
 * Stan's regularisation of a window's variance estimate toward 1e-3:
 * (n / (n + 5)) var + 1e-3 (5 / (n + 5)). Keeps a short window from producing a degenerate metric.
 */
export function regulariseVariance(v: Float64Array, n: number): Float64Array {
  const w = n / (n + 5);
  for (let i = 0; i < v.length; i++) v[i] = w * v[i] + 1e-3 * (1 - w);
  return v;
}

/**
 * Stan's regularisation of a window's dense covariance estimate (dense_e), with an added
 * shrinkage of the off-diagonal part toward the window's own diagonal:
 *   Σ ← (n / (n + 5)) [(1 − λ) S + λ diag(S)] + 1e-3 (5 / (n + 5)) I.
 * λ = 0 is Stan's rule. A window of n draws in d dimensions gives a sample covariance of rank
 * ≤ n − 1, so Stan's first windows (25, 50 draws) in 50-D are singular up to the 1e-3 ridge;
 * shrinking toward the diagonal (Ledoit & Wolf 2004 use the same target family) keeps them
 * well conditioned. `'auto'` takes λ = d / (n + d), which is ½ at n = d and falls like d / n.
 */
export function regulariseCovariance(c: Float64Array, dim: number, n: number, shrinkage: number | 'auto' = 'auto'): Float64Array {
  const lambda = shrinkage === 'auto' ? dim / (n + dim) : shrinkage;
  const w = n / (n + 5);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) {
      const k = i * dim + j;
      c[k] = i === j ? w * c[k] + 1e-3 * (1 - w) : w * (1 - lambda) * c[k];
    }
  }
  return c;
}

export interface WarmupOptions extends WindowOptions {
  targetAccept: number;
  /** Adapt the metric (default true). */
  adaptMetric?: boolean;
  /** Adapt the step size (default true). */
  adaptStepSize?: boolean;
  /** Dense metric only: shrinkage λ of a window's covariance toward its diagonal (default 'auto'). */
  denseShrinkage?: number | 'auto';
}

/**
 * Step size by dual averaging plus the inverse metric (diagonal or dense, as `metric` is) by
 * Stan's windows, for the gradient-based samplers. Call `afterTransition(i, x, acceptStat)` after
 * each warm-up iteration; when it returns 'metric-updated' the caller should find a fresh step
 * size for the new metric and call `restartStepSize(eps)`. After warm-up call `finish()`.
 */
export class WarmupAdaptation {
  stepSize: number;
  private readonly da: DualAveraging;
  private readonly schedule: WindowSchedule;
  private readonly welford: WelfordVariance | WelfordCovariance;
  private readonly adaptMetric: boolean;
  private readonly adaptStepSize: boolean;
  private readonly shrinkage: number | 'auto';
  metricUpdates = 0;

  constructor(dim: number, warmup: number, stepSize: number, readonly metric: Metric, opts: WarmupOptions) {
    this.stepSize = stepSize;
    this.da = new DualAveraging(stepSize, { targetAccept: opts.targetAccept });
    this.schedule = new WindowSchedule(warmup, opts);
    this.welford = metric.kind === 'dense' ? new WelfordCovariance(dim) : new WelfordVariance(dim);
    this.adaptMetric = opts.adaptMetric ?? true;
    this.adaptStepSize = opts.adaptStepSize ?? true;
    this.shrinkage = opts.denseShrinkage ?? 'auto';
  }

  /** The current inverse metric (variances, or the row-major matrix for a dense metric). */
  get invMetric(): Float64Array {
    return this.metric.inv;
  }

  afterTransition(i: number, x: Float64Array, acceptStat: number): 'metric-updated' | 'ok' {
    if (this.adaptStepSize) this.stepSize = this.da.learn(acceptStat);
    if (!this.adaptMetric) return 'ok';
    if (this.schedule.inWindow(i)) this.welford.add(x);
    if (this.schedule.windowEnds(i)) {
      const n = this.welford.n;
      if (n >= 2) {
        const w = this.welford;
        const est =
          w instanceof WelfordCovariance
            ? regulariseCovariance(w.covariance(), w.dim, n, this.shrinkage)
            : regulariseVariance(w.variance(), n);
        this.metric.set(est);
        this.metricUpdates++;
      }
      this.welford.reset();
      return 'metric-updated';
    }
    return 'ok';
  }
  restartStepSize(stepSize: number): void {
    this.stepSize = stepSize;
    if (this.adaptStepSize) this.da.restart(stepSize);
  }

  /** Freezes the step size at the dual-averaging average exp(x̄). */
  finish(): number {
    if (this.adaptStepSize) {
      const f = this.da.final();
      if (f !== null && Number.isFinite(f) && f > 0) this.stepSize = f;
    }
    return this.stepSize;
  }
}
