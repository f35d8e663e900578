/**
 * Effective sample sizes as posterior 1.4.0 defines them (Vehtari et al. 2021): the
 * multi-chain autocorrelation estimate of Stan (Gelman et al., BDA3 §11.5) truncated by
 * Geyer's initial positive sequence and made monotone (Geyer 1992), with the "improved"
 * last term and tau capped below at 1/log10(S).
 *
 * NaN (posterior's NA) means: the chains are constant (max - min < double epsilon), or the
 * split chains have fewer than 3 draws. Non-finite draws, unequal chain lengths and fewer than
 * 4 draws per chain are errors (see checkChains).
 */
import { meanAutocovariance } from './autocovariance.js';
import { ParameterError } from '../core/errors.js';
import { checkChains, isConstant, mapArray, pool, splitChains, zScale } from './chains.js';
import { mean, quantileSorted, sortedCopy, variance } from './stats.js';

/**
 * Mean autocovariance over chains, lag by lag. Fast-mixing chains need only a few lags before
 * Geyer's sequence stops, so the first lags are summed directly (O(N) each); past a budget of
 * 3 log2(N) lags all lags come from one FFT pass instead, which keeps the worst case O(N log N).
 * Both give the same numbers to rounding.
 */
class LagSource {
  private readonly centred: Float64Array[];
  private readonly direct: number[] = [];
  private fft: Float64Array | null = null;
  private readonly budget: number;

  constructor(private readonly chains: Float64Array[], forceFft = false) {
    this.centred = chains.map((x) => {
      const m = mean(x);
      const y = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) y[i] = x[i] - m;
      return y;
    });
    const n = chains[0].length;
    this.budget = Math.max(8, Math.ceil(3 * Math.log2(n)));
    if (forceFft) this.fft = meanAutocovariance(chains);
  }

  get(k: number): number {
    if (this.fft) return this.fft[k];
    if (k < this.direct.length) return this.direct[k];
    if (k >= this.budget) {
      this.fft = meanAutocovariance(this.chains);
      return this.fft[k];
    }
    const n = this.chains[0].length;
    while (this.direct.length <= k) {
      const lag = this.direct.length;
      let s = 0;
      for (const y of this.centred) {
        for (let t = 0; t + lag < n; t++) s += y[t] * y[t + lag];
      }
      this.direct.push(s / (n * this.centred.length));
    }
    return this.direct[k];
  }
}

/**
 * posterior's internal `.ess` on chains that are already split/transformed. `forceFft` takes
 * every lag from the FFT (for testing the direct-sum fast path against it).
 */
export function essRaw(chains: Float64Array[], forceFft = false): number {
  const nChains = chains.length;
  const n = chains[0].length;
  if (n < 3 || isConstant(chains)) return NaN;
  const acov = new LagSource(chains, forceFft);
  const meanVar = (acov.get(0) * n) / (n - 1);
  let varPlus = (meanVar * (n - 1)) / n;
  if (nChains > 1) varPlus += variance(chains.map((x) => mean(x)));

  const rho = new Float64Array(n);
  let t = 0;
  let even = 1;
  rho[0] = even;
  let odd = 1 - (meanVar - acov.get(1)) / varPlus;
  rho[1] = odd;
  // Geyer's initial positive sequence: sum pairs while they stay positive.
  while (t < n - 5 && !Number.isNaN(even + odd) && even + odd > 0) {
    t += 2;
    even = 1 - (meanVar - acov.get(t)) / varPlus;
    odd = 1 - (meanVar - acov.get(t + 1)) / varPlus;
    if (even + odd >= 0) {
      rho[t] = even;
      rho[t + 1] = odd;
    }
  }
  const maxT = t;
  if (even > 0) rho[maxT] = even;
  // Geyer's initial monotone sequence.
  t = 0;
  while (t <= maxT - 4) {
    t += 2;
    if (rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1]) {
      rho[t] = (rho[t - 2] + rho[t - 1]) / 2;
      rho[t + 1] = rho[t];
    }
  }
  const s = nChains * n;
  // tau = -1 + 2 Σ_{t < maxT} rho_t + rho_maxT (R's 1:max_t with max_t = 0 selects rho_0 only).
  let sum = 0;
  for (let i = 0; i < Math.max(maxT, 1); i++) sum += rho[i];
  let tau = -1 + 2 * sum + rho[maxT];
  const tauBound = 1 / Math.log10(s);
  if (tau < tauBound) tau = tauBound; // posterior warns: "The ESS has been capped"
  return s / tau;
}

/** Bulk ESS: ESS of the rank-normalized split chains. */
export function essBulk(chains: Float64Array[]): number {
  checkChains(chains, 'essBulk');
  return essRaw(zScale(splitChains(chains)));
}

/** ESS of the indicator x <= q_p (q_p the type-7 quantile of all draws), split. */
export function essQuantile(chains: Float64Array[], p: number): number {
  checkChains(chains, 'essQuantile');
  checkProb('essQuantile', p);
  return essQuantileUnchecked(chains, p);
}

export function essQuantileUnchecked(chains: Float64Array[], p: number, sorted?: Float64Array): number {
  if (isConstant(chains)) return NaN;
  const all = sorted ?? sortedCopy(pool(chains));
  const len = all.length;
  const prob = p === 1 ? (len - 0.5) / len : p;
  const q = quantileSorted(all, prob);
  const ind = chains.map((x) => {
    const y = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = x[i] <= q ? 1 : 0;
    return y;
  });
  return essRaw(splitChains(ind));
}

/** Tail ESS: min of the 5% and 95% quantile ESS. */
export function essTail(chains: Float64Array[]): number {
  checkChains(chains, 'essTail');
  return essTailUnchecked(chains);
}

export function essTailUnchecked(chains: Float64Array[], sorted?: Float64Array): number {
  const all = sorted ?? sortedCopy(pool(chains));
  return Math.min(essQuantileUnchecked(chains, 0.05, all), essQuantileUnchecked(chains, 0.95, all));
}

/** Median ESS (quantile 0.5). */
export function essMedian(chains: Float64Array[]): number {
  return essQuantile(chains, 0.5);
}

/** Basic ESS on the raw draws (split by default; `split = false` as posterior's `split = FALSE`). */
export function essBasic(chains: Float64Array[], split = true): number {
  checkChains(chains, 'essBasic');
  return essRaw(split ? splitChains(chains) : chains);
}

/** ESS for the mean: basic split ESS of the raw draws. */
export function essMean(chains: Float64Array[]): number {
  checkChains(chains, 'essMean');
  return essRaw(splitChains(chains));
}

/** ESS for the standard deviation: split ESS of |x - mean(x)|. */
export function essSd(chains: Float64Array[]): number {
  checkChains(chains, 'essSd');
  const m = mean(pool(chains));
  return essRaw(splitChains(chains.map((x) => mapArray(x, (v) => Math.abs(v - m)))));
}

export function checkProb(what: string, p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new ParameterError(`${what}: probability must be in [0, 1], got ${String(p)}`);
  }
}
