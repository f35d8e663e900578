/**
 * User targets from a plain TypeScript object. Only `name`, `dim` and `logDensity` are required;
 * what is missing is said clearly at the point of use instead of producing wrong numbers:
 * - no `gradLogDensity`: gradient samplers (MALA, HMC, NUTS) get a ParameterError, unless the
 *   user opts in to central finite differences with `gradient: 'finite-difference'`
 *   (2·dim extra density evaluations per gradient, error O(h²) with h ≈ 6e-6·max(1, |x_i|));
 * - no `logProb`: flows train on the float64 path (`gradLogDensity` at the flow's draws,
 *   src/targets/batch.ts), which needs a gradient as MCMC does.
 */
import type * as tf from '@tensorflow/tfjs';
import { ParameterError } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';
import type { Target } from './target.js';
import { checkBatch, checkDimension, checkPoint } from './checks.js';

export interface CustomTargetSpec {
  name: string;
  dim: number;
  description?: string;
  params?: Record<string, number | string>;
  paramNames?: string[];
  logDensity: (x: Float64Array) => number;
  /** Writes ∇ log p̃ into out and returns log p̃. */
  gradLogDensity?: (x: Float64Array, out: Float64Array) => number;
  /** Opt-in numerical gradient when there is no analytic one. */
  gradient?: 'finite-difference';
  /** Batched differentiable log p̃ for flows: [n, dim] → [n]; must not dispose its input. */
  logProb?: (x: tf.Tensor2D) => tf.Tensor1D;
  logZ?: number;
  sampleExact?: (n: number, rng: RandomStream) => Float64Array;
  mean?: Float64Array;
  variance?: Float64Array;
  initialPoint?: () => Float64Array;
  plotBounds?: [number, number][];
}

/** Cube root of machine epsilon: the step that balances truncation and rounding in central differences. */
const FD_STEP = Math.cbrt(Number.EPSILON);

export function customTarget(spec: CustomTargetSpec): Target {
  if (spec == null || typeof spec !== 'object') throw new ParameterError('customTarget: a spec { name, dim, logDensity, ... } is required');
  const { name } = spec;
  if (typeof name !== 'string' || name.trim() === '') throw new ParameterError('customTarget: invalid parameter name: must be a non-empty string');
  const dim = checkDimension('dim', spec.dim);
  if (typeof spec.logDensity !== 'function') throw new ParameterError(`customTarget ${name}: invalid parameter logDensity: must be a function (x: Float64Array) => number`);
  if (spec.gradLogDensity !== undefined && typeof spec.gradLogDensity !== 'function') {
    throw new ParameterError(`customTarget ${name}: invalid parameter gradLogDensity: must be a function (x, out) => number`);
  }
  if (spec.gradient !== undefined && spec.gradient !== 'finite-difference') {
    throw new ParameterError(`customTarget ${name}: invalid parameter gradient = '${String(spec.gradient)}': the only option is 'finite-difference'`);
  }
  if (spec.gradient !== undefined && spec.gradLogDensity) {
    throw new ParameterError(`customTarget ${name}: give gradLogDensity or gradient: 'finite-difference', not both`);
  }
  if (spec.logProb !== undefined && typeof spec.logProb !== 'function') {
    throw new ParameterError(`customTarget ${name}: invalid parameter logProb: must be a function (x: Tensor2D) => Tensor1D`);
  }
  for (const key of ['mean', 'variance'] as const) {
    const v = spec[key];
    if (v !== undefined && v.length !== dim) throw new ParameterError(`customTarget ${name}: invalid parameter ${key}: expected ${dim} numbers, got ${v.length}`);
  }
  if (spec.plotBounds !== undefined && spec.plotBounds.length !== dim) {
    throw new ParameterError(`customTarget ${name}: invalid parameter plotBounds: expected ${dim} [lo, hi] pairs, got ${spec.plotBounds.length}`);
  }
  const userLogDensity = spec.logDensity;
  const userGrad = spec.gradLogDensity;
  const userLogProb = spec.logProb;
  const fd = spec.gradient === 'finite-difference';
  const xw = new Float64Array(dim);

  const gradLogDensity = (x: Float64Array, out: Float64Array): number => {
    checkPoint(name, dim, x);
    if (userGrad) return userGrad(x, out);
    if (!fd) {
      throw new ParameterError(
        `target ${name} has no gradient: gradient-based samplers need gradLogDensity; give it, or opt in to central differences with gradient: 'finite-difference', or use a gradient-free sampler (rwm)`,
      );
    }
    const f0 = userLogDensity(x);
    xw.set(x);
    for (let i = 0; i < dim; i++) {
      const h = FD_STEP * Math.max(1, Math.abs(x[i]));
      xw[i] = x[i] + h;
      const fp = userLogDensity(xw);
      xw[i] = x[i] - h;
      const fm = userLogDensity(xw);
      xw[i] = x[i];
      out[i] = (fp - fm) / (2 * h);
    }
    return f0;
  };

  const target: Target = {
    name,
    dim,
    description: spec.description ?? `user target ${name} in ${dim}-D`,
    params: { ...(spec.params ?? {}) },
    ...(spec.paramNames ? { paramNames: spec.paramNames.slice() } : {}),
    logDensity(x) {
      checkPoint(name, dim, x);
      return userLogDensity(x);
    },
    gradLogDensity,
    ...(userLogProb
      ? {
          logProb(x: tf.Tensor2D) {
            checkBatch(name, dim, x);
            return userLogProb(x);
          },
        }
      : {}),
    ...(spec.logZ !== undefined ? { logZ: spec.logZ } : {}),
    ...(spec.sampleExact ? { sampleExact: spec.sampleExact } : {}),
    ...(spec.mean ? { mean: Float64Array.from(spec.mean) } : {}),
    ...(spec.variance ? { variance: Float64Array.from(spec.variance) } : {}),
    ...(spec.initialPoint ? { initialPoint: spec.initialPoint } : {}),
    ...(spec.plotBounds ? { plotBounds: spec.plotBounds.map((b) => [b[0], b[1]] as [number, number]) } : {}),
  };
  return target;
}
