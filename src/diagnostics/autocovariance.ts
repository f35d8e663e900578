/**
 * Autocovariances by FFT in O(N log N) (Geyer 1992, "Practical Markov chain Monte Carlo",
 * Statistical Science): the "biased" estimator (divide by N at every lag) recommended there,
 * as posterior's `autocovariance`.
 *
 * Padding: posterior pads to 2 * nextn(N) (a 2-3-5 smooth length); we pad to a power of two
 * >= 2N. Any padding of at least 2N - 1 makes the circular correlation equal the linear one,
 * so the values agree to rounding (about 1e-15 relative).
 */
import { ParameterError } from '../core/errors.js';
import { fftInPlace, nextPow2 } from './fft.js';
import { mean, variance } from './stats.js';

/** Autocovariances at lags 0..N-1 of one series: acov[k] = (1/N) Σ_t (x_t - x̄)(x_{t+k} - x̄). */
export function autocovariance(x: Float64Array): Float64Array {
  const n = x.length;
  if (n < 2) throw new ParameterError(`autocovariance: need at least 2 values, got ${n}`);
  const varx = variance(x);
  if (varx === 0) return new Float64Array(n);
  const m = nextPow2(2 * n);
  const re = new Float64Array(m);
  const im = new Float64Array(m);
  const mu = mean(x);
  for (let i = 0; i < n; i++) re[i] = x[i] - mu;
  fftInPlace(re, im);
  for (let k = 0; k < m; k++) {
    re[k] = re[k] * re[k] + im[k] * im[k];
    im[k] = 0;
  }
  fftInPlace(re, im, true);
  // Scale so that lag 0 is the biased variance exactly, as posterior does.
  const scale = (varx * (n - 1)) / n / re[0];
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = re[k] * scale;
  return out;
}

/** Autocorrelations at lags 0..N-1 (acov / acov[0]; all zero for a constant series). */
export function autocorrelation(x: Float64Array): Float64Array {
  const ac = autocovariance(x);
  const a0 = ac[0];
  if (a0 === 0) return ac;
  return ac.map((v) => v / a0);
}

/**
 * The mean over chains of the per-chain autocovariances, lags 0..N-1, with all chains of
 * equal length N. Cheaper than one transform per chain: two real chains share one complex
 * FFT (x + i y), and since the mean of the power spectra needs only one inverse transform,
 * M chains cost ceil(M/2) + 1 FFTs.
 */
export function meanAutocovariance(chains: Float64Array[]): Float64Array {
  const n = chains[0].length;
  const m = nextPow2(2 * n);
  const power = new Float64Array(m);
  const re = new Float64Array(m);
  const im = new Float64Array(m);
  for (let c = 0; c < chains.length; c += 2) {
    re.fill(0);
    im.fill(0);
    const a = chains[c];
    const ma = mean(a);
    for (let i = 0; i < n; i++) re[i] = a[i] - ma;
    if (c + 1 < chains.length) {
      const b = chains[c + 1];
      const mb = mean(b);
      for (let i = 0; i < n; i++) im[i] = b[i] - mb;
    }
    fftInPlace(re, im);
    // |A(k)|^2 + |B(k)|^2 = (|Z(k)|^2 + |Z(-k)|^2) / 2 for Z = FFT(a + i b).
    for (let k = 0; k < m; k++) {
      const j = k === 0 ? 0 : m - k;
      power[k] += 0.5 * (re[k] * re[k] + im[k] * im[k] + re[j] * re[j] + im[j] * im[j]);
    }
  }
  im.fill(0);
  fftInPlace(power, im, true);
  const out = new Float64Array(n);
  const scale = 1 / (m * n * chains.length);
  for (let k = 0; k < n; k++) out[k] = power[k] * scale;
  return out;
}
