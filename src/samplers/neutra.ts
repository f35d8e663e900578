/**
 * NeuTra: HMC/NUTS on the flow's base space (Hoffman, Sountsov, Dillon, Langmore, Tran &
 * Vasudevan 2019, "NeuTra-lizing bad geometry in Hamiltonian Monte Carlo using neural
 * transport", arXiv:1903.03704). For a bijection x = f(z) trained so that f pushes N(0, I) close
 * to p, the pulled-back density
 *   log p_z(z) = log p̃(f(z)) + log|det ∂f/∂z|
 * is close to N(0, I), whatever p's geometry; the unchanged NUTS kernel samples it, and the
 * draws are mapped back to x = f(z). Exact for any f: p_z is the density of z = f⁻¹(x), x ~ p.
 *
 * The gradient is one reverse pass through f: ∇_z log p_z = Jᵀ ∇_x log p̃(x) + ∇_z log|det J|,
 * i.e. `backward(dX = ∇_x log p̃, dLogDet = 1)` of the bijection's tape.
 *
 * Precision: a float32 flow gives a float32-rounded x and gradient. The chain stays exact as
 * long as `logDensity` and `gradLogDensity` evaluate the *same* function of z (both go through
 * `forwardTape` here): leapfrog with any position-dependent force is volume-preserving and
 * reversible, so the Metropolis step with the consistent log p_z corrects gradient errors; they
 * cost acceptance, not correctness.
 *
 * Example (an affine map x = μ + L z makes NeuTra a dense-metric HMC):
 *   const f = affineBijection(mean, choleskyOfCov);
 *   const draws = await neutra(target, f, { seed: 1 });
 */
import { makeDraws, type Draws } from '../core/draws.js';
import { DimensionError, NonFiniteError, ParameterError } from '../core/errors.js';
import type { Target } from '../targets/target.js';
import { nuts, type NutsOptions } from './nuts.js';

/** What one batched forward pass through a bijection returns, ready for a reverse pass. */
export interface BijectionTape {
  /** f(z), row-major n x dim. */
  x: Float64Array;
  /** log|det ∂f/∂z| per row. */
  logDet: Float64Array;
  /** Given dL/dx (n x dim) and dL/dlogDet (n), returns dL/dz (n x dim). */
  backward(dX: Float64Array, dLogDet: Float64Array): Float64Array;
  /** Frees what the tape holds (tensors, heap buffers). */
  dispose(): void;
}

/**
 * A bijection from base space z to target space x with its input gradient. The flow engine's
 * `flow.forwardTape(z, n)` has this shape; `affineBijection` is an analytic one.
 */
export interface DifferentiableBijection {
  readonly dim: number;
  forwardTape(z: Float64Array, n: number): BijectionTape;
}

/** The pulled-back target z ↦ log p̃(f(z)) + log|det ∂f/∂z|, and the map back to x. */
export interface NeutraTarget extends Target {
  /** x = f(z) for n rows of z (row-major). */
  toX(z: Float64Array, n: number): Float64Array;
  readonly base: Target;
}

export function neutraTarget(target: Target, f: DifferentiableBijection): NeutraTarget {
  if (!target || typeof target.gradLogDensity !== 'function') throw new ParameterError('neutra needs a target with gradLogDensity');
  if (!f || typeof f.forwardTape !== 'function') {
    throw new ParameterError("neutra needs a bijection with forwardTape(z, n) (the flow's input gradient)");
  }
  const dim = target.dim;
  if (f.dim !== dim) throw new DimensionError(`dimension mismatch: target ${target.name} has dim ${dim}, the bijection has dim ${f.dim}`);
  const gx = new Float64Array(dim);
  const one = Float64Array.of(1);
  const logDensity = (z: Float64Array): number => {
    const tape = f.forwardTape(z, 1);
    try {
      return target.logDensity(tape.x) + tape.logDet[0];
    } finally {
      tape.dispose();
    }
  };
  return {
    name: `neutra(${target.name})`,
    dim,
    description: `${target.name} pulled back through a bijection (NeuTra)`,
    params: target.params,
    paramNames: Array.from({ length: dim }, (_, i) => `z${i + 1}`),
    base: target,
    initialPoint: () => new Float64Array(dim),
    logDensity,
    gradLogDensity(z, out) {
      const tape = f.forwardTape(z, 1);
      try {
        const lp = target.gradLogDensity(tape.x, gx);
        if (!Number.isFinite(lp)) {
          out.fill(0);
          return lp;
        }
        out.set(tape.backward(gx, one));
        return lp + tape.logDet[0];
      } finally {
        tape.dispose();
      }
    },
    toX(z, n) {
      const tape = f.forwardTape(z, n);
      try {
        return Float64Array.from(tape.x);
      } finally {
        tape.dispose();
      }
    },
  };
}

export interface NeutraOptions extends NutsOptions {
  /** The bijection's (flow's) training time in ms, charged in the Draws. */
  trainTimeMs?: number;
  /** Rows per forward pass when mapping the draws back to x (default 4096). */
  batchSize?: number;
}

/**
 * NUTS on the pulled-back target, draws mapped back to x. `Draws.info` keeps NUTS's own
 * (step size, tree depth, divergences in z); the values are in x, named as the target's.
 */
export async function neutra(target: Target, f: DifferentiableBijection, options: NeutraOptions): Promise<Draws> {
  const pulled = neutraTarget(target, f);
  const dz = await nuts(pulled, options);
  const batch = options.batchSize ?? 4096;
  const n = dz.chains * dz.draws;
  const values = new Float64Array(n * target.dim);
  for (let r = 0; r < n; r += batch) {
    const m = Math.min(batch, n - r);
    values.set(pulled.toX(dz.values.subarray(r * target.dim, (r + m) * target.dim), m), r * target.dim);
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new NonFiniteError(`neutra: the bijection mapped draw ${Math.floor(i / target.dim)} to a non-finite x`);
  }
  return makeDraws({
    ...dz,
    sampler: 'neutra',
    target: target.name,
    paramNames: target.paramNames,
    values,
    trainTimeMs: dz.trainTimeMs + (options.trainTimeMs ?? 0),
    info: { ...dz.info, space: 'x = f(z)' },
  });
}

/**
 * The affine bijection x = μ + L z with L lower triangular (row-major, positive diagonal):
 * log|det| = Σ log L_ii, dL/dz = Lᵀ dL/dx. NeuTra through it is HMC with the dense metric L Lᵀ.
 */
export function affineBijection(shift: Float64Array, lower: Float64Array): DifferentiableBijection {
  const dim = shift.length;
  if (lower.length !== dim * dim) throw new DimensionError(`affineBijection: L must be ${dim}x${dim}, got ${lower.length} entries`);
  let logDet = 0;
  for (let i = 0; i < dim; i++) {
    const l = lower[i * dim + i];
    if (!(l > 0)) throw new ParameterError(`affineBijection: L's diagonal must be positive (entry ${i + 1} is ${l})`);
    logDet += Math.log(l);
  }
  return {
    dim,
    forwardTape(z, n) {
      const x = new Float64Array(n * dim);
      for (let r = 0; r < n; r++) {
        for (let i = 0; i < dim; i++) {
          let s = shift[i];
          for (let k = 0; k <= i; k++) s += lower[i * dim + k] * z[r * dim + k];
          x[r * dim + i] = s;
        }
      }
      return {
        x,
        logDet: new Float64Array(n).fill(logDet),
        backward(dX) {
          const dz = new Float64Array(n * dim);
          for (let r = 0; r < n; r++) {
            for (let k = 0; k < dim; k++) {
              let s = 0;
              for (let i = k; i < dim; i++) s += lower[i * dim + k] * dX[r * dim + i];
              dz[r * dim + k] = s;
            }
          }
          return dz;
        },
        dispose() {},
      };
    },
  };
}
