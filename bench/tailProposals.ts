/**
 * Defensive proposals built on a trained flow q, for importance sampling and independence MH
 * (bench/coverage.ts measures them; the library keeps `baseScale` only):
 * - `plain`: q itself;
 * - `widened`: the flow on N(0, τ² I) base noise, τ = defensiveBaseScale(dim) (`baseScale: 'auto'`);
 * - `epsMixture`: (1 − α) q + α q_τ with τ = 2 — the same flow on two base scales, whose densities
 *   at a draw are both exact from its ε (log q_τ − log q = log N(ε; 0, τ²) − log N(ε; 0, I));
 * - `hesterberg`: Hesterberg's (1995) defensive mixture (1 − α) q + α g with g a multivariate
 *   Student t (ν = 5) on the flow's mean and 2² × its covariance, so the weights p / q_mix are
 *   bounded by p / (α g) wherever g's tails are heavier than p's; q at g's draws needs the flow's
 *   inverse (`logProbArrays`).
 * Every proposal is returned as a pool of draws with their exact log proposal density.
 */
import * as tf from '@tensorflow/tfjs';
import type { Flow } from '../src/flows/flow.js';
import { RandomStream } from '../src/core/random.js';
import { defensiveBaseScale } from '../src/samplers/flowImportance.js';
import { cholesky, logDetFromCholesky } from '../src/core/linalg.js';

export interface Pool {
  x: Float64Array;
  logq: Float64Array;
}

export type ProposalKind = 'plain' | 'widened' | 'epsMixture' | 'hesterberg';
export const PROPOSALS: ProposalKind[] = ['plain', 'widened', 'epsMixture', 'hesterberg'];

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

function logNormal(eps: Float64Array, off: number, dim: number, scale: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += (eps[off + j] / scale) ** 2;
  return -0.5 * s - dim * (Math.log(scale) + HALF_LOG_2PI);
}

function logAddExp(a: number, b: number): number {
  const m = Math.max(a, b);
  return m === -Infinity ? -Infinity : m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/** x = f(ε) and log q_1(x) for given noise (the flow's sampling program on its engine). */
function forward(flow: Flow, eps: Float64Array, n: number): Pool {
  const [x, logq] = flow.activeEngine().evaluate(flow.store, flow.samplingProgram(1), [{ values: eps, rows: n, cols: flow.dim }]);
  return { x: Float64Array.from(x), logq: Float64Array.from(logq) };
}

function epsMixture(flow: Flow, n: number, rng: RandomStream, alpha = 0.2, tau = 2): Pool {
  const dim = flow.dim;
  const eps = rng.fillNormal(new Float64Array(n * dim));
  for (let i = 0; i < n; i++) if (rng.uniform() < alpha) for (let j = 0; j < dim; j++) eps[i * dim + j] *= tau;
  const p = forward(flow, eps, n);
  for (let i = 0; i < n; i++) {
    const l1 = logNormal(eps, i * dim, dim, 1);
    const lt = logNormal(eps, i * dim, dim, tau);
    // log q_mix = log q_1 + log((1 − α) + α N_τ(ε) / N_1(ε)).
    p.logq[i] += logAddExp(Math.log(1 - alpha), Math.log(alpha) + lt - l1);
  }
  return p;
}

/** Multivariate t(ν) with location m, scale matrix S = L Lᵀ: draws and log density. */
class StudentT {
  private readonly logNorm: number;
  constructor(
    readonly m: Float64Array,
    readonly L: Float64Array,
    readonly nu: number,
  ) {
    const d = m.length;
    this.logNorm = lgamma((nu + d) / 2) - lgamma(nu / 2) - (d / 2) * Math.log(nu * Math.PI) - 0.5 * logDetFromCholesky(L, d);
  }
  sample(rng: RandomStream, out: Float64Array): void {
    const d = this.m.length;
    const z = rng.fillNormal(new Float64Array(d));
    let chi = 0;
    for (let k = 0; k < this.nu; k++) chi += rng.normal() ** 2; // ν is an integer here
    const s = Math.sqrt(this.nu / chi);
    for (let i = 0; i < d; i++) {
      let v = 0;
      for (let j = 0; j <= i; j++) v += this.L[i * d + j] * z[j];
      out[i] = this.m[i] + s * v;
    }
  }
  logDensity(x: Float64Array): number {
    const d = this.m.length;
    // Solve L y = x − m; the quadratic form is |y|².
    const y = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let v = x[i] - this.m[i];
      for (let j = 0; j < i; j++) v -= this.L[i * d + j] * y[j];
      y[i] = v / this.L[i * d + i];
    }
    let q = 0;
    for (const v of y) q += v * v;
    return this.logNorm - ((this.nu + d) / 2) * Math.log1p(q / this.nu);
  }
}

/** log Γ by Lanczos (g = 7), ample for the constants above. */
function lgamma(z: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (z < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * z))) - lgamma(1 - z);
  z -= 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function hesterberg(flow: Flow, n: number, rng: RandomStream, alpha = 0.1, widen = 2, nu = 5): Pool {
  const dim = flow.dim;
  // g from the flow's own moments (20 000 draws).
  const pilot = flow.sampleArrays(20_000, rng.derive('pilot')).x;
  const m = new Float64Array(dim);
  const cov = new Float64Array(dim * dim);
  const np = pilot.length / dim;
  for (let r = 0; r < np; r++) for (let i = 0; i < dim; i++) m[i] += pilot[r * dim + i] / np;
  for (let r = 0; r < np; r++)
    for (let i = 0; i < dim; i++) for (let j = 0; j <= i; j++) cov[i * dim + j] += ((pilot[r * dim + i] - m[i]) * (pilot[r * dim + j] - m[j])) / (np - 1);
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) cov[j * dim + i] = cov[i * dim + j];
  for (let i = 0; i < dim * dim; i++) cov[i] *= widen * widen * ((nu - 2) / nu); // t scale for that covariance
  const g = new StudentT(m, cholesky(cov, dim, 'defensive covariance'), nu);
  const fromG = Array.from({ length: n }, () => rng.uniform() < alpha);
  const nG = fromG.filter(Boolean).length;
  const fq = flow.sampleArrays(Math.max(1, n - nG), rng.derive('flow'));
  const gx = new Float64Array(nG * dim);
  const row = new Float64Array(dim);
  for (let k = 0; k < nG; k++) {
    g.sample(rng, row);
    gx.set(row, k * dim);
  }
  const gq = nG > 0 ? flow.logProbArrays(gx) : new Float64Array(0);
  const x = new Float64Array(n * dim);
  const logq = new Float64Array(n);
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    let lq: number;
    if (fromG[i]) {
      row.set(gx.subarray(b * dim, (b + 1) * dim));
      lq = gq[b++];
    } else {
      row.set(fq.x.subarray(a * dim, (a + 1) * dim));
      lq = fq.logq[a++];
    }
    x.set(row, i * dim);
    logq[i] = logAddExp(Math.log(1 - alpha) + lq, Math.log(alpha) + g.logDensity(row));
  }
  return { x, logq };
}

/** n draws of the proposal `kind` with their exact log density. */
export function proposalPool(kind: ProposalKind, flow: Flow, n: number, seed: string): Pool {
  const rng = new RandomStream(seed).derive(kind);
  switch (kind) {
    case 'plain':
      return flow.sampleArrays(n, rng);
    case 'widened':
      return flow.sampleArrays(n, rng, 10_000, defensiveBaseScale(flow.dim));
    case 'epsMixture':
      return epsMixture(flow, n, rng);
    case 'hesterberg':
      return hesterberg(flow, n, rng);
  }
}
