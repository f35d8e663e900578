/**
 * Generalized Pareto distribution: the empirical-Bayes fit of Zhang & Stephens (2009,
 * "A new and efficient estimation method for the generalized Pareto distribution",
 * Technometrics, section 4) with the weakly informative prior on k of Vehtari et al. (2024,
 * PSIS, JMLR), as loo 2.5.1's `gpdfit`, and the quantile function.
 */

export interface GpdFit {
  k: number;
  sigma: number;
}

/**
 * Fits a GPD with location 0 to `x`, which must be sorted ascending and positive.
 * Profile log-likelihood on a grid of M = 30 + floor(sqrt(N)) values of theta = -k/sigma,
 * posterior mean of theta, then k shrunk towards 0.5 with a prior worth 10 observations.
 */
export function gpdFit(x: Float64Array, minGridPts = 30): GpdFit {
  const n = x.length;
  const prior = 3;
  const m = minGridPts + Math.floor(Math.sqrt(n));
  const xstar = x[Math.floor(n / 4 + 0.5) - 1]; // first quartile
  const theta = new Float64Array(m);
  const logLik = new Float64Array(m);
  let maxLl = -Infinity;
  for (let j = 0; j < m; j++) {
    theta[j] = 1 / x[n - 1] + (1 - Math.sqrt(m / (j + 1 - 0.5))) / prior / xstar;
    // profile log-likelihood of theta: n (log(-theta / k) - k - 1), k = mean(log1p(-theta x))
    const a = -theta[j];
    let k = 0;
    for (let i = 0; i < n; i++) k += Math.log1p(a * x[i]);
    k /= n;
    logLik[j] = n * (Math.log(a / k) - k - 1);
    if (logLik[j] > maxLl) maxLl = logLik[j];
  }
  // Normalised weights exp(l - logSumExp(l)); NaN log-likelihoods propagate as in R.
  let z = 0;
  for (let j = 0; j < m; j++) z += Math.exp(logLik[j] - maxLl);
  const lse = maxLl + Math.log(z);
  let thetaHat = 0;
  for (let j = 0; j < m; j++) thetaHat += theta[j] * Math.exp(logLik[j] - lse);
  let k = 0;
  for (let i = 0; i < n; i++) k += Math.log1p(-thetaHat * x[i]);
  k /= n;
  const sigma = -k / thetaHat;
  // Weakly informative prior: shrink towards 0.5 as if a = 10 extra observations.
  const a = 10;
  k = (k * n) / (n + a) + (a * 0.5) / (n + a);
  if (Number.isNaN(k)) k = Infinity;
  return { k, sigma };
}

/** GPD quantile with location 0: sigma * expm1(-k log1p(-p)) / k. */
export function qgpd(p: number, k: number, sigma: number): number {
  if (Number.isNaN(sigma) || sigma <= 0) return NaN;
  return (sigma * Math.expm1(-k * Math.log1p(-p))) / k;
}
