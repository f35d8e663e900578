/**
 * log p̃ and ∇ log p̃ at a batch of points: all that reverse-KL flow training needs of a target
 * (the flow supplies its own vector–Jacobian product). Three paths, the first that applies:
 * - `valueAndGradBatch` (float64; written-once models give it);
 * - the batched tfjs `logProb`, one `tf.valueAndGrad` (unless `batchPath: 'float64'`);
 * - `gradLogDensity` row by row (float64; every target has it).
 * `targetLogProbOp` makes the float64 paths usable inside a tfjs autodiff tape.
 */
import * as tf from '@tensorflow/tfjs';
import type { Target } from './target.js';
import { DimensionError, ParameterError } from '../core/errors.js';
import { valueAndGradRowByRow } from './rowByRow.js';

export type BatchPath = 'batch-float64' | 'tfjs' | 'float64';

/** The path `targetValueAndGrad` takes for this target. */
export function batchPathOf(target: Target): BatchPath {
  if (target.valueAndGradBatch) return 'batch-float64';
  if (target.logProb && target.batchPath !== 'float64') return 'tfjs';
  return 'float64';
}

function tfjsValueAndGrad(target: Target, x: ArrayLike<number>, n: number, dim: number): { logp: Float64Array; grad: Float64Array } {
  const xt = tf.tensor2d(x instanceof Float32Array ? x : Float32Array.from(x), [n, dim]);
  try {
    const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => checkedLogProb(target, z as tf.Tensor2D))(xt);
    const out = { logp: Float64Array.from(value.dataSync()), grad: Float64Array.from(grad.dataSync()) };
    tf.dispose([value, grad]);
    return out;
  } catch (e) {
    throw notDifferentiable(target, e);
  } finally {
    xt.dispose();
  }
}

/** The target's logProb with its shape checked: a scalar or [n, 1] result would broadcast silently. */
function checkedLogProb(target: Target, x: tf.Tensor2D): tf.Tensor1D {
  const lp = target.logProb!(x);
  const [n, dim] = x.shape;
  if (!(lp instanceof tf.Tensor) || lp.rank !== 1 || lp.shape[0] !== n) {
    throw new DimensionError(`target ${target.name}: logProb of an [${n}, ${dim}] batch must have shape [${n}], got ${lp instanceof tf.Tensor ? `[${lp.shape.join(', ')}]` : typeof lp}`);
  }
  return lp;
}

/** tfjs's "Cannot compute gradient of y=f(x)" names neither the target nor the cause: say both. */
export function notDifferentiable(target: Target, e: unknown): unknown {
  if (e instanceof Error && /Cannot compute gradient/.test(e.message)) {
    return new ParameterError(
      `target ${target.name}: its tfjs logProb is not differentiable: its result does not depend on the input through tfjs operations (e.g. it reads values with dataSync/arraySync and builds a new tensor); write it with tf ops only, or drop logProb so flows train on gradLogDensity`,
    );
  }
  return e;
}

function rowsValueAndGrad(target: Target, x: ArrayLike<number>, n: number, dim: number): { logp: Float64Array; grad: Float64Array } {
  const logp = new Float64Array(n);
  const grad = new Float64Array(n * dim);
  valueAndGradRowByRow((xr, gr) => target.gradLogDensity(xr, gr), x, n, dim, logp, grad);
  return { logp, grad };
}

/**
 * log p̃ (length n) and ∇ log p̃ (row-major n x dim) at the n rows of `x`, float64, by the path
 * of `batchPathOf(target)`.
 */
export function targetValueAndGrad(target: Target, x: ArrayLike<number>, n: number, dim: number): { logp: Float64Array; grad: Float64Array } {
  if (x.length !== n * dim) throw new DimensionError(`target ${target.name}: ${x.length} values are not ${n} rows of dim ${dim}`);
  switch (batchPathOf(target)) {
    case 'batch-float64': {
      const logp = new Float64Array(n);
      const grad = new Float64Array(n * dim);
      target.valueAndGradBatch!(x instanceof Float64Array ? x : Float64Array.from(x), n, logp, grad);
      return { logp, grad };
    }
    case 'tfjs':
      return tfjsValueAndGrad(target, x, n, dim);
    case 'float64':
      return rowsValueAndGrad(target, x, n, dim);
  }
}

/**
 * The target's batched log p̃ as a differentiable tfjs op [n, dim] → [n]: its own `logProb` when
 * that is the path to take, else the float64 value and gradient wrapped in `tf.customGrad`.
 */
export function targetLogProbOp(target: Target): (x: tf.Tensor2D) => tf.Tensor1D {
  if (batchPathOf(target) === 'tfjs') return (x) => checkedLogProb(target, x);
  return (x) => {
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const xi = args[0] as tf.Tensor2D;
      const save = args[1] as tf.GradSaveFunc;
      const [n, dim] = xi.shape;
      const { logp, grad } = targetValueAndGrad(target, xi.dataSync(), n, dim);
      save([tf.tensor2d(Float32Array.from(grad), [n, dim])]);
      return {
        value: tf.tensor1d(Float32Array.from(logp)),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(tf.expandDims(dy, 1), saved[0])],
      };
    });
    return f(x) as tf.Tensor1D;
  };
}
