/**
 * Special functions on plain float64 numbers, as Stan names them: log-gamma, digamma and
 * trigamma come from @stdlib (Cephes/Boost-derived implementations); the logistic family is
 * written in the forms that do not overflow (log1p_exp(x) = x + log1p(e^-x) for x > 0, ...).
 * The model ops of the same names (src/models/ops.ts) accept graph values too.
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import digammaFn from '@stdlib/math-base-special-digamma';
import trigammaFn from '@stdlib/math-base-special-trigamma';

export const LOG_2PI = Math.log(2 * Math.PI);
export const LOG_PI = Math.log(Math.PI);
export const LOG_2 = Math.LN2;

/** log Γ(x). */
export function lgamma(x: number): number {
  return gammaln(x);
}
/** ψ(x) = d/dx log Γ(x). */
export function digamma(x: number): number {
  return digammaFn(x);
}
/** ψ′(x). */
export function trigamma(x: number): number {
  return trigammaFn(x);
}
/** log(1 + eˣ) (softplus) without overflow. */
export function log1pExp(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}
/** 1 / (1 + e⁻ˣ). */
export function invLogit(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
/** log(p / (1 − p)). */
export function logit(p: number): number {
  return Math.log(p) - Math.log1p(-p);
}
/** log(invLogit(x)) = −log1pExp(−x). */
export function logInvLogit(x: number): number {
  return -log1pExp(-x);
}
/** log(1 − invLogit(x)) = −log1pExp(x). */
export function log1mInvLogit(x: number): number {
  return -log1pExp(x);
}
/** log(1 − eˣ) for x ≤ 0 (Mächler 2012's switch at −log 2). */
export function log1mExp(x: number): number {
  if (x > 0) return NaN;
  return x > -LOG_2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
}
/** log(eᵃ + eᵇ). */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = a > b ? a : b;
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}
/** log Σ exp(xᵢ), stable; −∞ for an empty array. */
export function logSumExp(x: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > m) m = x[i];
  if (m === -Infinity || !Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - m);
  return m + Math.log(s);
}
/** log B(a, b). */
export function lbeta(a: number, b: number): number {
  return gammaln(a) + gammaln(b) - gammaln(a + b);
}
/** log (n choose k). */
export function lchoose(n: number, k: number): number {
  return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);
}
