/**
 * Building blocks and edge cases of the diagnostics (the golden values themselves are in
 * diagnostics.reference.test.ts). Deterministic except the log Z check, which allows 5 SE of
 * iid importance sampling (false-failure budget about 6e-7).
 */
import { describe, expect, it } from 'vitest';
import { makeDraws } from '../src/core/draws.js';
import { DimensionError, NonFiniteError, ParameterError } from '../src/core/errors.js';
import { RandomStream } from '../src/core/random.js';
import { pbeta, qbeta } from '../src/diagnostics/beta.js';
import {
  autocovariance,
  essBasic,
  essBulk,
  essMean,
  essQuantile,
  essTail,
  fftInPlace,
  kishEss,
  logZEstimate,
  mcseMean,
  mcseQuantile,
  mcseSd,
  meanAutocovariance,
  paretoKCategoryLoo,
  paretoKThreshold,
  psis,
  rhat,
  rhatBasic,
  summarise,
} from '../src/diagnostics/index.js';
import { qnorm } from '../src/diagnostics/normal.js';
import { averageRanks, quantileSorted, sortedCopy } from '../src/diagnostics/stats.js';

function normals(seed: string, n: number): Float64Array {
  return new RandomStream(seed).fillNormal(new Float64Array(n));
}

describe('FFT and autocovariance', () => {
  it('FFT equals the naive DFT, and the inverse round-trips', () => {
    const n = 64;
    const re = normals('fft-re', n);
    const im = normals('fft-im', n);
    const r2 = re.slice();
    const i2 = im.slice();
    fftInPlace(r2, i2);
    for (const k of [0, 1, 7, 31, 32, 63]) {
      let sr = 0;
      let si = 0;
      for (let t = 0; t < n; t++) {
        const a = (-2 * Math.PI * k * t) / n;
        sr += re[t] * Math.cos(a) - im[t] * Math.sin(a);
        si += re[t] * Math.sin(a) + im[t] * Math.cos(a);
      }
      expect(r2[k]).toBeCloseTo(sr, 10);
      expect(i2[k]).toBeCloseTo(si, 10);
    }
    fftInPlace(r2, i2, true);
    for (let t = 0; t < n; t++) expect(r2[t] / n).toBeCloseTo(re[t], 12);
    expect(() => fftInPlace(new Float64Array(6), new Float64Array(6))).toThrow(/power of two/);
  });

  it('autocovariance equals the direct O(N^2) sum (odd length, biased estimator)', () => {
    const x = normals('acov', 101).map((v, i, a) => (i > 0 ? v + 0.6 * a[i - 1] : v));
    const n = x.length;
    const mu = x.reduce((a, b) => a + b, 0) / n;
    const ac = autocovariance(x);
    for (const k of [0, 1, 2, 10, 50, 100]) {
      let s = 0;
      for (let t = 0; t + k < n; t++) s += (x[t] - mu) * (x[t + k] - mu);
      expect(ac[k]).toBeCloseTo(s / n, 12);
    }
    expect(Array.from(autocovariance(new Float64Array(9).fill(3)))).toEqual(new Array(9).fill(0));
  });

  it('meanAutocovariance (two chains per FFT) equals the mean of per-chain autocovariances', () => {
    const chains = ['a', 'b', 'c'].map((s) => normals(`mac-${s}`, 77));
    const mac = meanAutocovariance(chains);
    const each = chains.map(autocovariance);
    for (let k = 0; k < 77; k++) expect(mac[k]).toBeCloseTo((each[0][k] + each[1][k] + each[2][k]) / 3, 12);
  });
});

describe('special functions and ranks', () => {
  it('qnorm matches R to full precision', () => {
    expect(qnorm(0.975)).toBeCloseTo(1.959963984540054, 14);
    expect(qnorm(0.5)).toBe(0);
    expect(qnorm(1e-10)).toBeCloseTo(-6.361340902404056, 12);
    expect(qnorm(1e-300)).toBeCloseTo(-37.0471, 3);
    expect(qnorm(0.3)).toBeCloseTo(-qnorm(0.7), 15);
  });

  it('qbeta inverts pbeta; Beta(1,1) is uniform', () => {
    for (const [a, b] of [[1, 1], [2, 5], [200.5, 3800.5]]) {
      for (const p of [0.1586553, 0.5, 0.8413447]) expect(pbeta(qbeta(p, a, b), a, b)).toBeCloseTo(p, 12);
    }
    expect(qbeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    expect(qbeta(0.5, 3, 3)).toBeCloseTo(0.5, 12);
  });

  it('average ranks and type-7 quantiles follow R', () => {
    expect(Array.from(averageRanks(Float64Array.from([3, 1, 3, 2, 3])))).toEqual([4, 1, 4, 2, 4]);
    const s = sortedCopy([1, 2, 3, 4, 10]);
    expect(quantileSorted(s, 0.05)).toBeCloseTo(1.2, 14);
    expect(quantileSorted(s, 0.95)).toBeCloseTo(8.8, 14);
  });
});

describe('NA cases (posterior returns NA; we return NaN)', () => {
  const constant = [new Float64Array(100).fill(2), new Float64Array(100).fill(2)];

  it('constant chains give NaN for every ESS, R-hat and MCSE', () => {
    for (const f of [essBulk, essTail, essMean, (c: Float64Array[]) => essBasic(c), rhat, (c: Float64Array[]) => rhatBasic(c), mcseMean, mcseSd]) {
      expect(f(constant)).toBeNaN();
    }
    expect(essQuantile(constant, 0.05)).toBeNaN();
    expect(mcseQuantile(constant, 0.95)).toBeNaN();
  });

  it('summarise keeps plain summaries of a constant parameter and reports NaN diagnostics', () => {
    const values = new Float64Array(2 * 100 * 2);
    const rng = new RandomStream('sum');
    for (let i = 0; i < 200; i++) {
      values[i * 2] = 2;
      values[i * 2 + 1] = rng.normal();
    }
    const d = makeDraws({ sampler: 't', chains: 2, draws: 100, dim: 2, values, wallTimeMs: 0, densityEvals: 0, gradEvals: 0, acceptance: 1 });
    const [c, x] = summarise(d);
    expect(c).toMatchObject({ variable: 'x1', mean: 2, median: 2, sd: 0, mad: 0, q5: 2, q95: 2 });
    expect(c.rhat).toBeNaN();
    expect(c.ess_bulk).toBeNaN();
    expect(c.ess_tail).toBeNaN();
    expect(x.variable).toBe('x2');
    expect(Number.isFinite(x.ess_bulk)).toBe(true);
  });

  it('a single unsplit chain has no between-chain variance: basic R-hat is NaN', () => {
    expect(rhatBasic([normals('one', 50)], false)).toBeNaN();
    expect(Number.isFinite(rhatBasic([normals('one', 50)]))).toBe(true);
  });
});

describe('bad input is an error naming the problem', () => {
  it('unequal chain lengths name the chain', () => {
    const bad = [new Float64Array(10), new Float64Array(10), new Float64Array(9)];
    expect(() => essBulk(bad)).toThrow(DimensionError);
    expect(() => essBulk(bad)).toThrow(/chain 3 has 9 draws/);
  });

  it('NaN or Inf draws name chain and draw', () => {
    const x = normals('nan', 20);
    x[6] = NaN;
    expect(() => rhat([normals('ok', 20), x])).toThrow(NonFiniteError);
    expect(() => rhat([normals('ok', 20), x])).toThrow(/chain 2, draw 7 is NaN/);
    x[6] = Infinity;
    expect(() => mcseMean([x])).toThrow(/chain 1, draw 7 is Infinity/);
  });

  it('fewer than 4 draws, no chains, bad probabilities', () => {
    expect(() => essTail([new Float64Array(3)])).toThrow(/at least 4 draws per chain, got 3/);
    expect(() => essBulk([])).toThrow(ParameterError);
    expect(() => essQuantile([normals('p', 10)], 1.5)).toThrow(/probability must be in \[0, 1\]/);
  });
});

describe('PSIS details and importance sampling', () => {
  it('k-hat threshold is min(1 - 1/log10(S), 0.7); loo 2.5.1 categories are fixed', () => {
    expect(paretoKThreshold(100)).toBeCloseTo(0.5, 15);
    expect(paretoKThreshold(4000)).toBe(0.7);
    expect(paretoKThreshold(1000)).toBeCloseTo(2 / 3, 15);
    expect(paretoKCategoryLoo(0.5).category).toBe('good');
    expect(paretoKCategoryLoo(0.6).category).toBe('ok');
    expect(paretoKCategoryLoo(0.9).category).toBe('bad');
    expect(paretoKCategoryLoo(1.2)).toEqual({ category: 'very bad', interval: '(1, Inf]' });
  });

  it('too few draws for a tail fit gives k = Inf with a warning, weights still normalized', () => {
    const r = psis(Float64Array.from([0.1, -0.3, 0.5, 0.2, -1, 0, 0.3, 0.1, -0.2, 0.4]));
    expect(r.tailLen).toBe(2);
    expect(r.paretoK).toBe(Infinity);
    expect(r.warnings.join(' ')).toMatch(/Not enough tail samples/);
    expect(r.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
  });

  it('heavy-tailed ratios are flagged: proposal N(0, 0.5^2) for target N(0, 1) has k near 1 - 0.25', () => {
    const x = normals('heavy', 4000).map((v) => 0.5 * v);
    const lr = x.map((v) => -0.5 * v * v + 0.5 * (v / 0.5) ** 2 + Math.log(0.5));
    const r = psis(lr);
    expect(r.paretoK).toBeGreaterThan(r.threshold - 0.3);
    expect(r.paretoK).toBeGreaterThan(0.5);
  });

  it('rejects NaN and +Inf log ratios', () => {
    expect(() => psis(Float64Array.from([0, NaN, 1]))).toThrow(/log ratio 2 is NaN/);
    expect(() => psis(Float64Array.from([0, Infinity, 1]))).toThrow(NonFiniteError);
  });

  it('Kish ESS: equal weights give S, one dominant weight gives ~1; huge log weights do not overflow', () => {
    expect(kishEss(new Float64Array(50).fill(800))).toBeCloseTo(50, 10);
    const lw = new Float64Array(50).fill(-1000);
    lw[3] = 0;
    expect(kishEss(lw)).toBeCloseTo(1, 10);
  });

  it('log Z from importance weights agrees with the truth within 5 SE', () => {
    // target p̃(x) = 3 N(x; 1, 1), proposal N(0, 1.5^2): log Z = log 3
    const x = normals('logz', 20000).map((v) => 1.5 * v);
    const lw = x.map((v) => Math.log(3) - 0.5 * (v - 1) ** 2 - (-0.5 * (v / 1.5) ** 2 - Math.log(1.5)));
    const { logZ, se } = logZEstimate(lw);
    expect(se).toBeGreaterThan(0);
    expect(Math.abs(logZ - Math.log(3))).toBeLessThan(5 * se);
    expect(logZEstimate(new Float64Array(10).fill(-700))).toEqual({ logZ: -700, se: 0 });
  });
});

describe('fast paths agree with the plain definitions', () => {
  it('radix argsort orders like a numeric sort, stable, with ties, negatives and -0', async () => {
    const { argsort, sortAndRank } = await import('../src/diagnostics/argsort.js');
    const rng = new RandomStream('argsort');
    const x = Float64Array.from({ length: 3000 }, (_, i) => (i % 5 === 0 ? Math.round(rng.normal() * 3) : rng.normal() * 10 ** rng.int(6)));
    x[10] = -0;
    x[11] = 0;
    x[12] = -1e-300;
    const order = argsort(x);
    for (let i = 1; i < x.length; i++) {
      const a = x[order[i - 1]];
      const b = x[order[i]];
      expect(a <= b).toBe(true);
      if (a === b && !Object.is(a, -0) && !Object.is(b, -0)) expect(order[i - 1] < order[i]).toBe(true);
    }
    const { ranks } = sortAndRank(x);
    for (const i of [0, 5, 10, 11, 999]) {
      let less = 0;
      let equal = 0;
      for (const v of x) {
        if (v < x[i]) less++;
        else if (v === x[i]) equal++;
      }
      expect(ranks[i]).toBe(less + (equal + 1) / 2);
    }
  });

  for (const n of [400, 401]) {
    it(`summarise equals the separate functions (${n} draws per chain${n % 2 ? ', odd: middle draw dropped' : ''})`, async () => {
      const { mad, median } = await import('../src/diagnostics/stats.js');
      const { pool } = await import('../src/diagnostics/chains.js');
      const rng = new RandomStream(`sum-${n}`);
      const chains = [0, 1, 2].map((c) => {
        const x = rng.fillNormal(new Float64Array(n));
        for (let i = 1; i < n; i++) x[i] = 0.8 * x[i - 1] + x[i] + 0.1 * c;
        return x;
      });
      const values = new Float64Array(3 * n);
      chains.forEach((x, c) => values.set(x, c * n));
      const d = makeDraws({ sampler: 't', chains: 3, draws: n, dim: 1, values, wallTimeMs: 0, densityEvals: 0, gradEvals: 0, acceptance: 1 });
      const [row] = summarise(d);
      const all = pool(chains);
      expect(row.rhat).toBeCloseTo(rhat(chains), 12);
      expect(row.ess_bulk).toBeCloseTo(essBulk(chains), 9);
      expect(row.ess_tail).toBeCloseTo(essTail(chains), 9);
      expect(row.median).toBe(median(all));
      expect(row.mad).toBeCloseTo(mad(all), 14);
    });
  }

  it('ESS is the same whether lags come from direct sums or the FFT', async () => {
    const { essRaw } = await import('../src/diagnostics/ess.js');
    // rho = 0 stops after a few lags (direct sums only); rho = 0.99 needs hundreds (FFT takes over).
    for (const rho of [0, 0.9, 0.99]) {
      const rng = new RandomStream(`lags-${rho}`);
      const chains = [0, 1, 2].map(() => {
        const x = rng.fillNormal(new Float64Array(3000));
        for (let i = 1; i < x.length; i++) x[i] = rho * x[i - 1] + Math.sqrt(1 - rho * rho) * x[i];
        return x;
      });
      const auto = essRaw(chains);
      const fft = essRaw(chains, true);
      expect(Math.abs(auto - fft) / fft, `rho ${rho}`).toBeLessThan(1e-10);
    }
  });
});

describe('calibration: MCSE of the mean matches the actual spread of chain means', () => {
  it('AR(1), rho = 0.7: mean mcseMean over 300 replicates ≈ sd of the estimates', () => {
    // Two independent estimates of the same sd: the empirical sd of 300 replicate means has
    // relative SE ≈ 1/sqrt(2 * 299) ≈ 4.1%; the average mcseMean is much steadier. A 5 SE
    // band (±20.5%) on their ratio has a false-failure probability of about 6e-7.
    const rng = new RandomStream('calibration');
    const rho = 0.7;
    const reps = 300;
    const means: number[] = [];
    let mcseSum = 0;
    for (let r = 0; r < reps; r++) {
      const chains = [0, 1, 2, 3].map(() => {
        const x = rng.fillNormal(new Float64Array(500));
        for (let i = 1; i < x.length; i++) x[i] = rho * x[i - 1] + Math.sqrt(1 - rho * rho) * x[i];
        return x;
      });
      let s = 0;
      for (const x of chains) for (const v of x) s += v;
      means.push(s / 2000);
      mcseSum += mcseMean(chains);
    }
    const m = means.reduce((a, b) => a + b, 0) / reps;
    const sdMeans = Math.sqrt(means.reduce((a, b) => a + (b - m) ** 2, 0) / (reps - 1));
    const ratio = mcseSum / reps / sdMeans;
    expect(Math.abs(ratio - 1), `ratio ${ratio}`).toBeLessThan(5 / Math.sqrt(2 * (reps - 1)));
  });
});
