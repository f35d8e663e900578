/**
 * The model ops users write with: arithmetic, special functions, reductions, structure and
 * linear algebra. Each takes model values or data (numbers, arrays, nested arrays for matrices)
 * and gives a model value, or plain numbers when every argument is data, so data-only
 * expressions are computed once when the model is built.
 */
import { applyBinary, applyUnary, type ConstResult } from './elementwise.js';
import { ModelError, Var, constValue, shapeOfValue, type Value } from './graph.js';
import { stack, sum, addAll, at2, diagonal } from './structure.js';
import { matMul } from './linalg.js';
import { transpose as transposeOp } from './structure.js';

export type Result = Var | ConstResult;

export const add = (a: Value, b: Value): Result => applyBinary('add', a, b);
export const sub = (a: Value, b: Value): Result => applyBinary('sub', a, b);
export const mul = (a: Value, b: Value): Result => applyBinary('mul', a, b);
export const div = (a: Value, b: Value): Result => applyBinary('div', a, b);
export const pow = (a: Value, b: Value): Result => applyBinary('pow', a, b);
export const fmax = (a: Value, b: Value): Result => applyBinary('fmax', a, b);
export const fmin = (a: Value, b: Value): Result => applyBinary('fmin', a, b);
/** log(eᵃ + eᵇ), elementwise. */
export const logAddExp = (a: Value, b: Value): Result => applyBinary('logAddExp', a, b);
export const lbeta = (a: Value, b: Value): Result => applyBinary('lbeta', a, b);

export const neg = (a: Value): Result => applyUnary('neg', a);
export const exp = (a: Value): Result => applyUnary('exp', a);
export const log = (a: Value): Result => applyUnary('log', a);
export const log1p = (a: Value): Result => applyUnary('log1p', a);
export const expm1 = (a: Value): Result => applyUnary('expm1', a);
export const sqrt = (a: Value): Result => applyUnary('sqrt', a);
export const square = (a: Value): Result => applyUnary('square', a);
export const inv = (a: Value): Result => applyUnary('inv', a);
export const abs = (a: Value): Result => applyUnary('abs', a);
export const tanh = (a: Value): Result => applyUnary('tanh', a);
export const sin = (a: Value): Result => applyUnary('sin', a);
export const cos = (a: Value): Result => applyUnary('cos', a);
export const logit = (a: Value): Result => applyUnary('logit', a);
export const invLogit = (a: Value): Result => applyUnary('invLogit', a);
export const logInvLogit = (a: Value): Result => applyUnary('logInvLogit', a);
export const log1mInvLogit = (a: Value): Result => applyUnary('log1mInvLogit', a);
export const log1pExp = (a: Value): Result => applyUnary('log1pExp', a);
export const log1mExp = (a: Value): Result => applyUnary('log1mExp', a);
export const lgamma = (a: Value): Result => applyUnary('lgamma', a);
export const digamma = (a: Value): Result => applyUnary('digamma', a);

/** Σ aᵢ² */
export function sumSquares(a: Value): Var | number {
  return sum(square(a));
}

/** Arithmetic mean of the elements. */
export function mean(a: Value): Result {
  const n = shapeOfValue(a).reduce((p, s) => p * s, 1);
  return div(sum(a), n);
}

/** log(θ eᵃ + (1 − θ) eᵇ) (Stan's log_mix), elementwise in a and b. */
export function logMix(theta: Value, a: Value, b: Value): Result {
  return logAddExp(add(log(theta), a), add(log1m(theta), b));
}

/** log(1 − x). */
export function log1m(a: Value): Result {
  return log1p(neg(a));
}

/** A square matrix with v on the diagonal (zeros elsewhere). */
export function diagMatrix(v: Value): Result {
  const s = shapeOfValue(v, 'diagMatrix');
  if (s.length !== 1) throw new ModelError('diagMatrix: needs a vector');
  const n = s[0];
  const items: Value[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) items.push(i === j ? (v instanceof Var ? v.graph.view(v, i, []) : constValue(v as Exclude<Value, Var>).values[i]) : 0);
  const flat = stack(items);
  return flat instanceof Var ? flat.graph.view(flat, 0, [n, n]) : flat;
}

/** A + diag(d) for a square A and a scalar or vector d. */
export function addDiag(a: Value, d: Value): Result {
  const s = shapeOfValue(a, 'addDiag');
  if (s.length !== 2 || s[0] !== s[1]) throw new ModelError('addDiag: needs a square matrix');
  const n = s[0];
  const ds = shapeOfValue(d, 'addDiag');
  const dv = ds.length === 0 ? Array.from({ length: n }, () => d) : Array.from({ length: n }, (_, i) => (d instanceof Var ? d.graph.view(d, i, []) : constValue(d as Exclude<Value, Var>).values[i]));
  const items: Value[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) items.push(i === j ? dv[i] : 0);
  const dm = stack(items);
  const dmat = dm instanceof Var ? dm.graph.view(dm, 0, [n, n]) : Array.from({ length: n }, (_, i) => Array.from(dm.subarray(i * n, (i + 1) * n)));
  return add(a, dmat);
}

/** L Lᵀ. */
export function multiplyLowerTriSelfTranspose(l: Value): Result {
  return matMul(l, transposeOp(l));
}

/**
 * The squared-exponential covariance (Stan's gp_exp_quad_cov) of 1-D inputs x:
 * K_ij = α² exp(−(x_i − x_j)² / (2ρ²)).
 */
export function gpExpQuadCov(x: ArrayLike<number>, alpha: Value, rho: Value): Result {
  const n = x.length;
  const d2 = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d2[i * n + j] = (x[i] - x[j]) ** 2;
  const k = mul(square(alpha), exp(div(d2, mul(-2, square(rho)))));
  return k instanceof Var ? k.graph.view(k, 0, [n, n]) : k;
}

export { sum, addAll, stack, at2, diagonal, matMul };
export { dot, logSumExp, at, slice, rep, reshape, cumulativeSum, transpose } from './structure.js';
export { cholesky, solveLowerTriangular } from './linalg.js';
