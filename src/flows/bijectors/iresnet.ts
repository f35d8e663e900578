/**
 * The invertible residual block of i-ResNet (UDL §16.3.6; Behrmann, Grathwohl, Chen, Duvenaud &
 * Jacobsen 2019, "Invertible residual networks", https://arxiv.org/abs/1811.00995):
 *   F(x) = x + g(x),  Lip(g) ≤ L < 1,
 * with g a spectrally normalised MLP with 1-Lipschitz activations (src/flows/nn/lipschitzMlp.ts).
 *
 * - The explicit direction is one pass: F(x) and log det(I + J_g(x)) by one of the estimators of
 *   src/flows/bijectors/residualLogDet.ts (exact, truncated Hutchinson series, or the unbiased
 *   Russian roulette of Chen et al. 2019).
 * - The other direction solves F(x) = y by the Banach fixed-point iteration x ← y − g(x) from
 *   x = y, which converges at rate L. A row is done when the a-posteriori bound
 *   ‖x_k − x*‖₂ ≤ L/(1 − L)·‖x_k − x_{k−1}‖₂ is below `tolerance`·max(1, ‖x_k‖₂), or when it has
 *   reached float32 round-off: in exact arithmetic the steps shrink, ‖Δ_{k+1}‖ ≤ L‖Δ_k‖, so a
 *   step that grows past ((1 + L)/2)·‖Δ_k‖ is rounding noise, and ln(100)/ln(1/L) iterations after
 *   the first such step the error has shrunk 100-fold towards the floor (`lastFixedPoint.roundOff`
 *   says this happened). Without either by the cap, it is an error by default
 *   (`onNonConvergence: 'error'`) or a warning on `block.warnings` and stderr ('warn'); never
 *   silent. The default cap is the a-priori Banach count ‖x_k − x*‖₂ ≤ L^k/(1 − L)·‖x_1 − x_0‖₂
 *   ≤ tolerance after the first step, plus 10 (enough in exact arithmetic), plus the round-off
 *   allowance. When gradients are recorded, the iterations are too (the gradient of what was
 *   computed).
 *
 * `explicit: 'density'` (default) puts the explicit map on the density side, x ↦ x + g(x) from data
 * to noise, as i-ResNet is trained by maximum likelihood: log q is one pass, sampling iterates.
 * `explicit: 'sampling'` is the mirror image, for reverse-KL training.
 *
 * The probes and roulette counts come from the block's own stream (seeded by `seed`), so a run is
 * reproducible; `reseedProbes(seed)` restarts it.
 */
import type { Ops } from '../engine/ops.js';
import type { Param } from '../params.js';
import { LipschitzMlp } from '../nn/lipschitzMlp.js';
import type { LipschitzActivation } from '../kernels/lipschitzActivation.js';
import type { Bijector, BijectorResult, PassCost } from './bijector.js';
import { resolveLogDet, residualLogDet, type ResidualLogDetConfig, type ResolvedLogDet } from './residualLogDet.js';
import { ConvergenceError, ParameterError, checkPositiveInt } from '../../core/errors.js';
import { RandomStream } from '../../core/random.js';
import { makeWarning, type Warning } from '../../core/warnings.js';

export type ResidualExplicit = 'density' | 'sampling';

export interface IResNetConfig {
  dim: number;
  /** Hidden widths of g (default [64, 64]). */
  hidden?: number[];
  /** Bound of Lip(g), in (0, 1) (default 0.9). */
  lipschitz?: number;
  activation?: LipschitzActivation;
  /** The log-det estimator (default exact up to 16 dimensions, roulette above). */
  logDet?: ResidualLogDetConfig;
  /** Which direction is the explicit x + g(x) (default 'density'). */
  explicit?: ResidualExplicit;
  /** Fixed-point tolerance on ‖x − x*‖₂ / max(1, ‖x‖₂) (default 1e-5). */
  tolerance?: number;
  /** Iteration cap of the fixed point: a number, or 'auto' (default: see `aPrioriIterations`). */
  maxIterations?: number | 'auto';
  /** What a fixed point that hits its cap does (default 'error'). */
  onNonConvergence?: 'error' | 'warn';
  seed?: number | string;
}

/** Up to this dimension the default log-det is exact. */
export const EXACT_LOGDET_MAX_DIM = 16;

/** Hard cap of the 'auto' iteration count. */
export const MAX_FIXED_POINT_ITERATIONS = 10_000;

/**
 * The 'auto' cap: the a-priori Banach count k with L^k/(1 − L)·firstStep ≤ tolerance (so the
 * absolute, hence the relative, error is within tolerance in exact arithmetic), plus 10 for
 * float32 round-off; at most MAX_FIXED_POINT_ITERATIONS.
 */
export function aPrioriIterations(lipschitz: number, tolerance: number, firstStep: number): number {
  if (!(firstStep > 0)) return 1;
  const k = Math.ceil(Math.log((tolerance * (1 - lipschitz)) / firstStep) / Math.log(lipschitz));
  return Math.min(MAX_FIXED_POINT_ITERATIONS, Math.max(1, k) + 10);
}

/** How the last fixed-point solve went. */
export interface FixedPointReport {
  iterations: number;
  /** The cap that applied. */
  cap: number;
  /** Largest a-posteriori error bound over the rows at the last iteration, relative to max(1, ‖x‖₂). */
  errorBound: number;
  converged: boolean;
  /**
   * Stopped because the iterate repeated exactly (a float32 fixed point or cycle) before the
   * bound met the tolerance: the bound then measures round-off noise, not distance to x*.
   */
  roundOff: boolean;
}

/**
 * Which rows of the iteration are done: their a-posteriori bound met the tolerance, or their
 * steps stopped shrinking (round-off, see the file header) `settle` iterations ago.
 */
class RowProgress {
  readonly done: Uint8Array;
  readonly roundOff: Uint8Array;
  private readonly lastStep: Float64Array;
  private readonly floorAt: Int32Array;

  constructor(
    readonly n: number,
    private readonly growth: number,
    private readonly settle: number,
  ) {
    this.done = new Uint8Array(n);
    this.roundOff = new Uint8Array(n);
    this.lastStep = new Float64Array(n).fill(Infinity);
    this.floorAt = new Int32Array(n).fill(-1);
  }

  /** Row r at iteration k took a step of norm `step` with a-posteriori bound `bound` (relative). */
  update(r: number, k: number, step: number, bound: number, tolerance: number): void {
    if (this.done[r]) return;
    if (bound <= tolerance) {
      this.done[r] = 1;
      return;
    }
    if (this.floorAt[r] < 0 && step > this.growth * this.lastStep[r]) this.floorAt[r] = k;
    this.lastStep[r] = step;
    if (this.floorAt[r] >= 0 && k - this.floorAt[r] >= this.settle) {
      this.done[r] = 1;
      this.roundOff[r] = 1;
    }
  }

  allDone(): boolean {
    return this.done.every((d) => d === 1);
  }
}

/** Iterations that shrink the error 100-fold at rate L. */
export function settleIterations(lipschitz: number): number {
  return Math.ceil(Math.log(100) / -Math.log(lipschitz));
}

/** Fixed-point iterations per scope when not recording: bounds the memory the iterates hold. */
const SCOPE_ITERATIONS = 16;

export class IResNetBlock implements Bijector {
  readonly type = 'iresnet';
  readonly dim: number;
  readonly cost: { forward: PassCost; inverse: PassCost };
  readonly net: LipschitzMlp;
  readonly explicit: ResidualExplicit;
  readonly tolerance: number;
  readonly maxIterations: number | 'auto';
  readonly onNonConvergence: 'error' | 'warn';
  /** Warnings of fixed points that hit their cap under `onNonConvergence: 'warn'` (the last 20). */
  readonly warnings: Warning[] = [];
  lastFixedPoint: FixedPointReport | null = null;
  private logDetConfig: ResolvedLogDet;
  private readonly seed: number | string;
  private rng: RandomStream;

  constructor(config: IResNetConfig) {
    if (config == null || typeof config !== 'object') throw new ParameterError('iresnet block: config { dim, ... } is required');
    this.dim = checkPositiveInt('iresnet dim', config.dim);
    this.seed = config.seed ?? 0;
    this.net = new LipschitzMlp({ dim: this.dim, hidden: config.hidden ?? [64, 64], lipschitz: config.lipschitz ?? 0.9, activation: config.activation, seed: this.seed, name: 'iresnet' });
    this.explicit = config.explicit ?? 'density';
    if (this.explicit !== 'density' && this.explicit !== 'sampling') throw new ParameterError(`iresnet block: explicit must be 'density' or 'sampling', got '${String(config.explicit)}'`);
    this.cost = this.explicit === 'density' ? { forward: 'sequential', inverse: 'parallel' } : { forward: 'parallel', inverse: 'sequential' };
    this.tolerance = config.tolerance ?? 1e-5;
    if (!(this.tolerance > 0 && this.tolerance < 1)) throw new ParameterError(`iresnet block: tolerance must be in (0, 1), got ${String(config.tolerance)}`);
    this.maxIterations = config.maxIterations ?? 'auto';
    if (this.maxIterations !== 'auto') checkPositiveInt('iresnet maxIterations', this.maxIterations);
    this.onNonConvergence = config.onNonConvergence ?? 'error';
    if (this.onNonConvergence !== 'error' && this.onNonConvergence !== 'warn') throw new ParameterError(`iresnet block: onNonConvergence must be 'error' or 'warn', got '${String(config.onNonConvergence)}'`);
    this.logDetConfig = resolveLogDet(config.logDet ?? (this.dim <= EXACT_LOGDET_MAX_DIM ? { method: 'exact' } : { method: 'roulette' }), this.net.lipschitz);
    this.rng = new RandomStream(this.seed).derive('probes');
  }

  get lipschitz(): number {
    return this.net.lipschitz;
  }

  /** The log-det estimator in use (defaults filled in). */
  get logDet(): ResolvedLogDet {
    return this.logDetConfig;
  }

  /** Switches the estimator, e.g. to `exact` or a long series for evaluation after training. */
  setLogDet(config: ResidualLogDetConfig): void {
    this.logDetConfig = resolveLogDet(config, this.net.lipschitz);
  }

  /** Restarts the probe stream (same seed, same probes from here on). */
  reseedProbes(seed: number | string = this.seed): void {
    this.rng = new RandomStream(seed).derive('probes');
  }

  params(): Param[] {
    return this.net.params();
  }

  /** y = x + g(x) and log det(I + J_g(x)). */
  private explicitPass<V>(ops: Ops<V>, x: V): BijectorResult<V> {
    const w = this.net.normalized(ops);
    const pass = this.net.apply(ops, x, w);
    const n = ops.shape(x)[0];
    const logDet = residualLogDet(ops, n, this.dim, (t) => this.net.jvp(ops, t, w, pass.slopes), this.logDetConfig, this.rng);
    return { y: ops.add(x, pass.out), logDet };
  }

  /** x with x + g(x) = y, and −log det(I + J_g(x)). */
  private fixedPointPass<V>(ops: Ops<V>, y: V): BijectorResult<V> {
    const w = this.net.normalized(ops);
    const [n, D] = ops.shape(y);
    const L = this.net.lipschitz;
    const factor = L / (1 - L);
    let x = y;
    let prev = ops.read(y);
    let iterations = 0;
    let bound = Infinity;
    let cap = this.maxIterations === 'auto' ? MAX_FIXED_POINT_ITERATIONS : this.maxIterations;
    const settle = settleIterations(L);
    const rows = new RowProgress(n, (1 + L) / 2, settle);
    const step = (): boolean => {
      x = ops.sub(y, this.net.apply(ops, x, w).out);
      iterations++;
      const cur = ops.read(x);
      bound = 0;
      let first = 0;
      for (let r = 0; r < n; r++) {
        let d2 = 0;
        let x2 = 0;
        for (let j = 0; j < D; j++) {
          const a = cur[r * D + j];
          const d = a - prev[r * D + j];
          d2 += d * d;
          x2 += a * a;
        }
        // A row that is not finite stays so (as in every layer); it cannot be tested.
        if (!Number.isFinite(d2) || !Number.isFinite(x2)) {
          rows.done[r] = 1;
          continue;
        }
        const stepNorm = Math.sqrt(d2);
        first = Math.max(first, stepNorm);
        const b = (factor * stepNorm) / Math.max(1, Math.sqrt(x2));
        rows.update(r, iterations, stepNorm, b, this.tolerance);
        bound = Math.max(bound, b);
      }
      if (iterations === 1 && this.maxIterations === 'auto') cap = aPrioriIterations(L, this.tolerance, first) + settle;
      prev = cur;
      return rows.allDone();
    };
    let done = false;
    while (!done && iterations < cap) {
      if (ops.recording) {
        done = step();
      } else {
        // Free each stretch's intermediates, keeping its last iterate.
        x = ops.scope(() => {
          for (let k = 0; k < SCOPE_ITERATIONS && iterations < cap; k++) {
            if ((done = step())) break;
          }
          return x;
        });
      }
    }
    this.lastFixedPoint = { iterations, cap, errorBound: bound, converged: done, roundOff: rows.roundOff.some((v) => v === 1) && bound > this.tolerance };
    if (!done) this.reportNonConvergence(iterations, bound);
    const pass = this.net.apply(ops, x, w);
    const logDet = residualLogDet(ops, n, D, (t) => this.net.jvp(ops, t, w, pass.slopes), this.logDetConfig, this.rng);
    return { y: x, logDet: ops.neg(logDet) };
  }

  private reportNonConvergence(iterations: number, bound: number): void {
    const message = `iresnet block (dim ${this.dim}, Lipschitz bound ${this.lipschitz}): the fixed-point inverse did not converge in ${iterations} iterations (error bound ${bound.toExponential(2)} > tolerance ${this.tolerance}); raise the tolerance or maxIterations, or lower lipschitz`;
    if (this.onNonConvergence === 'error') throw new ConvergenceError(message);
    this.warnings.push(makeWarning('fixed-point', message, { iterations, errorBound: bound, tolerance: this.tolerance }));
    if (this.warnings.length > 20) this.warnings.shift();
    console.warn(`warning [fixed-point]: ${message}`);
  }

  forward<V>(ops: Ops<V>, z: V): BijectorResult<V> {
    return this.explicit === 'sampling' ? this.explicitPass(ops, z) : this.fixedPointPass(ops, z);
  }

  inverse<V>(ops: Ops<V>, x: V): BijectorResult<V> {
    return this.explicit === 'density' ? this.explicitPass(ops, x) : this.fixedPointPass(ops, x);
  }

  getConfig(): Record<string, unknown> {
    return {
      dim: this.dim,
      hidden: [...this.net.hidden],
      lipschitz: this.net.lipschitz,
      activation: this.net.activation,
      logDet: { ...this.logDetConfig },
      explicit: this.explicit,
      tolerance: this.tolerance,
      maxIterations: this.maxIterations,
      onNonConvergence: this.onNonConvergence,
      seed: this.seed,
    };
  }
}
