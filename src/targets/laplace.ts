/**
 * The Laplace approximation of a target: its mode by L-BFGS on −log p̃ (Nocedal & Wright 2006,
 * Alg. 7.4, with a backtracking Armijo line search), and the covariance (−∇² log p̃)⁻¹ at the
 * mode, the Hessian from central differences of the analytic gradient. A pilot for flows and
 * samplers: where the posterior is and how wide, before anything is trained.
 *
 * It can fail honestly: `ok` is false (with the reason) when the search does not converge, runs
 * off to infinity or the Hessian is not negative definite, as at the degenerate "mode" of a
 * funnel's neck. Callers then use something else.
 */
import type { Target } from './target.js';
import { cholesky } from '../core/linalg.js';

export interface LaplaceResult {
  ok: boolean;
  /** Why it failed, when it did. */
  reason?: string;
  mode: Float64Array;
  logDensity: number;
  /** Covariance (row-major dim x dim) and its lower Cholesky factor, when ok. */
  cov?: Float64Array;
  cholesky?: Float64Array;
  iterations: number;
  gradientEvals: number;
}

export interface LaplaceOptions {
  /** Start of the search (default target.initialPoint() or zeros). */
  start?: Float64Array;
  maxIterations?: number;
  /** Stop when max|∇ log p̃| · max(1, max|x|) ≤ tolerance · max(1, |log p̃|) (default 1e-6). */
  tolerance?: number;
  /** L-BFGS memory (default 10). */
  memory?: number;
}

function dotp(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function laplace(target: Target, options: LaplaceOptions = {}): LaplaceResult {
  const D = target.dim;
  const maxIt = options.maxIterations ?? 500;
  const tol = options.tolerance ?? 1e-6;
  const m = options.memory ?? 10;
  const x = Float64Array.from(options.start ?? target.initialPoint?.() ?? new Float64Array(D));
  const g = new Float64Array(D);
  let evals = 0;
  const f = (p: Float64Array, out: Float64Array) => {
    evals++;
    const v = target.gradLogDensity(p, out);
    // Minimise −log p̃.
    for (let i = 0; i < D; i++) out[i] = -out[i];
    return -v;
  };
  let fx = f(x, g);
  const fail = (reason: string, it: number): LaplaceResult => ({ ok: false, reason, mode: x, logDensity: -fx, iterations: it, gradientEvals: evals });
  if (!Number.isFinite(fx) || !g.every(Number.isFinite)) return fail('the log density or its gradient is not finite at the start', 0);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const dir = new Float64Array(D);
  const xn = new Float64Array(D);
  const gn = new Float64Array(D);
  const alpha = new Float64Array(m);
  let it = 0;
  for (; it < maxIt; it++) {
    let gmax = 0;
    let xmax = 1;
    for (let i = 0; i < D; i++) {
      gmax = Math.max(gmax, Math.abs(g[i]));
      xmax = Math.max(xmax, Math.abs(x[i]));
    }
    if (gmax * xmax <= tol * Math.max(1, Math.abs(fx))) break;
    // Two-loop recursion: dir = −H g.
    dir.set(g);
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = dotp(S[k], dir) / dotp(Y[k], S[k]);
      for (let i = 0; i < D; i++) dir[i] -= alpha[k] * Y[k][i];
    }
    if (S.length > 0) {
      const k = S.length - 1;
      const gamma = dotp(S[k], Y[k]) / dotp(Y[k], Y[k]);
      for (let i = 0; i < D; i++) dir[i] *= gamma;
    } else {
      const gn2 = Math.sqrt(dotp(g, g));
      for (let i = 0; i < D; i++) dir[i] /= Math.max(1, gn2);
    }
    for (let k = 0; k < S.length; k++) {
      const beta = dotp(Y[k], dir) / dotp(Y[k], S[k]);
      for (let i = 0; i < D; i++) dir[i] += S[k][i] * (alpha[k] - beta);
    }
    for (let i = 0; i < D; i++) dir[i] = -dir[i];
    let slope = dotp(g, dir);
    if (!(slope < 0)) {
      // Not a descent direction: restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      for (let i = 0; i < D; i++) dir[i] = -g[i];
      slope = -dotp(g, g);
    }
    let t = 1;
    let fn = NaN;
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < D; i++) xn[i] = x[i] + t * dir[i];
      fn = f(xn, gn);
      if (Number.isFinite(fn) && fn <= fx + 1e-4 * t * slope) break;
      t *= 0.5;
    }
    if (!(Number.isFinite(fn) && fn <= fx + 1e-4 * t * slope)) break;
    const s = new Float64Array(D);
    const y = new Float64Array(D);
    for (let i = 0; i < D; i++) {
      s[i] = xn[i] - x[i];
      y[i] = gn[i] - g[i];
    }
    if (dotp(s, y) > 1e-12 * Math.sqrt(dotp(s, s) * dotp(y, y))) {
      S.push(s);
      Y.push(y);
      if (S.length > m) {
        S.shift();
        Y.shift();
      }
    }
    x.set(xn);
    g.set(gn);
    fx = fn;
    if (!x.every((v) => Math.abs(v) < 1e12)) return fail('the search ran off to infinity (the density may have no mode)', it);
  }
  if (it >= maxIt) return fail(`no convergence in ${maxIt} iterations`, it);
  // Hessian of −log p̃ by central differences of the gradient, symmetrised.
  const Hm = new Float64Array(D * D);
  const gp = new Float64Array(D);
  const gm = new Float64Array(D);
  const xp = Float64Array.from(x);
  for (let j = 0; j < D; j++) {
    const h = 1e-4 * Math.max(1, Math.abs(x[j]));
    xp[j] = x[j] + h;
    f(xp, gp);
    xp[j] = x[j] - h;
    f(xp, gm);
    xp[j] = x[j];
    for (let i = 0; i < D; i++) Hm[i * D + j] = (gp[i] - gm[i]) / (2 * h);
  }
  for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) Hm[i * D + j] = Hm[j * D + i] = 0.5 * (Hm[i * D + j] + Hm[j * D + i]);
  if (!Hm.every(Number.isFinite)) return fail('the Hessian at the mode is not finite', it);
  let Lh: Float64Array;
  try {
    Lh = cholesky(Hm, D, 'the negative Hessian');
  } catch {
    return fail('the Hessian at the mode is not negative definite (a saddle or a degenerate mode)', it);
  }
  // cov = (L Lᵀ)⁻¹: solve column by column.
  const cov = new Float64Array(D * D);
  const col = new Float64Array(D);
  const tmp = new Float64Array(D);
  for (let c = 0; c < D; c++) {
    col.fill(0);
    col[c] = 1;
    for (let i = 0; i < D; i++) {
      let s = col[i];
      for (let k = 0; k < i; k++) s -= Lh[i * D + k] * tmp[k];
      tmp[i] = s / Lh[i * D + i];
    }
    for (let i = D - 1; i >= 0; i--) {
      let s = tmp[i];
      for (let k = i + 1; k < D; k++) s -= Lh[k * D + i] * col[k];
      col[i] = s / Lh[i * D + i];
    }
    for (let i = 0; i < D; i++) cov[i * D + c] = col[i];
  }
  for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) cov[i * D + j] = cov[j * D + i] = 0.5 * (cov[i * D + j] + cov[j * D + i]);
  let Lc: Float64Array;
  try {
    Lc = cholesky(cov, D, 'the Laplace covariance');
  } catch {
    return fail('the Laplace covariance is not positive definite', it);
  }
  return { ok: true, mode: x, logDensity: -fx, cov, cholesky: Lc, iterations: it, gradientEvals: evals };
}
