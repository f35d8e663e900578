/**
 * The reference distribution a tempered SMC run starts from, and the geometric path it follows:
 * π_β(x) ∝ ref(x)^(1−β) p̃(x)^β, β from 0 to 1 (Neal 2001; Del Moral, Doucet & Jasra 2006).
 * The reference is a normalised diagonal Gaussian, so log Z of the target is estimated directly
 * (Z_ref = 1) and its draws are exact.
 *
 * It must cover the target: mass the reference never reaches is mass the particles never see.
 * The default is built from the target's `plotBounds` (a box holding nearly all the mass): the
 * centre of the box, and half its half-width as standard deviation, so the box edges are at
 * ±2 sd. Without bounds it is N(initialPoint, 5² I), which users should replace by something
 * informed (for a Bayesian model, its prior).
 */
import { DimensionError, ParameterError, checkParam } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

export interface GaussianReference {
  mean: Float64Array;
  sd: Float64Array;
}

/** User form: mean per dimension (or one number), sd per dimension (or one number). */
export interface ReferenceSpec {
  mean?: number | ArrayLike<number>;
  sd: number | ArrayLike<number>;
}

/** Standard deviation used for a target without plotBounds. */
export const FALLBACK_REFERENCE_SD = 5;

function vector(name: string, v: number | ArrayLike<number>, dim: number): Float64Array {
  if (typeof v === 'number') return new Float64Array(dim).fill(v);
  if (v == null || typeof v.length !== 'number') throw new ParameterError(`reference.${name} must be a number or ${dim} numbers`);
  if (v.length !== dim) throw new DimensionError(`dimension mismatch: target has dim ${dim}, got reference.${name} of length ${v.length}`);
  return Float64Array.from(v);
}

/** The reference for `target`: the given spec, else from plotBounds, else N(initialPoint, 5² I). */
export function referenceFor(target: Target, spec?: ReferenceSpec): GaussianReference {
  const dim = target.dim;
  let ref: GaussianReference;
  if (spec) {
    if (typeof spec !== 'object') throw new ParameterError('reference must be { mean?, sd }');
    const start = target.initialPoint ? target.initialPoint() : new Float64Array(dim);
    ref = { mean: spec.mean === undefined ? Float64Array.from(start) : vector('mean', spec.mean, dim), sd: vector('sd', spec.sd, dim) };
  } else if (target.plotBounds && target.plotBounds.length === dim) {
    ref = {
      mean: Float64Array.from(target.plotBounds, ([lo, hi]) => (lo + hi) / 2),
      sd: Float64Array.from(target.plotBounds, ([lo, hi]) => (hi - lo) / 4),
    };
  } else {
    const start = target.initialPoint ? target.initialPoint() : new Float64Array(dim);
    ref = { mean: Float64Array.from(start), sd: new Float64Array(dim).fill(FALLBACK_REFERENCE_SD) };
  }
  ref.mean.forEach((v, i) => checkParam(`reference.mean[${i}]`, v, () => true, 'finite'));
  ref.sd.forEach((v, i) => checkParam(`reference.sd[${i}]`, v, (s) => s > 0, 'positive'));
  return ref;
}

/** log ref(x) (normalised). */
export function referenceLogDensity(ref: GaussianReference, x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const z = (x[i] - ref.mean[i]) / ref.sd[i];
    s += -0.5 * z * z - Math.log(ref.sd[i]) - HALF_LOG_2PI;
  }
  return s;
}

/** Adds c · ∇ log ref(x) to `out`. */
export function addReferenceGrad(ref: GaussianReference, x: Float64Array, c: number, out: Float64Array): void {
  for (let i = 0; i < x.length; i++) out[i] += (-c * (x[i] - ref.mean[i])) / (ref.sd[i] * ref.sd[i]);
}

/** n exact reference draws into `out` (row-major n x dim). */
export function sampleReference(ref: GaussianReference, n: number, rng: RandomStream, out: Float64Array): void {
  const dim = ref.mean.length;
  rng.fillNormal(out.subarray(0, n * dim));
  for (let r = 0; r < n; r++) for (let i = 0; i < dim; i++) out[r * dim + i] = ref.mean[i] + ref.sd[i] * out[r * dim + i];
}

/** CESS(β') as a fraction in (0, 1]; −Infinity entries of Δ or log W contribute nothing. */
export function conditionalEss(beta: number, next: number, delta: Float64Array, logW: Float64Array): number {
  const d = next - beta;
  // a_i = log W_i + d Δ_i  (log of W_i u_i);  b_i = log W_i + 2 d Δ_i  (log of W_i u_i²).
  let ma = -Infinity;
  let mb = -Infinity;
  for (let i = 0; i < delta.length; i++) {
    if (logW[i] === -Infinity || delta[i] === -Infinity) continue;
    const a = logW[i] + d * delta[i];
    const b = logW[i] + 2 * d * delta[i];
    if (a > ma) ma = a;
    if (b > mb) mb = b;
  }
  if (ma === -Infinity) return 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < delta.length; i++) {
    if (logW[i] === -Infinity || delta[i] === -Infinity) continue;
    sa += Math.exp(logW[i] + d * delta[i] - ma);
    sb += Math.exp(logW[i] + 2 * d * delta[i] - mb);
  }
  // log CESS = 2 log Σ W u − log Σ W u² (with Σ W = 1).
  return Math.exp(2 * (ma + Math.log(sa)) - (mb + Math.log(sb)));
}

/**
 * The next inverse temperature by the conditional ESS of Zhou, Johansen & Aston (2016): the
 * largest β' ≤ 1 with CESS(β') = (Σ W_i u_i)² / Σ W_i u_i² ≥ ρ (as a fraction of 1), where W are
 * the current normalised weights and u_i = exp((β' − β) Δ_i), Δ_i = log p̃ − log ref. With equal
 * weights (resampling every step, as BlackJAX's adaptive tempered SMC) this is the ESS of the
 * incremental weights. Bisection works because CESS is non-increasing in β' for any Δ: d log CESS / dβ' is twice the
 * mean of Δ under the tilt W e^{dΔ} minus its mean under the stronger tilt W e^{2dΔ}.
 */
export function nextTemperature(beta: number, delta: Float64Array, logW: Float64Array, rho: number): number {
  if (conditionalEss(beta, 1, delta, logW) >= rho) return 1;
  let lo = beta;
  let hi = 1;
  for (let k = 0; k < 60; k++) {
    const mid = 0.5 * (lo + hi);
    if (conditionalEss(beta, mid, delta, logW) >= rho) lo = mid;
    else hi = mid;
  }
  // Never stall: a step of at least 1e-12 even where a single particle dominates.
  return Math.max(lo, Math.min(1, beta + 1e-12));
}
