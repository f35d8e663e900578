/**
 * The bijector contract: a bijection f on R^dim applied row-wise to a batch [n, dim], written once
 * against `Ops` (src/flows/engine/ops.ts) so that every engine runs it.
 *
 * - `forward(ops, z)` is the sampling direction z → x: y = f(z) and log|det ∂f/∂z|;
 * - `inverse(ops, x)` is the density direction: f⁻¹(x) and log|det ∂f⁻¹/∂x| = −log|det ∂f/∂z|.
 * log-dets are [n, 1], or [1, 1] when the same for every row. `cost` says which direction is one
 * parallel pass and which is sequential (an autoregressive layer's slow direction takes `dim`
 * passes, Kingma et al. 2016; Papamakarios et al. 2017).
 *
 * A bijector holds no values: it declares its `Param`s (trainable ones in saved-file order, plus
 * constants such as masks), and the Flow that owns it stores them (src/flows/params.ts).
 * `getConfig()` is the JSON architecture that rebuilds an untrained twin (src/flows/registry.ts).
 */
import type { Ops } from '../engine/ops.js';
import type { Param } from '../params.js';

export interface BijectorResult<V> {
  y: V;
  logDet: V;
}

export type PassCost = 'parallel' | 'sequential';

/**
 * Runs a bijector's density direction on points (row-major [n, b.dim], float64) on the engine of
 * the flow being initialised: lets a layer made of layers (multi-scale) initialise its parts.
 */
export type InverseRunner = (b: Bijector, x: Float64Array, n: number) => Float64Array;

export interface Bijector {
  /** Registered type name used by save/load, e.g. 'autoregressive'. */
  readonly type: string;
  readonly dim: number;
  /** Cost of each direction. */
  readonly cost: { forward: PassCost; inverse: PassCost };
  params(): Param[];
  forward<V>(ops: Ops<V>, z: V): BijectorResult<V>;
  inverse<V>(ops: Ops<V>, x: V): BijectorResult<V>;
  /** JSON-serialisable architecture (no weights). */
  getConfig(): Record<string, unknown>;
  /**
   * Data-dependent initialisation (e.g. ActNorm): given points at this layer's x side (row-major
   * [n, dim], float64), set the parameters. Layers without one ignore it. `runInverse` runs an
   * inner layer's density direction (for composite layers).
   */
  initializeFromData?(x: Float64Array, n: number, set: (p: Param, values: ArrayLike<number>) => void, runInverse?: InverseRunner): void;
}

/** A constant zero log-det, [1, 1]. */
export function zeroLogDet<V>(ops: Ops<V>): V {
  return ops.constant([0], 1, 1);
}
