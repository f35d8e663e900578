/**
 * The bijector contract (after distrax): a bijection f on R^dim applied row-wise to a batch
 * [n, dim] of float32 points, with the log absolute Jacobian determinant per row.
 *
 * - `forward(z)` returns y = f(z) and log|det ∂f/∂z| (shape [n]);
 * - `inverse(y)` returns z = f⁻¹(y) and log|det ∂f⁻¹/∂y| = −log|det ∂f/∂z| at z.
 * For an IAF layer `forward` is the fast parallel direction (sampling) and `inverse` the
 * sequential one (dim passes, Kingma et al. 2016); each implementation documents its cost.
 *
 * Tensors follow tfjs conventions: inputs are never disposed by the callee, outputs are owned by
 * the caller; both methods are differentiable with respect to `trainableVariables()`.
 */
import type * as tf from '@tensorflow/tfjs';

export interface BijectorResult {
  y: tf.Tensor2D;
  logDet: tf.Tensor1D;
}

export interface Bijector {
  /** Registered type name used by save/load, e.g. 'iaf-affine'. */
  readonly type: string;
  readonly dim: number;
  forward(z: tf.Tensor2D): BijectorResult;
  inverse(y: tf.Tensor2D): BijectorResult;
  /** The variables an optimiser updates (empty for fixed bijectors such as permutations). */
  trainableVariables(): tf.Variable[];
  /** JSON-serialisable architecture (no weights), enough to rebuild an untrained twin. */
  getConfig(): Record<string, unknown>;
  dispose(): void;
}
