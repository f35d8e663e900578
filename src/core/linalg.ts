/**
 * Small dense linear algebra in float64 on row-major Float64Arrays (n x n). Enough for
 * Gaussian targets, proposal covariances and mass matrices; mathjs is used where we need
 * more (eigen-decompositions, FFT).
 */
import { ParameterError } from './errors.js';

/**
 * Cholesky factor L (lower triangular, row-major) with A = L L^T.
 * Throws a ParameterError naming `what` when A is not symmetric positive definite.
 */
export function cholesky(a: Float64Array, n: number, what = 'matrix'): Float64Array {
  if (a.length !== n * n) throw new ParameterError(`${what}: expected ${n}x${n} = ${n * n} entries, got ${a.length}`);
  const scale = Math.max(1e-300, ...Array.from({ length: n }, (_, i) => Math.abs(a[i * n + i])));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (Math.abs(a[i * n + j] - a[j * n + i]) > 1e-10 * scale) {
        throw new ParameterError(`${what} is not symmetric: entry (${i + 1},${j + 1}) differs from (${j + 1},${i + 1})`);
      }
    }
  }
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) {
          throw new ParameterError(`${what} is not positive definite (pivot ${i + 1} is ${s.toPrecision(3)})`);
        }
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  return l;
}

/** out = L x for lower-triangular L. */
export function lowerMatVec(l: Float64Array, x: Float64Array, n: number, out = new Float64Array(n)): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = 0;
    for (let k = 0; k <= i; k++) s += l[i * n + k] * x[k];
    out[i] = s;
  }
  return out;
}

/** Solves L y = b (forward substitution). */
export function solveLower(l: Float64Array, b: Float64Array, n: number, out = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * out[k];
    out[i] = s / l[i * n + i];
  }
  return out;
}

/** Solves L^T y = b (back substitution with the transpose of lower-triangular L). */
export function solveLowerT(l: Float64Array, b: Float64Array, n: number, out = new Float64Array(n)): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * out[k];
    out[i] = s / l[i * n + i];
  }
  return out;
}

/** log det A from its Cholesky factor. */
export function logDetFromCholesky(l: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(l[i * n + i]);
  return 2 * s;
}

/** Inverse of A from its Cholesky factor. */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  const e = new Float64Array(n);
  const y = new Float64Array(n);
  const x = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    solveLower(l, e, n, y);
    solveLowerT(l, y, n, x);
    for (let i = 0; i < n; i++) inv[i * n + j] = x[i];
  }
  return inv;
}

/** out = A x for a dense row-major n x n matrix. */
export function matVec(a: Float64Array, x: Float64Array, n: number, out = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const row = i * n;
    for (let k = 0; k < n; k++) s += a[row + k] * x[k];
    out[i] = s;
  }
  return out;
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Numerically stable log(sum(exp(a))). Returns -Infinity for an empty or all -Inf input. */
export function logSumExp(a: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  if (m === -Infinity) return -Infinity;
  if (m === Infinity) return Infinity;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.exp(a[i] - m);
  return m + Math.log(s);
}
