/**
 * A flow q(x): base N(0, τ² I) pushed through a chain of bijectors (UDL §16.1–16.2),
 * x = f_L ∘ … ∘ f_1(ε), with log q(x) = log N(ε; 0, τ² I) − Σ_l log|det ∂f_l|.
 *
 * The flow owns its bijectors' parameters (one `ParamStore`) and runs on an engine
 * (src/flows/engine/): the heap engine by default, tfjs on other backends or when asked
 * (`flow.engine = 'tfjs'`). It knows nothing of either: both run the same bijector definitions.
 *
 * - `sampleArrays(n, seed)`: draws with their log q in one pass of the sampling direction
 *   (parallel for IAF and coupling layers, sequential for MAF layers);
 * - `logProbArrays(x)`: log q at given points by the density direction (parallel for MAF and
 *   coupling, `dim` passes per IAF layer);
 * - `logProbGrad(x)`: log q and ∇ₓ log q; `forwardTape(z)`: x = f(z), log|det ∂f/∂z| and its
 *   vector–Jacobian product back to z (for NeuTra-style reparametrised MCMC).
 * The same seed gives the same base noise on every engine.
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from './bijectors/bijector.js';
import { ParamStore, type Param } from './params.js';
import type { EngineChoice, Program } from './engine/engine.js';
import { selectEngine } from './engine/select.js';
import { standardNormalLogProb, type Ops } from './engine/ops.js';
import { DimensionError, ParameterError, checkPositiveInt } from '../core/errors.js';
import { RandomStream } from '../core/random.js';

export type SeedLike = number | string | RandomStream;

function toStream(seed: SeedLike): RandomStream {
  return seed instanceof RandomStream ? seed : new RandomStream(seed);
}

function checkBaseScale(baseScale: number): void {
  if (!(baseScale > 0) || !Number.isFinite(baseScale)) throw new ParameterError(`baseScale must be positive, got ${baseScale}`);
}

function rowsOf(x: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  if (x instanceof Float64Array || x instanceof Float32Array) return x.subarray(from, to);
  return Array.prototype.slice.call(x, from, to) as number[];
}

/** x = f(z) for the whole chain and Σ log|det|, [n, 1]. */
function chainForward<V>(ops: Ops<V>, bijectors: readonly Bijector[], z: V): { x: V; logDet: V } {
  let v = z;
  let ld: V | null = null;
  for (const b of bijectors) {
    const r = b.forward(ops, v);
    v = r.y;
    ld = ld === null ? r.logDet : ops.add(ld, r.logDet);
  }
  return { x: v, logDet: ld! };
}

function chainInverse<V>(ops: Ops<V>, bijectors: readonly Bijector[], x: V): { z: V; logDet: V } {
  let v = x;
  let ld: V | null = null;
  for (let i = bijectors.length - 1; i >= 0; i--) {
    const r = bijectors[i].inverse(ops, v);
    v = r.y;
    ld = ld === null ? r.logDet : ops.add(ld, r.logDet);
  }
  return { z: v, logDet: ld! };
}

/** A recorded pass x = f(z) whose vector–Jacobian product can be taken afterwards. */
export interface FlowTape {
  /** x = f(z), row-major n x dim. */
  readonly x: Float64Array;
  /** log|det ∂f/∂z| per row. */
  readonly logDet: Float64Array;
  /** dL/dz from dL/dx (n x dim) and dL/dlogDet (n). May be called more than once. */
  backward(dX: ArrayLike<number>, dLogDet: ArrayLike<number>): Float64Array;
  dispose(): void;
}

export class Flow {
  readonly dim: number;
  readonly bijectors: readonly Bijector[];
  readonly store: ParamStore;
  /** Which engine runs the flow: 'auto' (heap when available), 'heap' or 'tfjs'. */
  engine: EngineChoice = 'auto';

  constructor(bijectors: Bijector[]) {
    if (!Array.isArray(bijectors) || bijectors.length === 0) throw new ParameterError('flow: needs at least one bijector');
    for (let i = 1; i < bijectors.length; i++) {
      if (bijectors[i].dim !== bijectors[i - 1].dim) {
        throw new DimensionError(
          `flow: bijector ${i - 1} (${bijectors[i - 1].type}, dim ${bijectors[i - 1].dim}) feeds bijector ${i} (${bijectors[i].type}, dim ${bijectors[i].dim})`,
        );
      }
    }
    this.bijectors = [...bijectors];
    this.dim = bijectors[0].dim;
    this.store = new ParamStore(bijectors.flatMap((b) => b.params()));
  }

  /** The trainable parameters in saved-file order. */
  trainableParams(): Param[] {
    return this.store.trainable();
  }

  /** Total number of trainable scalars. */
  parameterCount(): number {
    return this.store.trainableCount();
  }

  /** The engine this flow runs on now. */
  activeEngine() {
    return selectEngine(this.engine);
  }

  /** (ε·τ) ↦ [x, log q]. */
  samplingProgram(baseScale = 1): Program {
    const bij = this.bijectors;
    return <V>(ops: Ops<V>, [eps]: V[]) => {
      const { x, logDet } = chainForward(ops, bij, eps);
      return [x, ops.sub(standardNormalLogProb(ops, eps, baseScale), logDet)];
    };
  }

  /** x ↦ [z, log q]. */
  densityProgram(baseScale = 1): Program {
    const bij = this.bijectors;
    return <V>(ops: Ops<V>, [x]: V[]) => {
      const { z, logDet } = chainInverse(ops, bij, x);
      return [z, ops.add(standardNormalLogProb(ops, z, baseScale), logDet)];
    };
  }

  /** z ↦ [x, log|det ∂f/∂z|]. */
  transformProgram(): Program {
    const bij = this.bijectors;
    return <V>(ops: Ops<V>, [z]: V[]) => {
      const { x, logDet } = chainForward(ops, bij, z);
      const n = ops.shape(z)[0];
      return [x, ops.add(logDet, ops.constant(new Float32Array(n), n, 1))];
    };
  }

  private chunk(): number {
    return this.activeEngine().chunkRows;
  }

  /**
   * n draws as a row-major n x dim Float64Array with their log q. With `baseScale` τ ≠ 1 the base
   * noise is N(0, τ² I): a widened flow whose log q is still exact in one pass, a cheap
   * defensive proposal for importance sampling (where the flow is exact the weights are bounded
   * by τ^dim). The noise is drawn from the stream in row order, so the same seed gives the same
   * draws whatever the chunk size (`chunk`: rows per pass).
   */
  sampleArrays(n: number, seed: SeedLike, chunk?: number, baseScale = 1): { x: Float64Array; logq: Float64Array } {
    checkPositiveInt('number of flow samples', n);
    checkBaseScale(baseScale);
    const rng = toStream(seed);
    const D = this.dim;
    const engine = this.activeEngine();
    const step = Math.min(n, chunk ?? this.chunk());
    const x = new Float64Array(n * D);
    const logq = new Float64Array(n);
    const program = this.samplingProgram(baseScale);
    for (let start = 0; start < n; start += step) {
      const m = Math.min(step, n - start);
      const eps = new Float64Array(m * D);
      rng.fillNormal(eps);
      if (baseScale !== 1) for (let j = 0; j < eps.length; j++) eps[j] *= baseScale;
      const [xs, lq] = engine.evaluate(this.store, program, [{ values: eps, rows: m, cols: D }]);
      x.set(xs, start * D);
      logq.set(lq, start);
    }
    return { x, logq };
  }

  /** `sampleArrays` as float32 tensors (the caller owns them). */
  sample(n: number, seed: SeedLike, baseScale = 1): { x: tf.Tensor2D; logq: tf.Tensor1D } {
    const r = this.sampleArrays(n, seed, undefined, baseScale);
    return { x: tf.tensor2d(Float32Array.from(r.x), [n, this.dim]), logq: tf.tensor1d(Float32Array.from(r.logq)) };
  }

  private checkRows(x: ArrayLike<number>): number {
    if (x.length % this.dim !== 0) throw new DimensionError(`flow has dim ${this.dim}: ${x.length} values are not whole rows`);
    return x.length / this.dim;
  }

  /** log q at the rows of a row-major n x dim array (`baseScale` as in `sampleArrays`). */
  logProbArrays(x: ArrayLike<number>, chunk?: number, baseScale = 1): Float64Array {
    checkBaseScale(baseScale);
    const n = this.checkRows(x);
    const D = this.dim;
    const out = new Float64Array(n);
    const engine = this.activeEngine();
    const step = Math.max(1, chunk ?? this.chunk());
    const program = this.densityProgram(baseScale);
    for (let start = 0; start < n; start += step) {
      const m = Math.min(step, n - start);
      const rows = rowsOf(x, start * D, (start + m) * D);
      const [, lq] = engine.evaluate(this.store, program, [{ values: rows, rows: m, cols: D }]);
      out.set(lq, start);
    }
    return out;
  }

  /** log q of a float32 [n, dim] tensor, as a tensor (not differentiable in the flow's parameters). */
  logProb(x: tf.Tensor2D, baseScale = 1): tf.Tensor1D {
    if (x.rank !== 2 || x.shape[1] !== this.dim) throw new DimensionError(`dimension mismatch: flow has dim ${this.dim}, got [${x.shape.join(', ')}]`);
    return tf.tensor1d(Float32Array.from(this.logProbArrays(x.dataSync(), undefined, baseScale)));
  }

  /** log q and ∇ₓ log q at the rows of x (row-major n x dim). */
  logProbGrad(x: ArrayLike<number>, baseScale = 1): { logq: Float64Array; grad: Float64Array } {
    checkBaseScale(baseScale);
    const n = this.checkRows(x);
    const ones = new Float64Array(n).fill(1);
    const r = this.activeEngine().differentiate(
      this.store,
      this.densityProgram(baseScale),
      [{ values: x, rows: n, cols: this.dim, requiresGrad: true }],
      () => [null, ones],
      { paramGrads: false },
    );
    return { logq: Float64Array.from(r.outputs[1]), grad: r.inputGrads[0]! };
  }

  /** x = f(z) with its log-det, recorded for vector–Jacobian products (see FlowTape). */
  forwardTape(z: ArrayLike<number>, n: number): FlowTape {
    if (z.length !== n * this.dim) throw new DimensionError(`forwardTape: ${z.length} values are not ${n} rows of dim ${this.dim}`);
    const engine = this.activeEngine();
    const program = this.transformProgram();
    const D = this.dim;
    const run = engine.record(this.store, program, [{ values: z, rows: n, cols: D, requiresGrad: true }]);
    return {
      x: Float64Array.from(run.outputs[0]),
      logDet: Float64Array.from(run.outputs[1]),
      backward: (dX, dLogDet) => run.inputGrads([dX, dLogDet])[0]!,
      dispose: () => run.dispose(),
    };
  }

  /** dL/dz of x = f(z), log-det, for given cotangents (one forward and backward pass). */
  vjp(z: ArrayLike<number>, n: number, dX: ArrayLike<number>, dLogDet: ArrayLike<number>): Float64Array {
    const r = this.activeEngine().differentiate(this.store, this.transformProgram(), [{ values: z, rows: n, cols: this.dim, requiresGrad: true }], () => [dX, dLogDet], { paramGrads: false });
    return r.inputGrads[0]!;
  }

  /**
   * Data-dependent initialisation (ActNorm and any layer that has one), from points on the x
   * side: each layer sees the points as they arrive at it in the density direction.
   */
  initializeFromData(x: ArrayLike<number>): void {
    const n = this.checkRows(x);
    const engine = this.activeEngine();
    const run = (b: Bijector, pts: Float64Array, rows: number): Float64Array => {
      const [y] = engine.evaluate(this.store, <V>(ops: Ops<V>, [v]: V[]) => [b.inverse(ops, v).y], [{ values: pts, rows, cols: b.dim }]);
      return Float64Array.from(y);
    };
    // The data are carried down only as far as the last layer that initialises from them.
    const lowest = this.bijectors.findIndex((b) => b.initializeFromData !== undefined);
    if (lowest < 0) return;
    let cur: Float64Array = Float64Array.from(x);
    for (let i = this.bijectors.length - 1; i >= lowest; i--) {
      const b = this.bijectors[i];
      b.initializeFromData?.(cur, n, (p, v) => this.store.set(p, v), run);
      if (i > lowest) cur = run(b, cur, n);
    }
  }

  dispose(): void {
    this.store.dispose();
  }
}
