/**
 * checkTarget: does a target compute what it claims? At a few points it checks that
 * - the value paths agree: `logDensity`, the value `gradLogDensity` returns, the tfjs `logProb`
 *   (float32, to 1e-4 relative) and `valueAndGradBatch`; outside the support (−∞) the tfjs path
 *   must say −∞ too, not NaN;
 * - `gradLogDensity` agrees with central finite differences of `logDensity` (steps h and 2h, and
 *   the one-sided slopes: their differences estimate the truncation error, so kinks and strong
 *   curvature widen the tolerance instead of raising false alarms), and the tfjs and batch
 *   gradients agree with it;
 * - shapes are right: `logProb` of an [n, dim] batch is [n], and is differentiable (a logProb
 *   that leaves the tfjs graph, e.g. through dataSync, has no gradient); initialPoint, mean,
 *   variance, paramNames, plotBounds and sampleExact have the target's dimension.
 *
 * A wrong gradient is an error that names the parameter:
 *   target banana: gradLogDensity disagrees with finite differences in x2 at [0.31, -1.2]: 1.52
 *   by gradLogDensity, -1.52 by central differences (is its sign right?)
 *
 * `checkTarget(target, options?)` returns a report; `assertTarget` throws a TargetCheckError on
 * the first error. Gradient samplers (MALA, HMC, NUTS) and flow training run `assertTarget` on a
 * few of their own starting points before they start.
 */
import * as tf from '@tensorflow/tfjs';
import { FlowsamplerError, ParameterError } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import { fmt, makeWarning, type Warning } from '../core/warnings.js';
import type { Target } from './target.js';

/** Which of a target's computations to check. */
export type TargetPath =
  /** logDensity (always checked). */
  | 'float64'
  /** gradLogDensity: its value against logDensity, its gradient against finite differences. */
  | 'gradient'
  /** the batched tfjs logProb: shape, values, gradient. */
  | 'tfjs'
  /** valueAndGradBatch: values and gradients. */
  | 'batch';

export interface TargetCheckOptions {
  /** Points to check at (default: `nPoints` points around initialPoint(), or zeros). */
  points?: ArrayLike<number>[];
  /** How many default points (default 3). */
  nPoints?: number;
  /** Seed of the default points' jitter (default 0). */
  seed?: number | string;
  /** Paths to check where the target has them (default: all). */
  paths?: TargetPath[];
  /** Paths the target must have (and that must work), e.g. ['gradient'] for a gradient sampler. */
  require?: TargetPath[];
  /** Most coordinates checked by finite differences per point (default 64; rotates between points). */
  maxParams?: number;
  /** Also check the optional fields' shapes (initialPoint, mean, sampleExact, ...; default true). */
  shapes?: boolean;
}

export type TargetProblemCode = 'invalid-target' | 'shape' | 'value-path' | 'gradient' | 'gradient-path' | 'non-finite' | 'not-differentiable' | 'no-gradient' | 'throws';

export interface TargetProblem {
  code: TargetProblemCode;
  /** One line naming the target, the path and (for gradients) the parameter. */
  message: string;
  /** The parameter that disagrees, when there is one. */
  param?: string;
  point?: number[];
  values: Record<string, number>;
}

export interface TargetCheckReport {
  target: string;
  dim: number;
  /** No errors. */
  ok: boolean;
  errors: TargetProblem[];
  /** Suspicious but not wrong (NaN densities, every point outside the support). */
  warnings: Warning[];
  checked: { points: number; outsideSupport: number; gradientComponents: number; paths: TargetPath[] };
}

/** A target that computes something other than what it claims (one line; CLI exit 2). */
export class TargetCheckError extends FlowsamplerError {
  constructor(readonly report: TargetCheckReport) {
    super(report.errors[0]?.message ?? `target ${report.target}: check failed`);
  }
}

const FD_STEP = Math.cbrt(Number.EPSILON);
const EPS = Number.EPSILON;
/** float32 paths against float64: ~1000 float32 ulps. */
const RTOL_F32 = 1e-4;
const GTOL_F32 = 1e-3;
/** float64 paths computed in another order (batched) against the scalar path. */
const RTOL_F64 = 1e-8;
const GTOL_F64 = 1e-6;

function pointText(x: ArrayLike<number>): string {
  const shown = Array.from({ length: Math.min(6, x.length) }, (_, i) => fmt(Number(x[i])));
  return `[${shown.join(', ')}${x.length > 6 ? ', ...' : ''}]`;
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/** Runs the checks of the file header; never throws for a misbehaving target (it reports). */
export function checkTarget(target: Target, options: TargetCheckOptions = {}): TargetCheckReport {
  const name = String(target?.name ?? '?');
  const errors: TargetProblem[] = [];
  const warnings: Warning[] = [];
  const report = (paths: TargetPath[], points = 0, outside = 0, comps = 0): TargetCheckReport => ({
    target: name,
    dim: target?.dim,
    ok: errors.length === 0,
    errors,
    warnings,
    checked: { points, outsideSupport: outside, gradientComponents: comps, paths },
  });
  const err = (code: TargetProblemCode, message: string, extra: Partial<TargetProblem> = {}) =>
    errors.push({ code, message: `target ${name}: ${message}`, values: {}, ...extra });

  if (!target || typeof target.logDensity !== 'function') {
    err('invalid-target', 'must implement logDensity(x)');
    return report([]);
  }
  const dim = target.dim;
  if (!Number.isInteger(dim) || dim < 1) {
    err('invalid-target', `invalid dim ${String(dim)}: must be a positive integer`);
    return report([]);
  }
  const has = {
    gradient: typeof target.gradLogDensity === 'function',
    tfjs: typeof target.logProb === 'function',
    batch: typeof target.valueAndGradBatch === 'function',
  };
  const required = options.require ?? [];
  const wanted = [...new Set([...(options.paths ?? (['float64', 'gradient', 'tfjs', 'batch'] as TargetPath[])), ...required])];
  const paths = wanted.filter((p) => p === 'float64' || has[p as keyof typeof has]);
  for (const p of required) {
    if (p !== 'float64' && !has[p as keyof typeof has]) {
      const what = { gradient: 'gradLogDensity', tfjs: 'logProb', batch: 'valueAndGradBatch' }[p];
      err(p === 'gradient' ? 'no-gradient' : 'invalid-target', `has no ${what}, which is needed here`);
    }
  }
  const paramName = (i: number) => target.paramNames?.[i] ?? `x${i + 1}`;

  if (options.shapes !== false) checkShapes(target, dim, err);

  // Points, rounded to float32 so the float32 path sees exactly the point the float64 path does.
  let raw: ArrayLike<number>[];
  if (options.points) raw = options.points;
  else {
    let base: ArrayLike<number> = new Float64Array(dim);
    try {
      const ip = target.initialPoint?.();
      if (ip && ip.length === dim) base = ip;
    } catch {
      // reported by checkShapes
    }
    const rng = new RandomStream(options.seed ?? 0).derive('check-target');
    const n = options.nPoints ?? 3;
    raw = Array.from({ length: n }, (_, k) => (k === 0 ? Float64Array.from(base) : Float64Array.from(base, (v) => v + 2 * rng.uniform() - 1)));
  }
  const points: Float64Array[] = [];
  for (const p of raw) {
    if (p.length !== dim) {
      err('shape', `a check point has length ${p.length}, the target has dim ${dim}`);
      continue;
    }
    const x = Float64Array.from(Float32Array.from(p as ArrayLike<number>));
    if (x.every((v) => Number.isFinite(v))) points.push(x);
  }

  const f = (x: Float64Array): number => target.logDensity(x);
  // Per point: value, and whether inside the support.
  const values: number[] = [];
  const inside: Float64Array[] = [];
  const insideValues: number[] = [];
  let nanSeen = 0;
  for (const x of points) {
    let v: number;
    try {
      v = f(x);
    } catch (e) {
      err('throws', `logDensity threw at ${pointText(x)}: ${errorText(e)}`, { point: Array.from(x) });
      values.push(NaN);
      continue;
    }
    values.push(v);
    if (typeof v !== 'number') {
      err('value-path', `logDensity returned ${typeof v}, not a number, at ${pointText(x)}`, { point: Array.from(x) });
      continue;
    }
    if (v === Infinity) {
      err('non-finite', `logDensity is +Infinity at ${pointText(x)}: the density is unbounded there (improper)`, { point: Array.from(x) });
      continue;
    }
    if (Number.isNaN(v)) nanSeen++;
    if (Number.isFinite(v)) {
      inside.push(x);
      insideValues.push(v);
    }
  }
  if (nanSeen > 0) {
    warnings.push(makeWarning('non-finite', `target ${name}: logDensity is NaN at ${nanSeen} of ${points.length} check points; it should return -Infinity outside the support`, { count: nanSeen }));
  }
  if (points.length > 0 && inside.length === 0 && errors.length === 0) {
    warnings.push(makeWarning('gradient-check', `target ${name}: log p̃ is not finite at any of the ${points.length} check points, so its gradient was not checked`, { points: points.length }));
  }

  // Finite differences of logDensity at each inside point, on a rotating subset of coordinates.
  const maxParams = Math.max(1, Math.min(dim, options.maxParams ?? 64));
  const fdCache = new Map<number, FdEntry[]>();
  let comps = 0;
  const fdAt = (k: number): FdEntry[] => {
    let list = fdCache.get(k);
    if (!list) {
      list = [];
      for (let c = 0; c < maxParams; c++) {
        const i = (k * maxParams + c) % dim;
        const fd = finiteDifference(f, inside[k], i, insideValues[k]);
        if (fd) list.push({ i, ...fd });
      }
      comps += list.length;
      fdCache.set(k, list);
    }
    return list;
  };

  // gradLogDensity: its value against logDensity, its gradient against finite differences.
  const grads: (Float64Array | null)[] = inside.map(() => null);
  if (paths.includes('gradient')) {
    for (let k = 0; k < inside.length; k++) {
      const x = inside[k];
      const g = new Float64Array(dim);
      let v: number;
      try {
        v = target.gradLogDensity(Float64Array.from(x), g);
      } catch (e) {
        if (e instanceof ParameterError && /no gradient/.test(e.message)) {
          if (required.includes('gradient')) err('no-gradient', e.message.replace(/^target \S+ /, ''));
          break;
        }
        err('throws', `gradLogDensity threw at ${pointText(x)}: ${errorText(e)}`, { point: Array.from(x) });
        break;
      }
      const f0 = insideValues[k];
      if (!(Math.abs(v - f0) <= RTOL_F64 * (1 + Math.abs(f0)))) {
        err('value-path', `gradLogDensity returns log p̃ = ${fmt(v)} but logDensity gives ${fmt(f0)} at ${pointText(x)}`, { point: Array.from(x), values: { gradLogDensity: v, logDensity: f0 } });
        break;
      }
      const bad = g.findIndex((gi) => !Number.isFinite(gi));
      if (bad >= 0) {
        err('non-finite', `gradLogDensity gives ${g[bad]} for ${paramName(bad)} at ${pointText(x)}, where log p̃ = ${fmt(f0)} is finite`, { param: paramName(bad), point: Array.from(x) });
        break;
      }
      const worst = worstFdMismatch(g, fdAt(k));
      if (worst) {
        const { i, d, tol } = worst;
        const flipped = Math.sign(g[i]) === -Math.sign(d) && Math.abs(Math.abs(g[i]) - Math.abs(d)) < 0.1 * Math.abs(d);
        errors.push({
          code: 'gradient',
          message: `target ${name}: gradLogDensity disagrees with finite differences in ${paramName(i)} at ${pointText(x)}: ${fmt(g[i])} by gradLogDensity, ${fmt(d)} by central differences${flipped ? ' (is its sign right?)' : ''}`,
          param: paramName(i),
          point: Array.from(x),
          values: { gradLogDensity: g[i], finiteDifference: d, tolerance: tol },
        });
        break;
      }
      grads[k] = g;
    }
  }

  /**
   * Checks another path's gradient row at inside point k: against gradLogDensity (all
   * coordinates, tolerance `gtol` relative to the row's largest component) where it was checked,
   * else against the finite differences. Returns an error message, or null.
   */
  const compareGradient = (k: number, row: ArrayLike<number>, gtol: number, what: string): TargetProblem | null => {
    const ref = grads[k];
    const x = inside[k];
    if (ref) {
      const scale = 1 + ref.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      for (let j = 0; j < dim; j++) {
        if (!(Math.abs(row[j] - ref[j]) <= gtol * scale)) {
          // At a kink (abs at 0) any subgradient is right: inconclusive, not an error.
          const fd = finiteDifference(f, x, j, insideValues[k]);
          if (!fd || fd.truncation > 1e-3 * (1 + Math.abs(fd.d))) continue;
          return {
            code: 'gradient-path',
            message: `target ${name}: ${what} disagrees with gradLogDensity in ${paramName(j)} at ${pointText(x)}: ${fmt(row[j])} against ${fmt(ref[j])}`,
            param: paramName(j),
            point: Array.from(x),
            values: { path: row[j], gradLogDensity: ref[j] },
          };
        }
      }
      return null;
    }
    const fds = fdAt(k);
    const scale = 1 + fds.reduce((a, e) => Math.max(a, Math.abs(e.d)), 0);
    const worst = worstFdMismatch(row, fds, gtol * scale);
    if (!worst) return null;
    return {
      code: 'gradient',
      message: `target ${name}: ${what} disagrees with finite differences of logDensity in ${paramName(worst.i)} at ${pointText(x)}: ${fmt(row[worst.i])} against ${fmt(worst.d)}`,
      param: paramName(worst.i),
      point: Array.from(x),
      values: { path: row[worst.i], finiteDifference: worst.d },
    };
  };

  if (errors.length === 0 && paths.includes('tfjs') && points.length > 0) checkTfjs(target, dim, points, values, inside, insideValues, compareGradient, paramName, err, errors);
  if (errors.length === 0 && paths.includes('batch') && inside.length > 0) checkBatchPath(target, dim, inside, insideValues, compareGradient, err, errors);

  return report(paths, points.length, points.length - inside.length, comps);
}

/** Throws TargetCheckError on the first error of checkTarget; returns the report otherwise. */
export function assertTarget(target: Target, options: TargetCheckOptions = {}): TargetCheckReport {
  const r = checkTarget(target, options);
  if (!r.ok) throw new TargetCheckError(r);
  return r;
}

/**
 * Central differences at steps h and 2h, combined by Richardson extrapolation; `truncation` is
 * |d(h) − d(2h)| (the error estimate), `noise` the rounding error of f over h. null when f is
 * not finite at a shifted point (near the support's edge: inconclusive).
 */
function finiteDifference(f: (x: Float64Array) => number, x: Float64Array, i: number, f0: number): { d: number; truncation: number; noise: number } | null {
  const h = FD_STEP * Math.max(1, Math.abs(x[i]));
  const xw = Float64Array.from(x);
  const at = (t: number) => {
    xw[i] = x[i] + t;
    const v = f(xw);
    xw[i] = x[i];
    return v;
  };
  const p1 = at(h);
  const m1 = at(-h);
  const p2 = at(2 * h);
  const m2 = at(-2 * h);
  if (![p1, m1, p2, m2].every(Number.isFinite)) return null;
  const d1 = (p1 - m1) / (2 * h);
  const d2 = (p2 - m2) / (4 * h);
  // One-sided slopes differ by about h·f'' where f is smooth, and by the jump at a kink within h
  // (a symmetric kink, as abs at 0, fools the central differences themselves).
  const oneSided = Math.abs((p1 - f0) / h - (f0 - m1) / h);
  const scale = Math.max(Math.abs(f0), Math.abs(p1), Math.abs(m1), Math.abs(p2), Math.abs(m2));
  return { d: (4 * d1 - d2) / 3, truncation: Math.abs(d1 - d2) + oneSided, noise: (4 * EPS * scale) / h };
}

interface FdEntry {
  i: number;
  d: number;
  truncation: number;
  noise: number;
}

/** The coordinate whose gradient is furthest outside the finite-difference tolerance, or null. */
function worstFdMismatch(g: ArrayLike<number>, fds: FdEntry[], extraTol = 0): (FdEntry & { tol: number }) | null {
  let worst: (FdEntry & { tol: number }) | null = null;
  let worstRatio = 1;
  for (const e of fds) {
    const diff = Math.abs(g[e.i] - e.d);
    const tol = 10 * (e.truncation + e.noise) + 1e-4 * Math.max(Math.abs(g[e.i]), Math.abs(e.d)) + 1e-8 + extraTol;
    if (!(diff <= tol) && (Number.isNaN(diff) || diff / tol > worstRatio)) {
      worstRatio = Number.isNaN(diff) ? Infinity : diff / tol;
      worst = { ...e, tol };
    }
  }
  return worst;
}

type CompareFn = (k: number, row: ArrayLike<number>, gtol: number, what: string) => TargetProblem | null;

type ErrFn = (code: TargetProblemCode, message: string, extra?: Partial<TargetProblem>) => void;

function checkShapes(target: Target, dim: number, err: ErrFn): void {
  const len = (what: string, v: { length: number } | undefined, expected: number) => {
    if (v !== undefined && v !== null && v.length !== expected) err('shape', `${what} has length ${v.length}, expected ${expected}`);
  };
  try {
    len('initialPoint()', target.initialPoint?.(), dim);
  } catch (e) {
    err('throws', `initialPoint() threw: ${errorText(e)}`);
  }
  len('paramNames', target.paramNames, dim);
  len('mean', target.mean, dim);
  len('variance', target.variance, dim);
  len('plotBounds', target.plotBounds, dim);
  if (target.logZ !== undefined && !Number.isFinite(target.logZ)) err('shape', `logZ is ${target.logZ}, not a finite number`);
  if (target.sampleExact) {
    try {
      const s = target.sampleExact(2, new RandomStream(0).derive('check-target-exact'));
      if (s.length !== 2 * dim) err('shape', `sampleExact(2) returned ${s.length} values, expected 2 x ${dim} = ${2 * dim}`);
      else if (!Array.from(s).every(Number.isFinite)) err('non-finite', 'sampleExact(2) returned a non-finite value');
    } catch (e) {
      err('throws', `sampleExact threw: ${errorText(e)}`);
    }
  }
}

function checkTfjs(
  target: Target,
  dim: number,
  points: Float64Array[],
  values: number[],
  inside: Float64Array[],
  insideValues: number[],
  compare: CompareFn,
  paramName: (i: number) => string,
  err: ErrFn,
  errors: TargetProblem[],
): void {
  const m = points.length;
  const flat = new Float32Array(m * dim);
  points.forEach((x, r) => flat.set(x, r * dim));
  let lp: Float32Array;
  try {
    lp = tf.tidy(() => {
      const out = target.logProb!(tf.tensor2d(flat, [m, dim]));
      if (!(out instanceof tf.Tensor)) throw new CheckFailure('shape', `logProb must return a tensor of shape [${m}], got ${typeof out}`);
      if (out.rank !== 1 || out.shape[0] !== m) throw new CheckFailure('shape', `logProb of an [${m}, ${dim}] batch must have shape [${m}], got [${out.shape.join(', ')}]`);
      return Float32Array.from(out.dataSync());
    });
  } catch (e) {
    if (e instanceof CheckFailure) err(e.code, e.message);
    else err('throws', `logProb threw on an [${m}, ${dim}] batch: ${errorText(e)}`);
    return;
  }
  for (let r = 0; r < m; r++) {
    const v64 = values[r];
    const v32 = lp[r];
    if (v64 === undefined || Number.isNaN(v64)) continue;
    if (v64 === -Infinity) {
      if (Number.isNaN(v32) || v32 > -1e30) {
        err('value-path', `logProb (tfjs) is ${fmt(v32)} at ${pointText(points[r])} where logDensity is -Infinity (outside the support); it must be -Infinity there too`, { point: Array.from(points[r]) });
        return;
      }
      continue;
    }
    if (!(Math.abs(v32 - v64) <= RTOL_F32 * (1 + Math.abs(v64)))) {
      err('value-path', `logProb (tfjs) gives ${fmt(v32)} but logDensity gives ${fmt(v64)} at ${pointText(points[r])}`, { point: Array.from(points[r]), values: { logProb: v32, logDensity: v64 } });
      return;
    }
  }
  if (inside.length === 0) return;
  const n = inside.length;
  const xin = new Float32Array(n * dim);
  inside.forEach((x, r) => xin.set(x, r * dim));
  let g: Float32Array;
  try {
    g = tf.tidy(() => {
      const xt = tf.tensor2d(xin, [n, dim]);
      const grad = tf.grad((z: tf.Tensor) => tf.sum(target.logProb!(z as tf.Tensor2D)))(xt);
      return Float32Array.from(grad.dataSync());
    });
  } catch (e) {
    const msg = errorText(e);
    if (/Cannot compute gradient/.test(msg)) {
      err('not-differentiable', `its tfjs logProb is not differentiable: its result does not depend on the input through tfjs operations (e.g. it reads values with dataSync/arraySync and builds a new tensor); write it with tf ops only, or drop logProb so flows train on gradLogDensity`);
    } else err('throws', `the gradient of logProb (tfjs) failed: ${msg}`);
    return;
  }
  for (let r = 0; r < n; r++) {
    const row = g.subarray(r * dim, (r + 1) * dim);
    const badIdx = row.findIndex((v) => !Number.isFinite(v));
    if (badIdx >= 0) {
      err('non-finite', `the tfjs gradient of logProb is ${row[badIdx]} for ${paramName(badIdx)} at ${pointText(inside[r])}, where log p̃ = ${fmt(insideValues[r])} is finite`, { param: paramName(badIdx) });
      return;
    }
    const problem = compare(r, row, GTOL_F32, 'the tfjs gradient of logProb');
    if (problem) {
      errors.push(problem);
      return;
    }
  }
}

function checkBatchPath(
  target: Target,
  dim: number,
  inside: Float64Array[],
  insideValues: number[],
  compare: CompareFn,
  err: ErrFn,
  errors: TargetProblem[],
): void {
  const n = inside.length;
  const x = new Float64Array(n * dim);
  inside.forEach((p, r) => x.set(p, r * dim));
  const logp = new Float64Array(n).fill(NaN);
  const grad = new Float64Array(n * dim).fill(NaN);
  try {
    target.valueAndGradBatch!(x, n, logp, grad);
  } catch (e) {
    err('throws', `valueAndGradBatch threw on ${n} rows: ${errorText(e)}`);
    return;
  }
  for (let r = 0; r < n; r++) {
    const v = insideValues[r];
    if (!(Math.abs(logp[r] - v) <= RTOL_F64 * 100 * (1 + Math.abs(v)))) {
      err('value-path', `valueAndGradBatch gives log p̃ = ${fmt(logp[r])} but logDensity gives ${fmt(v)} at ${pointText(inside[r])}`, { point: Array.from(inside[r]) });
      return;
    }
    const problem = compare(r, grad.subarray(r * dim, (r + 1) * dim), GTOL_F64, "valueAndGradBatch's gradient");
    if (problem) {
      errors.push(problem);
      return;
    }
  }
}

class CheckFailure extends Error {
  constructor(readonly code: TargetProblemCode, message: string) {
    super(message);
  }
}
