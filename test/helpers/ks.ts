/**
 * Kolmogorov–Smirnov tests for the exact samplers (Box–Muller, multivariate normal, rejection)
 * and for stationarity checks of MCMC kernels. p-values from the asymptotic Kolmogorov
 * distribution with Stephens' (1970) small-sample correction, accurate enough for n >= 50.
 */

/** Standard normal CDF via erfc (W. J. Cody's rational approximations are overkill here:
 * Numerical Recipes' erfc, |relative error| < 1.2e-7, far below KS resolution). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Survival function of the Kolmogorov distribution, P(K > lambda). */
export function kolmogorovSf(lambda: number): number {
  if (lambda < 0.2) return 1;
  let s = 0;
  for (let k = 1; k <= 100; k++) {
    const term = 2 * (k % 2 === 1 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
    s += term;
    if (Math.abs(term) < 1e-16) break;
  }
  return Math.min(1, Math.max(0, s));
}

export interface KsResult {
  d: number;
  pValue: number;
  n: number;
}

/** One-sample KS statistic of `x` against the continuous CDF `cdf`. */
export function ksOneSample(x: ArrayLike<number>, cdf: (v: number) => number): KsResult {
  const a = Float64Array.from(x).sort();
  const n = a.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(a[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  const sn = Math.sqrt(n);
  return { d, n, pValue: kolmogorovSf((sn + 0.12 + 0.11 / sn) * d) };
}

/** Two-sample KS statistic. */
export function ksTwoSample(x: ArrayLike<number>, y: ArrayLike<number>): KsResult {
  const a = Float64Array.from(x).sort();
  const b = Float64Array.from(y).sort();
  const n = a.length;
  const m = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(a[i], b[j]);
    while (i < n && a[i] <= v) i++;
    while (j < m && b[j] <= v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const ne = (n * m) / (n + m);
  const se = Math.sqrt(ne);
  return { d, n: ne, pValue: kolmogorovSf((se + 0.12 + 0.11 / se) * d) };
}
